"""Data-flow diagrams as DOT, written by threatgraph itself: boundaries as nested clusters,
DFD shapes by element kind, flows labelled with protocol and port, attack edges dashed,
colour by coverage, and every node and edge linked to its page.

Every text that reaches DOT goes through `_text`: backslashes doubled (so a name cannot end a
quoted string or inject an escape), line breaks flattened, and the value marked `nohtml` so
a name shaped like `<...>` is never read as an HTML label. Node names are generated (`n12`),
never taken from the model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import graphviz

from threatgraph.assess import ACCEPTED, EXPIRED, FALSE_POSITIVE, MITIGATED, PARTIAL, UNMITIGATED, Assessment
from threatgraph.render.escape import flat
from threatgraph.render.pages import page

LINK = "@@threatgraph-link@@"  # replaced by the page's relative prefix after rendering

# status -> (fill, line); one palette for nodes, edges and the legend
PALETTE = {
    UNMITIGATED: ("#fde2e1", "#c0392b"),
    EXPIRED: ("#fde2e1", "#c0392b"),
    PARTIAL: ("#fff1d6", "#d68910"),
    MITIGATED: ("#ddf3e4", "#1e8449"),
    ACCEPTED: ("#dde9f7", "#2e6da4"),
    FALSE_POSITIVE: ("#eeeeee", "#7f8c8d"),
    "none": ("#ffffff", "#566573"),
}
LEGEND = ((UNMITIGATED, "unmitigated"), (PARTIAL, "partially mitigated"), (MITIGATED, "mitigated"),
          (ACCEPTED, "accepted"), ("none", "no threat mapped"))
_RANK = {UNMITIGATED: 0, EXPIRED: 0, PARTIAL: 1, MITIGATED: 2, ACCEPTED: 3, FALSE_POSITIVE: 4}
SHAPES = {"process": "ellipse", "set_of_processes": "doublecircle", "lambda": "ellipse",
          "datastore": "cylinder", "external_entity": "box", "actor": "box", "server": "box3d",
          "agent": "ellipse", "llm": "ellipse", "asset": "box", "element": "box"}
FADED = ("#f7f7f7", "#c8c8c8")


def _text(value: object) -> graphviz.quoting.NoHtml:  # type: ignore[name-defined]
    s = flat(value).replace("\\", "\\\\")
    return graphviz.nohtml(s)


def worst_status(a: Assessment) -> dict[str, str]:
    """Per target id, the least covered status of the pairs on it."""
    out: dict[str, str] = {}
    for p in a.pairs:
        cur = out.get(p.target.id)
        if cur is None or _RANK[p.status] < _RANK[cur]:
            out[p.target.id] = p.status
    return out


@dataclass(frozen=True)
class Focus:
    """What a focused diagram shows: `include` (None: everything) and `highlight`."""

    include: frozenset[str] | None = None
    highlight: frozenset[str] = field(default_factory=frozenset)
    title: str = ""


def neighbourhood(a: Assessment, node_ids: Iterable[str]) -> frozenset[str]:
    """The nodes, every flow touching them, and those flows' other ends."""
    nodes = set(node_ids)
    keep = set(nodes)
    for f in a.model.flows.values():
        if f.source in nodes or f.sink in nodes:
            keep |= {f.id, f.source, f.sink}
    return frozenset(keep)


def threat_focus(a: Assessment, tid: str) -> Focus:
    targets = frozenset(p.target.id for p in a.pairs_of_threat(tid))
    ends = {e for t in targets if t in a.model.flows for e in (a.model.flows[t].source, a.model.flows[t].sink)}
    return Focus(None, targets | frozenset(ends), f"Threat {tid}")


def dfd(a: Assessment, focus: Focus | None = None, collapse_over: int | None = None, name: str = "dfd") -> str:
    """The DOT source of a data-flow diagram (deterministic: everything sorted by id)."""
    m = a.model
    focus = focus or Focus()
    status = worst_status(a)
    boundary_kids: dict[str | None, list[str]] = defaultdict(list)
    for b in sorted(m.boundaries.values(), key=lambda b: b.id):
        boundary_kids[b.parent].append(b.id)
    members: dict[str | None, list[str]] = defaultdict(list)
    for e in sorted(m.elements.values(), key=lambda e: e.id):
        members[e.boundaries[0] if e.boundaries else None].append(e.id)

    include = focus.include
    shown_nodes = sorted(i for i in m.elements if include is None or i in include)
    shown_flows = sorted(i for i, f in m.flows.items()
                         if (include is None or i in include) and f.source in m.elements and f.sink in m.elements
                         and (include is None or (f.source in include and f.sink in include)))
    # Collapse: a boundary whose own elements exceed the threshold draws them as one node.
    collapsed: dict[str, str] = {}
    if collapse_over is not None:
        for bid, ids in members.items():
            if bid is not None and len(ids) > collapse_over:
                for e in ids:
                    collapsed[e] = f"collapsed:{bid}"
    node_name = {ident: f"n{i}" for i, ident in enumerate(sorted(set(m.elements) | set(m.boundaries)))}

    g = graphviz.Digraph(name, graph_attr={"rankdir": "LR", "fontname": "Helvetica", "fontsize": "11",
                                             "compound": "true", "nodesep": "0.2", "ranksep": "0.4", "bgcolor": "white",
                                             "label": _text(focus.title), "labelloc": "t"},
                         node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "8"})

    def colours(ident: str) -> tuple[str, str]:
        if focus.highlight and ident not in focus.highlight:
            return FADED
        return PALETTE[status.get(ident, "none")]

    def add_node(sub: graphviz.Digraph, ident: str) -> None:
        e = m.elements[ident]
        fill, line = colours(ident)
        width = "2.5" if ident in focus.highlight else "1"
        sub.node(node_name[ident], label=_text(e.name), shape=SHAPES.get(e.kind, "box"), fillcolor=fill,
                 color=line, penwidth=width, URL=f"{LINK}{page('element', ident)}.html",
                 tooltip=_text(f"{e.kind}: {e.id}"), id=f"node-{node_name[ident]}",
                 fontcolor="#9a9a9a" if (fill, line) == FADED else "black")

    visible_nodes = set(shown_nodes)

    def needed(bid: str) -> bool:
        own = [e for e in members.get(bid, []) if e in visible_nodes]
        return bool(own) or any(needed(k) for k in boundary_kids.get(bid, []))

    def add_cluster(parent: graphviz.Digraph, bid: str) -> None:
        b = m.boundaries[bid]
        fill, line = colours(bid) if bid in status or focus.highlight else ("#ffffff", "#7f8c8d")
        with parent.subgraph(name=f"cluster_{node_name[bid]}") as sub:
            sub.attr(label=_text(b.name), style="dashed,rounded", color=line,
                     penwidth="2.5" if bid in focus.highlight else "1.2", fontcolor="#34495e",
                     URL=f"{LINK}{page('boundary', bid)}.html", tooltip=_text(f"boundary: {bid}"),
                     id=f"cluster-{node_name[bid]}")
            own = [e for e in members.get(bid, []) if e in visible_nodes]
            if own and own[0] in collapsed:
                sub.node(f"c{node_name[bid]}", label=_text(f"{len(own)} elements"), shape="box3d",
                         fillcolor="#ffffff", color="#566573", URL=f"{LINK}{page('boundary', bid)}.html")
            else:
                for e in own:
                    add_node(sub, e)
            for kid in boundary_kids.get(bid, []):
                if needed(kid):
                    add_cluster(sub, kid)

    for e in members.get(None, []):
        if e in visible_nodes:
            add_node(g, e)
    for bid in boundary_kids.get(None, []):
        if needed(bid):
            add_cluster(g, bid)

    def endpoint(ident: str) -> str:
        if ident in collapsed:
            return f"c{node_name[collapsed[ident].split(':', 1)[1]]}"
        return node_name[ident]

    drawn: set[tuple[str, str, str]] = set()
    for fid in shown_flows:
        f = m.flows[fid]
        src, dst = endpoint(f.source), endpoint(f.sink)
        label = f.protocol + (f":{f.port}" if f.port is not None else "")
        key = (src, dst, label)
        if (f.source in collapsed or f.sink in collapsed) and key in drawn:
            continue
        drawn.add(key)
        fill, line = colours(fid)
        g.edge(src, dst, label=_text(label), color=line, fontcolor=line if (fill, line) != FADED else "#b0b0b0",
               style="dashed" if f.attack else "solid", penwidth="2.5" if fid in focus.highlight else "1.2",
               arrowhead="odiamond" if f.attack else "normal",
               URL=f"{LINK}{page('flow', fid)}.html", tooltip=_text(f"{f.name} ({fid})"), id=f"edge-{len(drawn)}")

    with g.subgraph(name="cluster_legend") as leg:
        leg.attr(label="Legend", style="rounded", color="#bbbbbb", fontcolor="#555555")
        for i, (st, text) in enumerate(LEGEND):
            fill, line = PALETTE[st]
            leg.node(f"legend{i}", label=text, shape="box", fillcolor=fill, color=line, fontsize="8")
        leg.node("legend_a", label="", shape="point", width="0.05")
        leg.node("legend_b", label="attack edge", shape="plaintext", fontsize="8", style="")
        leg.edge("legend_a", "legend_b", style="dashed", arrowhead="odiamond")
    return g.source
