"""OWASP Threat Dragon v2 JSON in: processes, stores and actors become elements (in the trust
boundary box that holds them, boxes nested by containment), flows flows, and each cell's
threats threatgraph threats on that cell, with their mitigation text a mitigation whose status
follows the threat's (Mitigated: implemented, a claim; Open: planned; NA: a false-positive
decision). Boundary curves carry no containment, so they are reported, not guessed at."""

from __future__ import annotations

import json
import re
from typing import Any

from threatgraph.errors import InputError, Problem
from threatgraph.importers.base import Flow, Imported, Names, Node, Reader, Zone, load_json, stride_of
from threatgraph.importers.base import as_dict as _obj
from threatgraph.importers.base import as_text as _str

KIND = {"tm.Process": "process", "tm.Store": "datastore", "tm.Actor": "external_entity"}
SHAPE_KIND = {"process": "process", "store": "datastore", "actor": "external_entity"}
SEVERITY = {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}


def _slug(text: str, fallback: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")[:60] or fallback


def _box(cell: dict[str, Any]) -> tuple[float, float, float, float] | None:
    pos, size = _obj(cell.get("position")), _obj(cell.get("size"))
    try:
        return float(pos["x"]), float(pos["y"]), float(size["width"]), float(size["height"])
    except (KeyError, TypeError, ValueError):
        return None


def _inside(inner: tuple[float, float, float, float], outer: tuple[float, float, float, float]) -> bool:
    cx, cy = inner[0] + inner[2] / 2, inner[1] + inner[3] / 2
    return outer[0] <= cx <= outer[0] + outer[2] and outer[1] <= cy <= outer[1] + outer[3]


def parse(text: str, name: str) -> Imported:
    r = Reader(name, text)
    doc = load_json(text, name, "a Threat Dragon model")
    version = _str(doc.get("version"))
    if not version.startswith("2."):
        hint = ("a Threat Dragon v1 model: open it in Threat Dragon 2 and save it, which converts it"
                if "version" not in doc else "supported: Threat Dragon 2.x models")
        raise InputError([Problem(name, r.line("version", "summary"), 1,
                                  f"version {json.dumps(doc.get('version'))} is not a Threat Dragon v2 model", hint)])
    summary = _obj(doc.get("summary"))
    m = Imported(name=_str(summary.get("title")) or "Imported model", origin=f"Threat Dragon file {name}",
                 description=_str(summary.get("description")))
    cells = [_obj(c) for d in _obj(doc.get("detail")).get("diagrams") or [] for c in _obj(d).get("cells") or []]
    names = Names()
    zone_of = _boundaries(r, m, names, cells)
    var: dict[str, str] = {}
    for c in cells:
        data = _obj(c.get("data"))
        kind = KIND.get(_str(data.get("type"))) or SHAPE_KIND.get(_str(c.get("shape")))
        if kind is None:
            continue
        label = _str(data.get("name")) or _str(_obj(_obj(c.get("attrs")).get("text")).get("text")) or "unnamed"
        var[_str(c.get("id"))] = names(_slug(label, "element"), "element")
        m.nodes.append(Node(var[_str(c.get("id"))], label, kind, zone_of.get(_str(c.get("id"))),
                            _str(data.get("description"))))
        if data.get("outOfScope") is True:
            m.notes.append(f"{label}: out of scope in Threat Dragon; imported in scope (say so with a decision)")
    flows: list[tuple[str, dict[str, Any]]] = []
    for c in cells:
        data = _obj(c.get("data"))
        if _str(c.get("shape")) != "flow" and _str(data.get("type")) != "tm.Flow":
            continue
        src, dst = _str(_obj(c.get("source")).get("cell")), _str(_obj(c.get("target")).get("cell"))
        label = _str(data.get("name")) or "flow"
        if src not in var or dst not in var:
            r.error(f"flow {label!r} is not attached at both ends to a process, store or actor",
                    "connect the flow in Threat Dragon", _str(c.get("id")))
            continue
        v = names(_slug(label, "flow"), "flow")
        m.flows.append(Flow(v, var[src], var[dst], label, protocol=_str(data.get("protocol")),
                            encrypted=data.get("isEncrypted") is True, description=_str(data.get("description"))))
        flows.append((v, c))
        if data.get("isBidirectional") is True:
            back = names(f"{v}_reverse", "flow")
            m.flows.append(Flow(back, var[dst], var[src], label + " (reverse)", protocol=_str(data.get("protocol")),
                                encrypted=data.get("isEncrypted") is True))
    if r.problems:
        raise InputError(r.problems)
    holders = [(var[_str(c.get("id"))], "elements", c) for c in cells if _str(c.get("id")) in var]
    holders += [(v, "flows", c) for v, c in flows]
    _threats(r, m, holders)
    if r.problems:
        raise InputError(r.problems)
    return m


def _boundaries(r: Reader, m: Imported, names: Names, cells: list[dict[str, Any]]) -> dict[str, str]:
    """Trust boundary boxes as zones, nested by containment (the smallest box holding a cell)."""
    boxes = []
    for c in cells:
        if _str(c.get("shape")) == "trust-boundary-curve":
            m.notes.append(f"trust boundary curve {_str(_obj(c.get('data')).get('name')) or c.get('id')!r}: a line "
                           "holds nothing, so it was not imported; redraw it as a box to keep it")
        elif _str(c.get("shape")) == "trust-boundary-box" and _box(c) is not None:
            boxes.append(c)
    boxes.sort(key=lambda c: -(_box(c)[2] * _box(c)[3]))  # type: ignore[index]  # outermost first
    zone_var: dict[str, str] = {}
    for c in boxes:
        b = _box(c)
        if b is None:
            continue
        parent = next((zone_var[_str(o.get("id"))] for o in reversed(boxes[:boxes.index(c)])
                       if _inside(b, _box(o)) and _str(o.get("id")) in zone_var), None)  # type: ignore[arg-type]
        label = _str(_obj(c.get("data")).get("name")) or "Trust boundary"
        zone_var[_str(c.get("id"))] = names(_slug(label, "boundary"), "boundary")
        m.zones.append(Zone(zone_var[_str(c.get("id"))], label, _str(_obj(c.get("data")).get("description")), parent))
    out = {}
    for c in cells:
        b = _box(c)
        if b is None or c in boxes:
            continue
        holder = next((o for o in reversed(boxes) if _inside(b, _box(o))), None)  # type: ignore[arg-type]
        if holder is not None:
            out[_str(c.get("id"))] = zone_var[_str(holder.get("id"))]
    return out


def _threats(r: Reader, m: Imported, holders: list[tuple[str, str, dict[str, Any]]]) -> None:
    n = 0
    for target, kind, cell in holders:
        for t in map(_obj, _obj(cell.get("data")).get("threats") or []):
            n += 1
            tid = f"TD-{n}"
            title = _str(t.get("title")) or tid
            stride = stride_of([t.get("type")])
            if not stride:
                r.error(f"threat {title!r} has type {_str(t.get('type'))!r}, which is not STRIDE",
                        "threatgraph reads STRIDE threats; change its type in Threat Dragon", _str(t.get("id")) or title)
                continue
            severity = SEVERITY.get(_str(t.get("severity")).lower())
            if severity is None:
                m.notes.append(f"{tid} {title!r}: severity {_str(t.get('severity')) or 'none'!r} read as medium")
            threat: dict[str, Any] = {"id": tid, "title": title}
            if t.get("description"):
                threat["description"] = _str(t.get("description"))
            threat.update(stride=stride, severity=severity or "medium", applies_to=[{kind: [target]}])
            status = _str(t.get("status")).lower()
            text = _str(t.get("mitigation")).strip()
            if status in ("na", "notapplicable", "not applicable"):
                m.decisions.append({"threat": tid, "targets": [target], "decision": "false_positive",
                                    "owner": f"imported from {r.name}",
                                    "justification": text or f"not applicable in {r.name}"})
            elif text or status == "mitigated":
                mid = f"{tid}-M"
                m.mitigations.append({"id": mid, "title": (text.splitlines()[0] if text else f"mitigated, as {r.name} "
                                                           "states")[:200],
                                      **({"description": text} if text else {}),
                                      "status": "implemented" if status == "mitigated" else "planned"})
                threat["mitigations"] = [{"id": mid}]
            m.threats.append(threat)
