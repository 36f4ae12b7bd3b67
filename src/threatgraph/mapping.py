"""Map each threat's selectors onto the model: the (threat, target) pairs coverage is about."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from threatgraph.catalog.loader import Catalog
from threatgraph.errors import InputError, Problem
from threatgraph.model.types import Model
from threatgraph.selectors import FLOWS, ModelIndex, evaluate


@dataclass(frozen=True)
class Target:
    id: str
    kind: str  # "flow" or "element" (boundaries are elements of kind "boundary")
    element_kind: str


class TargetIds(dict[str, frozenset[str]]):
    """Each threat's target ids as a set, built on first use (decisions and scoped
    mitigations look targets up by id)."""

    def __init__(self, mapping: Mapping[str, tuple[Target, ...]]) -> None:
        super().__init__()
        self.mapping = mapping

    def __missing__(self, tid: str) -> frozenset[str]:
        found = self[tid] = frozenset(t.id for t in self.mapping.get(tid, ()))
        return found


def _why_empty(selector: object, index: ModelIndex, what: str) -> str:
    """Which key of a selector ruled everything out, for the error hint."""
    if not isinstance(selector, dict) or len(selector) < 2:
        return "check the ids and values against `threatgraph list`"
    partial: dict[str, object] = {}
    for key, value in selector.items():
        before = len(evaluate(partial, index, what)) if partial else len(index.universe(what))
        partial[key] = value
        after = evaluate(partial, index, what)
        if not after:
            return f"adding `{key}` left nothing ({before} matched before it)"
    return ""


def map_threats(model: Model, catalog: Catalog, index: ModelIndex | None = None
                ) -> Mapping[str, tuple[Target, ...]]:
    """Targets per threat id, sorted by id; a selector that picks nothing is an input error."""
    index = index or ModelIndex(model)
    problems: list[Problem] = []
    out: dict[str, tuple[Target, ...]] = {}
    shared: dict[str, Target] = {}  # one Target per id, shared by every threat that lands there

    def target(ident: str, what: str) -> Target:
        t = shared.get(ident)
        if t is None:
            if what == FLOWS:
                t = Target(ident, "flow", "flow")
            else:
                node = model.node(ident)
                t = Target(ident, "element", node.kind if node else "element")
            shared[ident] = t
        return t

    for tid, threat in catalog.threats.items():
        targets: dict[str, Target] = {}
        for i, item in enumerate(threat.applies_to):
            what, selector = next(iter(item.items()))
            picked = evaluate(selector, index, what)
            if not picked and tid not in catalog.packs:  # a pack's threat may not apply to this model
                w = catalog.locations.selector(tid, i)
                problems.append(Problem(w.file, w.line, w.col,
                                        f"threat {tid}: this {what[:-1]} selector matches nothing",
                                        _why_empty(selector, index, what)))
            for ident in picked:
                targets[ident] = target(ident, what)
        out[tid] = tuple(targets[k] for k in sorted(targets))
    if problems:
        raise InputError(problems)
    return MappingProxyType(out)
