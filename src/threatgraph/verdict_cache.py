"""A cache of `check` verdicts, so a check whose inputs are all unchanged prints what it printed
last time without loading the catalogs, the packs or the model.

A verdict is a function of: threatgraph's code and the installed packages, the command line,
the configuration, the environment variables threatgraph reads, today's date, the model (as
its snapshot in threatgraph.model.cache, whose entry is valid only while every file the model
read is unchanged) and the catalogs. The key covers each of them by content; the catalogs and
the package by the bytes of every file under them, the installed packages by their
`.dist-info` names (which carry the versions). Anything this does not see makes a check
uncacheable, never stale: evidence read from a source (it can be any file of another tree,
or a git commit), `--output`, `--base`, `--since`, `--watch`, a report written as bytes, a
model whose snapshot is not cached, and any exit but 0 or 1.

Entries live beside the model snapshots (outside the project, so a pull request cannot plant
one), one per project and command line (the next verdict replaces it), are written atomically
and are safe to delete. The cache follows `model_cache`: off
under CI by default, where a gate should compute its verdict, and off with
THREATGRAPH_NO_CACHE.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TextIO

from threatgraph import installed
from threatgraph.model.cache import tree_digest

FORMAT = 1
MAX_BYTES = 64 << 20  # an entry larger than this is neither written nor read
_ENVIRONMENT = ("CI", "NO_COLOR", "SOURCE_DATE_EPOCH")  # and every THREATGRAPH_* variable


def key(config: Any, args: Any, use_evidence: bool) -> tuple[str, str] | None:
    """Where this check's verdict is kept (one entry per project and command line, so editing
    does not pile entries up) and the key it must carry; None when it is not cached (the module
    says when)."""
    from threatgraph.clock import today
    from threatgraph.model import cache

    if not cache.enabled(config.model_cache) or (use_evidence and config.source):
        return None
    if any(getattr(args, flag, None) for flag in ("output", "base", "since", "watch")):
        return None
    env = {k: v for k, v in sorted(os.environ.items()) if k in _ENVIRONMENT or k.startswith("THREATGRAPH_")}
    parts = {
        "format": FORMAT,
        "python": [sys.version, sys.executable],
        "code": cache.code_digest(),
        "installed": installed.distributions(),
        "args": sorted((k, repr(v)) for k, v in vars(args).items() if k != "func"),
        "config": repr(config),
        "pyproject": tree_digest(config.pyproject) if config.pyproject else None,
        "environment": env,
        "terminal": [_isatty(sys.stdout), _isatty(sys.stderr)],
        "today": today().isoformat(),
        "catalogs": [tree_digest(config.path(config.threats)), tree_digest(config.path(config.mitigations))],
    }
    slot = [parts["python"], parts["args"], parts["config"]]
    return _digest(slot), _digest(parts)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8", "surrogateescape")).hexdigest()


def replay(k: tuple[str, str], config: Any) -> int | None:
    """Print the cached verdict for `k` and return its exit code; None on a miss."""
    from threatgraph.model import cache

    try:
        path = _entry(k[0])
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_BYTES:
            return None
        entry = json.loads(path.read_bytes())
        if entry.get("key") != k[1] or entry.get("code") not in (0, 1):
            return None
        model = Path(entry["model_entry"])
        if model.parent != cache.folder() / "snapshots" or cache.still_valid(model, config.root) != entry["model_digest"]:
            return None
        if not cache.unchanged(entry):  # every other data file and folder the check read, by absolute path
            return None
        out, err, code = entry["stdout"], entry["stderr"], entry["code"]
        if not (isinstance(out, str) and isinstance(err, str)):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    sys.stderr.write(err + REPLAYED + "\n")
    sys.stdout.write(out)
    return int(code)


REPLAYED = ("threatgraph: nothing this check reads has changed since it last ran; its verdict is repeated "
            "(THREATGRAPH_NO_CACHE=1 computes it afresh)")


def record(k: tuple[str, str], config: Any, run: Callable[[], int]) -> int:
    """Run the check, passing its output through, and keep the verdict when it can be replayed."""
    from threatgraph.model import cache

    before = len(cache.used)
    started = time.time_ns()
    with cache.recording() as reads, _captured() as (out, err):
        code = run()
    models = cache.used[before:]
    if code in (0, 1) and out.complete and err.complete and len(set(models)) == 1:
        (model, digest), = set(models)  # the snapshot this verdict was computed from, by the bytes read or written
        with suppress(OSError):  # a file gone since it was read: nothing is kept
            kept = _read(reads, started)
            if kept is not None:
                _store(k[0], {"key": k[1], "code": code, "stdout": out.text(), "stderr": err.text(),
                              "model_entry": str(model), "model_digest": digest, **kept})
    return code


_CODE = (".py", ".pyc", ".so", ".pyd", ".pth")  # covered by the key's code and installed distributions


def _read(reads: Any, started: int) -> dict[str, list[list[str]]] | None:
    """Every data file the check opened and every folder it listed outside the Python
    installation (packs read their data there: those files are kept too), with digests, so a
    replay sees an input the key does not name; None when one was modified too close to the
    run that started at `started` (model/cache.py's RACY_NS says why)."""
    from threatgraph.model import cache

    skip = os.path.join(os.path.realpath(cache.folder()), "")
    installed_code = cache.installation()
    files, folders = {}, {}
    for raw in reads.files:
        real = os.path.realpath(raw)
        if real.startswith(skip) or real.endswith(_CODE) or not os.path.isfile(real):
            continue
        if cache.racy(real, started):
            return None
        files[real] = cache.file_digest(Path(real))
    for raw in reads.folders:
        real = os.path.realpath(raw)
        if not real.startswith(skip) and not real.startswith(installed_code) and os.path.isdir(real):
            if cache.racy(real, started):
                return None
            folders[real] = cache.listing_digest(Path(real))
    return {"files": sorted([k, v] for k, v in files.items()), "folders": sorted([k, v] for k, v in folders.items())}


# --- what the key is made of ----------------------------------------------------------------

def _isatty(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


# --- the entries ----------------------------------------------------------------------------

def _entry(slot: str) -> Path:
    from threatgraph.model import cache

    return cache.folder() / "verdicts" / f"{slot}.json"


def _store(slot: str, body: dict[str, Any]) -> None:
    data = json.dumps(body, sort_keys=True).encode("utf-8", "surrogateescape")
    if len(data) > MAX_BYTES:
        return
    from threatgraph.model import cache

    with suppress(OSError):
        cache.write_entry(_entry(slot), data)


class _Tee:
    """A text stream that keeps what it passes through; bytes written past it (through
    `.buffer`) make the copy incomplete."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._parts: list[str] = []
        self.complete = True

    def write(self, s: str) -> int:
        self._parts.append(s)
        return self._stream.write(s)

    def text(self) -> str:
        return "".join(self._parts)

    @property
    def buffer(self) -> Any:
        self.complete = False
        return self._stream.buffer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _captured() -> Iterator[tuple[_Tee, _Tee]]:
    out, err = _Tee(sys.stdout), _Tee(sys.stderr)
    sys.stdout, sys.stderr = out, err
    try:
        yield out, err
    finally:
        sys.stdout, sys.stderr = out._stream, err._stream
