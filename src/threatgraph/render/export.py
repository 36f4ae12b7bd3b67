"""`threatgraph export --format graphml|json`: the model graph for other tools."""

from __future__ import annotations

import io
import json

import networkx as nx

from threatgraph.analysis.graph import to_networkx
from threatgraph.model.types import Model
from threatgraph.render.escape import xml_text


def render_json(model: Model) -> str:
    return render(model, "json")


def render_graphml(model: Model) -> str:
    return render(model, "graphml")


def render(model: Model, fmt: str) -> str:
    g = to_networkx(model)
    if fmt == "json":
        data = nx.node_link_data(g, edges="edges")
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    flat = nx.MultiDiGraph(name=g.graph.get("name", ""))
    for n, attrs in sorted(g.nodes(data=True)):
        flat.add_node(_xml(n), **{k: _scalar(v) for k, v in attrs.items()})
    for u, v, k, attrs in sorted(g.edges(keys=True, data=True), key=lambda e: e[2]):
        flat.add_edge(_xml(u), _xml(v), key=_xml(k), **{a: _scalar(x) for a, x in attrs.items()})
    buf = io.BytesIO()
    nx.write_graphml(flat, buf, encoding="utf-8")
    return buf.getvalue().decode("utf-8")


def _xml(value: object) -> object:
    return xml_text(value) if isinstance(value, str) else value


def _scalar(value: object) -> object:
    """GraphML holds scalars only: lists become comma-separated text, None becomes ''."""
    if isinstance(value, (list, tuple)):
        return _xml(",".join(str(v) for v in value))
    if value is None:
        return ""
    return _xml(value)
