"""coverage.md: the report a reviewer reads, and a pull-request comment / job summary."""

from __future__ import annotations

from threatgraph.assess import SUMMARY_KEY, Assessment
from threatgraph.render import paths
from threatgraph.render.escape import md, md_code
from threatgraph.render.text import coverage_sentence
from threatgraph.vocabulary import MITIGATED, STATUSES

ICON = {"mitigated": "✅", "partially-mitigated": "🟡", "unmitigated": "❌", "accepted": "🔵",
        "accepted-expired": "⏰", "false-positive": "⚪",
        "pass": "✅", "fail": "❌", "error": "⚠️", "unverified": "❔", "none": "—"}


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render(a: Assessment, title: str | None = None) -> str:  # noqa: C901 - complexity debt, see ARCHITECTURE.md
    s = a.summary
    c = a.catalog
    out: list[str] = []
    out.append(f"# {md(title or 'Threat coverage: ' + a.model.name)}")
    out.append("")
    verdict = "**passed**" if a.passed else f"**failed** ({len(a.violations)} violation(s))"
    out.append(f"Policy: {verdict}. Coverage of {s['pairs']} (threat, target) pairs over {s['threats']} threats: "
               f"**{md(coverage_sentence(a))}**. Evidence: "
               + (md(a.source_label) if a.source_label else "unverified (no source given)") + ".")
    out.append("")
    out.append(_row(["status", "pairs"]))
    out.append(_row(["---", "---:"]))
    for status in STATUSES:
        if status == MITIGATED:  # split by what the pairs rest on: a claim is never shown as proof
            out.append(_row([f"{ICON[status]} mitigated, verified", str(s["mitigated_verified"])]))
            out.append(_row(["◌ mitigated, claimed only", str(s["mitigated_claimed"])]))
        else:
            out.append(_row([f"{ICON[status]} {status}", str(s[SUMMARY_KEY[status]])]))
    out.append("")
    if a.violations:
        out.append("## Policy violations")
        out.append("")
        out += [f"- {md(v)}" for v in a.violations]
        out.append("")
    if a.drift:
        out.append("## Drift")
        out.append("")
        out.append("Declared implemented, but the evidence no longer holds:")
        out.append("")
        for mid in a.drift:
            st = a.mitigation_states[mid]
            bad = [r for r in st.evidence if r.result != "pass"]
            where = ", ".join(md_code(r.where) for r in bad if r.where) or "—"
            origin = f" — {md(a.drift_origin[mid])}" if mid in a.drift_origin else ""
            out.append(f"- **{md(mid)}** {md(c.mitigations[mid].title)}: {where}{origin}")
        out.append("")
    out.append("## By severity")
    out.append("")
    out.append(_row(["severity", *STATUSES]))
    out.append(_row(["---", *(["---:"] * len(STATUSES))]))
    for sev, counts in a.by_severity.items():
        out.append(_row([sev, *(str(counts[st]) for st in STATUSES)]))
    out.append("")
    out.append("## By STRIDE category")
    out.append("")
    out.append(_row(["category", *STATUSES]))
    out.append(_row(["---", *(["---:"] * len(STATUSES))]))
    for cat, counts in a.by_stride.items():
        out.append(_row([cat.replace("_", " "), *(str(counts[st]) for st in STATUSES)]))
    out.append("")
    out.append("## Threats")
    out.append("")
    out.append(_row(["threat", "severity", "targets"]))
    out.append(_row(["---", "---", "---"]))
    for tid, t in c.threats.items():
        targets = ", ".join(f"{ICON[p.status]} {md_code(p.target.id)}" for p in a.pairs_of_threat(tid))
        out.append(_row([f"**{md(tid)}** {md(t.title)}", t.severity, targets]))
    out.append("")
    out.append("## Mitigations and evidence")
    out.append("")
    out.append(_row(["mitigation", "declared", "evidence", "where", "detail"]))
    out.append(_row(["---", "---", "---", "---", "---"]))
    for mid, m in c.mitigations.items():
        st = a.mitigation_states[mid]
        label = f"**{md(mid)}** {md(m.title)}"
        if st.drift:
            label += " — **drift**"
        if not st.evidence:
            out.append(_row([label, m.status, ICON["none"], "", md(st.note)]))
            continue
        for i, r in enumerate(st.evidence):
            out.append(_row([label if i == 0 else "", m.status if i == 0 else "",
                             f"{ICON.get(r.result, '')} {r.result}", md_code(r.where) if r.where else "",
                             md(r.detail)]))
    out.append("")
    if a.analysis is not None:
        out.append(paths.render_markdown(a))
    if c.decisions:
        out.append("## Decisions")
        out.append("")
        out.append(_row(["threat", "targets", "decision", "owner", "expires", "justification"]))
        out.append(_row(["---", "---", "---", "---", "---", "---"]))
        for n, d in enumerate(c.decisions):
            exp = d.expires.isoformat() if d.expires else ""
            if n in a.expired_decisions:
                exp += " ⏰ expired"
            out.append(_row([md(d.threat), ", ".join(md_code(t) for t in d.targets), d.decision,
                             md(d.owner or ""), exp, md(d.justification)]))
        out.append("")
    return "\n".join(out).rstrip() + "\n"
