"""`threatgraph explain ID`: why a threat lands where it does, or what lands on a target,
or what a mitigation's evidence shows."""

from __future__ import annotations

from typing import Any

from threatgraph.assess import Assessment
from threatgraph.errors import did_you_mean
from threatgraph.render.escape import visible
from threatgraph.selectors import describe


def explain_data(a: Assessment, ident: str) -> dict[str, Any] | None:
    c, m = a.catalog, a.model
    if ident in c.threats:
        t = c.threats[ident]
        w = c.locations.threat(ident)
        return {"type": "threat", "id": ident, "title": t.title, "severity": t.severity,
                "stride": list(t.stride), "declared_at": f"{w.file}:{w.line}",
                "selectors": [{next(iter(i)): describe(next(iter(i.values())))} for i in t.applies_to],
                "mitigations": [{"id": r.id, "role": r.role, "status": c.mitigations[r.id].status,
                                 "evidence": a.mitigation_states[r.id].evidence_state,
                                 "drift": a.mitigation_states[r.id].drift,
                                 "only": r.targets} for r in t.mitigations],
                "targets": [{"id": p.target.id, "kind": p.target.kind, "status": p.status, "basis": p.basis,
                             "reason": p.reason, "mitigations": list(p.mitigations),
                             "decision": _decision(a, p.decision)} for p in a.pairs_of_threat(ident)]}
    if ident in c.mitigations:
        mit = c.mitigations[ident]
        st = a.mitigation_states[ident]
        return {"type": "mitigation", "id": ident, "title": mit.title, "status": mit.status,
                "evidence_state": st.evidence_state, "drift": st.drift, "note": st.note,
                "addresses": sorted(tid for tid, t in c.threats.items() if any(r.id == ident for r in t.mitigations)),
                "evidence": [r.to_json() for r in st.evidence]}
    target = m.target(ident)
    if target is not None:
        return {"type": target.kind if target.kind in ("flow", "boundary") else "element", "id": ident,
                "name": target.name, "kind": target.kind,
                "threats": [{"id": p.threat, "title": c.threats[p.threat].title, "severity": p.severity,
                             "status": p.status, "basis": p.basis, "reason": p.reason,
                             "mitigations": list(p.mitigations),
                             "decision": _decision(a, p.decision)} for p in a.pairs_on(ident)]}
    return None


def _decision(a: Assessment, n: int | None) -> dict[str, Any] | None:
    if n is None:
        return None
    d = a.catalog.decisions[n]
    return {"decision": d.decision, "owner": d.owner, "expires": d.expires.isoformat() if d.expires else None,
            "expired": n in a.expired_decisions, "justification": d.justification}


def known_ids(a: Assessment) -> set[str]:
    return set(a.catalog.threats) | set(a.catalog.mitigations) | a.model.all_ids()


def suggestion(a: Assessment, ident: str) -> str:
    return did_you_mean(ident, known_ids(a))


def render_text(data: dict[str, Any]) -> str:
    v = visible
    lines: list[str] = []
    if data["type"] == "threat":
        lines.append(f"threat {v(data['id'])}: {v(data['title'])} [{data['severity']}; {', '.join(data['stride'])}]")
        lines.append(f"  declared at {v(data['declared_at'])}")
        lines.append("  applies to:")
        for sel in data["selectors"]:
            for what, text in sel.items():
                lines.append(f"    {what}: {v(text)}")
        lines.append("  mitigations:" if data["mitigations"] else "  mitigations: none linked")
        for mref in data["mitigations"]:
            extra = " DRIFT" if mref["drift"] else ""
            only = f" (only on {', '.join(mref['only'])})" if mref.get("only") else ""
            lines.append(f"    {v(mref['id'])} ({mref['role']}): {mref['status']}, evidence {mref['evidence']}{extra}{v(only)}")
        lines.append("  targets:")
        for t in data["targets"]:
            dec = f" — {t['decision']['decision']} by {v(str(t['decision']['owner']))}" if t["decision"] else ""
            lines.append(f"    {t['status']:<20} {t['kind']:<8} {v(t['id'])}{dec}")
            lines.append(f"      {v(t['reason'])}")
    elif data["type"] == "mitigation":
        lines.append(f"mitigation {v(data['id'])}: {v(data['title'])} [declared {data['status']}]")
        lines.append(f"  evidence: {data['evidence_state']}{' — DRIFT' if data['drift'] else ''}")
        if data["note"]:
            lines.append(f"  {v(data['note'])}")
        for r in data["evidence"]:
            where = f"{r['file']}:{r['line']}" if r.get("line") else (r.get("file") or "")
            lines.append(f"    {r['result']:<10} {r['kind']:<12} {v(where)}")
            lines.append(f"      proves: {v(r['proves'])}")
            if r["detail"]:
                lines.append(f"      {v(r['detail'])}")
        lines.append(f"  addresses: {', '.join(v(t) for t in data['addresses']) or '(no threat)'}")
    else:
        lines.append(f"{data['kind']} {v(data['id'])}: {v(data['name'])}")
        if not data["threats"]:
            lines.append("  no threat lands here")
        for t in data["threats"]:
            lines.append(f"  {t['status']:<20} {t['severity']:<8} {v(t['id'])} {v(t['title'])}")
            lines.append(f"    {v(t['reason'])}")
    return "\n".join(lines) + "\n"
