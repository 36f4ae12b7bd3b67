"""The selector language: data (never code) that picks the flows and elements a threat lands on.

A selector is a mapping whose keys are all required to hold (`all` / `any` / `not` combine
selectors). Each key is declared once in SELECTOR_KEYS; the validator, the evaluator and the
JSON Schema all read that table. Evaluation works on sets from indexes built once per model
(per attribute, on first use), so a catalog of many threats costs set intersections, not scans.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from threatgraph import columnar, conditions
from threatgraph.errors import Problem, did_you_mean
from threatgraph.model.types import CLASSIFICATIONS, Flow, Model
from threatgraph.safeyaml import YamlDocument

FLOWS, ELEMENTS = "flows", "elements"
ELEMENT_KINDS = ("actor", "agent", "asset", "boundary", "datastore", "element", "external_entity",
                 "lambda", "llm", "process", "server", "set_of_processes")

_STR_OR_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
_INT_OR_LIST = {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "minItems": 1}]}
_BOOL = {"type": "boolean"}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


@lru_cache(maxsize=4096)
def glob_matcher(pattern: str) -> Callable[[str], Any]:
    """A compiled, case-sensitive glob (what fnmatchcase compiles on every call): one regex per
    pattern however many ids it is tested against."""
    return re.compile(fnmatch.translate(pattern)).match


def glob_filter(ids: Iterable[str], pattern: str) -> set[str]:
    match = glob_matcher(pattern)
    return {i for i in ids if match(i)}


def ids_matching(patterns: Iterable[str], ids: AbstractSet[str]) -> set[str]:
    """The ids any of the patterns names: a literal id looked up, a glob matched (compiled
    once), so a decision or mitigation scoped to targets costs its patterns, not a scan each."""
    out: set[str] = set()
    for pattern in patterns:
        if _is_glob(pattern):
            out |= glob_filter(ids, pattern)
        elif pattern in ids:
            out.add(pattern)
    return out


# The values under which a flow, or an element or boundary, is indexed for a selector key.
_FLOW_INDEX_VALUES: dict[str, Callable[[Flow], Iterable[Any]]] = {
    "source": lambda f: (f.source,), "sink": lambda f: (f.sink,),
    "protocol": lambda f: (f.protocol.lower(),), "port": lambda f: (f.port,),
    "encrypted": lambda f: (f.encrypted,), "authenticated": lambda f: (f.authenticated,),
    "attack": lambda f: (f.attack,), "crosses": lambda f: (*f.crosses, "*") if f.crosses else (),
    "data": lambda f: f.data, "tag": lambda f: f.tags}
_ELEMENT_INDEX_VALUES: dict[str, Callable[[Any], Iterable[Any]]] = {
    "kind": lambda e: (e.kind,),
    "in_boundary": lambda e: e.chain if e.kind == "boundary" else e.boundaries,
    "data": lambda e: e.data if e.kind != "boundary" else (),
    "tag": lambda e: e.tags if e.kind != "boundary" else ()}


def _classes(model: Model, record: Any) -> tuple[str, ...]:
    facts = record.facts
    layout = model.fact_layouts.get(facts.layout) if facts is not None else None
    return layout.classes if layout is not None else ()


class ModelIndex:
    """Sets of ids by attribute value, so selectors intersect sets instead of scanning. Each
    attribute's index is built the first time a selector uses it: a catalog touches a few."""

    def __init__(self, model: Model):
        self.model = model
        self.flow_ids = frozenset(model.flows)
        self.element_ids = frozenset(model.elements) | frozenset(model.boundaries)
        self._built: dict[tuple[str, str], dict[Any, set[str]]] = {}
        self._order: dict[str, list[str]] = {}
        self._columns: columnar.ColumnarConditions | None = None

    def by(self, what: str, key: str) -> dict[Any, set[str]]:
        """Ids of flows (or elements and boundaries) by their value for `key`."""
        found = self._built.get((what, key))
        if found is None:
            found = {}
            records: Iterable[Any] = self.model.flows.values() if what == FLOWS else itertools.chain(
                self.model.elements.values(), self.model.boundaries.values())
            model = self.model
            values = (lambda r: _classes(model, r)) if key == "pytm_class" else (  # noqa: E731
                _FLOW_INDEX_VALUES[key] if what == FLOWS else _ELEMENT_INDEX_VALUES[key])
            for record in records:
                for value in values(record):
                    hit = found.get(value)
                    if hit is None:
                        found[value] = {record.id}
                    else:
                        hit.add(record.id)
            self._built[(what, key)] = found
        return found

    def positions(self, what: str) -> list[str]:
        """The ids of flows (or elements and boundaries) in a fixed order, for bitsets."""
        found = self._order.get(what)
        if found is None:
            m = self.model
            found = self._order[what] = list(m.flows) if what == FLOWS else [*m.elements, *m.boundaries]
        return found

    def columns(self) -> columnar.ColumnarConditions:
        """Conditions over the whole model, built on first use (a catalog without `where`
        never pays for it)."""
        if self._columns is None:
            m = self.model
            self._columns = columnar.ColumnarConditions(m, {
                FLOWS: [m.flows[i] for i in self.positions(FLOWS)],
                ELEMENTS: [m.elements.get(i) or m.boundaries[i] for i in self.positions(ELEMENTS)]})
        return self._columns

    def universe(self, what: str) -> frozenset[str]:
        return self.flow_ids if what == FLOWS else self.element_ids

    def data_at_least(self, level: str) -> set[str]:
        rank = CLASSIFICATIONS.index(level)
        return {d.id for d in self.model.data.values() if d.rank >= rank}

    def credential_data(self) -> set[str]:
        return {d.id for d in self.model.data.values() if d.is_credentials}

    def attributes(self, what: str, ident: str) -> dict[str, Any]:
        m = self.model
        obj = m.flows[ident] if what == FLOWS else (m.elements.get(ident) or m.boundaries[ident])
        return dict(obj.attributes)


_NONE: frozenset[str] = frozenset()


def _union(sets: Iterable[AbstractSet[str]]) -> AbstractSet[str]:
    """The union of index sets; a single set is returned as is (callers never mutate it)."""
    sets = list(sets)
    if len(sets) == 1:
        return sets[0]
    return set().union(*sets)


def _by(index: ModelIndex, side: str, key: str, values: Iterable[Any]) -> AbstractSet[str]:
    table = index.by(side, key)
    return _union(table.get(v, _NONE) for v in values)


# --- how each key narrows a set of ids -----------------------------------------------------
# A narrowing function takes the ids still selected and returns the ones the key keeps; it reads
# indexes only (set intersections), never scans the model.

Narrow = Callable[[AbstractSet[str], Any, "ModelIndex", str], AbstractSet[str]]


def _narrow_id(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    universe = index.universe(what)
    picked: set[str] = set()
    for pattern in _as_list(value):
        if _is_glob(pattern):
            picked |= glob_filter(universe, pattern)
        elif pattern in universe:
            picked.add(pattern)
    return result & picked


def _narrow_indexed(key: str, lower: bool = False) -> Narrow:
    def narrow(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
        values = [str(v).lower() for v in _as_list(value)] if lower else _as_list(value)
        return result & _by(index, what, key, values)
    return narrow


def _narrow_flag(key: str) -> Narrow:
    def narrow(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
        return result & index.by(what, key).get(bool(value), _NONE)
    return narrow


def _narrow_in_boundary(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    inside = _by(index, ELEMENTS, "in_boundary", _as_list(value))
    if what != FLOWS:
        return result & inside
    return result & (_by(index, FLOWS, "source", inside) & _by(index, FLOWS, "sink", inside))


def _narrow_data(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    return result & _by(index, what, "data", set(_as_list(value)))


def _narrow_classification(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    return result & _by(index, what, "data", index.data_at_least(value))


def _narrow_credentials(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    holding = _by(index, what, "data", index.credential_data())
    return result & holding if value else result - holding


def _narrow_end(key: str) -> Narrow:
    def narrow(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
        return result & _by(index, FLOWS, key, evaluate(value, index, ELEMENTS))
    return narrow


def _narrow_attribute(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    return {i for i in result if all(index.attributes(what, i).get(k) == v for k, v in value.items())}


def _narrow_pytm_class(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    return result & _by(index, what, "pytm_class", _as_list(value))


def _narrow_where(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    """A condition on pytm's attribute values, evaluated on the whole model at once
    (columnar.py; its results shared by every selector on this index)."""
    ids = index.positions(what)
    return result & {ids[i] for i in index.columns().holding(value, what)}


def _narrow_all(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    for sub in value:
        result = result & evaluate(sub, index, what)
    return result


def _narrow_any(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    return result & _union([evaluate(sub, index, what) for sub in value])


def _narrow_not(result: AbstractSet[str], value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    return result - evaluate(value, index, what)


def evaluate(selector: Any, index: ModelIndex, what: str) -> frozenset[str]:
    """Ids in `what` (flows or elements) that the (validated) selector picks.

    Each key narrows the result by intersecting with an index set (set intersection walks
    the smaller side), so the cost follows the sizes of the sets picked, not of the model."""
    if isinstance(selector, (str, list)):
        selector = {"id": selector}
    result: AbstractSet[str] = index.universe(what)  # narrowed key by key, never mutated in place
    for key, value in selector.items():
        if not result:
            break
        result = SELECTOR_KEYS[key].narrow(result, value, index, what)
    return frozenset(result)


# --- how each key checks its value ----------------------------------------------------------

@dataclass(frozen=True)
class Checking:
    """Where a value sits, for located problems, and what it may refer to."""

    doc: YamlDocument
    path: tuple[Any, ...]
    model: Model
    what: str

    def bad(self, message: str, hint: str = "") -> list[Problem]:
        return [self.doc.problem(self.path, message, hint)]


Check = Callable[[str, Any, Checking], list[Problem]]


def _check_strings(key: str, value: Any, c: Checking) -> list[Problem]:
    items = _as_list(value)
    if not items or not all(isinstance(v, str) and v for v in items):
        return c.bad(f"'{key}' takes a string or a list of strings")
    return []


def _check_kind(key: str, value: Any, c: Checking) -> list[Problem]:
    return _check_strings(key, value, c) or [c.doc.problem(c.path, f"unknown element kind '{v}'",
                                                            did_you_mean(v, ELEMENT_KINDS))
                                             for v in _as_list(value) if v not in ELEMENT_KINDS]


def _check_port(key: str, value: Any, c: Checking) -> list[Problem]:
    items = _as_list(value)
    if not items or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 65535 for v in items):
        return c.bad("'port' takes a port number (0-65535) or a list of them")
    return []


def _check_classification(key: str, value: Any, c: Checking) -> list[Problem]:
    if value not in CLASSIFICATIONS:
        return c.bad(f"unknown classification '{value}'", did_you_mean(str(value), CLASSIFICATIONS))
    return []


def _check_bool(key: str, value: Any, c: Checking) -> list[Problem]:
    return [] if isinstance(value, bool) else c.bad(f"'{key}' takes true or false")


def _check_element_selector(key: str, value: Any, c: Checking) -> list[Problem]:
    return validate(value, c.doc, c.path, c.model, ELEMENTS)


def _check_attribute(key: str, value: Any, c: Checking) -> list[Problem]:
    if not isinstance(value, dict) or not value:
        return c.bad("'attribute' takes a mapping of attribute names to values")
    return []


def _needs_facts(key: str, c: Checking) -> list[Problem]:
    if c.model.fact_layouts:
        return []
    return c.bad(f"'{key}' reads pytm's attribute values, which this model was loaded without",
                 "this is a threatgraph bug: the loader keeps them whenever a catalog uses 'where' or 'pytm_class'")


def _check_pytm_class(key: str, value: Any, c: Checking) -> list[Problem]:
    return _check_strings(key, value, c) or _needs_facts(key, c)


def _check_where(key: str, value: Any, c: Checking) -> list[Problem]:
    return conditions.check(value, c.doc, c.path) or _needs_facts(key, c)


def _check_selectors(key: str, value: Any, c: Checking) -> list[Problem]:
    if not isinstance(value, list) or not value:
        return c.bad(f"'{key}' takes a non-empty list of selectors")
    out: list[Problem] = []
    for i, sub in enumerate(value):
        out += validate(sub, c.doc, c.path + (i,), c.model, c.what)
    return out


def _check_selector(key: str, value: Any, c: Checking) -> list[Problem]:
    return validate(value, c.doc, c.path, c.model, c.what)


# --- the keys -------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeySpec:
    """One selector key: where it applies, its JSON Schema, how its value is checked, how it
    narrows a selection, and which ids its values name (checked against the model)."""

    applies: tuple[str, ...]
    schema: dict[str, Any]
    doc: str
    check: Check
    narrow: Narrow
    refers_to: str | None = None  # "target", "boundary", "crossing" ('*' allowed) or "data"


_BOTH = (FLOWS, ELEMENTS)
_SELECTOR_LIST = {"type": "array", "items": {"$ref": "#"}, "minItems": 1}
_ELEMENT_SELECTOR = {"$ref": "#/$defs/element_selector"}
SELECTOR_KEYS: dict[str, KeySpec] = {
    "id": KeySpec(_BOTH, _STR_OR_LIST, "ids (glob patterns such as 'agent_*' allowed)",
                  _check_strings, _narrow_id, "target"),
    "kind": KeySpec((ELEMENTS,), _STR_OR_LIST, "element kinds: " + ", ".join(ELEMENT_KINDS),
                    _check_kind, _narrow_indexed("kind")),
    "tag": KeySpec(_BOTH, _STR_OR_LIST, "any of these tags", _check_strings, _narrow_indexed("tag")),
    "in_boundary": KeySpec(_BOTH, _STR_OR_LIST, "inside any of these boundaries, at any depth (a flow: both ends)",
                           _check_strings, _narrow_in_boundary, "boundary"),
    "crosses": KeySpec((FLOWS,), _STR_OR_LIST, "flows entering or leaving any of these boundaries ('*': any)",
                       _check_strings, _narrow_indexed("crosses"), "crossing"),
    "protocol": KeySpec((FLOWS,), _STR_OR_LIST, "flow protocol, case-insensitive",
                        _check_strings, _narrow_indexed("protocol", lower=True)),
    "port": KeySpec((FLOWS,), _INT_OR_LIST, "destination port", _check_port, _narrow_indexed("port")),
    "data": KeySpec(_BOTH, _STR_OR_LIST, "carries (flow) or holds (element) any of these data ids",
                    _check_strings, _narrow_data, "data"),
    "classification": KeySpec(_BOTH, {"type": "string", "enum": list(CLASSIFICATIONS)},
                              "carries or holds data classified at least this high",
                              _check_classification, _narrow_classification),
    "credentials": KeySpec(_BOTH, _BOOL, "carries or holds credentials", _check_bool, _narrow_credentials),
    "encrypted": KeySpec((FLOWS,), _BOOL, "flow is (not) encrypted", _check_bool, _narrow_flag("encrypted")),
    "authenticated": KeySpec((FLOWS,), _BOOL, "flow does (not) authenticate its source", _check_bool,
                             _narrow_flag("authenticated")),
    "attack": KeySpec((FLOWS,), _BOOL, "flow is an attack edge (one the design exists to block)", _check_bool,
                      _narrow_flag("attack")),
    "source": KeySpec((FLOWS,), _ELEMENT_SELECTOR, "the flow's source matches this element selector",
                      _check_element_selector, _narrow_end("source")),
    "sink": KeySpec((FLOWS,), _ELEMENT_SELECTOR, "the flow's sink matches this element selector",
                    _check_element_selector, _narrow_end("sink")),
    "attribute": KeySpec(_BOTH, {"type": "object", "minProperties": 1},
                         "model attributes equal these values, e.g. {controls.isHardened: true}",
                         _check_attribute, _narrow_attribute),
    "pytm_class": KeySpec(_BOTH, _STR_OR_LIST, "an instance of any of these pytm classes (subclasses count), "
                          "e.g. Server, Process, Dataflow", _check_pytm_class, _narrow_pytm_class),
    "where": KeySpec(_BOTH, {"type": "object"}, "a condition on pytm's attribute values, defaults included "
                     "(see threatgraph.conditions)", _check_where, _narrow_where),
    "all": KeySpec(_BOTH, _SELECTOR_LIST, "every selector holds", _check_selectors, _narrow_all),
    "any": KeySpec(_BOTH, _SELECTOR_LIST, "at least one holds", _check_selectors, _narrow_any),
    "not": KeySpec(_BOTH, {"$ref": "#"}, "the selector does not hold", _check_selector, _narrow_not),
}


def _known_ids(model: Model, what: str, refers_to: str) -> set[str]:
    if refers_to == "target":
        return set(model.flows) if what == FLOWS else set(model.elements) | set(model.boundaries)
    if refers_to == "boundary":
        return set(model.boundaries)
    if refers_to == "crossing":
        return set(model.boundaries) | {"*"}
    return set(model.data)


_REFERENCE_LABEL = {"boundary": "boundary", "crossing": "boundary", "data": "data"}


def _check_references(key: str, spec: KeySpec, value: Any, c: Checking) -> list[Problem]:
    """Each id a value names exists in the model (a glob matches at least one)."""
    if spec.refers_to is None:
        return []
    known = _known_ids(c.model, c.what, spec.refers_to)
    out = []
    for i, ref in enumerate(_as_list(value)):
        rpath = c.path + (i,) if isinstance(value, list) else c.path
        if _is_glob(ref) and not (spec.refers_to == "crossing" and ref == "*"):
            if not any(fnmatch.fnmatchcase(k, ref) for k in known):
                out.append(c.doc.problem(rpath, f"pattern '{ref}' matches no {key.replace('_', ' ')} id"))
        elif ref not in known:
            label = _REFERENCE_LABEL.get(spec.refers_to, c.what[:-1])
            out.append(c.doc.problem(rpath, f"no {label} with id '{ref}' in the model", did_you_mean(ref, known)))
    return out


def validate(selector: Any, doc: YamlDocument, path: tuple[Any, ...], model: Model,
             what: str) -> list[Problem]:
    """Every problem in a selector: unknown keys, wrong types, and references to ids that do not
    exist in the model (with a did-you-mean)."""
    problems: list[Problem] = []
    shorthand = isinstance(selector, (str, list)) and all(isinstance(s, str) for s in _as_list(selector))
    if shorthand:
        selector = {"id": selector}
    if not isinstance(selector, dict) or not selector:
        return [doc.problem(path, f"a {what[:-1]} selector must be a non-empty mapping",
                            "for example {id: agent_to_squid} or {crosses: tb_vm, protocol: dns}")]
    for key, value in selector.items():
        kpath = path if shorthand else path + (key,)
        spec = SELECTOR_KEYS.get(key)
        if spec is None:
            problems.append(doc.problem(kpath, f"unknown selector key '{key}'",
                                        did_you_mean(key, [k for k, s in SELECTOR_KEYS.items() if what in s.applies]),
                                        at_key=True))
            continue
        if what not in spec.applies:
            problems.append(doc.problem(kpath, f"selector key '{key}' applies to {spec.applies[0]}, not {what}",
                                        f"move it under `{spec.applies[0]}:`"))
            continue
        checking = Checking(doc, kpath, model, what)
        found = spec.check(key, value, checking)
        problems += found
        if spec.refers_to is not None and not found:
            problems += _check_references(key, spec, value, checking)
    return problems


def selector_schema(what: str) -> dict[str, Any]:
    """JSON Schema of a selector for flows or elements, from SELECTOR_KEYS."""
    props = {k: {**s.schema, "description": s.doc} for k, s in SELECTOR_KEYS.items() if what in s.applies}
    return {
        "oneOf": [
            {"type": "string", "description": "shorthand for {id: ...}"},
            {"type": "array", "items": {"type": "string"}, "description": "shorthand for {id: [...]}"},
            {"type": "object", "properties": props, "additionalProperties": False, "minProperties": 1},
        ]
    }


def describe(selector: Any) -> str:
    """A one-line human reading of a selector, for `explain`."""
    if isinstance(selector, (str, list)):
        return f"id in {_as_list(selector)}"
    parts = []
    for k, v in selector.items():
        if k in ("all", "any"):
            parts.append(f"{k}(" + "; ".join(describe(s) for s in v) + ")")
        elif k == "not":
            parts.append(f"not({describe(v)})")
        elif k in ("source", "sink"):
            parts.append(f"{k}[{describe(v)}]")
        else:
            parts.append(f"{k}={v}")
    return ", ".join(parts)

