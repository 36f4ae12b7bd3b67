"""Defence in depth: how many independent mitigations stand behind each high or critical
pair, and which single controls would, by failing alone, open a path from an entry point to
a target (single points of failure). Also answers "if this element is bypassed, what still
stops the flow, and what leaks anyway?" for each always-through invariant."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from threatgraph.analysis.graph import (
    CONTROLLED,
    LEAKED,
    FlowPairs,
    flow_graph,
    reach_graph,
    reach_path,
    reach_steps,
    traversal,
)
from threatgraph.assess import Assessment
from threatgraph.rows import Row


@dataclass(frozen=True)
class Opening(Row):
    """One (entry, target) pair a single control alone keeps closed, and the path it opens."""

    entry: str
    target: str
    path: tuple[dict[str, Any], ...]  # steps, as in an attack path's JSON


@dataclass(frozen=True)
class SinglePointOfFailure(Row):
    mitigation: str
    opens: tuple[Opening, ...]


@dataclass(frozen=True)
class DepthRow(Row):
    """A high or critical pair and how many of its mitigations actually stand (full or partial)."""

    threat: str
    target: str
    severity: str
    status: str
    independent_mitigations: int
    mitigations: tuple[str, ...]


@dataclass(frozen=True)
class BlockedFlow(Row):
    flow: str
    blocked_by: tuple[str, ...]


@dataclass(frozen=True)
class Bypass(Row):
    """What an always-through invariant's `via` elements, bypassed, would leave standing."""

    invariant: str
    bypassed: tuple[str, ...]
    still_blocked: tuple[BlockedFlow, ...]
    open: tuple[str, ...]
    other_open_egress: tuple[str, ...]


def independent_mitigations(a: Assessment) -> list[DepthRow]:
    rows = []
    actives: dict[tuple[str, ...], tuple[str, ...]] = {}  # pairs of one threat share their mitigations
    for p in a.pairs:
        if p.severity not in ("high", "critical"):
            continue
        active = actives.get(p.mitigations)
        if active is None:
            active = actives[p.mitigations] = tuple(sorted(
                m for m in p.mitigations if a.mitigation_states[m].strength in ("full", "partial")))
        rows.append(DepthRow(p.threat, p.target.id, p.severity, p.status, len(active), active))
    rows.sort(key=lambda r: (r.independent_mitigations, r.threat, r.target))
    return rows


def single_points_of_failure(a: Assessment, fp: FlowPairs) -> list[SinglePointOfFailure]:
    """Controls whose failure alone opens a path from an entry point to a target that is
    closed today. Reachability is computed once; a control's failure only adds the steps it
    alone was blocking, and a new path must start its first new step inside what an entry
    point already reaches, so most controls are settled without a new search."""
    decl = a.model.declarations
    if decl is None:
        return []
    now = traversal(a, fp)
    g_now = reach_graph(a.model, now)
    m = a.model
    reach_from = {e: g_now.descendants((e, CONTROLLED)) | {(e, CONTROLLED)} for e in decl.entry_points
                  if (e, CONTROLLED) in g_now}
    closed = [(e, t) for e in reach_from for t in decl.targets
              if e != t and not ({(t, CONTROLLED), (t, LEAKED)} & reach_from[e])]
    if not closed:
        return []
    current = {"forward": now.forward, "read": now.read, "leak": now.leak}
    found: dict[str, list[Opening]] = defaultdict(list)
    for control, opened in sorted(fp.opened_by(m).items()):
        new_edges = []
        for fid, way in opened:
            if fid in current[way]:
                continue
            f = m.flows[fid]
            if way == "forward":
                new_edges.append(((f.source, CONTROLLED), (f.sink, CONTROLLED), fid))
            elif way == "read":
                new_edges.append(((f.sink, CONTROLLED), (f.source, CONTROLLED), fid))
            else:
                new_edges.append(((f.source, CONTROLLED), (f.sink, LEAKED), fid))
        if not new_edges:
            continue
        pending = [(e, t) for e, t in closed if any(u in reach_from[e] for u, _, _ in new_edges)]
        if not pending:
            continue
        g = g_now.copy()
        for u, v, fid in new_edges:
            if g.has_edge(u, v):
                g[u][v]["flows"] = [*g[u][v]["flows"], fid]
            else:
                g.add_edge(u, v, flows=[fid])
        for e, t in pending:
            path = reach_path(g, [e], [t])
            if path is not None:
                found[control].append(Opening(e, t, tuple(reach_steps(g, path))))
    return [SinglePointOfFailure(c, tuple(v)) for c, v in sorted(found.items())]


def bypass(a: Assessment, fp: FlowPairs) -> list[Bypass]:
    """For each always-through invariant, imagine its `via` elements bypassed: the last hops
    into the targets that are still blocked (and by which controls), those that are open, and
    any other open egress from the sources to elements outside every boundary (DNS, say)."""
    decl = a.model.declarations
    if decl is None:
        return []
    out = []
    m = a.model
    outside = {e for e, x in m.elements.items() if not x.boundaries}
    for inv in decl.invariants:
        if inv.kind != "always_through":
            continue
        g = flow_graph(m, m.flows)
        g.remove_nodes_from(inv.via)
        reachable = set().union(*(g.descendants(s) | {s} for s in inv.sources if s in g))
        targets = set(inv.targets)
        last_hops = sorted(f for u, v, d in g.edges(data=True) if u in reachable and v in targets for f in d["flows"])

        def blocked(fid: str) -> bool:
            return m.flows[fid].attack and bool(fp.blockers(fid))

        other = sorted(f for u, v, d in g.edges(data=True) if u in set(inv.sources) and v in outside - targets
                       for f in d["flows"] if not blocked(f))
        out.append(Bypass(inv.name, tuple(inv.via),
                          tuple(BlockedFlow(f, tuple(sorted(fp.blockers(f)))) for f in last_hops if blocked(f)),
                          tuple(f for f in last_hops if not blocked(f)), tuple(other)))
    return out
