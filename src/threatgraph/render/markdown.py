"""coverage.md: the report a reviewer reads, and a pull-request comment / job summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from threatgraph import compliance
from threatgraph.assess import SUMMARY_KEY, Assessment
from threatgraph.render import paths
from threatgraph.render.escape import md, md_code
from threatgraph.render.text import coverage_sentence, stride_sentence
from threatgraph.vocabulary import MITIGATED, STATUSES

ICON = {"mitigated": "✅", "partially-mitigated": "🟡", "unmitigated": "❌", "accepted": "🔵",
        "accepted-expired": "⏰", "false-positive": "⚪",
        "pass": "✅", "fail": "❌", "error": "⚠️", "unverified": "❔", "none": "—"}


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"## {title}", "", *lines, ""]


def _header(a: Assessment, title: str | None) -> list[str]:
    s = a.summary
    verdict = "**passed**" if a.passed else f"**failed** ({len(a.violations)} violation(s))"
    out = [f"# {md(title or 'Threat coverage: ' + a.model.name)}", "",
           f"Policy: {verdict}. Coverage of {s['pairs']} (threat, target) pairs over {s['threats']} threats: "
           f"**{md(coverage_sentence(a))}**. Evidence: "
           + (md(a.source_label) if a.source_label else "unverified (no source given)") + ".", "",
           _row(["status", "pairs"]), _row(["---", "---:"])]
    for status in STATUSES:
        if status == MITIGATED:  # split by what the pairs rest on: a claim is never shown as proof
            out.append(_row([f"{ICON[status]} mitigated, verified", str(s["mitigated_verified"])]))
            out.append(_row(["◌ mitigated, claimed only", str(s["mitigated_claimed"])]))
        else:
            out.append(_row([f"{ICON[status]} {status}", str(s[SUMMARY_KEY[status]])]))
    return [*out, ""]


def _drift(a: Assessment) -> list[str]:
    out = ["Declared implemented, but the evidence no longer holds:", ""]
    for mid in a.drift:
        bad = [r for r in a.mitigation_states[mid].evidence if r.result != "pass"]
        where = ", ".join(md_code(r.where) for r in bad if r.where) or "—"
        origin = f" — {md(a.drift_origin[mid])}" if mid in a.drift_origin else ""
        out.append(f"- **{md(mid)}** {md(a.catalog.mitigations[mid].title)}: {where}{origin}")
    return out


def _counts(first: str, rows: Mapping[str, Mapping[str, int]], label: Callable[[str], str] = str) -> list[str]:
    out = [_row([first, *STATUSES]), _row(["---", *(["---:"] * len(STATUSES))])]
    return out + [_row([label(key), *(str(counts[st]) for st in STATUSES)]) for key, counts in rows.items()]


def _threats(a: Assessment) -> list[str]:
    out = [_row(["threat", "severity", "targets"]), _row(["---", "---", "---"])]
    for tid, t in a.catalog.threats.items():
        targets = ", ".join(f"{ICON[p.status]} {md_code(p.target.id)}" for p in a.pairs_of_threat(tid))
        out.append(_row([f"**{md(tid)}** {md(t.title)}", t.severity, targets]))
    return out


def _mitigations(a: Assessment) -> list[str]:
    out = [_row(["mitigation", "declared", "evidence", "where", "detail"]), _row(["---"] * 5)]
    for mid, m in a.catalog.mitigations.items():
        st = a.mitigation_states[mid]
        label = f"**{md(mid)}** {md(m.title)}" + (" — **drift**" if st.drift else "")
        if not st.evidence:
            out.append(_row([label, m.status, ICON["none"], "", md(st.note)]))
        for i, r in enumerate(st.evidence):
            out.append(_row([label if i == 0 else "", m.status if i == 0 else "",
                             f"{ICON.get(r.result, '')} {r.result}", md_code(r.where) if r.where else "",
                             md(r.detail)]))
    return out


def _decisions(a: Assessment) -> list[str]:
    out = [_row(["threat", "targets", "decision", "owner", "expires", "justification"]), _row(["---"] * 6)]
    for n, d in enumerate(a.catalog.decisions):
        exp = (d.expires.isoformat() if d.expires else "") + (" ⏰ expired" if n in a.expired_decisions else "")
        out.append(_row([md(d.threat), ", ".join(md_code(t) for t in d.targets), d.decision,
                         md(d.owner or ""), exp, md(d.justification)]))
    return out


def _stride(a: Assessment) -> list[str]:
    if a.analysis is None:
        return []
    out = [f"{md(stride_sentence(a))}.", ""]
    cells = a.analysis.stride.open_cells()
    if cells:
        by_target: dict[str, list[str]] = {}
        for cell in cells:
            by_target.setdefault(cell.target, []).append(cell.category.replace("_", " "))
        out += [_row(["not considered", "categories"]), _row(["---", "---"])]
        out += [_row([md_code(t), ", ".join(c)]) for t, c in by_target.items()]
    return out


def _compliance(a: Assessment) -> list[str]:
    rows = compliance.controls(a)
    out = [md(compliance.sentence(rows)) + ".", "", _row(["framework", "control", "state", "mitigations"]),
           _row(["---"] * 4)]
    out += [_row([r.framework, md_code(r.control), r.state, ", ".join(f"{md_code(m)} ({s})" for m, s in r.mitigations)])
            for r in rows]
    return out


def render(a: Assessment, title: str | None = None) -> str:
    out = _header(a, title)
    if a.violations:
        out += _section("Policy violations", [f"- {md(v)}" for v in a.violations])
    if a.drift:
        out += _section("Drift", _drift(a))
    if a.stale:
        out += _section("Stale model", ["The model's own evidence no longer holds for these elements and flows:", "",
                                        *(f"- {md_code(i)}: " + (", ".join(md_code(r.where) for r in a.model_evidence[i]
                                                                          if r.result != "pass" and r.where) or "—")
                                          for i in a.stale)])
    out += _section("By severity", _counts("severity", a.by_severity))
    out += _section("By STRIDE category", _counts("category", a.by_stride, lambda c: c.replace("_", " ")))
    if a.analysis is not None:
        out += _section("STRIDE per element", _stride(a))
    if compliance.controls(a):
        out += _section("Compliance", _compliance(a))
    out += _section("Threats", _threats(a))
    out += _section("Mitigations and evidence", _mitigations(a))
    if a.analysis is not None:
        out.append(paths.render_markdown(a))
    if a.catalog.decisions:
        out += _section("Decisions", _decisions(a))
    return "\n".join(out).rstrip() + "\n"
