"""The selector language: data (never code) that picks the flows and elements a threat lands on.

A selector is a mapping whose keys are all required to hold (`all` / `any` / `not` combine
selectors). Each key is declared once in SELECTOR_KEYS; the validator, the evaluator and the
JSON Schema all read that table. Evaluation works on sets from indexes built once per model,
so a catalog of many threats costs set intersections, not scans.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from threatgraph.catalog.yamlfile import YamlDocument
from threatgraph.errors import Problem, did_you_mean
from threatgraph.model.types import CLASSIFICATIONS, Model

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


class ModelIndex:
    """Sets of ids by attribute, built once, so selectors intersect sets instead of scanning."""

    def __init__(self, model: Model):
        self.model = model
        self.flow_ids = frozenset(model.flows)
        self.element_ids = frozenset(model.elements) | frozenset(model.boundaries)
        self.flows_by: dict[str, dict[Any, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.elements_by: dict[str, dict[Any, set[str]]] = defaultdict(lambda: defaultdict(set))
        for f in model.flows.values():
            fb = self.flows_by
            fb["source"][f.source].add(f.id)
            fb["sink"][f.sink].add(f.id)
            fb["protocol"][f.protocol.lower()].add(f.id)
            fb["port"][f.port].add(f.id)
            fb["encrypted"][f.encrypted].add(f.id)
            fb["authenticated"][f.authenticated].add(f.id)
            fb["attack"][f.attack].add(f.id)
            for b in f.crosses:
                fb["crosses"][b].add(f.id)
            if f.crosses:
                fb["crosses"]["*"].add(f.id)
            for d in f.data:
                fb["data"][d].add(f.id)
            for t in f.tags:
                fb["tag"][t].add(f.id)
        for e in model.elements.values():
            eb = self.elements_by
            eb["kind"][e.kind].add(e.id)
            for b in e.boundaries:
                eb["in_boundary"][b].add(e.id)
            for d in e.data:
                eb["data"][d].add(e.id)
            for t in e.tags:
                eb["tag"][t].add(e.id)
        for b in model.boundaries.values():
            self.elements_by["kind"]["boundary"].add(b.id)
            for parent in b.chain:
                self.elements_by["in_boundary"][parent].add(b.id)

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


def evaluate(selector: Any, index: ModelIndex, what: str) -> frozenset[str]:
    """Ids in `what` (flows or elements) that the (validated) selector picks."""
    if isinstance(selector, (str, list)):
        selector = {"id": selector}
    universe = index.universe(what)
    result: set[str] = set(universe)
    by = index.flows_by if what == FLOWS else index.elements_by
    for key, value in selector.items():
        if not result:
            break
        if key == "id":
            picked: set[str] = set()
            for pattern in _as_list(value):
                if _is_glob(pattern):
                    picked |= {i for i in universe if fnmatch.fnmatchcase(i, pattern)}
                elif pattern in universe:
                    picked.add(pattern)
            result &= picked
        elif key in ("kind", "tag", "crosses"):
            result &= set().union(*(by[key].get(v, set()) for v in _as_list(value)))
        elif key == "in_boundary":
            inside = set().union(*(index.elements_by["in_boundary"].get(b, set()) for b in _as_list(value)))
            if what == FLOWS:
                src = set().union(*(index.flows_by["source"].get(e, set()) for e in inside))
                dst = set().union(*(index.flows_by["sink"].get(e, set()) for e in inside))
                result &= src & dst
            else:
                result &= inside
        elif key == "protocol":
            result &= set().union(*(by["protocol"].get(str(v).lower(), set()) for v in _as_list(value)))
        elif key == "port":
            result &= set().union(*(by["port"].get(v, set()) for v in _as_list(value)))
        elif key in ("data", "classification", "credentials"):
            if key == "data":
                wanted = set(_as_list(value))
            elif key == "classification":
                wanted = index.data_at_least(value)
            else:
                wanted = index.credential_data()
            holding = set().union(*(by["data"].get(d, set()) for d in wanted))
            result &= holding if (key != "credentials" or value) else (result - holding)
        elif key in ("encrypted", "authenticated", "attack"):
            result &= by[key].get(bool(value), set())
        elif key in ("source", "sink"):
            ends = evaluate(value, index, ELEMENTS)
            result &= set().union(*(index.flows_by[key].get(e, set()) for e in ends))
        elif key == "attribute":
            result = {i for i in result
                      if all(index.attributes(what, i).get(k) == v for k, v in value.items())}
        elif key == "all":
            for sub in value:
                result &= evaluate(sub, index, what)
        elif key == "any":
            result &= set().union(*(evaluate(sub, index, what) for sub in value))
        elif key == "not":
            result -= evaluate(value, index, what)
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


def _check_type(key: str, value: Any, doc: YamlDocument, path: tuple[Any, ...], model: Model,
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

