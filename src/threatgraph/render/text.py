"""The terminal summary of `threatgraph check`."""

from __future__ import annotations

import os
import sys

from threatgraph.assess import Assessment
from threatgraph.render.escape import visible
from threatgraph.vocabulary import EXPIRED, UNMITIGATED, severity_rank


def use_colour(stream: object = sys.stdout) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


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
             _coverage_line(a)]
    open_pairs = sorted((p for p in a.pairs if p.status in (UNMITIGATED, EXPIRED)),
                        key=lambda p: (-severity_rank(p.severity), p.threat, p.target.id))
    if open_pairs:
        lines.append("")
        lines.append("open pairs (highest severity first):")
        for p in open_pairs[:15]:
            lines.append(f"  {p.severity:<8} {visible(p.threat)} on {visible(p.target.id)} ({p.status})")
        if len(open_pairs) > 15:
            lines.append(f"  ... and {len(open_pairs) - 15} more (see coverage.md)")
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
