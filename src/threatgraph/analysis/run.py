"""All graph analyses for one assessment (the policy rules in threatgraph.policy read them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from threatgraph.analysis import completeness, depth, invariants, paths
from threatgraph.analysis.graph import FlowPairs, traversal
from threatgraph.assess import Assessment
from threatgraph.rows import Row
from threatgraph.vocabulary import STRIDE_PER_KIND


@dataclass(frozen=True)
class Crossing(Row):
    """A flow that crosses trust boundaries, and the threats mapped to it (none: unanalysed)."""

    flow: str
    source: str
    sink: str
    crosses: tuple[str, ...]
    attack: bool
    threats: tuple[str, ...]


class Analysis:
    """Everything the graph analyses found. What a `check` verdict reads (crossings, invariants,
    STRIDE-per-element completeness) is computed up front; the rest (attack paths, the one
    analysis that needs networkx, and the defence-in-depth analyses, which only reports and
    pages show) the first time it is read, so a plain `check` never pays for them."""

    def __init__(self, crossings: list[Crossing], invariants: list[invariants.InvariantResult],
                 compute_paths: Any, compute_depth: Any, stride: completeness.Completeness | None = None,
                 blocked_by: Mapping[str, frozenset[str]] | None = None):
        self.crossings = crossings
        self.invariants = invariants
        self._compute_paths = compute_paths
        self._compute_depth = compute_depth  # name -> a function computing that analysis
        self.stride = stride if stride is not None else completeness.Completeness((), 0, 0, 1.0)
        self.blocked_by = blocked_by or {}  # attack edge -> the full-strength controls that block it

    @cached_property
    def paths(self) -> list[paths.AttackPath]:
        found: list[paths.AttackPath] = self._compute_paths()
        return found

    @cached_property
    def single_points_of_failure(self) -> list[depth.SinglePointOfFailure]:
        found: list[depth.SinglePointOfFailure] = self._compute_depth["single_points_of_failure"]()
        return found

    @cached_property
    def defence_in_depth(self) -> list[depth.DepthRow]:
        found: list[depth.DepthRow] = self._compute_depth["defence_in_depth"]()
        return found

    @cached_property
    def bypass(self) -> list[depth.Bypass]:
        found: list[depth.Bypass] = self._compute_depth["bypass"]()
        return found

    def to_json(self) -> dict[str, Any]:
        """The analyses as JSON, built once: the JSON report, its Markdown twin and the site's
        paths page all read it (at 10,000 elements each build took a quarter of a second).
        Readers must not change it."""
        return self._json

    @cached_property
    def _json(self) -> dict[str, Any]:
        return {"invariants": [i.to_json() for i in self.invariants],
                "paths": [p.to_json() for p in self.paths],
                "single_points_of_failure": [s.to_json() for s in self.single_points_of_failure],
                "defence_in_depth": [r.to_json() for r in self.defence_in_depth],
                "bypass": [b.to_json() for b in self.bypass], "crossings": [c.to_json() for c in self.crossings]}
        # (STRIDE-per-element completeness is reported in coverage.json, beside the pairs)


def crossings(a: Assessment) -> list[Crossing]:
    threats: dict[str, list[str]] = {fid: [] for fid, f in a.model.flows.items() if f.crosses}
    for p in a.pairs:
        on = threats.get(p.target.id)
        if on is not None:
            on.append(p.threat)
    return [Crossing(fid, f.source, f.sink, tuple(f.crosses), f.attack, tuple(sorted(set(threats.get(fid, [])))))
            for fid, f in a.model.flows.items() if f.crosses]


def analyse(a: Assessment, stride: Mapping[str, tuple[str, ...]] | None = None) -> Analysis:
    fp = FlowPairs.of(a)
    now = traversal(a, fp)
    decl = a.model.declarations
    inv_results = [invariants.check(inv, a.model, now) for inv in (decl.invariants if decl else ())]
    later = {"single_points_of_failure": lambda: depth.single_points_of_failure(a, fp),
             "defence_in_depth": lambda: depth.independent_mitigations(a), "bypass": lambda: depth.bypass(a, fp)}
    return Analysis(crossings(a), inv_results, lambda: paths.attack_paths(a, now, decl.k_paths if decl else 3), later,
                    completeness.completeness(a, stride or STRIDE_PER_KIND), {fid: fp.blockers(fid) for fid in now.blocked})
