"""All graph analyses for one assessment (the policy rules in threatgraph.policy read them)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from threatgraph.analysis import depth, invariants, paths
from threatgraph.analysis.graph import FlowPairs, traversal
from threatgraph.assess import Assessment


class Analysis:
    """Everything the graph analyses found. Attack paths (the one analysis that needs networkx)
    are computed the first time they are read, so a plain `check` never imports networkx."""

    def __init__(self, crossings: list[dict[str, Any]], invariants: list[invariants.InvariantResult],
                 compute_paths: Any, single_points_of_failure: list[depth.SinglePointOfFailure],
                 defence_in_depth: list[dict[str, Any]], bypass: list[dict[str, Any]]):
        self.crossings = crossings
        self.invariants = invariants
        self._compute_paths = compute_paths
        self.single_points_of_failure = single_points_of_failure
        self.defence_in_depth = defence_in_depth
        self.bypass = bypass

    @cached_property
    def paths(self) -> list[paths.AttackPath]:
        found: list[paths.AttackPath] = self._compute_paths()
        return found

    def to_json(self) -> dict[str, Any]:
        return {"invariants": [i.to_json() for i in self.invariants],
                "paths": [p.to_json() for p in self.paths],
                "single_points_of_failure": [s.to_json() for s in self.single_points_of_failure],
                "defence_in_depth": self.defence_in_depth, "bypass": self.bypass, "crossings": self.crossings}


def crossings(a: Assessment) -> list[dict[str, Any]]:
    threats: dict[str, list[str]] = {}
    for p in a.pairs:
        threats.setdefault(p.target.id, []).append(p.threat)
    return [{"flow": fid, "source": f.source, "sink": f.sink, "crosses": list(f.crosses), "attack": f.attack,
             "threats": sorted(set(threats.get(fid, [])))} for fid, f in a.model.flows.items() if f.crosses]


def analyse(a: Assessment) -> Analysis:
    fp = FlowPairs.of(a)
    now = traversal(a, fp)
    decl = a.model.declarations
    inv_results = [invariants.check(inv, a.model, now) for inv in (decl.invariants if decl else ())]
    return Analysis(crossings(a), inv_results, lambda: paths.attack_paths(a, now, decl.k_paths if decl else 3),
                    depth.single_points_of_failure(a, fp), depth.independent_mitigations(a),
                    depth.bypass(a, fp))
