"""Load a pytm model file in isolation and turn it into threatgraph's immutable Model.

pytm registers every element in class-level state on `TM`; we give each load a fresh state,
import the model under a private module name, take a snapshot, and restore everything, so
two models loaded in one process (a diff, a test) never see each other's elements.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import re
import sys
import traceback
from dataclasses import dataclass
from functools import lru_cache
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

from threatgraph.errors import InputError, Problem, did_you_mean
from threatgraph.model.types import (
    Boundary,
    DataAsset,
    Element,
    Flow,
    Location,
    Model,
    freeze,
)

# Attributes threatgraph reads beyond pytm's own fields.
EXTENSION_ATTRIBUTES = {
    "threatgraphId": "override the element's id (default: its variable name)",
    "isAttack": "marks a flow the design exists to block (an attack edge)",
    "tags": "free-form labels, selectable with the `tag` selector",
}
_STRUCTURAL = {
    "name", "description", "inBoundary", "data", "source", "sink", "uuid", "is_drawn",
    "findings", "overrides", "levels", "inputs", "outputs", "carriedBy", "processedBy",
    "response", "responseTo", "order", "controls", "assumptions", "threatgraphId", "tags",
    "isAttack", "dstPort", "protocol", "classification", "inScope",
}
_counter = itertools.count()
_PYTM_KINDS = {
    "Actor": "actor", "ExternalEntity": "external_entity", "Process": "process",
    "SetOfProcesses": "set_of_processes", "Server": "server", "Datastore": "datastore",
    "Lambda": "lambda", "Agent": "agent", "LLM": "llm", "Asset": "asset", "Element": "element",
}


@dataclass(frozen=True)
class LoadedModel:
    model: Model
    warnings: tuple[Problem, ...]


def slug(text: str) -> str:
    s = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    return s or "unnamed"


def _kind_of(obj: Any) -> str:
    for cls in type(obj).__mro__:
        if cls.__module__.startswith("pytm") and cls.__name__ in _PYTM_KINDS:
            return _PYTM_KINDS[cls.__name__]
    return "element"


def _plain(value: Any, ids: dict[int, str]) -> Any:
    """A JSON-friendly copy of an attribute value (elements become their ids)."""
    if isinstance(value, Enum):
        return value.name.lower()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if id(value) in ids:
        return ids[id(value)]
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v, ids) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, dict):
        return {str(k): _plain(v, ids) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return str(value)


class _Isolation:
    """Fresh pytm state, private module names, restored sys.path and sys.modules."""

    def __enter__(self) -> _Isolation:
        from pytm.tm import TM

        self.TM = TM
        self.saved_state = TM._state
        TM.reset()
        self.saved_modules = set(sys.modules)
        self.saved_path = list(sys.path)
        return self

    def new_modules(self) -> list[ModuleType]:
        return [m for name, m in list(sys.modules.items()) if name not in self.saved_modules and m]

    def __exit__(self, *exc: object) -> None:
        for name in [n for n in sys.modules if n not in self.saved_modules]:
            del sys.modules[name]
        sys.path[:] = self.saved_path
        type.__setattr__(self.TM, "_state", self.saved_state)


def _model_error(exc: BaseException, model_files: set[str], display: dict[str, str], fallback: str) -> Problem:
    if isinstance(exc, SyntaxError) and exc.filename in model_files:
        return Problem(display.get(exc.filename, exc.filename), exc.lineno or 1, exc.offset or 1,
                       f"syntax error in model: {exc.msg}")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in model_files]
    if frames:
        f = frames[-1]
        return Problem(display.get(f.filename, f.filename), f.lineno or 1, 1,
                       f"the model raised {type(exc).__name__}: {exc}",
                       "fix the model file; pytm rejected a value or the code failed")
    return Problem(fallback, 1, 1, f"the model raised {type(exc).__name__}: {exc}")


def _import_file(path: Path) -> ModuleType:
    """Import `path` under a private name; as a package member when its folder is a package."""
    token = f"_threatgraph_model_{next(_counter)}"
    folder = path.parent
    if (folder / "__init__.py").exists():
        pkg_spec = importlib.util.spec_from_file_location(
            token, folder / "__init__.py", submodule_search_locations=[str(folder)])
        assert pkg_spec and pkg_spec.loader
        pkg = importlib.util.module_from_spec(pkg_spec)
        sys.modules[token] = pkg
        pkg_spec.loader.exec_module(pkg)
        if path.name == "__init__.py":
            return pkg
        return importlib.import_module(f"{token}.{path.stem}")
    spec = importlib.util.spec_from_file_location(token, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[token] = module
    sys.path.insert(0, str(folder))
    spec.loader.exec_module(module)
    return module


_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?=(?!=)", re.MULTILINE)


@lru_cache(maxsize=64)
def _lines_in(file: str, mtime_ns: int) -> dict[str, int]:
    text = Path(file).read_text(encoding="utf-8", errors="replace")
    lines: dict[str, int] = {}
    line = 1
    last = 0
    for m in _ASSIGN.finditer(text):
        line += text.count("\n", last, m.start())
        last = m.start()
        lines.setdefault(m.group(1), line)
    return lines


def _binding_lines(module: ModuleType) -> dict[str, int]:
    """Lines of top-level `name = ...` assignments in a module file, by name, for source
    locations (one regex pass, cached: a model of thousands of elements is a large file)."""
    file = getattr(module, "__file__", None)
    if not file or not file.endswith(".py"):
        return {}
    try:
        return _lines_in(file, Path(file).stat().st_mtime_ns)
    except OSError:
        return {}


def load_model(spec: str, root: Path) -> LoadedModel:
    """Load `spec` (a .py file relative to root, or `module:attribute`) into a Model."""
    file_part, _, attr = spec.partition(":") if not re.match(r"^[A-Za-z]:\\", spec) else (spec, "", "")
    is_file = file_part.endswith(".py") or "/" in file_part or "\\" in file_part
    path = (root / file_part).resolve() if is_file else None
    shown = file_part
    if path is not None and not path.is_file():
        raise InputError([Problem("pyproject.toml", 1, 1, f"model file '{file_part}' does not exist",
                                  "set [tool.threatgraph] model to a Python file or module:attribute")])
    try:
        import pytm  # noqa: F401  (imported before isolation so its own modules stay cached)
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise InputError([Problem(shown, 1, 1, f"pytm is not installed: {exc}")]) from None

    with _Isolation() as iso:
        sys.path.insert(0, str(root))
        model_dir = path.parent if path else root
        try:
            module = _import_file(path) if path else importlib.import_module(file_part)
        except InputError:
            raise
        except BaseException as exc:  # noqa: BLE001 - a model is user code; report, never trace
            if isinstance(exc, KeyboardInterrupt):
                raise
            files = {str(p) for p in model_dir.rglob("*.py")} if model_dir else set()
            display = {f: _display(Path(f), root) for f in files}
            raise InputError([_model_error(exc, files, display, shown)]) from None
        modules = [m for m in iso.new_modules() if _is_model_module(m, model_dir, module)]
        if module not in modules:
            modules.insert(0, module)
        tm = _find_tm(module, attr, shown, iso.TM)
        state = iso.TM._state
        loaded = _snapshot(tm, state, modules, root, shown)
    return loaded


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


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


def _snapshot(tm: Any, state: Any, modules: list[ModuleType], root: Path, shown: str) -> LoadedModel:
    from pytm import Boundary as PBoundary
    from pytm import Data as PData
    from pytm import Dataflow as PDataflow

    problems: list[Problem] = []
    warnings: list[Problem] = []

    # Variable names: every binding of a pytm object in the model's modules.
    names: dict[int, list[tuple[str, str, int]]] = {}
    for m in sorted(modules, key=lambda m: getattr(m, "__file__", "") or ""):
        file = _display(Path(m.__file__), root) if getattr(m, "__file__", None) else shown
        lines = _binding_lines(m)
        for name, value in vars(m).items():
            if name.startswith("_") or not isinstance(value, (PData,)) and not hasattr(value, "inBoundary"):
                continue
            names.setdefault(id(value), []).append((file, name, lines.get(name, 0)))

    objects: list[Any] = []
    seen: set[int] = set()
    for obj in list(state.elements) + list(state.boundaries) + list(state.flows) + list(state.data):
        if id(obj) not in seen:
            seen.add(id(obj))
            objects.append(obj)

    ids: dict[int, str] = {}
    locs: dict[int, Location | None] = {}
    owner: dict[str, Any] = {}
    for obj in objects:
        explicit = (getattr(obj, "model_extra", None) or {}).get("threatgraphId")
        bound = names.get(id(obj), [])
        distinct = sorted({n for _, n, _ in bound})
        if explicit is not None:
            ident = str(explicit)
        elif distinct:
            ident = distinct[0] if len(distinct) == 1 else sorted(bound)[0][1]
            if len(distinct) > 1:
                f, _, ln = sorted(bound)[0]
                warnings.append(Problem(f, ln or 1, 1, f"{obj.name!r} is bound to several names ({', '.join(distinct)}); using '{ident}'",
                                        "set threatgraphId=... to choose its id", "warning"))
        else:
            ident = slug(obj.name)
        loc = None
        if bound:
            f, _, ln = sorted(bound)[0]
            loc = Location(f, ln or 1)
        if not ident or "\x00" in ident or len(ident) > 200:
            problems.append(Problem(loc.file if loc else shown, loc.line if loc else 1, 1,
                                    f"invalid id {ident!r} for {obj.name!r}", "ids are 1-200 characters"))
            continue
        if ident in owner:
            other = owner[ident]
            where = loc or locs.get(id(other))
            problems.append(Problem(where.file if where else shown, where.line if where else 1, 1,
                                    f"duplicate id '{ident}': {other.name!r} and {obj.name!r}",
                                    "bind each element to its own variable, or set threatgraphId=..."))
            continue
        owner[ident] = obj
        ids[id(obj)] = ident
        locs[id(obj)] = loc
    if problems:
        raise InputError(problems)

    known_by_class: dict[type, set[str]] = {}

    def warn_unknown(obj: Any) -> None:
        extra = getattr(obj, "model_extra", None)
        if not extra:
            return
        cls = type(obj)
        known = known_by_class.get(cls)
        if known is None:
            known = known_by_class[cls] = set(cls.model_fields) | set(EXTENSION_ATTRIBUTES)
        for key in sorted(k for k in extra if k not in known):
            loc = locs.get(id(obj))
            controls = set(type(obj.controls).model_fields) if hasattr(obj, "controls") else set()
            hint = f"did you mean 'controls.{key}'?" if key in controls else did_you_mean(key, known)
            warnings.append(Problem(loc.file if loc else shown, loc.line if loc else 1, 1,
                                    f"{ids[id(obj)]}: attribute '{key}' is not a pytm or threatgraph attribute",
                                    hint, "warning"))

    def attributes(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}  # freeze() sorts the keys
        for key in obj.model_fields_set:
            if key not in _STRUCTURAL:
                out[key] = _plain(getattr(obj, key), ids)
        for key, value in (getattr(obj, "model_extra", None) or {}).items():
            if key not in _STRUCTURAL:
                out[key] = _plain(value, ids)
        controls = getattr(obj, "controls", None)
        if controls is not None:
            for key in controls.model_fields_set | set(controls.model_extra or ()):
                out[f"controls.{key}"] = _plain(getattr(controls, key), ids)
        return out

    def tags(obj: Any) -> tuple[str, ...]:
        raw = (getattr(obj, "model_extra", None) or {}).get("tags") or ()
        return tuple(sorted(str(t) for t in ([raw] if isinstance(raw, str) else raw)))

    data: dict[str, DataAsset] = {}
    for d in state.data:
        if id(d) not in ids:
            continue
        data[ids[id(d)]] = DataAsset(
            id=ids[id(d)], name=d.name, classification=d.classification.name.lower(),
            description=d.description or "", is_credentials=bool(d.isCredentials), is_pii=bool(d.isPII),
            location=locs.get(id(d)))

    def data_ids(obj: Any) -> tuple[str, ...]:
        return tuple(sorted(ids[id(d)] for d in (getattr(obj, "data", None) or ()) if id(d) in ids))

    boundary_objs = [o for o in objects if isinstance(o, PBoundary) and id(o) in ids]

    def chain(obj: Any) -> tuple[str, ...]:
        out: list[str] = []
        parent = obj.inBoundary
        guard = 0
        while parent is not None and guard < 1000:
            if id(parent) in ids:
                out.append(ids[id(parent)])
            parent = parent.inBoundary
            guard += 1
        return tuple(out)

    boundaries = {}
    for b in boundary_objs:
        warn_unknown(b)
        boundaries[ids[id(b)]] = Boundary(
            id=ids[id(b)], name=b.name, parent=ids.get(id(b.inBoundary)) if b.inBoundary else None,
            chain=chain(b), description=b.description or "", attributes=freeze(attributes(b)),
            location=locs.get(id(b)))

    elements = {}
    for e in objects:
        if isinstance(e, (PBoundary, PDataflow, PData)) or id(e) not in ids:
            continue
        warn_unknown(e)
        elements[ids[id(e)]] = Element(
            id=ids[id(e)], name=e.name, kind=_kind_of(e), boundaries=chain(e),
            description=e.description or "", data=data_ids(e), in_scope=bool(e.inScope),
            tags=tags(e), attributes=freeze(attributes(e)), location=locs.get(id(e)))

    def enclosing(node_id: str) -> set[str]:
        if node_id in elements:
            return set(elements[node_id].boundaries)
        b = boundaries[node_id]
        return set(b.chain) | {node_id}

    flows = {}
    for f in objects:
        if not isinstance(f, PDataflow) or id(f) not in ids:
            continue
        warn_unknown(f)
        src, dst = ids.get(id(f.source)), ids.get(id(f.sink))
        loc = locs.get(id(f))
        if src is None or dst is None or isinstance(f.source, (PDataflow, PData)) or isinstance(f.sink, (PDataflow, PData)):
            problems.append(Problem(loc.file if loc else shown, loc.line if loc else 1, 1,
                                    f"flow {ids[id(f)]!r} does not connect two model elements"))
            continue
        extra = getattr(f, "model_extra", None) or {}
        port = f.dstPort if isinstance(f.dstPort, int) and f.dstPort >= 0 else None
        flows[ids[id(f)]] = Flow(
            id=ids[id(f)], name=f.name, source=src, sink=dst, protocol=f.protocol or "", port=port,
            data=data_ids(f), encrypted=bool(f.controls.isEncrypted),
            authenticated=bool(f.controls.authenticatesSource), attack=bool(extra.get("isAttack", False)),
            crosses=tuple(sorted(enclosing(src) ^ enclosing(dst))), description=f.description or "",
            tags=tags(f), attributes=freeze(attributes(f)), location=loc)
    if problems:
        raise InputError(problems)

    declarations = _declarations(modules, root, shown, ids, elements, boundaries, flows)
    model = Model(
        name=tm.name, description=tm.description or "", file=shown,
        elements=freeze(elements), boundaries=freeze(boundaries), flows=freeze(flows), data=freeze(data),
        extras=freeze({k: v for k, v in (getattr(tm, "model_extra", None) or {}).items()}),
        declarations=declarations,
    )
    return LoadedModel(model, tuple(sorted(warnings)))


def _declarations(modules: list[ModuleType], root: Path, shown: str, ids: dict[int, str],
                  elements: dict[str, Any], boundaries: dict[str, Any], flows: dict[str, Any]) -> Any:
    """The model's `Declarations`, with every reference resolved to an id (or InputError)."""
    from dataclasses import replace

    from threatgraph.declare import Declarations, Resolved

    found = []
    for m in sorted(modules, key=lambda m: getattr(m, "__file__", "") or ""):
        file = _display(Path(m.__file__), root) if getattr(m, "__file__", None) else shown
        lines = _binding_lines(m)
        for name, value in vars(m).items():
            if isinstance(value, Declarations) and all(value is not f[0] for f in found):
                found.append((value, file, lines.get(name, 1)))
    if not found:
        return None
    if len(found) > 1:
        raise InputError([Problem(f, ln, 1, "the model binds more than one threatgraph Declarations",
                                  "declare invariants, entry points and targets in one place") for _, f, ln in found])
    decl, file, line = found[0]
    problems: list[Problem] = []

    def resolve(ref: Any, allowed: dict[str, Any], what: str) -> str | None:
        ident = ref if isinstance(ref, str) else ids.get(id(ref))
        if ident is None or ident not in allowed:
            shown_ref = ref if isinstance(ref, str) else getattr(ref, "name", repr(ref))
            problems.append(Problem(file, line, 1, f"declarations name {what} {shown_ref!r}, which is not one in the model",
                                    did_you_mean(str(shown_ref), allowed)))
            return None
        return ident

    def many(refs: Any, allowed: dict[str, Any], what: str) -> tuple[str, ...]:
        return tuple(i for i in (resolve(r, allowed, what) for r in refs) if i is not None)

    invariants = []
    for inv in decl.invariants:
        if not hasattr(inv, "kind"):
            problems.append(Problem(file, line, 1, f"{inv!r} is not an invariant",
                                    "use always_through(), never_reaches() or crossing_flows()"))
            continue
        invariants.append(replace(
            inv, sources=many(inv.sources, elements, "element"), targets=many(inv.targets, elements, "element"),
            via=many(inv.via, elements, "element"),
            boundary=resolve(inv.boundary, boundaries, "boundary") if inv.boundary is not None else None,
            exceptions=many(inv.exceptions, flows, "flow")))
    resolved = Resolved(tuple(invariants), many(decl.entry_points, elements, "element"),
                        many(decl.targets, elements, "element"), int(decl.k_paths), (file, line))
    if problems:
        raise InputError(problems)
    return resolved
