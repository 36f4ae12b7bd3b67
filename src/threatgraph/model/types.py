"""threatgraph's own immutable view of a data-flow model.

pytm objects are mutable and registered globally; everything downstream of the loader reads
only these frozen values, addressed by stable, human-typed ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from types import MappingProxyType
from typing import Any

from threatgraph.declare import Resolved
from threatgraph.location import Location
from threatgraph.model.facts import FactLayout, Facts

CLASSIFICATIONS = ("unknown", "public", "restricted", "sensitive", "secret", "top_secret")


def _frozen(mapping: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(sorted((mapping or {}).items())))


@dataclass(frozen=True, eq=False)
class DataAsset:
    id: str
    name: str
    classification: str
    description: str = ""
    is_credentials: bool = False
    is_pii: bool = False
    location: Location | None = None
    facts: Facts | None = None

    @property
    def rank(self) -> int:
        return CLASSIFICATIONS.index(self.classification)


@dataclass(frozen=True, eq=False)
class Boundary:
    id: str
    name: str
    parent: str | None
    chain: tuple[str, ...]  # enclosing boundaries, innermost first (excluding self)
    description: str = ""
    attributes: Mapping[str, Any] = field(default_factory=_frozen)
    location: Location | None = None
    kind: str = "boundary"
    facts: Facts | None = None


@dataclass(frozen=True, eq=False)
class Element:
    id: str
    name: str
    kind: str  # process, datastore, external_entity, actor, server, lambda, ...
    boundaries: tuple[str, ...]  # enclosing boundaries, innermost first
    description: str = ""
    data: tuple[str, ...] = ()
    in_scope: bool = True
    tags: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=_frozen)
    location: Location | None = None
    facts: Facts | None = None  # pytm's attribute values, when a catalog uses conditions
    evidence: tuple[Mapping[str, Any], ...] = ()  # proof in the target's source that it exists


@dataclass(frozen=True, eq=False)
class Flow:
    id: str
    name: str
    source: str
    sink: str
    protocol: str = ""
    port: int | None = None
    data: tuple[str, ...] = ()
    encrypted: bool = False
    authenticated: bool = False
    attack: bool = False
    crosses: tuple[str, ...] = ()  # boundaries entered or left, sorted by id
    description: str = ""
    tags: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=_frozen)
    location: Location | None = None
    kind: str = "flow"
    facts: Facts | None = None
    evidence: tuple[Mapping[str, Any], ...] = ()  # proof in the target's source that it exists


@dataclass(frozen=True)
class Triage:
    """A decision the pytm model already records: a `Finding` in an element's `overrides`
    (with its `response`), or an `Assumption` that excludes threat ids (on one element, or
    model-wide when `target` is None)."""

    kind: str  # "finding" or "assumption"
    threat: str
    target: str | None
    text: str  # the finding's response, or the assumption's name and description
    location: Location | None = None


@dataclass(frozen=True, eq=False)
class Model:
    """Elements, boundaries, flows and data, each keyed by id and sorted by id."""

    name: str
    description: str
    file: str
    elements: Mapping[str, Element]
    boundaries: Mapping[str, Boundary]
    flows: Mapping[str, Flow]
    data: Mapping[str, DataAsset]
    extras: Mapping[str, Any] = field(default_factory=_frozen)
    declarations: Resolved | None = None  # when the model declares invariants, entry points, targets
    fact_layouts: Mapping[str, FactLayout] = field(default_factory=_frozen)  # see model/facts.py
    fact_enums: Mapping[str, Mapping[str, int]] = field(default_factory=_frozen)  # ordered enums: member -> rank
    triage: tuple[Triage, ...] = ()  # pytm Finding overrides and Assumptions, as the model wrote them

    def node(self, ident: str) -> Element | Boundary | None:
        return self.elements.get(ident) or self.boundaries.get(ident)

    def all_ids(self) -> set[str]:
        return set(self.elements) | set(self.boundaries) | set(self.flows) | set(self.data)

    def target(self, ident: str) -> Element | Boundary | Flow | None:
        return self.elements.get(ident) or self.boundaries.get(ident) or self.flows.get(ident)


def freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _frozen(mapping)


_DEFAULTS: dict[type, tuple[dict[str, Any], frozenset[str]]] = {}


def record(cls: type, **values: Any) -> Any:
    """Build one of the frozen records above without its generated __init__, whose
    per-field `object.__setattr__` is most of the cost of loading a large model; fields not
    given take their defaults. Unknown field names are an error, as with the constructor."""
    known = _DEFAULTS.get(cls)
    if known is None:
        known = _DEFAULTS[cls] = (
            {f.name: f.default if f.default is not MISSING else f.default_factory()  # type: ignore[operator]
             for f in fields(cls) if f.default is not MISSING or f.default_factory is not MISSING},
            frozenset(f.name for f in fields(cls)))
    defaults, names = known
    if not names.issuperset(values):
        raise TypeError(f"{cls.__name__} has no field(s) {sorted(set(values) - names)}")
    obj: Any = object.__new__(cls)
    obj.__dict__.update(defaults)
    obj.__dict__.update(values)
    return obj
