"""Open Threat Model (OTM 0.2.0) export: trust zones, components, data flows, threats and
mitigations with their states, so other tools (IriusRisk, Threat Dragon importers, ...) can
read a threatgraph model."""

from __future__ import annotations

import json
from typing import Any

from threatgraph.assess import Assessment
from threatgraph.render import json_text
from threatgraph.vocabulary import ACCEPTED, EXPIRED, FALSE_POSITIVE, MITIGATED, PARTIAL

TRUST = {"tb_default": 50}
LEVEL_PERCENT = {"low": 25, "medium": 50, "high": 75}
SEVERITY_IMPACT = {"info": 10, "low": 25, "medium": 50, "high": 75, "critical": 100}
THREAT_STATE = {MITIGATED: "mitigated", PARTIAL: "partially-mitigated", ACCEPTED: "accepted",
                EXPIRED: "exposed", FALSE_POSITIVE: "not-applicable"}
MITIGATION_STATE = {"implemented": "implemented", "partial": "partially-implemented", "planned": "planned",
                    "absent": "not-implemented", "not-applicable": "not-applicable"}
CIA = {"unknown": 50, "public": 10, "restricted": 40, "sensitive": 70, "secret": 90, "top_secret": 100}


OUTSIDE = "outside-boundaries"


def _decisions(a: Assessment, target: str) -> dict[str, str]:
    """The decisions on a target, as threatgraph recorded them (read back by `import otm`)."""
    out = {}
    for p in a.pairs_on(target):
        if p.decision is not None:
            d = a.catalog.decisions[p.decision]
            out[f"threatgraph.decision.{p.threat}"] = json.dumps(
                {"decision": d.decision, **({"owner": d.owner} if d.owner else {}),
                 "justification": d.justification, **({"expires": d.expires.isoformat()} if d.expires else {})},
                ensure_ascii=False, sort_keys=True)
    return out


def _instances(a: Assessment, target: str) -> list[dict[str, Any]]:
    out = []
    for p in a.pairs_on(target):
        out.append({"threat": p.threat, "state": THREAT_STATE.get(p.status, "exposed"),
                    "mitigations": [{"mitigation": mid,
                                     "state": "drifted" if a.mitigation_states[mid].drift
                                     else MITIGATION_STATE[a.catalog.mitigations[mid].status]}
                                    for mid in p.mitigations]})
    return out


def _zones(a: Assessment) -> list[dict[str, Any]]:
    zones: list[dict[str, Any]] = [{"id": OUTSIDE, "name": "Outside every trust boundary", "risk": {"trustRating": 10},
                                    "attributes": {"threatgraph.outside": True}}]
    for b in a.model.boundaries.values():
        zone: dict[str, Any] = {"id": b.id, "name": b.name, "description": b.description,
                                "risk": {"trustRating": min(100, 30 + 10 * (len(b.chain) + 1))}}
        if b.parent:
            zone["parent"] = {"trustZone": b.parent}
        on_zone = _instances(a, b.id)  # OTM has no threats on a trust zone: kept in its attributes, read back on import
        decided = _decisions(a, b.id)
        if on_zone or decided:
            zone["attributes"] = {**({"threatgraph.threats": json.dumps(on_zone, sort_keys=True)} if on_zone else {}),
                                  **decided}
        zones.append(zone)
    return zones


def _components(a: Assessment) -> list[dict[str, Any]]:
    components = []
    for e in a.model.elements.values():
        comp: dict[str, Any] = {"id": e.id, "name": e.name, "type": e.kind, "description": e.description,
                                "parent": {"trustZone": e.boundaries[0] if e.boundaries else OUTSIDE},
                                "tags": list(e.tags)}
        if e.data:
            comp["assets"] = {"stored": list(e.data), "processed": []}
        threats = _instances(a, e.id)
        if threats:
            comp["threats"] = threats
        decided = _decisions(a, e.id)
        if decided:
            comp["attributes"] = decided
        components.append(comp)
    return components


def _flows(a: Assessment) -> list[dict[str, Any]]:
    flows = []
    for f in a.model.flows.values():
        flow: dict[str, Any] = {"id": f.id, "name": f.name, "description": f.description, "source": f.source,
                                "destination": f.sink, "bidirectional": False, "assets": list(f.data),
                                "tags": [*f.tags, *(["attack-edge"] if f.attack else [])],
                                "attributes": {"protocol": f.protocol, "port": "" if f.port is None else str(f.port),
                                               "encrypted": f.encrypted, "authenticated": f.authenticated,
                                               "crosses": ",".join(f.crosses), **_decisions(a, f.id)}}
        threats = _instances(a, f.id)
        if threats:
            flow["threats"] = threats
        flows.append(flow)
    return flows


def _threats(a: Assessment) -> list[dict[str, Any]]:
    return [{"id": tid, "name": t.title, "description": t.description,
             "categories": [s.replace("_", " ").title() for s in t.stride],
             "cwes": list(t.references.cwe),
             "risk": {"likelihood": LEVEL_PERCENT.get(t.likelihood or "", 50),
                      "impact": LEVEL_PERCENT.get(t.impact or "", SEVERITY_IMPACT[t.severity])},
             "tags": list(t.tags),
             "attributes": {"severity": t.severity, "likelihood": t.likelihood or "", "impact": t.impact or "",
                            "mitigationRoles": ",".join(f"{r.id}={r.role}" for r in t.mitigations)}}
            for tid, t in a.catalog.threats.items()]


def _mitigations(a: Assessment) -> list[dict[str, Any]]:
    out = []
    for mid, mit in a.catalog.mitigations.items():
        st = a.mitigation_states[mid]
        out.append({"id": mid, "name": mit.title, "description": mit.description,
                    "riskReduction": {"full": 100, "partial": 50}.get(st.strength, 0),
                    "tags": list(mit.tags),
                    "attributes": {"type": mit.type, "status": mit.status, "evidence": st.evidence_state,
                                   "verified": st.verified, "drift": st.drift,
                                   **({"threatgraph.evidence": json.dumps(mit.evidence, sort_keys=True)}
                                      if mit.evidence else {}),
                                   **{f"compliance.{f}": ",".join(ids) for f, ids in mit.compliance.by_framework().items()}}})
    return out


def document(a: Assessment) -> dict[str, Any]:
    m = a.model
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
            "assets": assets, "trustZones": _zones(a), "components": _components(a), "dataflows": _flows(a),
            "threats": _threats(a), "mitigations": _mitigations(a)}


def render(a: Assessment) -> str:
    return json_text.dumps(document(a))
