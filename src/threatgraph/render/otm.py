"""Open Threat Model (OTM 0.2.0) export: trust zones, components, data flows, threats and
mitigations with their states, so other tools (IriusRisk, Threat Dragon importers, ...) can
read a threatgraph model."""

from __future__ import annotations

import json
from typing import Any

from threatgraph.assess import Assessment
from threatgraph.vocabulary import ACCEPTED, EXPIRED, FALSE_POSITIVE, MITIGATED, PARTIAL

TRUST = {"tb_default": 50}
LEVEL_PERCENT = {"low": 25, "medium": 50, "high": 75}
SEVERITY_IMPACT = {"info": 10, "low": 25, "medium": 50, "high": 75, "critical": 100}
THREAT_STATE = {MITIGATED: "mitigated", PARTIAL: "partially-mitigated", ACCEPTED: "accepted",
                EXPIRED: "exposed", FALSE_POSITIVE: "not-applicable"}
MITIGATION_STATE = {"implemented": "implemented", "partial": "partially-implemented", "planned": "planned",
                    "absent": "not-implemented", "not-applicable": "not-applicable"}
CIA = {"unknown": 50, "public": 10, "restricted": 40, "sensitive": 70, "secret": 90, "top_secret": 100}


def document(a: Assessment) -> dict[str, Any]:
    m, c = a.model, a.catalog
    outside = "outside-boundaries"
    zones = [{"id": outside, "name": "Outside every trust boundary", "risk": {"trustRating": 10}}]
    for b in m.boundaries.values():
        zone: dict[str, Any] = {"id": b.id, "name": b.name, "description": b.description,
                                "risk": {"trustRating": min(100, 30 + 10 * (len(b.chain) + 1))}}
        if b.parent:
            zone["parent"] = {"trustZone": b.parent}
        zones.append(zone)

    def instances(target: str) -> list[dict[str, Any]]:
        out = []
        for p in a.pairs_on(target):
            state = THREAT_STATE.get(p.status, "exposed")
            out.append({"threat": p.threat, "state": state,
                        "mitigations": [{"mitigation": mid,
                                         "state": "drifted" if a.mitigation_states[mid].drift
                                         else MITIGATION_STATE[c.mitigations[mid].status]}
                                        for mid in p.mitigations]})
        return out

    components = []
    for e in m.elements.values():
        comp: dict[str, Any] = {"id": e.id, "name": e.name, "type": e.kind, "description": e.description,
                                "parent": {"trustZone": e.boundaries[0] if e.boundaries else outside},
                                "tags": list(e.tags)}
        if e.data:
            comp["assets"] = {"stored": list(e.data), "processed": []}
        threats = instances(e.id)
        if threats:
            comp["threats"] = threats
        components.append(comp)
    flows = []
    for f in m.flows.values():
        flow: dict[str, Any] = {"id": f.id, "name": f.name, "description": f.description, "source": f.source,
                                "destination": f.sink, "bidirectional": False, "assets": list(f.data),
                                "tags": [*f.tags, *(["attack-edge"] if f.attack else [])],
                                "attributes": {"protocol": f.protocol, "port": "" if f.port is None else str(f.port),
                                               "encrypted": f.encrypted, "authenticated": f.authenticated,
                                               "crosses": ",".join(f.crosses)}}
        threats = instances(f.id)
        if threats:
            flow["threats"] = threats
        flows.append(flow)
    threats = []
    for tid, t in c.threats.items():
        threats.append({"id": tid, "name": t.title, "description": t.description,
                        "categories": [s.replace("_", " ").title() for s in t.stride],
                        "cwes": list(t.references.cwe),
                        "risk": {"likelihood": LEVEL_PERCENT.get(t.likelihood or "", 50),
                                 "impact": LEVEL_PERCENT.get(t.impact or "", SEVERITY_IMPACT[t.severity])},
                        "tags": list(t.tags), "attributes": {"severity": t.severity}})
    mitigations = []
    for mid, mit in c.mitigations.items():
        st = a.mitigation_states[mid]
        mitigations.append({"id": mid, "name": mit.title, "description": mit.description,
                            "riskReduction": {"full": 100, "partial": 50}.get(st.strength, 0),
                            "attributes": {"type": mit.type, "status": mit.status, "evidence": st.evidence_state,
                                           "verified": st.verified, "drift": st.drift}})
    assets = [{"id": d.id, "name": d.name, "description": d.description,
               "risk": {"confidentiality": CIA[d.classification], "integrity": 50, "availability": 50}}
              for d in m.data.values()]
    return {"otmVersion": "0.2.0",
            "project": {"name": m.name, "id": "threatgraph-" + "".join(ch if ch.isalnum() else "-" for ch in m.name.lower())[:60],
                        "description": m.description,
                        "attributes": {"coverage": a.summary["coverage"],
                                       "verifiedCoverage": a.summary["verified_coverage"],
                                       "mitigatedVerified": a.summary["mitigated_verified"],
                                       "mitigatedClaimed": a.summary["mitigated_claimed"],
                                       "assessed": a.summary["assessed"], "policyPassed": a.passed}},
            "assets": assets, "trustZones": zones, "components": components, "dataflows": flows,
            "threats": threats, "mitigations": mitigations}


def render(a: Assessment) -> str:
    return json.dumps(document(a), indent=2, ensure_ascii=False) + "\n"
