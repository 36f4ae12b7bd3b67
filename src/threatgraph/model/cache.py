"""A cache of model snapshots, so a check on an unchanged model neither imports nor runs pytm.

What a model file declares is a function of what it reads. While the model runs, an audit
hook records every file it opens and every folder it lists; the snapshot is cached under a
key of the model's spec, its root, whether facts were read, and the versions of threatgraph's
snapshot code, pytm and Python. A later load reuses the entry only when every recorded file
still has the same content and every recorded folder the same names; anything else is a miss
and the model runs. A model that reads a file outside its project (and outside the Python
installation) is never cached: what it read cannot be checked.

The entry is JSON in a tagged form (tuple, list, mapping, the model's own record types by a
fixed table), decoded without evaluating anything and without pickle: the cache is data a
process other than this one wrote. It lives outside the project (THREATGRAPH_CACHE_DIR, else
$XDG_CACHE_HOME/threatgraph, else ~/.cache/threatgraph), so a pull request cannot plant an
entry, is written atomically, and is safe to delete. What it cannot see is a model whose result
depends on the environment, the clock or the network: `model_cache = false` turns it off, and
it is off by default under CI (the `CI` variable set), where a gate should run the model.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

FORMAT = 2
_PACKAGE = Path(__file__).resolve().parents[1]  # threatgraph itself
# The folder threatgraph is imported from. Installed, it is site-packages (part of the
# installation); in an editable checkout it is the checkout's `src`, which Python lists when a
# model imports threatgraph.declare: that listing is recorded (and checked) like a project's.
IMPORT_FOLDER = str(_PACKAGE.parent)
MAX_BYTES = 1 << 30  # an entry larger than this is not read
# the entries this process read or wrote, in order, with the digest of the very bytes it read or
# wrote (threatgraph.verdict_cache pins a verdict to the snapshot it was computed from)
used: list[tuple[Path, str]] = []


class Uncacheable(Exception):
    """This load cannot be cached (the message says why)."""


# --- what the model read --------------------------------------------------------------------

class Reads:
    """Files opened and folders listed while a model runs (audit events), absolute paths."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.folders: set[str] = set()


_active: list[Reads] = []
_hooked = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _active:
        return
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _active[-1].files.add(os.fsdecode(args[0]))
    elif event in ("os.listdir", "os.scandir") and args:
        target = args[0]
        if isinstance(target, (str, bytes, os.PathLike)):
            _active[-1].folders.add(os.fsdecode(target))
        elif target is None:
            _active[-1].folders.add(".")


@contextmanager
def recording() -> Iterator[Reads]:
    """Record what runs inside the block reads (the hook, once installed, stays: audit hooks
    cannot be removed; outside a block it returns at once)."""
    global _hooked
    if not _hooked:
        sys.addaudithook(_hook)
        _hooked = True
    reads = Reads()
    _active.append(reads)
    try:
        yield reads
    finally:
        _active.remove(reads)


def installation() -> tuple[str, ...]:
    """Folders whose files the versions in the key stand for: Python and installed packages,
    and threatgraph itself."""
    import sysconfig

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(__file__).resolve().parents[1])}
    roots |= {p for p in (sysconfig.get_paths().get(k) for k in ("purelib", "platlib", "stdlib", "platstdlib")) if p}
    return tuple(sorted(os.path.join(os.path.realpath(r), "") for r in roots))


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def listing_digest(path: Path) -> str:
    return hashlib.sha256("\0".join(sorted(os.listdir(path))).encode("utf-8", "surrogateescape")).hexdigest()


# A file changed this close to a run may have changed while it ran, after it was read: its
# digest, taken afterwards, would vouch for content the run never saw. Such a run is not kept
# (as git treats a "racily clean" index entry); two seconds covers the coarsest mtimes.
RACY_NS = 2_000_000_000


def racy(path: str, started: int) -> bool:
    """Whether `path` was modified too close to a run that started at `started` (time.time_ns())."""
    return os.stat(path).st_mtime_ns >= started - RACY_NS


def manifest(reads: Reads, root: Path, model_file: Path | None, started: int) -> dict[str, list[list[str]]]:
    """What the load depended on, relative to root, with content digests; Uncacheable when it
    read something outside the project that the versions in the key do not cover, or something
    modified too close to the run that started at `started`."""
    from importlib.util import source_from_cache

    base = os.path.realpath(root)
    installed = installation()
    files: dict[str, str] = {}
    folders: dict[str, str] = {}

    def inside(raw: str, listing: bool = False) -> str | None:
        real = os.path.realpath(raw if os.path.isabs(raw) else os.path.join(base, raw))
        if real.startswith(installed) or real in (os.devnull,):
            return None
        if listing and real == IMPORT_FOLDER:
            return os.path.relpath(real, base)
        if real != base and not real.startswith(base + os.sep):
            raise Uncacheable(f"the model read {raw}, outside its project")
        return os.path.relpath(real, base)

    for raw in sorted(reads.files | ({str(model_file)} if model_file else set())):
        if raw.endswith(".pyc") and "__pycache__" in raw:
            with suppress(ValueError):
                raw = source_from_cache(raw)
        rel = inside(raw)
        if rel is not None and os.path.isfile(os.path.join(base, rel)):
            if racy(os.path.join(base, rel), started):
                raise Uncacheable(f"{rel} changed while the model ran")
            files[rel] = file_digest(Path(base, rel))
    for raw in sorted(reads.folders):
        rel = inside(raw, listing=True)
        if rel is not None and os.path.isdir(os.path.join(base, rel)):
            if racy(os.path.join(base, rel), started):
                raise Uncacheable(f"{rel} changed while the model ran")
            folders[rel] = listing_digest(Path(base, rel))
    return {"files": sorted([k, v] for k, v in files.items()), "folders": sorted([k, v] for k, v in folders.items())}


def _unchanged(entry: Mapping[str, Any], root: Path) -> bool:
    return unchanged(entry, os.path.realpath(root))


def unchanged(entry: Mapping[str, Any], base: str | None = None) -> bool:
    """Whether every file in `entry["files"]` and folder in `entry["folders"]` still has its
    digest: paths relative to `base` and never outside it (but for the listing of the folder
    threatgraph is imported from), or absolute when `base` is None."""
    for (rel, digest), check in [*((f, file_digest) for f in entry["files"]), *((d, listing_digest) for d in entry["folders"])]:
        path = Path(os.path.realpath(rel if base is None else os.path.join(base, rel)))
        if base is not None and not (str(path) == base or str(path).startswith(base + os.sep)
                                     or (check is listing_digest and str(path) == IMPORT_FOLDER)):
            return False
        try:
            if check(path) != digest:
                return False
        except OSError:
            return False
    return True


# --- where, and under which key -------------------------------------------------------------

def enabled(setting: bool | None) -> bool:
    """`model_cache` in [tool.threatgraph]: true, false, or unset (on, except under CI)."""
    if os.environ.get("THREATGRAPH_NO_CACHE"):
        return False
    if setting is not None:
        return setting
    return not os.environ.get("CI")


def folder() -> Path:
    explicit = os.environ.get("THREATGRAPH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "threatgraph" if xdg else Path.home() / ".cache" / "threatgraph"


def versions() -> dict[str, str]:
    """What an entry is never trusted across: this format, threatgraph's code (all of it, by
    content: the model runs `threatgraph.declare`, and an edited checkout counts too), pytm's
    version, Python's."""
    from threatgraph import installed

    return {"format": str(FORMAT), "threatgraph_code": code_digest(), "pytm": installed.version("pytm") or "none",
            "python": sys.version.split()[0] + "-" + sys.implementation.cache_tag}


@functools.cache
def code_digest() -> str:
    """threatgraph's own code, hashed once per process: the code this process runs was read
    when it started, so an edit made later is not what it runs."""
    return tree_digest(_PACKAGE)


def tree_digest(top: Path) -> str:
    """The names, kinds and contents of a file or of everything under a folder (links below
    the top are recorded by target, never followed; special files by kind, never opened)."""
    h = hashlib.sha256()
    for rel, info, target in _walk(top):
        h.update(rel.encode("utf-8", "surrogateescape") + b"\0" + str(stat.S_IFMT(info.st_mode)).encode() + b"\0")
        if stat.S_ISREG(info.st_mode):
            with open(target, "rb") as fh:
                h.update(hashlib.file_digest(fh, "sha256").digest())
        elif stat.S_ISLNK(info.st_mode):
            h.update(os.readlink(target).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _walk(top: Path) -> Iterator[tuple[str, os.stat_result, str]]:
    top = Path(os.path.realpath(top))  # a catalog folder that is a link: what it points to, as the loader reads it
    try:
        info = os.lstat(top)
    except OSError:
        yield "", os.stat_result((0,) * 10), str(top)  # absent: a kind of its own
        return
    yield "", info, str(top)
    if not stat.S_ISDIR(info.st_mode):
        return
    for here, dirs, names in os.walk(top, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted([*names, *(d for d in dirs)]):
            full = os.path.join(here, name)
            yield os.path.relpath(full, top), os.lstat(full), full


def entry_path(spec: str, root: Path, facts: bool, found: Mapping[str, str]) -> Path:
    key = json.dumps([spec, os.path.realpath(root), facts, dict(found)], sort_keys=True)
    return folder() / "snapshots" / (hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest() + ".json")


# --- encoding -------------------------------------------------------------------------------

def _types() -> dict[str, type]:
    from threatgraph.declare import Invariant, Resolved
    from threatgraph.errors import Problem
    from threatgraph.location import Location
    from threatgraph.model.facts import EnumValue, FactLayout, Facts, Ref
    from threatgraph.model.snapshot import LoadedModel
    from threatgraph.model.types import Boundary, DataAsset, Element, Flow, Model, Triage

    return {c.__name__: c for c in (Invariant, Resolved, Problem, Location, EnumValue, FactLayout, Facts, Ref,
                                    LoadedModel, Boundary, DataAsset, Element, Flow, Model, Triage)}


class _Codec:
    def __init__(self) -> None:
        from threatgraph.model.facts import MISSING_MARK, EnumValue, Ref

        self.types = _types()
        self.mark, self.EnumValue, self.Ref = MISSING_MARK, EnumValue, Ref
        self.fields = {name: tuple(f.name for f in fields(cls)) for name, cls in self.types.items()}

    def encode(self, v: Any) -> Any:
        t = type(v)
        if v is None or t is bool or t is int or t is str:
            return v
        if t is float:
            return v if math.isfinite(v) else ["f", repr(v)]
        if t is tuple:
            return ["t", *map(self.encode, v)]
        if t is list:
            return ["l", *map(self.encode, v)]
        if t is dict or t is MappingProxyType:
            if not all(type(k) is str for k in v):
                raise Uncacheable("a mapping with keys that are not strings")
            body = {k: self.encode(x) for k, x in v.items()}
            return body if t is dict else ["p", body]
        if v is self.mark:
            return ["m"]
        if t is self.EnumValue:
            return ["e", v.type, v.name, v.rank]
        if t is self.Ref:
            return ["r", v.id]
        name = t.__name__
        if is_dataclass(v) and self.types.get(name) is t:
            return ["c", name, {f: self.encode(getattr(v, f)) for f in self.fields[name]}]
        raise Uncacheable(f"a value of type {name}")

    def decode(self, v: Any) -> Any:
        t = type(v)
        if t is list:
            tag = v[0]
            if tag == "t":
                return tuple(map(self.decode, v[1:]))
            if tag == "l":
                return list(map(self.decode, v[1:]))
            if tag == "e":
                return self.EnumValue(v[1], v[2], v[3])
            if tag == "r":
                return self.Ref(v[1])
            if tag == "m":
                return self.mark
            if tag == "p":
                return MappingProxyType({k: self.decode(x) for k, x in v[1].items()})
            if tag == "f":
                return float(v[1])  # only 'nan', 'inf', '-inf' are ever written
            if tag == "c":
                cls = self.types[v[1]]
                values = {k: self.decode(x) for k, x in v[2].items()}
                if set(values) != set(self.fields[v[1]]):
                    raise ValueError(f"fields of {v[1]}")
                obj: Any = object.__new__(cls)
                obj.__dict__.update(values)
                return obj
            raise ValueError(f"unknown tag {tag!r}")
        if t is dict:
            return {k: self.decode(x) for k, x in v.items()}
        return v


def encode(loaded: Any) -> Any:
    """A LoadedModel as tagged JSON values (Uncacheable when it holds another type)."""
    return _Codec().encode(loaded)


def decode(value: Any) -> Any:
    """The LoadedModel `encode` wrote (ValueError, KeyError or TypeError on anything else)."""
    return _Codec().decode(value)


# --- reading and writing --------------------------------------------------------------------

def load(spec: str, root: Path, facts: bool) -> Any:
    """The cached LoadedModel for this load, or None (a miss, a stale or unreadable entry)."""
    try:
        found = versions()
        path = entry_path(spec, root, facts, found)
        valid = _valid(path, root, found)
        if valid is None:
            return None
        raw, entry = valid
        loaded = _Codec().decode(entry["loaded"])
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        return None
    used.append((path, hashlib.sha256(raw).hexdigest()))
    return loaded


def still_valid(path: Path, root: Path) -> str | None:
    """The digest of the entry at `path` when it would still be used for a model under `root`
    (same versions, nothing it read changed), else None; reads the entry but decodes no model."""
    try:
        valid = _valid(path, root, versions())
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        return None
    return hashlib.sha256(valid[0]).hexdigest() if valid is not None else None


def _valid(path: Path, root: Path, found: Mapping[str, str]) -> tuple[bytes, Any] | None:
    """The entry's bytes and JSON when it is a regular file of bounded size, of these versions,
    and nothing it read has changed; None otherwise (raises on an unreadable entry)."""
    if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_BYTES:
        return None
    raw = path.read_bytes()
    entry = json.loads(raw)
    if entry.get("versions") != found or not _unchanged(entry, root):
        return None
    return raw, entry


def store(spec: str, root: Path, facts: bool, loaded: Any, depends: Mapping[str, Any]) -> None:
    """Write the entry atomically (a temporary file renamed over it); a load that cannot be
    cached, or a cache folder that cannot be written, leaves things as they were."""
    try:
        found = versions()
        body = {"versions": found, "spec": spec, **depends, "loaded": _Codec().encode(loaded)}
        path = entry_path(spec, root, facts, found)
        data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")  # dumps: the C encoder
        write_entry(path, data)
    except (Uncacheable, OSError, ValueError, RecursionError):
        return
    used.append((path, hashlib.sha256(data).hexdigest()))


def write_entry(path: Path, data: bytes) -> None:
    """A cache entry (this module's or threatgraph.verdict_cache's) written whole or not at all:
    a temporary file, readable by the user alone, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".entry-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def cached(spec: str, root: Path, facts: bool, setting: bool | None, run: Callable[[bool], tuple[Any, Any]]) -> Any:
    """The load through the cache: a hit when nothing it read has changed, else `run(record)`,
    which returns (LoadedModel, manifest or None), and the entry written."""
    return prepared(spec, root, facts, setting, lambda record: lambda: run(record))()


def prepared(spec: str, root: Path, facts: bool, setting: bool | None,
             start: Callable[[bool], Callable[[], tuple[Any, Any]]]) -> Callable[[], Any]:
    """`cached` in two steps: the lookup now and, on a miss, `start(record)` (which forks the
    model's child and returns a function that waits for it); the result, and the entry
    written, when the returned function is called."""
    if not enabled(setting):
        running = start(False)
        return lambda: running()[0]
    hit = load(spec, root, facts)
    if hit is not None:
        return lambda: hit
    waiting = start(True)

    def finish() -> Any:
        loaded, depends = waiting()
        if depends is not None:
            store(spec, root, facts, loaded, depends)
        return loaded
    return finish
