"""Open Threat Model 0.2.0 in: trust zones become nested boundaries, components elements (the
pytm class from the component's type), data flows flows, assets data; the threats the file
carries become a threat catalog applied to the components and flows whose instances name them,
their mitigations a mitigation catalog with each one's state as its status, and the instance
states decisions (accepted, not applicable) or, where an instance says mitigated without naming
a mitigation, a mitigation that says so (a claim: nothing imported carries evidence).

What threatgraph's own OTM export adds in `attributes` (severity, declared likelihood and
impact, mitigation roles, decisions with owner and expiry) is read back, so export, import and
export again gives the same model, threats and states."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from typing import Any

from threatgraph.errors import InputError, Problem
from threatgraph.importers.base import PYTM_CLASS, Asset, Flow, Imported, Names, Node, Zone, load_json, stride_of
from threatgraph.importers.base import Reader as _Reader
from threatgraph.importers.base import as_dict as _obj
from threatgraph.importers.base import as_list as _list
from threatgraph.importers.base import as_text as _str
from threatgraph.vocabulary import FRAMEWORKS

VERSIONS = ("0.1.0", "0.2.0")
_KIND_WORDS = (("datastore", ("database", "datastore", "store", "storage", "bucket", "s3", "queue", "cache", "file",
                              "log", "table", "disk", "volume", "registry", "repository", "db")),
               ("actor", ("actor", "user", "person", "human", "browser", "client")),
               ("external_entity", ("external", "third", "saas", "internet", "partner")),
               ("lambda", ("lambda", "function", "serverless")),
               ("server", ("server", "host", "vm", "instance", "ec2", "node")))
STATUS_OF = {"implemented": "implemented", "partially-implemented": "partial", "partial": "partial",
             "planned": "planned", "required": "planned", "recommended": "planned", "not-implemented": "absent",
             "absent": "absent", "rejected": "absent", "not-applicable": "not-applicable", "drifted": "implemented"}
_STATUS_ORDER = ("absent", "planned", "partial", "implemented", "not-applicable")
_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


def _percent(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def kind_of(otm_type: str) -> str:
    """The pytm class for a component type: threatgraph's own kinds as they are, otherwise by the
    words in the type (IriusRisk-style ids such as `postgresql-database` or `aws-lambda`)."""
    t = otm_type.lower()
    if t in PYTM_CLASS:
        return t
    for kind, words in _KIND_WORDS:
        if any(w in re.split(r"[^a-z0-9]+", t) or (len(w) > 3 and w in t) for w in words):
            return kind
    return "process"


def classification(conf: float | None) -> str:
    """Confidentiality (0-100) to a pytm classification; exactly 50, OTM's neutral value, is unknown."""
    if conf is None or conf == 50:
        return "UNKNOWN"
    for floor, name in ((95, "TOP_SECRET"), (85, "SECRET"), (60, "SENSITIVE"), (30, "RESTRICTED")):
        if conf >= floor:
            return name
    return "PUBLIC"


def _level(percent: float | None) -> str | None:
    if percent is None:
        return None
    return "low" if percent <= 33 else "medium" if percent <= 66 else "high"


def _severity(attrs: dict[str, Any], impact: float | None) -> str:
    declared = _str(attrs.get("severity"))
    if declared in ("critical", "high", "medium", "low", "info"):
        return declared
    if impact is None:
        return "medium"
    for floor, name in ((90, "critical"), (65, "high"), (40, "medium"), (15, "low")):
        if impact >= floor:
            return name
    return "info"


def parse(text: str, name: str, accept_until: dt.date) -> Imported:
    r = _Reader(name, text)
    doc = load_json(text, name, "an OTM file")
    version = doc.get("otmVersion")
    if version not in VERSIONS:
        raise InputError([Problem(name, r.line("otmVersion"), 1,
                                  f"otmVersion {json.dumps(version)} is not one threatgraph reads",
                                  f"supported: {', '.join(VERSIONS)}; convert the file or ask for support")])
    project = _obj(doc.get("project"))
    m = Imported(name=_str(project.get("name")) or "Imported model", origin=f"OTM file {name}",
                 description=_str(project.get("description")))
    names = Names()
    zone_var = _zones(r, m, names, _list(doc.get("trustZones")))
    asset_var = {}
    for a in _list(doc.get("assets")):
        a = _obj(a)
        aid = _str(a.get("id"))
        if not aid:
            r.error("an asset has no id", "give every asset an id", "assets")
            continue
        asset_var[aid] = names(aid, "data")
        m.assets.append(Asset(asset_var[aid], _str(a.get("name")) or aid,
                              classification(_percent(_obj(a.get("risk")).get("confidentiality"))),
                              _str(a.get("description"))))
    node_var = _components(r, m, names, zone_var, asset_var, _list(doc.get("components")))
    flow_var = _flows(r, m, names, node_var, asset_var, _list(doc.get("dataflows")))
    if r.problems:
        raise InputError(r.problems)
    instances = [(node_var[_str(c.get("id"))], "elements", c) for c in map(_obj, _list(doc.get("components")))
                 if _str(c.get("id")) in node_var]
    instances += [(v, "flows", f) for fid, v, f in flow_var]
    for z in map(_obj, _list(doc.get("trustZones"))):  # threatgraph's export keeps a zone's threats in attributes
        attrs = _obj(z.get("attributes"))
        if zone_var.get(_str(z.get("id"))) and isinstance(attrs.get("threatgraph.threats"), str):
            try:
                on_zone = json.loads(attrs["threatgraph.threats"])
            except json.JSONDecodeError:
                r.error(f"trust zone {z.get('id')!r}: attribute threatgraph.threats is not JSON",
                        "export the file again", _str(z.get("id")))
                continue
            instances.append((zone_var[_str(z.get("id"))], "elements", {"threats": on_zone, "attributes": attrs}))
    _catalogs(r, m, doc, instances, accept_until)
    if r.problems:
        raise InputError(r.problems)
    return m


def _zones(r: _Reader, m: Imported, names: Names, zones: list[Any]) -> dict[str, str]:
    by_id = {}
    outside: set[str] = set()
    for z in map(_obj, zones):
        zid = _str(z.get("id"))
        if _obj(z.get("attributes")).get("threatgraph.outside") is True:
            outside.add(zid)  # threatgraph's export: the elements outside every boundary
            continue
        if not zid:
            r.error("a trust zone has no id", "give every trust zone an id", "trustZones")
        elif zid in by_id:
            r.error(f"trust zone id {zid!r} is used twice", "make trust zone ids unique", zid)
        else:
            by_id[zid] = z
    var: dict[str, str] = {}

    def place(zid: str, seen: tuple[str, ...]) -> None:
        if zid in var:
            return
        if zid in seen:
            r.error(f"trust zone {zid!r} is its own ancestor", "break the parent cycle", zid)
            var[zid] = ""
            return
        parent = _str(_obj(by_id[zid].get("parent")).get("trustZone"))
        if parent and parent not in by_id:
            r.error(f"trust zone {zid!r} names a parent zone {parent!r} that does not exist",
                    "name an existing trust zone or drop the parent", zid)
            parent = ""
        if parent:
            place(parent, (*seen, zid))
        var[zid] = names(zid, "zone")
        z = by_id[zid]
        m.zones.append(Zone(var[zid], _str(z.get("name")) or zid, _str(z.get("description")),
                            var.get(parent) or None))

    for zid in by_id:  # file order, parents first: the nesting as the source draws it
        place(zid, ())
    return {**{z: "" for z in outside}, **var}


def _components(r: _Reader, m: Imported, names: Names, zone_var: dict[str, str], asset_var: dict[str, str],
                comps: list[Any]) -> dict[str, str]:
    by_id: dict[str, dict[str, Any]] = {}
    for c in map(_obj, comps):
        cid = _str(c.get("id"))
        if not cid:
            r.error("a component has no id", "give every component an id", "components")
        elif cid in by_id:
            r.error(f"component id {cid!r} is used twice", "make component ids unique", cid)
        else:
            by_id[cid] = c

    def zone_of(cid: str, seen: tuple[str, ...] = ()) -> str | None:
        parent = _obj(by_id[cid].get("parent"))
        if "trustZone" in parent:
            zone = _str(parent["trustZone"])
            if zone not in zone_var:
                r.error(f"component {cid!r} sits in trust zone {zone!r}, which does not exist",
                        "name an existing trust zone", cid)
                return None
            return zone_var[zone] or None
        owner = _str(parent.get("component"))
        if owner in by_id and owner not in seen:
            return zone_of(owner, (*seen, cid))
        if owner:
            r.error(f"component {cid!r} names a parent component {owner!r} that does not exist or contains it",
                    "name an existing component", cid)
        return None

    var = {}
    for cid, c in by_id.items():
        var[cid] = names(cid, "element")
        stored = [asset_var[s] for s in map(_str, _list(_obj(c.get("assets")).get("stored"))) if s in asset_var]
        m.nodes.append(Node(var[cid], _str(c.get("name")) or cid, kind_of(_str(c.get("type"))), zone_of(cid),
                            _str(c.get("description")), stored))
    return var


def _flows(r: _Reader, m: Imported, names: Names, node_var: dict[str, str], asset_var: dict[str, str],
           flows: list[Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for f in map(_obj, flows):
        fid, src, dst = _str(f.get("id")), _str(f.get("source")), _str(f.get("destination"))
        if not fid:
            r.error("a data flow has no id", "give every data flow an id", "dataflows")
            continue
        missing = [e for e in (src, dst) if e not in node_var]
        if missing:
            r.error(f"data flow {fid!r} connects {', '.join(repr(e) for e in missing)}, which is not a component",
                    "a flow runs between two components of the file", fid)
            continue
        attrs = _obj(f.get("attributes"))
        port = attrs.get("port")
        port_n = int(port) if isinstance(port, (int, str)) and str(port).isdigit() else None
        tags = [_str(t) for t in _list(f.get("tags"))]
        data = [asset_var[a] for a in map(_str, _list(f.get("assets"))) if a in asset_var]
        common: dict[str, Any] = {"protocol": _str(attrs.get("protocol")), "port": port_n, "data": data,
                  "attack": "attack-edge" in tags, "encrypted": attrs.get("encrypted") in (True, "true"),
                  "authenticated": attrs.get("authenticated") in (True, "true"), "description": _str(f.get("description"))}
        v = names(fid, "flow")
        m.flows.append(Flow(v, node_var[src], node_var[dst], _str(f.get("name")) or fid, **common))
        out.append((fid, v, f))
        if f.get("bidirectional") is True:
            back = names(f"{fid}_reverse", "flow")
            m.flows.append(Flow(back, node_var[dst], node_var[src], (_str(f.get("name")) or fid) + " (reverse)",
                                **common))
            out.append((f"{fid}_reverse", back, f))
    return out


def _catalogs(r: _Reader, m: Imported, doc: dict[str, Any], instances: list[tuple[str, str, dict[str, Any]]],
              accept_until: dt.date) -> None:
    threats = {_str(t.get("id")): t for t in map(_obj, _list(doc.get("threats"))) if _str(t.get("id"))}
    mitigations = {_str(x.get("id")): x for x in map(_obj, _list(doc.get("mitigations"))) if _str(x.get("id"))}
    lands: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"elements": [], "flows": []})
    links: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))  # threat -> mitigation -> targets
    states: dict[str, list[str]] = defaultdict(list)  # mitigation -> instance states
    claims: list[tuple[str, str, str]] = []
    for target, kind, holder in instances:
        attrs = _obj(holder.get("attributes"))
        for inst in map(_obj, _list(holder.get("threats"))):
            tid, state = _str(inst.get("threat")), _str(inst.get("state")).lower()
            if tid not in threats:
                r.error(f"a threat instance names threat {tid!r}, which the file does not define",
                        "add it to the top-level threats or drop the instance", tid or "threats")
                continue
            lands[tid][kind].append(target)
            named = [_obj(x) for x in _list(inst.get("mitigations"))]
            for x in named:
                mid = _str(x.get("mitigation"))
                if mid not in mitigations:
                    r.error(f"threat {tid!r} names mitigation {mid!r}, which the file does not define",
                            "add it to the top-level mitigations", mid or tid)
                    continue
                links[tid][mid].append(target)
                states[mid].append(STATUS_OF.get(_str(x.get("state")).lower(), "planned"))
            recorded = attrs.get(f"threatgraph.decision.{tid}")
            if recorded:
                m.decisions.append({"threat": tid, "targets": [target], **json.loads(_str(recorded))})
            elif state in ("accepted", "not-applicable"):
                m.decisions.append({"threat": tid, "targets": [target],
                                    "decision": "accept" if state == "accepted" else "false_positive",
                                    "owner": f"imported from {r.name}",
                                    "justification": f"state '{state}' in {r.name}; review it here",
                                    **({"expires": accept_until.isoformat()} if state == "accepted" else {})})
            elif state in ("mitigated", "partially-mitigated") and not named:
                claims.append((tid, target, state))
    for tid, t in threats.items():
        _threat(r, m, tid, t, lands.get(tid), links.get(tid, {}))
    for mid, x in mitigations.items():
        m.mitigations.append(_mitigation(r, m, mid, x, states.get(mid, [])))
    for n, (tid, target, state) in enumerate(claims, 1):
        mid = f"IMPORTED-CLAIM-{n}"
        m.mitigations.append({"id": mid, "title": f"{state} on {target}, as {r.name} states",
                              "description": f"{r.name} marks {tid} {state} on {target} without naming a "
                                             "mitigation: a claim until evidence is added",
                              "status": "implemented" if state == "mitigated" else "partial"})
        t = next(x for x in m.threats if x["id"] == tid)
        t.setdefault("mitigations", []).append({"id": mid, "targets": [target]})


def _mitigation(r: _Reader, m: Imported, mid: str, x: dict[str, Any], seen: list[str]) -> dict[str, Any]:
    """One mitigation of the file; its status from threatgraph's attributes, else its instances' states."""
    attrs = _obj(x.get("attributes"))
    status = _str(attrs.get("status")) if _str(attrs.get("status")) in _STATUS_ORDER else (
        min(seen, key=_STATUS_ORDER.index) if seen else "planned")  # instances disagree: the least done
    if "status" not in attrs and len(set(seen)) > 1:
        m.notes.append(f"mitigation {mid}: its instances disagree ({', '.join(sorted(set(seen)))}); imported as "
                       f"{status}, the least done, since a threatgraph mitigation has one status")
    kind = _str(attrs.get("type"))
    out: dict[str, Any] = {"id": _ident(r, mid, "mitigation"), "title": _str(x.get("name")) or mid,
                           **({"description": _str(x.get("description"))} if x.get("description") else {}),
                           "type": kind if kind in ("prevent", "detect", "respond", "recover", "limit") else "prevent",
                           "status": status}
    evidence = _json_attr(r, attrs, "threatgraph.evidence", mid)  # threatgraph's export: the items as they were
    if evidence:
        out["evidence"] = evidence
    tags = _tags(x)
    if tags:
        out["tags"] = tags
    mapped = {k[len("compliance."):]: [c for c in _str(v).split(",") if c] for k, v in attrs.items()
              if k.startswith("compliance.") and k[len("compliance."):] in FRAMEWORKS}
    if mapped:
        out["compliance"] = mapped
    return out


def _json_attr(r: _Reader, attrs: dict[str, Any], key: str, near: str) -> Any:
    if not isinstance(attrs.get(key), str):
        return None
    try:
        return json.loads(attrs[key])
    except json.JSONDecodeError:
        r.error(f"{near}: attribute {key} is not JSON", "export the file again", near)
        return None


def _tags(x: dict[str, Any]) -> list[str]:
    return [t for t in map(_str, _list(x.get("tags"))) if _IDENT.match(t)]


def _ident(r: _Reader, ident: str, what: str) -> str:
    if not _IDENT.match(ident) or len(ident) > 100:
        r.error(f"{what} id {ident!r} is not one threatgraph accepts (letters, digits, _ . : -, at most 100)",
                f"rename the {what} in the source tool", ident)
    return ident


def _threat(r: _Reader, m: Imported, tid: str, t: dict[str, Any], lands: dict[str, list[str]] | None,
            links: dict[str, list[str]]) -> None:
    attrs = _obj(t.get("attributes"))
    risk = _obj(t.get("risk"))
    stride = stride_of(_list(t.get("categories")))
    if not stride:
        r.error(f"threat {tid!r} has no category threatgraph can read as STRIDE "
                f"({', '.join(map(_str, _list(t.get('categories')))) or 'none given'})",
                "give it a STRIDE category (Spoofing, Tampering, Repudiation, Information Disclosure, "
                "Denial of Service, Elevation of Privilege) in the source tool", tid)
        return
    likelihood = _str(attrs.get("likelihood")) if "likelihood" in attrs else _level(_percent(risk.get("likelihood")))
    impact = _str(attrs.get("impact")) if "impact" in attrs else _level(_percent(risk.get("impact")))
    roles = dict(p.split("=", 1) for p in _str(attrs.get("mitigationRoles")).split(",") if "=" in p)
    every = sorted({x for targets in (lands or {}).values() for x in targets})
    out: dict[str, Any] = {"id": _ident(r, tid, "threat"), "title": _str(t.get("name")) or tid}
    if t.get("description"):
        out["description"] = _str(t.get("description"))
    out["stride"] = stride
    out["severity"] = _severity(attrs, _percent(risk.get("impact")))
    if likelihood:
        out["likelihood"] = likelihood
    if impact:
        out["impact"] = impact
    cwes = [c for c in map(_str, _list(t.get("cwes"))) if re.fullmatch(r"CWE-\d+", c)]
    if cwes:
        out["references"] = {"cwe": cwes}
    tags = _tags(t)
    if tags:
        out["tags"] = tags
    applies = [{k: sorted(set(v))} for k, v in (lands or {}).items() if v]
    if not applies:
        m.notes.append(f"threat {tid}: no component or flow of the file names it; not imported")
        return
    out["applies_to"] = applies
    refs = []
    order = list(roles)  # threatgraph's export lists the threat's mitigations in catalog order
    for mid, targets in sorted(links.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)):
        ref: dict[str, Any] = {"id": mid}
        if roles.get(mid) in ("prevents", "detects"):
            ref["role"] = roles[mid]
        if sorted(set(targets)) != every:
            ref["targets"] = sorted(set(targets))
        refs.append(ref)
    if refs:
        out["mitigations"] = refs
    m.threats.append(out)
