"""Attack paths from declared entry points to declared targets.

Paths are found in the attacker-reach graph (see analysis.graph) extended with the blocked
attack edges: open steps cost 1, blocked steps 1000, so the k shortest simple paths (Yen's
algorithm, networkx) list open paths first and then show where the blocked ones are stopped. Each step carries the threats
on its flow, their statuses and mitigations. A path is only as open as its best-defended
step, so its residual risk is the lowest risk among its analysed steps.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from threatgraph.analysis.graph import CONTROLLED, LEAKED, Traversal, reach_graph
from threatgraph.assess import Assessment
from threatgraph.vocabulary import ACCEPTED, EXPIRED, RISK, UNMITIGATED, residual_risk

BLOCKED_COST = 1000
UNKNOWN_RISK = "unknown"
_SORT_RISK = (*RISK, UNKNOWN_RISK)


@dataclass(frozen=True)
class AttackPath:
    entry: str
    target: str
    nodes: tuple[str, ...]
    steps: tuple[dict[str, Any], ...]
    blocked: bool
    residual_risk: str

    def to_json(self) -> dict[str, Any]:
        return {"entry": self.entry, "target": self.target, "nodes": list(self.nodes), "steps": list(self.steps),
                "blocked": self.blocked, "residual_risk": self.residual_risk}


def attack_paths(a: Assessment, t: Traversal, k: int = 3) -> list[AttackPath]:
    decl = a.model.declarations
    if decl is None:
        return []
    m = a.model
    blocked_reads = [f for f in t.blocked if m.flows[f].source in m.elements
                     and m.elements[m.flows[f].source].kind == "datastore"]
    import networkx as nx  # only attack paths need Yen's algorithm

    reach = reach_graph(m, t, extra_forward=t.blocked, extra_read=blocked_reads)
    g = nx.DiGraph()
    g.add_nodes_from(reach)
    for u, v, attrs in reach.edges(data=True):
        flows = attrs["flows"]
        blocked = all(f in t.blocked for f in flows)
        g.add_edge(u, v, flows=flows, weight=BLOCKED_COST if blocked else 1)
    by_flow: dict[str, list[Any]] = {}
    for p in a.pairs:
        by_flow.setdefault(p.target.id, []).append(p)
    out: list[AttackPath] = []
    for entry in decl.entry_points:
        for target in decl.targets:
            if entry == target:
                continue
            # one virtual sink per target: reaching it controlled or by a leak both count
            sink = ("__target__", target)
            g.add_edge((target, CONTROLLED), sink, flows=[], weight=0)
            if (target, LEAKED) in g:
                g.add_edge((target, LEAKED), sink, flows=[], weight=0)
            start = (entry, CONTROLLED)
            if start in g and nx.has_path(g, start, sink):
                for nodes in itertools.islice(nx.shortest_simple_paths(g, start, sink, weight="weight"), k):
                    out.append(_annotate(a, g, nodes[:-1], by_flow, t))
            g.remove_node(sink)
    # an open path with no threat on any step is unanalysed: it sorts above every known risk
    out.sort(key=lambda p: (p.blocked, -_SORT_RISK.index(p.residual_risk), len(p.nodes), p.entry, p.target, p.nodes))
    return out


def _annotate(a: Assessment, g: Any, nodes: list[tuple[str, str]], by_flow: dict[str, list[Any]],
              t: Traversal) -> AttackPath:
    steps = []
    risks = []
    blocked_any = False
    for u, v in zip(nodes, nodes[1:], strict=False):
        flows = g[u][v]["flows"]
        usable = [f for f in flows if f not in t.blocked]
        fid = (usable or flows)[0]
        blocked = not usable
        blocked_any |= blocked
        threats = [{"threat": p.threat, "severity": p.severity, "status": p.status,
                    "mitigations": [{"id": m, "strength": a.mitigation_states[m].strength} for m in p.mitigations]}
                   for p in sorted(by_flow.get(fid, []), key=lambda p: p.threat)]
        step_risk = max((residual_risk(x["severity"], x["status"]) for x in threats), key=RISK.index, default=None)
        if step_risk is not None:
            risks.append(step_risk)
        f = a.model.flows[fid]
        kind = "leak" if v[1] == LEAKED else ("move" if (f.source, f.sink) == (u[0], v[0]) else "read")
        steps.append({"from": u[0], "to": v[0], "flow": fid, "step": kind, "attack_edge": f.attack,
                      "blocked": blocked, "threats": threats,
                      "blocked_by": sorted({m["id"] for x in threats for m in x["mitigations"] if m["strength"] == "full"})
                      if blocked else []})
    residual = "none" if blocked_any else (min(risks, key=RISK.index) if risks else UNKNOWN_RISK)
    return AttackPath(nodes[0][0], nodes[-1][0], tuple(n for n, _ in nodes), tuple(steps), blocked_any, residual)


__all__ = ["AttackPath", "attack_paths", "UNMITIGATED", "EXPIRED", "ACCEPTED"]
