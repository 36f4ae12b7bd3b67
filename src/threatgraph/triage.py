"""A pytm model's own triage, carried over as decisions.

pytm users record decisions in the model: an `Assumption(name, exclude=[threat ids])` (on the
model or on one element) takes those threats off, and a `Finding(threat_id=..., response=...)`
in an element's `overrides` says what was done about one. threatgraph turns them into
decisions located at the model line, after the project's own YAML decisions (which win):

- an assumption excludes: `accept`, with the assumption as justification (pytm lists the
  pair as an excluded finding; threatgraph keeps it visible as an accepted risk);
- a finding whose response reads as mitigated: `mitigated`, a claim shown as such, never as
  verified; as accepted or transferred: `accept`; as a false positive or not applicable:
  `false_positive`; anything else stays open, with a warning that names the response.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from threatgraph.catalog.definitions import Decision
from threatgraph.catalog.loader import Catalog
from threatgraph.errors import Problem
from threatgraph.location import Location
from threatgraph.mapping import Target, TargetIds
from threatgraph.model.types import Model, Triage
from threatgraph.selectors import ids_matching

_RESPONSES = (
    (re.compile(r"\b(false[ -]positive|not[ -]applicable|n/a|out of scope)\b", re.I), "false_positive"),
    (re.compile(r"\bmitigat", re.I), "mitigated"),
    (re.compile(r"\b(accept|transfer|avoid)", re.I), "accept"),
)


def response_decision(response: str) -> str | None:
    """The decision a pytm Finding's free-text response reads as, or None."""
    for pattern, decision in _RESPONSES:
        if pattern.search(response):
            return decision
    return None


def _decided(catalog: Catalog, ids: TargetIds) -> set[tuple[str, str]]:
    return {(d.threat, hit) for d in catalog.decisions for hit in ids_matching(d.targets, ids[d.threat])}


def _ordered(model: Model) -> list[Triage]:
    """pytm's precedence: an assumption before a finding, an element's own before the model's."""
    return sorted(model.triage, key=lambda t: (t.kind != "assumption", t.target is None))


def import_triage(model: Model, catalog: Catalog, mapping: Mapping[str, tuple[Target, ...]]
                  ) -> tuple[Catalog, tuple[Problem, ...]]:
    """The catalog with the model's triage added as decisions, and warnings for what does not carry."""
    if not model.triage:
        return catalog, ()
    ids = TargetIds(mapping)
    decided = _decided(catalog, ids)
    added: list[tuple[Decision, Location]] = []
    warnings: list[Problem] = []
    for t in _ordered(model):
        where = t.location or Location(model.file, 1)
        on = t.target or "every element"
        if t.threat not in catalog.threats:
            warnings.append(Problem(where.file, where.line, where.col,
                                    f"pytm {t.kind} for {t.threat} on {on}: no such threat in the catalog",
                                    'include pytm\'s library with packs = ["pytm"], or define the threat', "warning"))
            continue
        kind = "accept" if t.kind == "assumption" else response_decision(t.text)
        if kind is None:
            warnings.append(Problem(where.file, where.line, where.col,
                                    f"pytm Finding for {t.threat} on {on} has response {t.text!r}, which threatgraph "
                                    "does not read as a decision; the pair stays open",
                                    "say 'mitigated ...', 'accepted ...' or 'false positive ...' in the response",
                                    "warning"))
            continue
        if t.target is None:
            targets = [x.id for x in mapping.get(t.threat, ())]
        else:
            targets = [t.target] if t.target in ids[t.threat] else []
        targets = [x for x in targets if (t.threat, x) not in decided]
        if not targets:
            continue
        decided.update((t.threat, x) for x in targets)
        label = "pytm Assumption" if t.kind == "assumption" else "pytm Finding response"
        added.append((Decision(threat=t.threat, targets=targets, decision=kind,  # type: ignore[arg-type]
                               justification=f"{label}: {t.text or '(empty)'}"), where))
    if not added:
        return catalog, tuple(warnings)
    locations = replace(catalog.locations, decisions=(*catalog.locations.decisions, *(w for _, w in added)))
    return replace(catalog, decisions=(*catalog.decisions, *(d for d, _ in added)), locations=locations), tuple(warnings)


def without_unused_pack_threats(catalog: Catalog, mapping: Mapping[str, tuple[Target, ...]]
                                ) -> tuple[Catalog, Mapping[str, tuple[Target, ...]]]:
    """A pack's threats that land nowhere in this model are not part of its assessment."""
    unused = {tid for tid in catalog.packs if not mapping.get(tid)}
    if not unused:
        return catalog, mapping
    threats = MappingProxyType({k: v for k, v in catalog.threats.items() if k not in unused})
    return (replace(catalog, threats=threats, packs=MappingProxyType({k: v for k, v in catalog.packs.items()
                                                                      if k not in unused})),
            MappingProxyType({k: v for k, v in mapping.items() if k not in unused}))
