"""Data-flow diagrams as DOT, written by threatgraph itself: boundaries as nested clusters,
DFD shapes by element kind, flows labelled with protocol and port, attack edges dashed,
colour by coverage, and every node and edge linked to its page.

Every text that reaches DOT goes through `_text`: backslashes doubled (so a name cannot end a
quoted string or inject an escape), line breaks flattened; `dot_source` quotes it and never
writes any value as an HTML label, so a name shaped like `<...>` stays text. Node names are generated (`n12`),
never taken from the model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from threatgraph.assess import Assessment
from threatgraph.render.dot_source import DotGraph
from threatgraph.render.escape import flat
from threatgraph.render.pages import page
from threatgraph.vocabulary import (
    ACCEPTED,
    BLOCKED,
    BLOCKED_CLAIMED,
    CLAIMED,
    EXPIRED,
    FALSE_POSITIVE,
    MITIGATED,
    PARTIAL,
    RISK,
    STATUS_RANK,
    UNMITIGATED,
    residual_risk,
    shown_status,
)
from threatgraph.vocabulary import worst_status as worst


def default_href(kind: str, ident: str) -> str:
    """Where a node, cluster or edge links to, relative to the site root: its own page."""
    return f"{page(kind, ident)}.html"

LINK = "@@threatgraph-link@@"  # replaced by the page's relative prefix after rendering

# status -> (fill, line); one palette for nodes, edges and the legend
PALETTE = {
    UNMITIGATED: ("#fde2e1", "#c0392b"),
    EXPIRED: ("#fde2e1", "#c0392b"),
    PARTIAL: ("#fff1d6", "#d68910"),
    MITIGATED: ("#ddf3e4", "#1e8449"),
    CLAIMED: ("#f4f8e8", "#8a9a5b"),
    ACCEPTED: ("#dde9f7", "#2e6da4"),
    FALSE_POSITIVE: ("#eeeeee", "#7f8c8d"),
    BLOCKED: ("#e3f1e6", "#2e7d32"),
    BLOCKED_CLAIMED: ("#f4f8e8", "#8a9a5b"),
    "none": ("#ffffff", "#566573"),
}
LEGEND = ((UNMITIGATED, "open: unmitigated"), (PARTIAL, "open: partially mitigated"),
          (CLAIMED, "mitigated, claimed only"), (MITIGATED, "mitigated, verified"), (BLOCKED, "attack edge blocked"),
          (BLOCKED_CLAIMED, "blocked, claimed only"),
          (ACCEPTED, "accepted (not open)"), ("none", "no threat mapped"))
OPEN = (UNMITIGATED, EXPIRED, PARTIAL)
_RANK = STATUS_RANK
SHAPES = {"process": "ellipse", "set_of_processes": "doublecircle", "lambda": "ellipse",
          "datastore": "cylinder", "external_entity": "box", "actor": "box", "server": "box3d",
          "agent": "ellipse", "llm": "ellipse", "asset": "box", "element": "box"}
FADED = ("#f7f7f7", "#c8c8c8")
HUB_FLOWS = 12  # an element with more flows than this is a hub: threat diagrams do not expand its neighbours


def _text(value: object) -> str:
    return flat(value).replace("\\", "\\\\")


def worst_status(a: Assessment) -> dict[str, str]:
    """Per target id, the least covered status of the pairs on it (the coverage matrix)."""
    by_target: dict[str, list[str]] = {}
    for p in a.pairs:
        by_target.setdefault(p.target.id, []).append(shown_status(p.status, p.basis))
    return {target: worst(statuses) for target, statuses in by_target.items()}


def diagram_status(a: Assessment) -> dict[str, str]:
    """The colour of each node and edge, with one meaning: the open pair with the most risk
    left (severity, less a level when partly mitigated) decides; with no open pair, the least
    covered of the rest (accepted and false positives are not open); an attack edge the
    analysis proves blocked is drawn blocked, whatever else lands on it."""
    by_target: dict[str, list[Any]] = {}
    for p in a.pairs:
        by_target.setdefault(p.target.id, []).append(p)
    out = {}
    for target, pairs in by_target.items():
        open_pairs = [p for p in pairs if p.status in OPEN]
        if open_pairs:
            top = max(open_pairs, key=lambda p: (RISK.index(residual_risk(p.severity, p.status)), -_RANK[p.status]))
            out[target] = top.status
        else:
            out[target] = worst(shown_status(p.status, p.basis) for p in pairs)
    for fid, blockers in (a.analysis.blocked_by if a.analysis is not None else {}).items():
        verified = any(a.mitigation_states[m].verified for m in blockers if m in a.mitigation_states)
        out[fid] = BLOCKED if verified else BLOCKED_CLAIMED
    return out


@dataclass(frozen=True)
class Focus:
    """What a focused diagram shows: `include` (None: everything) and `highlight`."""

    include: frozenset[str] | None = None
    highlight: frozenset[str] = field(default_factory=frozenset)
    title: str = ""


class Context:
    """What every diagram of one assessment shares, computed once (statuses, boundary tree,
    members, node names, flows by element), so a diagram costs what it shows, not the model."""

    def __init__(self, a: Assessment, href: Callable[[str, str], str] = default_href):
        m = a.model
        self.a = a
        self.href = href
        self.status = diagram_status(a)
        self.kids: dict[str | None, list[str]] = defaultdict(list)
        for b in sorted(m.boundaries.values(), key=lambda b: b.id):
            self.kids[b.parent].append(b.id)
        self.members: dict[str | None, list[str]] = defaultdict(list)
        for e in sorted(m.elements.values(), key=lambda e: e.id):
            self.members[e.boundaries[0] if e.boundaries else None].append(e.id)
        self.node_name = {ident: f"n{i}" for i, ident in enumerate(sorted(set(m.elements) | set(m.boundaries)))}
        self.flows_of: dict[str, list[str]] = defaultdict(list)
        for fid, f in m.flows.items():
            self.flows_of[f.source].append(fid)
            if f.sink != f.source:
                self.flows_of[f.sink].append(fid)
        self._groups: dict[str, dict[str, str | None]] = {}

    def groups(self, group: str) -> dict[str, str | None]:
        """Each element's boundary for a summary diagram: its top-level one (`top`) or its
        innermost; None outside every boundary. Built once: a large site draws dozens."""
        found = self._groups.get(group)
        if found is None:
            at = -1 if group == "top" else 0
            found = self._groups[group] = {e.id: (e.boundaries[at] if e.boundaries else None)
                                           for e in self.a.model.elements.values()}
        return found


def neighbourhood(a: Assessment, node_ids: Iterable[str], ctx: Context | None = None) -> frozenset[str]:
    """The nodes, every flow touching them, and those flows' other ends."""
    ctx = ctx or Context(a)
    keep = set(node_ids)
    for n in list(keep):
        for fid in ctx.flows_of.get(n, ()):
            f = a.model.flows[fid]
            keep |= {fid, f.source, f.sink}
    return frozenset(keep)


def threat_focus(a: Assessment, tid: str, ctx: Context | None = None, whole_model_under: int = 0) -> Focus:
    """The threat's targets highlighted among what matters around them: the targets and the
    ends of target flows, their neighbours (for a few targets, and never a hub's, whose dozens
    of flows would bury the targets: its own page draws them) and the boundaries they sit in;
    not the whole model greyed (`whole_model_under` keeps it for models up to that size)."""
    m = a.model
    ctx = ctx or Context(a)
    targets = frozenset(p.target.id for p in a.pairs_of_threat(tid))
    ends = {e for t in targets if t in m.flows for e in (m.flows[t].source, m.flows[t].sink)}
    highlight = targets | frozenset(ends)
    if len(m.elements) <= whole_model_under:
        return Focus(None, highlight, f"Threat {tid}")
    elements = {t for t in targets if t in m.elements} | {e for t in targets if t in m.boundaries
                                                          for e in ctx.members.get(t, [])}
    nodes = elements | ends
    if len(nodes) <= 15:
        expand = {e for e in nodes if len(ctx.flows_of.get(e, ())) <= HUB_FLOWS}
        return Focus(neighbourhood(a, expand, ctx) | nodes | highlight, highlight, f"Threat {tid}")
    return Focus(frozenset(nodes) | targets, highlight, f"Threat {tid}")


SUMMARY_EDGES = 120


def summary(a: Assessment, ctx: Context | None = None, max_edges: int = SUMMARY_EDGES,
            subset: Iterable[str] | None = None, group: str = "top", highlight: frozenset[str] = frozenset(),
            title: str = "") -> str:
    """A grouped diagram for large models: one node per boundary (top-level, or innermost) holding
    elements of `subset` (default: all), plus one for elements outside every boundary; one edge per
    pair of groups labelled with its flow count. Only the `max_edges` heaviest pairs are drawn (a
    dense zone graph is unreadable and slow to lay out)."""
    m = a.model
    ctx = ctx or Context(a)
    groups = ctx.groups(group)
    where = {e: groups[e] for e in subset if e in groups} if subset is not None else groups
    g = DotGraph("summary", graph_attr={"rankdir": "LR", "fontname": "Helvetica", "fontsize": "11",
                                        "bgcolor": "white", "nodesep": "0.3", "label": _text(title),
                                        "labelloc": "t"},
                 node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled", "shape": "box3d"},
                 edge_attr={"fontname": "Helvetica", "fontsize": "8"})
    counts: dict[str | None, int] = defaultdict(int)
    worst: dict[str | None, str] = {}
    marked: set[str | None] = set()
    status = ctx.status
    for e, b in where.items():
        counts[b] += 1
        st = status.get(e, "none")
        now = worst.get(b)
        if now is None or _RANK.get(st, 9) < _RANK.get(now, 9):
            worst[b] = st
        if e in highlight:
            marked.add(b)
    names = {b: f"t{i}" for i, b in enumerate(sorted(counts, key=lambda x: (x is None, x or "")))}
    for b, n in sorted(names.items(), key=lambda kv: kv[1]):
        fill, line = PALETTE[worst[b]]
        label = f"{m.boundaries[b].name} ({counts[b]} elements)" if b else f"outside every boundary ({counts[b]})"
        attrs = {"URL": f"{LINK}{ctx.href('boundary', b)}"} if b else {}
        g.node(n, label=_text(label), fillcolor=fill, color=line, penwidth="2.5" if b in marked else "1", **attrs)
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    flows = m.flows
    # each flow once (the order of a group's flows is never shown): the flows of the diagram's
    # elements, or every flow of the model where that is fewer to look at
    flows_of = ctx.flows_of
    if subset is None or sum(len(flows_of.get(e, ())) for e in where) > len(flows):
        ends = ((fid, f.source, f.sink) for fid, f in flows.items())
    else:
        ends = ((fid, e, flows[fid].sink) for e in where for fid in flows_of.get(e, ()) if flows[fid].source == e)
    for fid, tail, head in ends:
        if tail in where and head in where:
            edges[(names[where[tail]], names[where[head]])].append(fid)
    heaviest = sorted(edges.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:max_edges]
    for (u, v), fids in sorted(heaviest):
        st = min((ctx.status.get(fid, "none") for fid in fids), key=lambda x: _RANK.get(x, 9))
        g.edge(u, v, label=_text(f"{len(fids)} flows"), color=PALETTE[st][1], fontcolor=PALETTE[st][1],
               style="dashed" if all(m.flows[fid].attack for fid in fids) else "solid")
    source: str = g.source
    return source


def dfd(a: Assessment, focus: Focus | None = None, collapse_over: int | None = None, name: str = "dfd",
        ctx: Context | None = None) -> str:
    """The DOT source of a data-flow diagram (deterministic: everything sorted by id)."""
    return _Dfd(a, focus or Focus(), collapse_over, name, ctx or Context(a)).source()


class _Dfd:
    """One data-flow diagram being drawn: which nodes and flows it shows, which boundaries it
    collapses, then nodes inside their clusters, edges and the legend."""

    def __init__(self, a: Assessment, focus: Focus, collapse_over: int | None, name: str, ctx: Context):
        self.m, self.focus, self.ctx = a.model, focus, ctx
        self.visible_nodes, self.shown_flows = self._select()
        self.collapsed = self._collapsed(collapse_over)
        # the boundaries drawn: those enclosing, at any depth, an element shown
        self.drawn_boundaries = {b for e in self.visible_nodes for b in self.m.elements[e].boundaries}
        self.g = DotGraph(name, graph_attr={
            "rankdir": "LR", "fontname": "Helvetica", "fontsize": "11", "compound": "true", "nodesep": "0.2",
            "ranksep": "0.4", "bgcolor": "white", "label": _text(focus.title), "labelloc": "t"},
            node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled"},
            edge_attr={"fontname": "Helvetica", "fontsize": "8"})

    def _select(self) -> tuple[set[str], list[str]]:
        m, include = self.m, self.focus.include
        if include is None:
            return set(m.elements), sorted(fid for fid, f in m.flows.items() if f.source in m.elements and f.sink in m.elements)
        nodes = {i for i in include if i in m.elements}
        flows = sorted({fid for n in nodes for fid in self.ctx.flows_of.get(n, ())
                        if fid in include and m.flows[fid].source in nodes and m.flows[fid].sink in nodes})
        return nodes, flows

    def _collapsed(self, over: int | None) -> dict[str, str]:
        """A boundary whose own elements exceed the threshold draws them as one node."""
        if over is None:
            return {}
        return {e: bid for bid, ids in self.ctx.members.items() if bid is not None and len(ids) > over for e in ids}

    def source(self) -> str:
        members, kids = self.ctx.members, self.ctx.kids
        for e in members.get(None, []):
            if e in self.visible_nodes:
                self.add_node(self.g, e)
        for bid in kids.get(None, []):
            if self.needed(bid):
                self.add_cluster(self.g, bid)
        self.add_bundles()
        self.add_flows()
        self.add_legend()
        out: str = self.g.source
        return out

    def colours(self, ident: str) -> tuple[str, str]:
        if self.focus.highlight and ident not in self.focus.highlight:
            return FADED
        return PALETTE[self.ctx.status.get(ident, "none")]

    def add_node(self, sub: DotGraph, ident: str) -> None:
        e, node_name = self.m.elements[ident], self.ctx.node_name
        fill, line = self.colours(ident)
        sub.node(node_name[ident], label=_text(e.name), shape=SHAPES.get(e.kind, "box"), fillcolor=fill,
                 color=line, penwidth="2.5" if ident in self.focus.highlight else "1",
                 URL=f"{LINK}{self.ctx.href('element', ident)}", tooltip=_text(f"{e.kind}: {e.id}"),
                 id=f"node-{node_name[ident]}", fontcolor="#9a9a9a" if (fill, line) == FADED else "black")

    def needed(self, bid: str) -> bool:
        return bid in self.drawn_boundaries

    def add_cluster(self, parent: DotGraph, bid: str) -> None:
        b, node_name, focus = self.m.boundaries[bid], self.ctx.node_name, self.focus
        fill, line = self.colours(bid) if bid in self.ctx.status or focus.highlight else ("#ffffff", "#7f8c8d")
        with parent.subgraph(f"cluster_{node_name[bid]}") as sub:
            sub.attr(label=_text(b.name), style="dashed,rounded", color=line,
                     penwidth="2.5" if bid in focus.highlight else "1.2", fontcolor="#34495e",
                     URL=f"{LINK}{self.ctx.href('boundary', bid)}", tooltip=_text(f"boundary: {bid}"),
                     id=f"cluster-{node_name[bid]}")
            own = [e for e in self.ctx.members.get(bid, []) if e in self.visible_nodes]
            if own and own[0] in self.collapsed:
                sub.node(f"c{node_name[bid]}", label=_text(f"{len(own)} elements"), shape="box3d",
                         fillcolor="#ffffff", color="#566573", URL=f"{LINK}{self.ctx.href('boundary', bid)}")
            else:
                for e in own:
                    self.add_node(sub, e)
            for kid in self.ctx.kids.get(bid, []):
                if self.needed(kid):
                    self.add_cluster(sub, kid)

    def endpoint(self, ident: str) -> str:
        if ident in self.collapsed:
            return f"c{self.ctx.node_name[self.collapsed[ident]]}"
        return self.ctx.node_name[ident]

    def touches_collapsed(self, fid: str) -> bool:
        f = self.m.flows[fid]
        return f.source in self.collapsed or f.sink in self.collapsed

    def add_bundles(self) -> None:
        """Flows touching a collapsed boundary are drawn once per (from, to) pair, with a count."""
        bundles: dict[tuple[str, str], list[str]] = defaultdict(list)
        for fid in self.shown_flows:
            if self.touches_collapsed(fid):
                f = self.m.flows[fid]
                bundles[(self.endpoint(f.source), self.endpoint(f.sink))].append(fid)
        for (src, dst), fids in sorted(bundles.items()):
            worst = min((self.ctx.status.get(fid, "none") for fid in fids), key=lambda st: _RANK.get(st, 9))
            line = PALETTE[worst][1]
            self.g.edge(src, dst, label=_text(f"{len(fids)} flows" if len(fids) > 1 else fids[0]), color=line,
                        fontcolor=line, style="dashed" if all(self.m.flows[fid].attack for fid in fids) else "solid",
                        penwidth="1.2", tooltip=_text(", ".join(fids[:20]) + (" ..." if len(fids) > 20 else "")))

    def add_flows(self) -> None:
        drawn = 0
        for fid in self.shown_flows:
            if self.touches_collapsed(fid):
                continue
            f = self.m.flows[fid]
            drawn += 1
            fill, line = self.colours(fid)
            self.g.edge(self.endpoint(f.source), self.endpoint(f.sink),
                        label=_text(f.protocol + (f":{f.port}" if f.port is not None else "")), color=line,
                        fontcolor=line if (fill, line) != FADED else "#b0b0b0",
                        style="dashed" if f.attack else "solid",
                        penwidth="2.5" if fid in self.focus.highlight else "1.2",
                        arrowhead="odiamond" if f.attack else "normal",
                        URL=f"{LINK}{self.ctx.href('flow', fid)}", tooltip=_text(f"{f.name} ({fid})"), id=f"edge-{drawn}")

    def add_legend(self) -> None:
        """One column: every entry in one rank, so the legend adds no rank to the layout. A row
        of nodes kept in line by invisible edges takes a rank per entry, and in a left-to-right
        layout each rank spans the whole diagram: a star-shaped neighbourhood two ranks deep was
        stretched ten ranks wide and shrunk to fit. (One node holding an HTML table would be
        neater, but the embedded renderer has no HTML labels.)"""
        with self.g.subgraph("cluster_legend") as leg:
            leg.attr(label="Legend", style="rounded", color="#bbbbbb", fontcolor="#555555", fontsize="8")
            leg.node("legend_b", label="- - -\u25c7 attack edge", shape="plaintext", fontsize="7", style="",
                     height="0.2")
            for i, (st, text) in reversed(list(enumerate(LEGEND))):  # dot stacks a rank bottom-up: worst on top
                fill, line = PALETTE[st]
                leg.node(f"legend{i}", label=text, shape="box", fillcolor=fill, color=line, fontsize="7",
                         height="0.2", margin="0.04,0.02")


def summary_omitted(a: Assessment, max_edges: int = SUMMARY_EDGES) -> int:
    """How many boundary pairs `summary` leaves out."""
    m = a.model
    top = {e: (x.boundaries[-1] if x.boundaries else None) for e, x in m.elements.items()}
    pairs = {(top[f.source], top[f.sink]) for f in m.flows.values() if f.source in top and f.sink in top}
    return max(0, len(pairs) - max_edges)
