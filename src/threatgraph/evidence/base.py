"""The shapes shared by every evidence kind: its declaration and its result."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from threatgraph.errors import safe_str
from threatgraph.evidence.redact import redact
from threatgraph.evidence.source import SourceTree

PASS, FAIL, ERROR, UNVERIFIED = "pass", "fail", "error", "unverified"


@dataclass(frozen=True)
class EvidenceResult:
    result: str
    kind: str
    proves: str = ""
    file: str | None = None
    line: int | None = None
    detail: str = ""
    children: tuple[EvidenceResult, ...] = ()
    gap: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"result": self.result, "kind": self.kind, "proves": self.proves,
                               "file": self.file, "line": self.line, "detail": self.detail, "gap": self.gap}
        if self.children:
            out["items"] = [c.to_json() for c in self.children]
        return out

    @property
    def where(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


Check = Callable[[dict[str, Any], SourceTree, "Runner"], EvidenceResult]
StaticCheck = Callable[[dict[str, Any]], list[tuple[tuple[Any, ...], str, str]]]


@dataclass(frozen=True)
class EvidenceKind:
    """One kind of evidence: the keys it takes (with JSON Schemas) and how to run it."""

    name: str
    doc: str
    required: dict[str, dict[str, Any]]
    optional: dict[str, dict[str, Any]]
    run: Check
    static_check: StaticCheck = field(default=lambda item: [])
    # what parses but probably does not say what its author meant (warnings, never memoised)
    static_warnings: StaticCheck = field(default=lambda item: [])
    exactly_one_of: tuple[str, ...] = ()


class Runner:
    """Runs evidence items against one source tree, caching parsed files across items."""

    def __init__(self, source: SourceTree, kinds: dict[str, EvidenceKind], regex_timeout: float = 2.0):
        self.source = source
        self.kinds = kinds
        self.regex_timeout = regex_timeout
        self.parsed: dict[tuple[str, str], Any] = {}
        # per-file search results, keyed by what was searched for and the file; valid while the
        # file's text is the same object (a history replay drops a file's text when it changes)
        self.memo: dict[tuple[Any, ...], tuple[str, Any]] = {}

    def searched(self, key: tuple[Any, ...], text: str, search: Callable[[], Any]) -> Any:
        hit = self.memo.get(key)
        if hit is not None and hit[0] is text:
            return hit[1]
        found = search()
        self.memo[key] = (text, found)
        return found

    def forget(self, paths: set[str]) -> None:
        """Drop what was parsed from `paths` (they changed)."""
        for key in [k for k in self.parsed if k[1] in paths]:
            del self.parsed[key]

    def run(self, item: dict[str, Any]) -> EvidenceResult:
        kind = self.kinds[item["kind"]]
        try:
            result = kind.run(item, self.source, self)
        except Exception as exc:  # noqa: BLE001 - a pattern, query or rule its parser rejects now: an error, never a pass
            path = item.get("path")
            result = EvidenceResult(ERROR, kind.name, str(item.get("proves", "")), path if isinstance(path, str) else None,
                                    None, f"the item could not be run: {type(exc).__name__}: {safe_str(exc)[:300]}")
        return replace(_redacted(result), gap=bool(item.get("gap", False)))


def _redacted(result: EvidenceResult) -> EvidenceResult:
    """The result with secret-looking matched text masked, its sub-results too."""
    children = tuple(_redacted(c) for c in result.children)
    detail = redact(result.detail)
    if detail == result.detail and children == result.children:
        return result
    return replace(result, detail=detail, children=children)


def path_checks(item: dict[str, Any], key: str = "path") -> list[tuple[tuple[Any, ...], str, str]]:
    """The static check every kind that reads a path or glob shares: relative, inside the
    source, no version-control metadata, a glob that parses."""
    from threatgraph.evidence.glob import glob_problem
    from threatgraph.evidence.source import check_relative

    value = item.get(key)
    if not isinstance(value, str):
        return []
    why = check_relative(value) or glob_problem(value)
    return [((key,), f"path '{value}': {why}", "paths are relative to the source root, with / between folders")] \
        if why else []


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in this (main) thread when pure-Python work runs past `seconds`; a no-op
    off the main thread or without SIGALRM (the document's size cap still bounds the work)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def exclude_checks(item: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    """The static check of an `exclude` list of globs, shared by the kinds that search files."""
    from threatgraph.evidence.glob import glob_problem

    excludes = item.get("exclude", [])
    out = []
    for n, pattern in enumerate(excludes if isinstance(excludes, list) else []):
        why = glob_problem(pattern) if isinstance(pattern, str) else None
        if why:
            out.append((("exclude", n), f"exclude glob '{pattern}': {why}", "globs: * ? [abc] and ** for folders"))
    return out


def searched_files(kind: str, item: dict[str, Any], source: SourceTree) -> list[str] | EvidenceResult:
    """The files a searching kind reads (`path` less `exclude`), or the error result when none."""
    from threatgraph.evidence.source import SourceError

    try:
        files = source.select_excluding(item["path"], item.get("exclude", []))
    except SourceError as exc:
        return EvidenceResult(ERROR, kind, item.get("proves", ""), item["path"], None, str(exc))
    if not files:
        return EvidenceResult(ERROR, kind, item.get("proves", ""), item["path"], None, f"no file matches '{item['path']}'")
    return files


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1
