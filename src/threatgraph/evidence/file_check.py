"""`file_exists` / `file_absent`: a path or glob selects at least one file, or none."""

from __future__ import annotations

from typing import Any

from threatgraph.evidence.base import ERROR, FAIL, PASS, EvidenceKind, EvidenceResult, Runner, path_checks
from threatgraph.evidence.source import SourceError, SourceTree


def _run(want: bool, item: dict[str, Any], source: SourceTree, runner: Runner) -> EvidenceResult:
    kind = "file_exists" if want else "file_absent"
    proves = item.get("proves", "")
    try:
        files = source.select(item["path"])
    except SourceError as exc:
        return EvidenceResult(ERROR, kind, proves, item["path"], None, str(exc))
    if bool(files) == want:
        return EvidenceResult(PASS, kind, proves, files[0] if files else item["path"], None,
                              f"{len(files)} file(s) match" if files else "no file matches")
    return EvidenceResult(FAIL, kind, proves, files[0] if files else item["path"], None,
                          "no file matches" if want else f"{len(files)} file(s) match")


_PATH = {"path": {"type": "string", "description": "file or glob relative to the source root"}}
EXISTS = EvidenceKind("file_exists", "a file (or glob) exists", _PATH, {},
                      lambda item, source, runner: _run(True, item, source, runner), static_check=path_checks)
ABSENT = EvidenceKind("file_absent", "no file matches the path or glob", _PATH, {},
                      lambda item, source, runner: _run(False, item, source, runner), static_check=path_checks)
