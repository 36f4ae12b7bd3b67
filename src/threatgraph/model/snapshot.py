"""pytm's registered objects, in one pass, into threatgraph's frozen Model: ids from variable
names, boundary chains, flows with what they cross, and warnings for unknown attributes."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

from threatgraph.errors import InputError, Problem, did_you_mean
from threatgraph.location import Location
from threatgraph.model.bindings import _binding_lines, _by_file, _module_file
from threatgraph.model.declarations import find_declarations
from threatgraph.model.facts import FactReader, Facts
from threatgraph.model.types import (
    Boundary,
    DataAsset,
    Element,
    Flow,
    Model,
    Triage,
    freeze,
    record,
)

# Attributes threatgraph reads beyond pytm's own fields.
EXTENSION_ATTRIBUTES = {
    "threatgraphId": "override the element's id (default: its variable name)",
    "isAttack": "marks a flow the design exists to block (an attack edge)",
    "tags": "free-form labels, selectable with the `tag` selector",
    "evidence": "items proving it exists in the target's source (the kinds mitigations use); "
                "when one stops holding, the model is reported stale there",
}
_STRUCTURAL = frozenset({
    "name", "description", "inBoundary", "data", "source", "sink", "uuid", "is_drawn",
    "findings", "overrides", "levels", "inputs", "outputs", "carriedBy", "processedBy",
    "response", "responseTo", "order", "controls", "assumptions", "threatgraphId", "tags",
    "isAttack", "dstPort", "protocol", "classification", "inScope", "evidence",
})
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


_EMPTY = freeze({})  # read-only, so one instance serves every element without attributes


class _Snapshot:
    """One pass over pytm's registered objects into threatgraph's frozen Model.

    Written for models of thousands of elements: per-class facts (category, kind, known
    attribute names) are computed once per class, boundary chains and the boundaries
    enclosing each node once per boundary, and pytm attributes are read once per object."""

    def __init__(self, root: Path, shown: str, facts: bool = False) -> None:
        from pytm import Boundary, Data, Dataflow
        from pytm.element import Element as PElement

        self.root, self.shown = root, shown
        self.capture_facts = facts
        self._classes = ((Boundary, "boundary"), (Dataflow, "flow"), (Data, "data"), (PElement, "element"))
        self._category: dict[type, str] = {}
        self._kind: dict[type, str] = {}
        self._known: dict[type, set[str]] = {}
        self.ids: dict[int, str] = {}
        self.locs: dict[int, Location | None] = {}
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self._chains: dict[int, tuple[str, ...]] = {}

    def category(self, obj: Any) -> str:
        """'boundary', 'flow', 'data', 'element' for pytm objects, '' for anything else."""
        cls = type(obj)
        found = self._category.get(cls)
        if found is None:
            found = self._category[cls] = next((c for base, c in self._classes if issubclass(cls, base)), "")
        return found

    def kind(self, obj: Any) -> str:
        cls = type(obj)
        found = self._kind.get(cls)
        if found is None:
            found = self._kind[cls] = next(
                (_PYTM_KINDS[c.__name__] for c in cls.__mro__
                 if c.__module__.startswith("pytm") and c.__name__ in _PYTM_KINDS), "element")
        return found

    def where(self, obj: Any) -> tuple[str, int]:
        loc = self.locs.get(id(obj))
        return (loc.file, loc.line) if loc else (self.shown, 1)

    # -- ids and source locations -------------------------------------------------------

    def bindings(self, modules: list[ModuleType]) -> dict[int, list[tuple[str, str, int]]]:
        """Every public binding of a pytm object in the model's modules: (file, name, line)."""
        names: dict[int, list[tuple[str, str, int]]] = {}
        for m in _by_file(modules):
            file = _module_file(m, self.root, self.shown)
            lines = _binding_lines(m)
            for name, value in vars(m).items():
                if name.startswith("_"):
                    continue
                if self.category(value) or hasattr(value, "inBoundary"):
                    names.setdefault(id(value), []).append((file, name, lines.get(name, 0)))
        return names

    def assign_ids(self, objects: list[Any], names: dict[int, list[tuple[str, str, int]]]) -> None:
        """An id per object: threatgraphId, else its variable name, else a slug of its name."""
        owner: dict[str, Any] = {}
        for obj in objects:
            extra = obj.__pydantic_extra__
            explicit = extra.get("threatgraphId") if extra else None
            bound = names.get(id(obj))
            loc = None
            if bound:
                # where it is assigned, not where another module imports it (line 0: no assignment)
                first = bound[0] if len(bound) == 1 else min(bound, key=lambda b: (b[2] == 0, b))
                loc = record(Location, file=first[0], line=first[2] or 1)
                distinct = {n for _, n, _ in bound}
                if explicit is None and len(distinct) > 1:
                    self.warnings.append(Problem(
                        first[0], first[2] or 1, 1,
                        f"{obj.name!r} is bound to several names ({', '.join(sorted(distinct))}); using '{first[1]}'",
                        "set threatgraphId=... to choose its id", "warning"))
            ident = str(explicit) if explicit is not None else first[1] if bound else slug(obj.name)
            if explicit is None and not bound and self.is_shorthand_data(obj):
                # pytm's `data="some text"` on a flow: one Data named 'undefined' per flow, the
                # text in its description; each gets its own id from that text
                ident = slug(obj.description)
                n = 2
                while ident in owner:
                    ident, n = f"{slug(obj.description)}_{n}", n + 1
            if not ident or "\x00" in ident or len(ident) > 200:
                self.problems.append(Problem(loc.file if loc else self.shown, loc.line if loc else 1, 1,
                                             f"invalid id {ident!r} for {obj.name!r}", "ids are 1-200 characters"))
                continue
            if ident in owner:
                other = owner[ident]
                where = loc or self.locs.get(id(other))
                self.problems.append(Problem(
                    where.file if where else self.shown, where.line if where else 1, 1,
                    f"duplicate id '{ident}': {other.name!r} and {obj.name!r}",
                    "bind each element to its own variable, or set threatgraphId=..."))
                continue
            owner[ident] = obj
            self.ids[id(obj)] = ident
            self.locs[id(obj)] = loc

    def evidence(self, extra: dict[str, Any]) -> tuple[Any, ...]:
        """The `evidence=[...]` a model gives an element or flow, as plain data (checked later,
        with the catalogs' evidence rules, at the object's line)."""
        value = extra.get("evidence")
        if value is None:
            return ()
        items = _plain(value, self.ids)
        return tuple(items) if isinstance(items, list) else (items,)

    def is_shorthand_data(self, obj: Any) -> bool:
        return self.category(obj) == "data" and obj.name == "undefined" and bool(obj.description)

    # -- per-object facts -------------------------------------------------------------------

    def attributes(self, obj: Any, extra: dict[str, Any]) -> Any:
        """Every attribute the model set, beyond the ones threatgraph reads structurally."""
        out: dict[str, Any] = {}
        for key in obj.__pydantic_fields_set__ - _STRUCTURAL:
            out[key] = _plain(getattr(obj, key), self.ids)
        for key, value in extra.items():
            if key not in _STRUCTURAL:
                out[key] = _plain(value, self.ids)
        controls = getattr(obj, "controls", None)
        if controls is not None:
            chosen, more = controls.__pydantic_fields_set__, controls.__pydantic_extra__
            if chosen or more:
                for key in chosen | set(more or ()):
                    out[f"controls.{key}"] = _plain(getattr(controls, key), self.ids)
        return freeze(out) if out else _EMPTY

    def warn_unknown(self, obj: Any, extra: dict[str, Any]) -> None:
        if not extra:
            return
        cls = type(obj)
        known = self._known.get(cls)
        if known is None:
            known = self._known[cls] = set(cls.model_fields) | set(EXTENSION_ATTRIBUTES)
        for key in sorted(k for k in extra if k not in known):
            file, line = self.where(obj)
            controls = set(type(obj.controls).model_fields) if hasattr(obj, "controls") else set()
            hint = f"did you mean 'controls.{key}'?" if key in controls else did_you_mean(key, known)
            self.warnings.append(Problem(file, line, 1,
                                         f"{self.ids[id(obj)]}: attribute '{key}' is not a pytm or threatgraph attribute",
                                         hint, "warning"))

    @staticmethod
    def tags(extra: dict[str, Any]) -> tuple[str, ...]:
        raw = extra.get("tags") if extra else None
        if not raw:
            return ()
        return tuple(sorted(str(t) for t in ([raw] if isinstance(raw, str) else raw)))

    def data_ids(self, obj: Any) -> tuple[str, ...]:
        assets = getattr(obj, "data", None)
        if not assets:
            return ()
        ids = self.ids
        return tuple(sorted(ids[id(d)] for d in assets if id(d) in ids))

    def chain(self, obj: Any) -> tuple[str, ...]:
        """Ids of the boundaries enclosing obj, innermost first (memoised per boundary)."""
        parent = obj.inBoundary
        if parent is None:
            return ()
        hit = self._chains.get(id(parent))
        if hit is not None:
            return hit
        path: list[Any] = []
        on_path: set[int] = set()
        node = parent
        while node is not None and id(node) not in self._chains:
            if id(node) in on_path:
                self.cycle(path, node)
                return ()
            on_path.add(id(node))
            path.append(node)
            node = node.inBoundary
        tail = self._chains[id(node)] if node is not None else ()
        for b in reversed(path):
            tail = ((self.ids[id(b)],) + tail) if id(b) in self.ids else tail
            self._chains[id(b)] = tail
        return self._chains[id(parent)]

    def cycle(self, path: list[Any], repeated: Any) -> None:
        members = path[[id(p) for p in path].index(id(repeated)):]
        names = [self.ids.get(id(b), b.name) for b in members]
        start = names.index(min(names))  # the same report whichever member the walk began at
        members = members[start:] + members[:start]
        shown = " → ".join(self.ids.get(id(b), b.name) for b in [*members, members[0]])
        file, line = self.where(members[0])
        problem = Problem(file, line, 1, f"boundaries enclose each other in a cycle: {shown}",
                          "a boundary's inBoundary chain must end at a top-level boundary")
        if problem not in self.problems:
            self.problems.append(problem)
        for b in path:
            self._chains[id(b)] = ()

    # -- the model ------------------------------------------------------------------------

    def take(self, tm: Any, state: Any, modules: list[ModuleType]) -> LoadedModel:
        names = self.bindings(modules)
        objects: list[Any] = []
        seen: set[int] = set()
        for obj in itertools.chain(state.elements, state.boundaries, state.flows, state.data):
            if id(obj) not in seen:
                seen.add(id(obj))
                objects.append(obj)
        self.assign_ids(objects, names)
        if self.problems:
            raise InputError(self.problems)
        ids, locs = self.ids, self.locs
        reader = FactReader(ids) if self.capture_facts else None

        def facts(obj: Any) -> Facts | None:
            return reader.read(obj) if reader is not None else None

        by_category: dict[str, list[Any]] = {"boundary": [], "flow": [], "data": [], "element": [], "": []}
        for obj in objects:
            if id(obj) in ids:
                by_category[self.category(obj)].append(obj)

        data = {}
        for d in state.data:
            if id(d) in ids:
                data[ids[id(d)]] = record(
                    DataAsset, id=ids[id(d)], name=d.description if self.is_shorthand_data(d) else d.name,
                    classification=d.classification.name.lower(),
                    description=d.description or "", is_credentials=bool(d.isCredentials), is_pii=bool(d.isPII),
                    location=locs.get(id(d)), facts=facts(d))

        boundaries = {}
        for b in by_category["boundary"]:
            extra = b.__pydantic_extra__ or {}
            self.warn_unknown(b, extra)
            parent = b.inBoundary
            boundaries[ids[id(b)]] = record(
                Boundary, id=ids[id(b)], name=b.name, parent=ids.get(id(parent)) if parent is not None else None,
                chain=self.chain(b), description=b.description or "", attributes=self.attributes(b, extra),
                location=locs.get(id(b)), facts=facts(b))

        elements = {}
        for e in by_category["element"] + by_category[""]:
            extra = e.__pydantic_extra__ or {}
            self.warn_unknown(e, extra)
            elements[ids[id(e)]] = record(
                Element, id=ids[id(e)], name=e.name, kind=self.kind(e), boundaries=self.chain(e),
                description=e.description or "", data=self.data_ids(e), in_scope=bool(e.inScope),
                tags=self.tags(extra), attributes=self.attributes(e, extra), location=locs.get(id(e)),
                facts=facts(e), evidence=self.evidence(extra))
        if self.problems:
            raise InputError(self.problems)

        enclosing: dict[str, frozenset[str]] = {i: frozenset(e.boundaries) for i, e in elements.items()}
        enclosing.update((i, frozenset(b.chain) | {i}) for i, b in boundaries.items())
        flows = {}
        for f in by_category["flow"]:
            extra = f.__pydantic_extra__ or {}
            self.warn_unknown(f, extra)
            src, dst = ids.get(id(f.source)), ids.get(id(f.sink))
            if src is None or dst is None or src not in enclosing or dst not in enclosing:
                file, line = self.where(f)
                self.problems.append(Problem(file, line, 1, f"flow {ids[id(f)]!r} does not connect two model elements"))
                continue
            controls = f.controls
            port = f.dstPort if isinstance(f.dstPort, int) and f.dstPort >= 0 else None
            flows[ids[id(f)]] = record(
                Flow, id=ids[id(f)], name=f.name, source=src, sink=dst, protocol=f.protocol or "", port=port,
                data=self.data_ids(f), encrypted=bool(controls.isEncrypted),
                authenticated=bool(controls.authenticatesSource), attack=bool(extra.get("isAttack", False)),
                crosses=tuple(sorted(enclosing[src] ^ enclosing[dst])), description=f.description or "",
                tags=self.tags(extra), attributes=self.attributes(f, extra), location=locs.get(id(f)),
                facts=facts(f), evidence=self.evidence(extra))
        if self.problems:
            raise InputError(self.problems)

        declarations = find_declarations(modules, self.root, self.shown, ids, elements, boundaries, flows)
        model = Model(
            name=tm.name, description=tm.description or "", file=self.shown,
            elements=freeze(elements), boundaries=freeze(boundaries), flows=freeze(flows), data=freeze(data),
            extras=self.model_extras(tm),
            declarations=declarations,
            fact_layouts=freeze(reader.layouts if reader is not None else {}),
            fact_enums=freeze({k: freeze(v) for k, v in reader.enums.items()} if reader is not None else {}),
            triage=self.triage(tm, objects, names),
        )
        return LoadedModel(model, tuple(sorted(self.warnings)))

    def model_extras(self, tm: Any) -> Any:
        """What the model set on its TM beyond pytm's fields, as plain data (elements become
        their ids). pytm's own private state (`_sf`, its template formatter) is left out: it is
        no model fact, and carrying it would make every reader of the snapshot import pytm."""
        extra = getattr(tm, "model_extra", None) or {}
        kept = {str(k): _plain(v, self.ids) for k, v in sorted(extra.items(), key=lambda kv: str(kv[0]))
                if not str(k).startswith("_")}
        return freeze(kept) if kept else _EMPTY

    def triage(self, tm: Any, objects: list[Any], names: dict[int, list[tuple[str, str, int]]]) -> tuple[Triage, ...]:
        """pytm's own record of decisions: Finding overrides and Assumptions, in model order."""
        out: list[Triage] = []
        for obj in objects:
            ident = self.ids.get(id(obj))
            if ident is None:
                continue
            for finding in getattr(obj, "overrides", None) or ():
                sid = str(getattr(finding, "threat_id", "") or "")
                if sid:
                    out.append(Triage("finding", sid, ident, str(getattr(finding, "response", "") or ""),
                                      self.locs.get(id(obj))))
            for assumption in getattr(obj, "assumptions", None) or ():
                out += self._assumption(assumption, ident, self.locs.get(id(obj)))
        bound = names.get(id(tm))
        where = record(Location, file=bound[0][0], line=bound[0][2] or 1) if bound else None
        for assumption in getattr(tm, "assumptions", None) or ():
            out += self._assumption(assumption, None, where)
        return tuple(out)

    @staticmethod
    def _assumption(assumption: Any, target: str | None, where: Location | None) -> list[Triage]:
        text = str(getattr(assumption, "name", "") or "")
        description = str(getattr(assumption, "description", "") or "")
        if description:
            text += f": {description}"
        return [Triage("assumption", str(sid), target, text, where) for sid in getattr(assumption, "exclude", None) or ()]


def _snapshot(tm: Any, state: Any, modules: list[ModuleType], root: Path, shown: str,
              facts: bool = False) -> LoadedModel:
    return _Snapshot(root, shown, facts).take(tm, state, modules)
