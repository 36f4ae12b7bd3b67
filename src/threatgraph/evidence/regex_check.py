"""`regex`: a pattern that must (or must not) match in the files a path or glob selects.

Patterns run under the `regex` package with a timeout, so a catastrophic pattern such as
`(a+)+$` against a long input ends as an error instead of hanging the check.
"""

from __future__ import annotations

import re as stdlib_re
from typing import Any

from threatgraph.evidence.base import (
    ERROR,
    FAIL,
    PASS,
    EvidenceKind,
    EvidenceResult,
    Runner,
    exclude_checks,
    line_of,
    path_checks,
    searched_files,
)
from threatgraph.evidence.source import SourceError, SourceTree

_FLAGS = {"multiline": 8, "ignorecase": 2, "dotall": 16}  # regex.MULTILINE, IGNORECASE, DOTALL


def compile_pattern(item: dict[str, Any]) -> Any:
    import regex  # the third-party engine with timeouts; imported only when a pattern is compiled

    flags = 0
    for name in item.get("flags", ["multiline"]):
        flags |= _FLAGS[name]
    return regex.compile(item["pattern"], flags)


def pattern_problem(item: dict[str, Any]) -> str | None:
    """Why a pattern does not compile, or None. stdlib `re` (fast, in C) decides most; the
    `regex` engine that runs the checks accepts a superset, so it has the last word."""
    flags = 0
    for name in item.get("flags", ["multiline"]):
        flags |= getattr(stdlib_re, name.upper())
    try:
        stdlib_re.compile(item["pattern"], flags)
        return None
    except (stdlib_re.error, ValueError, OverflowError, RecursionError) as exc:
        first = str(exc)
    import regex

    try:
        compile_pattern(item)
        return None
    except (regex.error, ValueError, OverflowError, RecursionError):
        return first


def _static(item: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    out = path_checks(item)
    out += exclude_checks(item)
    flags = item.get("flags", [])
    flags_ok = isinstance(flags, list) and all(f in _FLAGS for f in flags)
    if isinstance(item.get("pattern"), str) and flags_ok and not out:
        problem = pattern_problem(item)
        if problem:
            out.append((("pattern",), f"invalid regular expression: {problem}", "patterns use Python `re` syntax"))
    return out


def _closest_line(pattern: str, text: str) -> int | None:
    """Where a missing match most likely belonged: the first line holding the pattern's
    longest literal word."""
    words = sorted(stdlib_re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", pattern), key=len, reverse=True)
    for word in words[:3]:
        pos = text.find(word)
        if pos >= 0:
            return line_of(text, pos)
    return None


def run(item: dict[str, Any], source: SourceTree, runner: Runner) -> EvidenceResult:
    proves = item.get("proves", "")
    expect_match = item.get("expect", "match") == "match"
    files = searched_files("regex", item, source)
    if isinstance(files, EvidenceResult):
        return files
    compiled = compile_pattern(item)
    errors: list[str] = []
    searched = 0
    for rel in files:
        try:
            text = source.text(rel)
        except SourceError as exc:
            if len(files) == 1:
                return EvidenceResult(ERROR, "regex", proves, rel, None, str(exc))
            errors.append(str(exc))
            continue
        searched += 1

        def search(text: str = text) -> tuple[int, str] | None | str:
            try:
                found = compiled.search(text, timeout=runner.regex_timeout)
            except TimeoutError:
                return "timeout"
            return None if found is None else (found.start(), found.group(0))

        m = runner.searched(("regex", item["pattern"], tuple(item.get("flags", ["multiline"])), rel), text, search)
        if m == "timeout":
            return EvidenceResult(ERROR, "regex", proves, rel, None,
                                  f"pattern timed out after {runner.regex_timeout}s (catastrophic backtracking?)")
        if m is not None:
            line = line_of(text, m[0])
            snippet = m[1].splitlines()[0][:120] if m[1] else ""
            if expect_match:
                return EvidenceResult(PASS, "regex", proves, rel, line, f"matched: {snippet}")
            return EvidenceResult(FAIL, "regex", proves, rel, line, f"forbidden pattern found: {snippet}")
    if searched == 0:
        return EvidenceResult(ERROR, "regex", proves, item["path"], None, "; ".join(errors[:3]))
    if expect_match:
        where = files[0] if len(files) == 1 else item["path"]
        closest = _closest_line(item["pattern"], source.text(files[0])) if len(files) == 1 else None
        return EvidenceResult(FAIL, "regex", proves, where, closest,
                              f"pattern not found in {searched} file(s)")
    return EvidenceResult(PASS, "regex", proves, files[0] if len(files) == 1 else item["path"], None,
                          f"pattern absent from {searched} file(s)")


KIND = EvidenceKind(
    name="regex",
    doc="a pattern that must (expect: match) or must not (expect: no_match) match in the selected files",
    required={"path": {"type": "string", "description": "file or glob (`**` spans folders), relative to the source root"},
              "pattern": {"type": "string", "description": "Python regular expression"}},
    optional={"expect": {"enum": ["match", "no_match"], "default": "match"},
              "exclude": {"type": "array", "items": {"type": "string"},
                          "description": "globs of files to leave out, e.g. tests"},
              "flags": {"type": "array", "items": {"enum": sorted(_FLAGS)},
                        "description": "default: [multiline]"}},
    run=run,
    static_check=_static,
)
