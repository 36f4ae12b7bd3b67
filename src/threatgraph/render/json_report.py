"""coverage.json: the stable contract other tools read (keys are only ever added)."""

from __future__ import annotations

import os
from typing import Any

from threatgraph import __version__, compliance
from threatgraph.assess import Assessment
from threatgraph.render import json_text, paths
from threatgraph.vocabulary import rated_severity


def coverage_document(a: Assessment) -> dict[str, Any]:
    m, c = a.model, a.catalog
    threats = []
    for tid, t in c.threats.items():
        threats.append({
            "id": tid, "title": t.title, "severity": t.severity, "stride": list(t.stride),
            "likelihood": t.likelihood, "impact": t.impact, "rated_severity": rated_severity(t.likelihood, t.impact),
            "references": t.references.model_dump(mode="json"),
            "mitigations": [r.id for r in t.mitigations],
            "links": [{"mitigation": r.id, "role": r.role, "targets": r.targets} for r in t.mitigations],
            "location": _where(c.locations.threat(tid)),
            "targets": [{"kind": p.target.kind, "id": p.target.id, "element_kind": p.target.element_kind,
                         "status": p.status, "basis": p.basis, "reason": p.reason,
                         "mitigations": list(p.mitigations), "decision": p.decision}
                        for p in a.pairs_of_threat(tid)],
        })
    mitigations = []
    for mid, mit in c.mitigations.items():
        s = a.mitigation_states[mid]
        mitigations.append({
            "id": mid, "title": mit.title, "type": mit.type, "status": mit.status,
            "evidence_state": s.evidence_state, "strength": s.strength, "drift": s.drift, "note": s.note,
            "verified": s.verified,
            "location": _where(c.locations.mitigation(mid)),
            "evidence": [r.to_json() for r in s.evidence],
        })
    decisions = [{"index": n, "threat": d.threat, "targets": list(d.targets), "decision": d.decision,
                  "owner": d.owner, "justification": d.justification,
                  "expires": d.expires.isoformat() if d.expires else None,
                  "expired": n in a.expired_decisions, "location": _where(c.locations.decision(n))}
                 for n, d in enumerate(c.decisions)]
    doc: dict[str, Any] = {
        "tool": {"name": "threatgraph", "version": __version__},
        "model": {"name": m.name, "elements": len(m.elements), "flows": len(m.flows),
                  "boundaries": len(m.boundaries), "data": len(m.data)},
        "source": a.source_label,
        "summary": dict(a.summary),
        "policy": {"passed": a.passed, "violations": [str(v) for v in a.violations],
                   "rules": [v.to_json() for v in a.violations]},
        "drift": list(a.drift),
        "drift_origin": dict(a.drift_origin),
        "by_stride": {k: dict(v) for k, v in a.by_stride.items()},
        "by_severity": {k: dict(v) for k, v in a.by_severity.items()},
        "by_target": {k: dict(v) for k, v in a.by_target.items()},
        "threats": threats,
        "mitigations": mitigations,
        "decisions": decisions,
        "analysis": paths.document(a),
        "stride_per_element": _stride(a),
        "compliance": {"summary": compliance.summary(rows := compliance.controls(a)),
                       "controls": [r.to_json() for r in rows]},
        "as_built": {"evidence": {k: [r.to_json() for r in v] for k, v in a.model_evidence.items()},
                     "stale": list(a.stale)},
        "warnings": [w.format() for w in a.warnings],
    }
    if os.environ.get("SOURCE_DATE_EPOCH"):  # a timestamp only when asked for (reproducible builds)
        doc["date"] = a.today.isoformat()
    return doc


def _stride(a: Assessment) -> dict[str, Any] | None:
    if a.analysis is None:
        return None
    c = a.analysis.stride
    return {"considered": c.considered, "cells": c.total, "ratio": c.ratio,
            "not_considered": [{"target": x.target, "kind": x.kind, "category": x.category} for x in c.open_cells()],
            "grid": [x.to_json() for x in c.cells]}


def _where(w: Any) -> dict[str, Any]:
    return {"file": w.file, "line": w.line}


def render(a: Assessment) -> str:
    return json_text.dumps(coverage_document(a))
