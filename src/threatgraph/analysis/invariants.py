"""Check declared invariants with reachability: removing the `via` elements must leave no
path from sources to targets (a cut, checked by one breadth-first search), a forbidden target
must be unreachable, and flows crossing a boundary must carry the required protection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from threatgraph.analysis.graph import Traversal, bfs_path, flow_graph, reach_graph, reach_path, reach_steps, steps
from threatgraph.declare import Invariant
from threatgraph.model.types import Model


@dataclass(frozen=True)
class InvariantResult:
    name: str
    kind: str
    holds: bool
    counterexample: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "holds": self.holds,
                "counterexample": self.counterexample or None, "detail": self.detail}


def check(inv: Invariant, model: Model, t: Traversal) -> InvariantResult:
    if inv.kind == "always_through":
        g = flow_graph(model, t.data)
        g.remove_nodes_from(inv.via)
        path = bfs_path(g, inv.sources, inv.targets)
        if path is None:
            return InvariantResult(inv.name, inv.kind, True, detail=f"every path passes through {', '.join(inv.via)}")
        return InvariantResult(inv.name, inv.kind, False, steps(g, path),
                               "path avoiding " + ", ".join(inv.via) + ": " + " -> ".join(path))
    if inv.kind == "never_reaches":
        g = reach_graph(model, t)
        rpath = reach_path(g, inv.sources, inv.targets)
        if rpath is None:
            return InvariantResult(inv.name, inv.kind, True, detail="no open path")
        return InvariantResult(inv.name, inv.kind, False, reach_steps(g, rpath), " -> ".join(n for n, _ in rpath))
    bad = []
    for fid in sorted(t.data):
        f = model.flows[fid]
        if inv.boundary not in f.crosses or fid in inv.exceptions:
            continue
        if (inv.encrypted and not f.encrypted) or (inv.authenticated and not f.authenticated):
            bad.append({"from": f.source, "to": f.sink, "flows": [fid]})
    want = " and ".join(w for w, on in (("encrypted", inv.encrypted), ("authenticated", inv.authenticated)) if on)
    if not bad:
        return InvariantResult(inv.name, inv.kind, True, detail=f"every open flow crossing {inv.boundary} is {want}")
    return InvariantResult(inv.name, inv.kind, False, bad[:1],
                           f"{len(bad)} flow(s) crossing {inv.boundary} not {want}: "
                           + ", ".join(b["flows"][0] for b in bad))
