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

from threatgraph.errors import Problem, did_you_mean
from threatgraph.model.types import CLASSIFICATIONS, Flow, Model
from threatgraph.safeyaml import YamlDocument

FLOWS, ELEMENTS = "flows", "elements"
ELEMENT_KINDS = ("actor", "agent", "asset", "boundary", "datastore", "element", "external_entity",
                 "lambda", "llm", "process", "server", "set_of_processes")

_STR_OR_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
_INT_OR_LIST = {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "minItems": 1}]}
_BOOL = {"type": "boolean"}


@dataclass(frozen=True)
class KeySpec:
    applies: tuple[str, ...]
    schema: dict[str, Any]
    doc: str


SELECTOR_KEYS: dict[str, KeySpec] = {
    "id": KeySpec((FLOWS, ELEMENTS), _STR_OR_LIST, "ids (glob patterns such as 'agent_*' allowed)"),
    "kind": KeySpec((ELEMENTS,), _STR_OR_LIST, "element kinds: " + ", ".join(ELEMENT_KINDS)),
    "tag": KeySpec((FLOWS, ELEMENTS), _STR_OR_LIST, "any of these tags"),
    "in_boundary": KeySpec((FLOWS, ELEMENTS), _STR_OR_LIST,
                           "inside any of these boundaries, at any depth (a flow: both ends)"),
    "crosses": KeySpec((FLOWS,), _STR_OR_LIST, "flows entering or leaving any of these boundaries ('*': any)"),
    "protocol": KeySpec((FLOWS,), _STR_OR_LIST, "flow protocol, case-insensitive"),
    "port": KeySpec((FLOWS,), _INT_OR_LIST, "destination port"),
    "data": KeySpec((FLOWS, ELEMENTS), _STR_OR_LIST, "carries (flow) or holds (element) any of these data ids"),
    "classification": KeySpec((FLOWS, ELEMENTS), {"type": "string", "enum": list(CLASSIFICATIONS)},
                              "carries or holds data classified at least this high"),
    "credentials": KeySpec((FLOWS, ELEMENTS), _BOOL, "carries or holds credentials"),
    "encrypted": KeySpec((FLOWS,), _BOOL, "flow is (not) encrypted"),
    "authenticated": KeySpec((FLOWS,), _BOOL, "flow does (not) authenticate its source"),
    "attack": KeySpec((FLOWS,), _BOOL, "flow is an attack edge (one the design exists to block)"),
    "source": KeySpec((FLOWS,), {"$ref": "#/$defs/element_selector"}, "the flow's source matches this element selector"),
    "sink": KeySpec((FLOWS,), {"$ref": "#/$defs/element_selector"}, "the flow's sink matches this element selector"),
    "attribute": KeySpec((FLOWS, ELEMENTS), {"type": "object", "minProperties": 1},
                         "model attributes equal these values, e.g. {controls.isHardened: true}"),
    "all": KeySpec((FLOWS, ELEMENTS), {"type": "array", "items": {"$ref": "#"}, "minItems": 1}, "every selector holds"),
    "any": KeySpec((FLOWS, ELEMENTS), {"type": "array", "items": {"$ref": "#"}, "minItems": 1}, "at least one holds"),
    "not": KeySpec((FLOWS, ELEMENTS), {"$ref": "#"}, "the selector does not hold"),
}


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


class ModelIndex:
    """Sets of ids by attribute value, so selectors intersect sets instead of scanning. Each
    attribute's index is built the first time a selector uses it: a catalog touches a few."""

    def __init__(self, model: Model):
        self.model = model
        self.flow_ids = frozenset(model.flows)
        self.element_ids = frozenset(model.elements) | frozenset(model.boundaries)
        self._built: dict[tuple[str, str], dict[Any, set[str]]] = {}

    def by(self, what: str, key: str) -> dict[Any, set[str]]:
        """Ids of flows (or elements and boundaries) by their value for `key`."""
        found = self._built.get((what, key))
        if found is None:
            found = {}
            if what == FLOWS:
                records: Iterable[Any] = self.model.flows.values()
                values = _FLOW_INDEX_VALUES[key]
            else:
                records = itertools.chain(self.model.elements.values(), self.model.boundaries.values())
                values = _ELEMENT_INDEX_VALUES[key]
            for record in records:
                for value in values(record):
                    hit = found.get(value)
                    if hit is None:
                        found[value] = {record.id}
                    else:
                        hit.add(record.id)
            self._built[(what, key)] = found
        return found

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


def _picked(key: str, value: Any, index: ModelIndex, what: str) -> AbstractSet[str]:
    """The ids a simple (non-combining) key picks, from the indexes."""
    def by(k: str, values: Iterable[Any], side: str = what) -> AbstractSet[str]:
        table = index.by(side, k)
        return _union(table.get(v, _NONE) for v in values)

    if key == "id":
        universe = index.universe(what)
        picked: set[str] = set()
        for pattern in _as_list(value):
            if _is_glob(pattern):
                picked |= glob_filter(universe, pattern)
            elif pattern in universe:
                picked.add(pattern)
        return picked
    if key in ("kind", "tag", "crosses", "port"):
        return by(key, _as_list(value))
    if key == "protocol":
        return by(key, (str(v).lower() for v in _as_list(value)))
    if key == "in_boundary":
        inside = by("in_boundary", _as_list(value), ELEMENTS)
        if what != FLOWS:
            return inside
        return by("source", inside, FLOWS) & by("sink", inside, FLOWS)
    if key in ("data", "classification", "credentials"):
        wanted = (set(_as_list(value)) if key == "data" else
                  index.data_at_least(value) if key == "classification" else index.credential_data())
        return by("data", wanted)
    if key in ("encrypted", "authenticated", "attack"):
        return index.by(what, key).get(bool(value), _NONE)
    if key in ("source", "sink"):
        return by(key, evaluate(value, index, ELEMENTS), FLOWS)
    raise ValueError(f"unknown selector key {key!r}")  # validate() rejects these first


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
        if key == "not":
            result = result - evaluate(value, index, what)
        elif key == "credentials" and not value:
            result = result - _picked(key, True, index, what)
        elif key == "attribute":
            result = {i for i in result if all(index.attributes(what, i).get(k) == v for k, v in value.items())}
        elif key == "all":
            for sub in value:
                result = result & evaluate(sub, index, what)
        elif key == "any":
            result = result & _union([evaluate(sub, index, what) for sub in value])
        else:
            result = result & _picked(key, value, index, what)
    return frozenset(result)


def validate(selector: Any, doc: YamlDocument, path: tuple[Any, ...], model: Model,
             what: str) -> list[Problem]:
    """Every problem in a selector: unknown keys, wrong types, and references to ids that do not
    exist in the model (with a did-you-mean)."""
    problems: list[Problem] = []
    if isinstance(selector, (str, list)) and all(isinstance(s, str) for s in _as_list(selector)):
        selector = {"id": selector}
        shorthand = True
    else:
        shorthand = False
    if not isinstance(selector, dict) or not selector:
        return [doc.problem(path, f"a {what[:-1]} selector must be a non-empty mapping",
                            "for example {id: agent_to_squid} or {crosses: tb_vm, protocol: dns}")]
    known_ids = {
        "id": set(model.flows) if what == FLOWS else set(model.elements) | set(model.boundaries),
        "in_boundary": set(model.boundaries),
        "crosses": set(model.boundaries) | {"*"},
        "data": set(model.data),
    }
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
        problems += _check_type(key, value, doc, kpath, model, what)
        if key in known_ids and not any(p.line == doc.where(kpath)[0] for p in problems):
            for i, ref in enumerate(_as_list(value)):
                rpath = kpath + (i,) if isinstance(value, list) else kpath
                if _is_glob(ref) and not (key == "crosses" and ref == "*"):
                    if not any(fnmatch.fnmatchcase(k, ref) for k in known_ids[key]):
                        problems.append(doc.problem(rpath, f"pattern '{ref}' matches no {key.replace('_', ' ')} id"))
                elif ref not in known_ids[key]:
                    label = {"id": what[:-1], "in_boundary": "boundary", "crosses": "boundary", "data": "data"}[key]
                    problems.append(doc.problem(rpath, f"no {label} with id '{ref}' in the model",
                                                did_you_mean(ref, known_ids[key])))
    return problems


def _check_type(key: str, value: Any, doc: YamlDocument, path: tuple[Any, ...], model: Model,  # noqa: C901 - debt, ARCHITECTURE.md
                what: str) -> list[Problem]:
    def bad(msg: str, hint: str = "") -> list[Problem]:
        return [doc.problem(path, msg, hint)]

    if key in ("id", "kind", "tag", "in_boundary", "crosses", "protocol", "data"):
        items = _as_list(value)
        if not items or not all(isinstance(v, str) and v for v in items):
            return bad(f"'{key}' takes a string or a list of strings")
        if key == "kind":
            return [doc.problem(path, f"unknown element kind '{v}'", did_you_mean(v, ELEMENT_KINDS))
                    for v in items if v not in ELEMENT_KINDS]
        return []
    if key == "port":
        items = _as_list(value)
        if not items or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 65535 for v in items):
            return bad("'port' takes a port number (0-65535) or a list of them")
        return []
    if key == "classification":
        if value not in CLASSIFICATIONS:
            return bad(f"unknown classification '{value}'", did_you_mean(str(value), CLASSIFICATIONS))
        return []
    if key in ("credentials", "encrypted", "authenticated", "attack"):
        return [] if isinstance(value, bool) else bad(f"'{key}' takes true or false")
    if key in ("source", "sink"):
        return validate(value, doc, path, model, ELEMENTS)
    if key == "attribute":
        if not isinstance(value, dict) or not value:
            return bad("'attribute' takes a mapping of attribute names to values")
        return []
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            return bad(f"'{key}' takes a non-empty list of selectors")
        out: list[Problem] = []
        for i, sub in enumerate(value):
            out += validate(sub, doc, path + (i,), model, what)
        return out
    if key == "not":
        return validate(value, doc, path, model, what)
    return []


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

