"""The terminal summary of `threatgraph check`."""

from __future__ import annotations

import os
import sys

from threatgraph import compliance
from threatgraph.assess import Assessment
from threatgraph.render.escape import visible
from threatgraph.vocabulary import EXPIRED, UNMITIGATED, severity_rank


def use_colour(stream: object = sys.stdout) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to a non-empty value
    (no-color.org: an empty NO_COLOR does not count)."""
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def coverage_sentence(a: Assessment) -> str:
    """Verified and claimed coverage side by side, or why nothing was assessed (never 100%)."""
    s = a.summary
    if not s["assessed"]:
        return f"nothing assessed: {s['nothing_assessed']}"
    where = "evidence checked against the source" if a.source_label else "no source given: nothing is verified"
    return (f"{s['coverage']:.1%} covered, {s['verified_coverage']:.1%} verified or decided ({where}); "
            f"mitigated pairs: {s['mitigated_verified']} verified, {s['mitigated_claimed']} claimed only")


def _coverage_line(a: Assessment) -> str:
    return f"  coverage   {coverage_sentence(a)}"


def stride_sentence(a: Assessment) -> str:
    """STRIDE-per-element completeness in one line."""
    if a.analysis is None or not a.analysis.stride.total:
        return "no element or flow to consider"
    c = a.analysis.stride
    return (f"{c.ratio:.1%} of STRIDE-per-element cells considered ({c.considered} of {c.total}); "
            f"{c.total - c.considered} not considered")


def as_built_sentence(a: Assessment) -> str:
    """How much of the model its own evidence proves, and what is stale."""
    proven = len(a.model_evidence)
    if not proven:
        return "no element or flow carries evidence that it exists"
    if not a.source_label:
        return f"{proven} elements and flows carry evidence that they exist (unverified: no --source)"
    return f"{proven - len(a.stale)} of {proven} elements and flows proven to exist in the source, {len(a.stale)} stale"


def _unconsidered(a: Assessment) -> list[str]:
    if a.analysis is None:
        return []
    by_target: dict[str, list[str]] = {}
    for cell in a.analysis.stride.open_cells():
        by_target.setdefault(cell.target, []).append(cell.category)
    if not by_target:
        return []
    lines = ["", "not considered (STRIDE per element; a threat or a not_applicable answer each):"]
    for target, cats in list(by_target.items())[:10]:
        lines.append(f"  {visible(target)}: {', '.join(cats)}")
    if len(by_target) > 10:
        lines.append(f"  ... and {len(by_target) - 10} more targets (see coverage.md)")
    return lines


def render(a: Assessment, colour: bool = False) -> str:
    s = a.summary
    lines = [f"threatgraph: {visible(a.model.name)}",
             f"  model      {len(a.model.elements)} elements, {len(a.model.flows)} flows, "
             f"{len(a.model.boundaries)} boundaries, {len(a.model.data)} data assets",
             f"  catalog    {s['threats']} threats, {len(a.catalog.mitigations)} mitigations, "
             f"{len(a.catalog.decisions)} decisions",
             f"  evidence   {visible(a.source_label) if a.source_label else 'unverified (no --source)'}",
             f"  pairs      {s['pairs']}: {s['mitigated']} mitigated, {s['partially_mitigated']} partial, "
             f"{s['unmitigated']} unmitigated, {s['accepted']} accepted, {s['accepted_expired']} expired, "
             f"{s['false_positive']} false positive",
             _coverage_line(a),
             f"  stride     {stride_sentence(a)}",
             f"  as built   {as_built_sentence(a)}"]
    mapped = compliance.controls(a)
    if mapped:
        lines.append(f"  compliance {compliance.sentence(mapped)}")
    open_pairs = sorted((p for p in a.pairs if p.status in (UNMITIGATED, EXPIRED)),
                        key=lambda p: (-severity_rank(p.severity), p.threat, p.target.id))
    if open_pairs:
        lines.append("")
        lines.append("open pairs (highest severity first):")
        for p in open_pairs[:15]:
            lines.append(f"  {p.severity:<8} {visible(p.threat)} on {visible(p.target.id)} ({p.status})")
        if len(open_pairs) > 15:
            lines.append(f"  ... and {len(open_pairs) - 15} more (see coverage.md)")
    lines += _unconsidered(a)
    if a.stale:
        lines.append("")
        lines.append(_paint("stale model (its evidence no longer holds):", "1;31", colour))
        for ident in a.stale:
            where = ", ".join(r.where for r in a.model_evidence[ident] if r.result != "pass" and r.where)
            lines.append(f"  {visible(ident)}{(' at ' + visible(where)) if where else ''}")
    if a.drift:
        lines.append("")
        lines.append(_paint("drift:", "1;31", colour))
        for mid in a.drift:
            st = a.mitigation_states[mid]
            where = ", ".join(r.where for r in st.evidence if r.result != "pass" and r.where)
            lines.append(f"  {visible(mid)}: {st.note} {('at ' + visible(where)) if where else ''}".rstrip())
            if mid in a.drift_origin:
                lines.append(f"    {visible(a.drift_origin[mid])}")
    lines.append("")
    if a.passed:
        lines.append(_paint("policy: passed", "32", colour))
    else:
        lines.append(_paint(f"policy: FAILED ({len(a.violations)} violation(s))", "1;31", colour))
        for v in a.violations[:20]:
            lines.append(f"  - {visible(v)}")
        if len(a.violations) > 20:
            lines.append(f"  ... and {len(a.violations) - 20} more")
    return "\n".join(lines) + "\n"
