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
    if ident in m.boundaries:
        return _boundary(a, ident)
    target = m.target(ident)
    if target is not None:
        return {"type": target.kind if target.kind in ("flow", "boundary") else "element", "id": ident,
                "name": target.name, "kind": target.kind,
                "threats": [_threat_on(a, p) for p in a.pairs_on(ident)]}
    if ident in m.data:
        return _data(a, ident)
    return None


def _threat_on(a: Assessment, p: Any) -> dict[str, Any]:
    """One pair, seen from its target."""
    return {"id": p.threat, "title": a.catalog.threats[p.threat].title, "severity": p.severity, "status": p.status,
            "basis": p.basis, "reason": p.reason, "mitigations": list(p.mitigations), "decision": _decision(a, p.decision)}


def _status_counts(a: Assessment, ids: list[str]) -> list[dict[str, Any]]:
    """Each id with the count of its pairs by status."""
    out = []
    for i in sorted(ids):
        counts: dict[str, int] = {}
        for p in a.pairs_on(i):
            counts[p.status] = counts.get(p.status, 0) + 1
        out.append({"id": i, "pairs": dict(sorted(counts.items()))})
    return out


def _boundary(a: Assessment, ident: str) -> dict[str, Any]:
    """A trust boundary: what it holds, which flows cross it (where threats usually land), and
    the threats on the boundary itself."""
    m, b = a.model, a.model.boundaries[ident]
    return {"type": "boundary", "id": ident, "name": b.name, "kind": "boundary", "parent": b.parent,
            "boundaries": sorted(i for i, x in m.boundaries.items() if x.parent == ident),
            "elements": _status_counts(a, [e for e, el in m.elements.items() if el.boundaries[:1] == (ident,)]),
            "crossed_by": _status_counts(a, [f for f, flow in m.flows.items() if ident in flow.crosses]),
            "threats": [_threat_on(a, p) for p in a.pairs_on(ident)]}


def _data(a: Assessment, ident: str) -> dict[str, Any]:
    """A data asset: what it is, and where it travels and rests, with what is open there."""
    d = a.model.data[ident]
    return {"type": "data", "id": ident, "name": d.name, "classification": d.classification,
            "credentials": d.is_credentials, "pii": d.is_pii, "description": d.description,
            "carried_by": _status_counts(a, [f for f, flow in a.model.flows.items() if ident in flow.data]),
            "held_by": _status_counts(a, [e for e, el in a.model.elements.items() if ident in el.data])}


def _decision(a: Assessment, n: int | None) -> dict[str, Any] | None:
    if n is None:
        return None
    d = a.catalog.decisions[n]
    return {"decision": d.decision, "owner": d.owner, "expires": d.expires.isoformat() if d.expires else None,
            "expired": n in a.expired_decisions, "justification": d.justification}


def known_ids(a: Assessment) -> set[str]:
    return set(a.catalog.threats) | set(a.catalog.mitigations) | a.model.all_ids()


def suggestion(a: Assessment, ident: str) -> str:
    """Ids whose name or description carries what was asked (an architecture inventory's
    `F08`), else the closest ids by spelling."""
    needle = ident.casefold()
    m = a.model
    carried = sorted(i for coll in (m.elements, m.boundaries, m.flows, m.data) for i, r in coll.items()
                     if needle and (needle in r.name.casefold() or needle in (r.description or "").casefold()))
    if carried:
        shown = ", ".join(f"'{i}'" for i in carried[:5]) + (f" and {len(carried) - 5} more" if len(carried) > 5 else "")
        return f"ids are variable names; {shown} {'carries' if len(carried) == 1 else 'carry'} '{ident}' in the name or description"
    return did_you_mean(ident, known_ids(a) - {ident})


def _threat_text(data: dict[str, Any], lines: list[str]) -> None:
    v = visible
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


def _mitigation_text(data: dict[str, Any], lines: list[str]) -> None:
    v = visible
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


def _data_text(data: dict[str, Any], lines: list[str]) -> None:
    v = visible
    flags = ", ".join(f for f, on in (("credentials", data["credentials"]), ("PII", data["pii"])) if on)
    lines.append(f"data {v(data['id'])}: {v(data['name'])} [{data['classification']}{'; ' + flags if flags else ''}]")
    if data["description"]:
        lines.append(f"  {v(data['description'])}")
    for label, key in (("carried by", "carried_by"), ("held by", "held_by")):
        _where_text(label, data[key], lines)


def _where_text(label: str, items: list[dict[str, Any]], lines: list[str]) -> None:
    lines.append(f"  {label}:" if items else f"  {label}: nothing in the model")
    for w in items:
        pairs = ", ".join(f"{n} {status}" for status, n in w["pairs"].items()) or "no threat lands there"
        lines.append(f"    {visible(w['id'])}: {pairs}")


def _boundary_text(data: dict[str, Any], lines: list[str]) -> None:
    v = visible
    inside = f" (inside {v(data['parent'])})" if data["parent"] else ""
    lines.append(f"boundary {v(data['id'])}: {v(data['name'])}{inside}")
    if data["boundaries"]:
        lines.append(f"  holds boundaries: {', '.join(v(b) for b in data['boundaries'])}")
    _where_text("holds elements", data["elements"], lines)
    _where_text("crossed by", data["crossed_by"], lines)
    if data["threats"]:
        lines.append("  threats on the boundary itself:")
    for t in data["threats"]:
        lines.append(f"    {t['status']:<20} {t['severity']:<8} {v(t['id'])} {v(t['title'])}")


def _target_text(data: dict[str, Any], lines: list[str]) -> None:
    v = visible
    lines.append(f"{data['kind']} {v(data['id'])}: {v(data['name'])}")
    if not data["threats"]:
        lines.append("  no threat lands here")
    for t in data["threats"]:
        lines.append(f"  {t['status']:<20} {t['severity']:<8} {v(t['id'])} {v(t['title'])}")
        lines.append(f"    {v(t['reason'])}")


_TEXT = {"threat": _threat_text, "mitigation": _mitigation_text, "data": _data_text, "boundary": _boundary_text}


def render_text(data: dict[str, Any]) -> str:
    lines: list[str] = []
    _TEXT.get(data["type"], _target_text)(data, lines)
    return "\n".join(lines) + "\n"
