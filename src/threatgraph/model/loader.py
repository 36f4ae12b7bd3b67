"""Load a pytm model file in isolation and turn it into threatgraph's immutable Model.

The file runs in a forked child (threatgraph.model.child), inside a fresh pytm state
(isolation.py); its objects are snapshotted (snapshot.py) with the ids and lines its bindings
give (bindings.py) and its declarations resolved (declarations.py).
"""

from __future__ import annotations

import importlib
import re
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from threatgraph.errors import InputError, Problem, did_you_mean, safe_str
from threatgraph.model import cache as model_cache
from threatgraph.model.bindings import _display
from threatgraph.model.child import DEFAULT_TIMEOUT, Running, model_argv0, start_isolated
from threatgraph.model.isolation import _import_file, _Isolation
from threatgraph.model.snapshot import EXTENSION_ATTRIBUTES, LoadedModel, _snapshot, slug
from threatgraph.process import without_collection

__all__ = ["EXTENSION_ATTRIBUTES", "LoadedModel", "abandon", "begin", "load_model", "load_model_here", "slug"]


def _user_files(model_dir: Path) -> set[str]:
    """The model's own Python files: under its folder, but never an installed package (a
    virtualenv inside the project) or a hidden folder, so an error is located in the user's
    code, not in pydantic's."""
    out = set()
    for p in model_dir.rglob("*.py"):
        parts = p.relative_to(model_dir).parts
        if any(part.startswith(".") or part in ("site-packages", "dist-packages", "node_modules", "__pycache__")
               for part in parts[:-1]):
            continue
        out.add(str(p))
    return out


def _describe(exc: BaseException) -> str:
    """One readable line for what the model raised: pydantic's multi-line validation report
    becomes `Class.field: message (got value)`, other messages have their lines joined."""
    errors = getattr(exc, "errors", None)
    title = getattr(exc, "title", None)
    if callable(errors) and title is not None:
        try:
            parts = [f"{title}.{'.'.join(str(x) for x in e.get('loc', ())) or '?'}: {e.get('msg', '')}"
                     + (f" (got {safe_str(e['input'])[:60]!s})" if "input" in e else "") for e in errors()]
            return "; ".join(parts)
        except Exception:  # noqa: BLE001, S110 - a foreign exception's errors() failed: use its text
            pass
    text = safe_str(exc)
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _model_error(exc: BaseException, model_files: set[str], display: dict[str, str], fallback: str) -> Problem:
    if isinstance(exc, SyntaxError) and exc.filename in model_files:
        return Problem(display.get(exc.filename, exc.filename), exc.lineno or 1, exc.offset or 1,
                       f"syntax error in model: {exc.msg}")
    what = (f"the model exited with status {exc.code!r} (sys.exit) before it finished declaring"
            if isinstance(exc, SystemExit) else f"the model raised {type(exc).__name__}: {_describe(exc)}")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in model_files]
    if not frames:
        return Problem(fallback, 1, 1, what)
    f = frames[-1]
    hint = "fix the model file; pytm rejected a value or the code failed"
    if isinstance(exc, SystemExit):
        hint = "a model file declares the system; end it without sys.exit(), or exit with 0"
    outer = frames[0]
    if (outer.filename, outer.lineno) != (f.filename, f.lineno):
        hint += f" (called from {display.get(outer.filename, outer.filename)}:{outer.lineno})"
    return Problem(display.get(f.filename, f.filename), f.lineno or 1, 1, what, hint)


def _split(spec: str) -> tuple[str, str]:
    """(file or module part, attribute) of a model spec; a Windows drive letter is no separator."""
    if re.match(r"^[A-Za-z]:\\", spec):
        return spec, ""
    file_part, _, attr = spec.partition(":")
    return file_part, attr


def _model_path(file_part: str, root: Path) -> Path | None:
    """The model file, when the spec names a file rather than a module."""
    is_file = file_part.endswith(".py") or "/" in file_part or "\\" in file_part
    return (root / file_part).resolve() if is_file else None


def model_file(spec: str, root: Path) -> Path | None:
    """The file a model spec names, or None for `module:attribute`."""
    return _model_path(_split(spec)[0], root)


def load_model(spec: str, root: Path, timeout: float = DEFAULT_TIMEOUT, facts: bool = False,
               cache: bool | None = False) -> LoadedModel:
    """Load `spec` (a .py file relative to root, or `module:attribute`) into a Model, running
    the model in a child process with a time limit (see threatgraph.model.child). With `facts`,
    every pytm attribute value is kept too (model/facts.py), for catalogs that use conditions.
    `cache` (true, false, or None for the default) reuses the snapshot of an unchanged model
    (model/cache.py) instead of running it. A load `begin` started with the same arguments is
    collected instead of starting another."""
    key = (spec, str(root), timeout, facts, cache)
    pending = _begun.pop(key, None)
    loaded: LoadedModel = (pending[0] if pending is not None else _prepare(spec, root, timeout, facts, cache)[0])()
    return loaded


_begun: dict[tuple[Any, ...], tuple[Callable[[], LoadedModel], list[Running]]] = {}


def begin(spec: str, root: Path, timeout: float = DEFAULT_TIMEOUT, facts: bool = False,
          cache: bool | None = False) -> None:
    """Start loading now (the cached snapshot looked up, or the model's child forked) so the
    model runs while this process imports the rest of threatgraph; `load_model` with the same
    arguments collects it. Whatever goes wrong here is left for that call to find and report."""
    key = (spec, str(root), timeout, facts, cache)
    if key in _begun:
        return
    try:
        _begun[key] = _prepare(spec, root, timeout, facts, cache)
    except Exception:  # noqa: BLE001, S110 - load_model repeats the load and reports the error
        pass


def abandon() -> None:
    """Stop every load `begin` started that was never collected (the command failed first)."""
    while _begun:
        _, (_, children) = _begun.popitem()
        for child in children:
            child.cancel()


def _prepare(spec: str, root: Path, timeout: float, facts: bool,
             cache: bool | None) -> tuple[Callable[[], LoadedModel], list[Running]]:
    """The load started (see model_cache.prepared), the function that finishes it, and its child."""
    shown = _split(spec)[0]
    children: list[Running] = []

    def start(record: bool) -> Callable[[], tuple[LoadedModel, Any]]:
        child = start_isolated(lambda: _load_recording(spec, root, facts, record), shown, model_argv0(spec, root),
                               timeout)
        children.append(child)
        return child.result

    return model_cache.prepared(spec, root, facts, cache, start), children


def _load_recording(spec: str, root: Path, facts: bool, record: bool) -> tuple[LoadedModel, Any]:
    """The load, and (when `record`) what it read, for the cache; None when it cannot be cached."""
    if not record:
        return load_model_here(spec, root, facts), None
    started = time.time_ns()
    with model_cache.recording() as reads:
        loaded = load_model_here(spec, root, facts)
    try:
        return loaded, model_cache.manifest(reads, root, _model_path(_split(spec)[0], root), started)
    except model_cache.Uncacheable:
        return loaded, None


def load_model_here(spec: str, root: Path, facts: bool = False) -> LoadedModel:
    """Load `spec` in this process (pytm's state quarantined and restored)."""
    file_part, attr = _split(spec)
    path = _model_path(file_part, root)
    shown = file_part
    if path is not None and not path.is_file():
        raise InputError([Problem("pyproject.toml", 1, 1, f"model file '{file_part}' does not exist",
                                  "set [tool.threatgraph] model to a Python file or module:attribute")])
    try:
        import pytm  # noqa: F401  (imported before isolation so its own modules stay cached)
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise InputError([Problem(shown, 1, 1, f"pytm is not installed: {exc}")]) from None

    with _Isolation(str(path) if path else file_part) as iso:
        sys.path.insert(0, str(root))
        model_dir = path.parent if path else root
        try:
            module = _import_file(path) if path else importlib.import_module(file_part)
        except InputError:
            raise
        except BaseException as exc:  # noqa: BLE001 - a model is user code; report, never trace
            if isinstance(exc, KeyboardInterrupt):
                raise
            files = _user_files(model_dir)
            display = {f: _display(Path(f), root) for f in files}
            raise InputError([_model_error(exc, files, display, shown)]) from None
        modules = [m for m in iso.new_modules() if _is_model_module(m, model_dir, module)]
        if module not in modules:
            modules.insert(0, module)
        tm = _find_tm(module, attr, shown, iso.TM)
        state = iso.TM._state
        with without_collection():  # the user's code has run; the snapshot's values make no cycles
            loaded = _snapshot(tm, state, modules, root, shown, facts)
    return loaded


def _is_model_module(m: ModuleType, model_dir: Path, main: ModuleType) -> bool:
    if m is main:
        return True
    f = getattr(m, "__file__", None)
    if not f:
        return False
    try:
        Path(f).resolve().relative_to(model_dir.resolve())
        return True
    except ValueError:
        return False


def _find_tm(module: ModuleType, attr: str, shown: str, TM: type) -> Any:
    if attr:
        tm = getattr(module, attr, None)
        if not isinstance(tm, TM):
            names = [n for n, v in vars(module).items() if isinstance(v, TM)]
            raise InputError([Problem(shown, 1, 1, f"'{attr}' is not a pytm TM in the model",
                                      did_you_mean(attr, names) if names else "")])
        return tm
    found = [(n, v) for n, v in vars(module).items() if isinstance(v, TM)]
    if len(found) != 1:
        what = "no pytm TM" if not found else f"{len(found)} TM objects ({', '.join(n for n, _ in found)})"
        raise InputError([Problem(shown, 1, 1, f"the model defines {what}",
                                  "define exactly one `tm = TM(...)`, or name it as file.py:attribute")])
    return found[0][1]
