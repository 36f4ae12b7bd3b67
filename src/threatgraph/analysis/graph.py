"""The model as networkx graphs, and which flows an attacker can move along.

*Data paths* (used by always-through invariants: where can data go?) follow every ordinary
flow, plus attack edges that are not blocked.

*Attacker reach* (never-reaches invariants, attack paths, single points of failure) is
stricter, because sending data to an element does not by itself compromise it. A step is
possible forward along an open attack edge, or along a flow carrying an open threat that moves
an attacker (spoofing, tampering, elevation of privilege); and backwards from a data store to
its reader (reading it) along an open attack edge or a flow with an open information-
disclosure threat. Data can also *leak* to an element the attacker does not control: a final
step forward along a flow with an open information-disclosure threat (exfiltration). Reach
graph nodes are therefore (element, "controlled") and (element, "leaked").

Only threats the entry points' attacker carries out count (a threat with `attacker: other`,
such as root on the host, is assessed but extends no one's reach here).
A pair is *open* unless a full-strength mitigation (implemented, no drift) covers it or it is a
false positive. An attack edge is *blocked* when any pair on it is covered; with no threat
mapped at all it stays open. Failing a control = removing it from the blockers, which is how
single points of failure are found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

from threatgraph.assess import Assessment
from threatgraph.model.types import Model
from threatgraph.vocabulary import FALSE_POSITIVE

MOVES = {"spoofing", "tampering", "elevation_of_privilege"}
READS = {"information_disclosure"}


class Adjacency:
    """The small directed-graph surface the checks need (successors, edges with a list of flow
    ids, descendants), in plain dicts: invariants and single points of failure run on every
    `check`, and importing networkx alone would cost more than the check itself. Attack paths
    (Yen's k shortest paths) and exports convert to networkx."""

    def __init__(self) -> None:
        self.succ: dict[Any, dict[Any, dict[str, Any]]] = {}

    def add_node(self, n: Any) -> None:
        self.succ.setdefault(n, {})

    def add_nodes_from(self, nodes: Iterable[Any]) -> None:
        for n in nodes:
            self.add_node(n)

    def add_edge(self, u: Any, v: Any, **attrs: Any) -> None:
        self.add_node(u)
        self.add_node(v)
        self.succ[u].setdefault(v, {}).update(attrs)

    def has_edge(self, u: Any, v: Any) -> bool:
        return v in self.succ.get(u, {})

    def __getitem__(self, u: Any) -> dict[Any, dict[str, Any]]:
        return self.succ[u]

    def __contains__(self, n: Any) -> bool:
        return n in self.succ

    def __iter__(self) -> Iterator[Any]:
        return iter(self.succ)

    def successors(self, u: Any) -> Iterable[Any]:
        return self.succ.get(u, {}).keys()

    def edges(self, data: bool = False) -> Iterator[Any]:
        for u, nbrs in self.succ.items():
            for v, attrs in nbrs.items():
                yield (u, v, attrs) if data else (u, v)

    def remove_nodes_from(self, nodes: Iterable[Any]) -> None:
        gone = set(nodes)
        for n in gone:
            self.succ.pop(n, None)
        for nbrs in self.succ.values():
            for n in gone & nbrs.keys():
                del nbrs[n]

    def copy(self) -> Adjacency:
        g = Adjacency()
        g.succ = {u: {v: dict(a) for v, a in nbrs.items()} for u, nbrs in self.succ.items()}
        return g

    def descendants(self, start: Any) -> set[Any]:
        seen: set[Any] = set()
        stack = [start]
        while stack:
            for v in self.succ.get(stack.pop(), ()):
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        seen.discard(start)
        return seen

    def to_networkx(self) -> nx.DiGraph:
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(self.succ)
        g.add_edges_from((u, v, dict(a)) for u, v, a in self.edges(data=True))
        return g


def to_networkx(model: Model) -> nx.MultiDiGraph:
    """Elements as nodes, flows as keyed edges, boundaries and data as attributes."""
    import networkx as nx

    g = nx.MultiDiGraph(name=model.name)
    for e in model.elements.values():
        g.add_node(e.id, name=e.name, kind=e.kind, boundaries=list(e.boundaries), data=list(e.data),
                   in_scope=e.in_scope)
    for f in model.flows.values():
        if f.source in model.elements and f.sink in model.elements:
            g.add_edge(f.source, f.sink, key=f.id, name=f.name, protocol=f.protocol, port=f.port,
                       data=list(f.data), encrypted=f.encrypted, authenticated=f.authenticated, attack=f.attack,
                       crosses=list(f.crosses))
    return g


@dataclass(frozen=True)
class FlowPairs:
    """Per flow: (stride categories, full-strength blockers, false positive) of each pair on it."""

    pairs: dict[str, list[tuple[frozenset[str], frozenset[str], bool]]]

    @classmethod
    def of(cls, a: Assessment) -> FlowPairs:
        out: dict[str, list[tuple[frozenset[str], frozenset[str], bool]]] = defaultdict(list)
        threats = a.catalog.threats
        strides = {tid: frozenset(t.stride) for tid, t in threats.items() if t.attacker == "entry_points"}
        fulls: dict[tuple[str, ...], frozenset[str]] = {}  # pairs of one threat share their mitigations
        for p in a.pairs:  # a threat someone else carries out (attacker: other) gives the entry points no reach
            stride = strides.get(p.threat)
            if stride is not None and p.target.kind == "flow":
                full = fulls.get(p.mitigations)
                if full is None:
                    full = fulls[p.mitigations] = frozenset(
                        m for m in p.mitigations if a.mitigation_states[m].strength == "full")
                out[p.target.id].append((stride, full, p.status == FALSE_POSITIVE))
        return cls(dict(out))

    def blockers(self, fid: str) -> frozenset[str]:
        return frozenset().union(*(b for _, b, _ in self.pairs.get(fid, []))) | (
            frozenset({"(false positive)"}) if any(fp for _, _, fp in self.pairs.get(fid, [])) else frozenset())

    def sole_blockers(self) -> set[str]:
        return {next(iter(b)) for ps in self.pairs.values() for _, b, fp in ps if len(b) == 1 and not fp}

    def opened_by(self, model: Model) -> dict[str, list[tuple[str, str]]]:
        """Per control, the (flow, way) steps its failure alone would open, where `way` is
        "forward", "read" or "leak". One pass over the pairs; used to test failures
        incrementally instead of rebuilding the reach graph per control."""
        out: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for fid, ps in self.pairs.items():
            f = model.flows[fid]
            store_source = f.source in model.elements and model.elements[f.source].kind == "datastore"
            if f.attack:
                blk = self.blockers(fid)
                if len(blk) == 1 and "(false positive)" not in blk:
                    m = next(iter(blk))
                    out[m] |= {(fid, "forward")} | ({(fid, "read")} if store_source else set())
                    if any(stride & READS for stride, _, _ in ps):
                        out[m].add((fid, "leak"))
                continue
            for stride, blk, fp in ps:
                if len(blk) != 1 or fp:
                    continue
                m = next(iter(blk))
                if stride & MOVES:
                    out[m].add((fid, "forward"))
                if stride & READS:
                    out[m].add((fid, "leak"))
                    if store_source:
                        out[m].add((fid, "read"))
        return {m: sorted(v) for m, v in out.items()}

    def open_with(self, fid: str, kinds: set[str], failed: frozenset[str]) -> bool:
        return any(stride & kinds and not (blk - failed) and not fp for stride, blk, fp in self.pairs.get(fid, []))


@dataclass(frozen=True)
class Traversal:
    data: frozenset[str]  # flows data can travel along
    forward: frozenset[str]  # flows an attacker can move along
    read: frozenset[str]  # flows an attacker can walk back along (reading the store at their source)
    leak: frozenset[str]  # flows data leaks along, ending a path
    blocked: frozenset[str]  # attack edges currently blocked


def traversal(a: Assessment, fp: FlowPairs | None = None, failed: Iterable[str] = ()) -> Traversal:
    fp = fp or FlowPairs.of(a)
    failed = frozenset(failed)
    m = a.model
    blocked = frozenset(fid for fid, f in m.flows.items() if f.attack and fp.blockers(fid) - failed)
    data = frozenset(fid for fid in m.flows if fid not in blocked)
    forward = frozenset(fid for fid, f in m.flows.items() if fid not in blocked
                        and (f.attack or fp.open_with(fid, MOVES, failed)))
    read = frozenset(fid for fid, f in m.flows.items() if fid not in blocked
                     and f.source in m.elements and m.elements[f.source].kind == "datastore"
                     and (f.attack or fp.open_with(fid, READS, failed)))
    leak = frozenset(fid for fid in m.flows if fid not in blocked and fp.open_with(fid, READS, failed))
    return Traversal(data, forward, read, leak, blocked)


def flow_graph(model: Model, flows: Iterable[str]) -> Adjacency:
    """Data-flow direction only; each edge keeps the ids of the flows it stands for."""
    g = Adjacency()
    g.add_nodes_from(model.elements)
    for fid in sorted(flows):
        f = model.flows[fid]
        if f.source in model.elements and f.sink in model.elements:
            _add(g, f.source, f.sink, fid)
    return g


CONTROLLED, LEAKED = "controlled", "leaked"


def reach_graph(model: Model, t: Traversal, extra_forward: Iterable[str] = (),
                extra_read: Iterable[str] = ()) -> Adjacency:
    """Attacker reach over (element, state) nodes; see the module docstring."""
    g = Adjacency()
    g.add_nodes_from((e, CONTROLLED) for e in model.elements)

    def each(fids: Iterable[str]) -> Iterable[tuple[str, Any]]:
        for fid in sorted(set(fids)):
            f = model.flows[fid]
            if f.source in model.elements and f.sink in model.elements:
                yield fid, f

    for fid, f in each([*t.forward, *extra_forward]):
        _add(g, (f.source, CONTROLLED), (f.sink, CONTROLLED), fid)
    for fid, f in each([*t.read, *extra_read]):
        _add(g, (f.sink, CONTROLLED), (f.source, CONTROLLED), fid)
    for fid, f in each(t.leak):
        _add(g, (f.source, CONTROLLED), (f.sink, LEAKED), fid)
    return g


def reach_path(g: Adjacency, sources: Iterable[str], targets: Iterable[str]) -> list[tuple[str, str]] | None:
    goal = [(t, s) for t in targets for s in (CONTROLLED, LEAKED)]
    return bfs_path(g, [(s, CONTROLLED) for s in sources], goal)


def reach_steps(g: Adjacency, path: list[tuple[str, str]]) -> list[dict[str, object]]:
    return [{"from": u[0], "to": v[0], "flows": list(g[u][v]["flows"]),
             "step": "leak" if v[1] == LEAKED else ("read" if g[u][v].get("read") else "move")}
            for u, v in zip(path, path[1:], strict=False)]


def _add(g: Adjacency, u: Any, v: Any, fid: str) -> None:
    if g.has_edge(u, v):
        if fid not in g[u][v]["flows"]:
            g[u][v]["flows"].append(fid)
    else:
        g.add_edge(u, v, flows=[fid])


def bfs_path(g: Adjacency, sources: Iterable[Any], targets: Iterable[Any]) -> list[Any] | None:
    """A shortest path (fewest steps) from any source to any target, or None; linear time."""
    goal = set(targets)
    parent: dict[Any, Any] = {}
    frontier = []
    for s in sorted(set(sources)):
        if s in g:
            parent[s] = None
            frontier.append(s)
    for s in frontier:
        if s in goal:
            return [s]
    while frontier:
        nxt = []
        for u in frontier:
            for v in sorted(g.successors(u)):
                if v in parent:
                    continue
                parent[v] = u
                if v in goal:
                    path = [v]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    return path[::-1]
                nxt.append(v)
        frontier = nxt
    return None


def steps(g: Adjacency, path: list[str]) -> list[dict[str, object]]:
    return [{"from": u, "to": v, "flows": list(g[u][v]["flows"])} for u, v in zip(path, path[1:], strict=False)]
