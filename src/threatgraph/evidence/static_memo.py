"""Which evidence items already passed their static checks, so an unchanged item is not
checked again on every run.

A static check (a pattern that compiles, a JSONPath query that parses, an ast-grep rule that
loads) is a function of the item's text, threatgraph's evidence code and the libraries that
parse it: for the firewall's catalogs it is a fifth of a check with a catalog edited (compiling
a hundred patterns, importing the JSONPath library to parse seven queries). The memo keeps the
digests of the items that passed, under a key of all three, in threatgraph's cache folder
(outside the project, so a pull request cannot plant an entry; written whole; off wherever the
caches are off, CI included). An item that failed is always checked again, so its message is
always fresh. What a wrong entry could do is let an item that does not parse through to the
run, where the same parser reports it as an evidence error: never a pass.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.util
import json
import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from threatgraph.evidence.base import EvidenceKind

LIBRARIES = ("regex", "jsonpath", "ast_grep_py")  # what the static checks parse with
MAX_ENTRIES = 20_000
MAX_BYTES = 4 << 20

_passed: set[str] | None = None  # digests read from the memo, then those that passed here
_dirty = False


def checked(kind: EvidenceKind, item: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    """`kind.static_check(item)`, or nothing when this very item passed before."""
    digest = _digest(kind.name, item)
    passed = _memo()
    if digest is not None and digest in passed:
        return []
    found = kind.static_check(item)
    if not found and digest is not None and _path() is not None:
        global _dirty
        passed.add(digest)
        if not _dirty:
            _dirty = True
            atexit.register(_save)
    return found


def _digest(kind: str, item: dict[str, Any]) -> str | None:
    try:
        text = json.dumps([kind, item], sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):  # a value JSON cannot hold (a date, say): checked every time
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache
def _path() -> Path | None:
    from threatgraph.model import cache

    if not cache.enabled(None):
        return None
    code = hashlib.sha256(cache.code_digest().encode())  # threatgraph's code, an edited checkout included
    for name in LIBRARIES:  # each parser's installed copy, without importing it
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        with suppress(OSError, TypeError):
            st = os.stat(origin)  # type: ignore[arg-type]
            code.update(f"{name}\0{origin}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return cache.folder() / "static" / (code.hexdigest() + ".json")


def _memo() -> set[str]:
    global _passed
    if _passed is None:
        _passed = _read(_path())
    return _passed


def _read(path: Path | None) -> set[str]:
    if path is None or not path.is_file():  # nothing there, or not a regular file (never a FIFO)
        return set()
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
        entries = json.loads(data) if len(data) <= MAX_BYTES else []
    except (OSError, ValueError):
        return set()
    if not isinstance(entries, list):
        return set()
    return {e for e in entries if isinstance(e, str) and len(e) == 64}


def _save() -> None:
    """The memo written whole, at the end of the run (a full or read-only cache folder costs
    the checks again next time, nothing more)."""
    path = _path()
    if path is None or _passed is None:
        return
    from threatgraph.model.cache import write_entry

    kept = sorted(_passed)[:MAX_ENTRIES]
    with suppress(OSError):
        write_entry(path, json.dumps(kept).encode("ascii"))
