"""Coverage per compliance control: which framework controls the catalog's mitigations implement,
and in what state, read from the assessment (so a control is never greener than its evidence).

A mitigation's state: *verified* (implemented, its evidence passing against the source),
*claimed* (implemented, nothing checked), *partial*, *absent* (planned or absent), *drifted*
(declared, but its evidence no longer holds) or *not-applicable*. A control mapped by several
mitigations takes the least covered of their states: they implement it together."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from threatgraph.assess import Assessment
from threatgraph.rows import Row
from threatgraph.vocabulary import CONTROL_STATES, FRAMEWORKS


@dataclass(frozen=True)
class ControlRow(Row):
    framework: str
    control: str
    state: str
    mitigations: tuple[tuple[str, str], ...]  # (mitigation id, its state)


def mitigation_state(a: Assessment, mid: str) -> str:
    st = a.mitigation_states[mid]
    if st.drift:
        return "drifted"
    if st.declared == "implemented":
        return "verified" if st.verified else "claimed"
    return {"partial": "partial", "not-applicable": "not-applicable"}.get(st.declared, "absent")


def _combined(states: list[str]) -> str:
    applicable = [s for s in states if s != "not-applicable"] or ["not-applicable"]
    least = min(applicable, key=CONTROL_STATES.index)
    if least == "absent" and any(s in ("partial", "claimed", "verified") for s in applicable):
        return "partial"
    return least


def _control_key(control: str) -> tuple[object, ...]:
    """SC-7 before SC-7(5) before SC-12; 5.3 before 5.10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", control))


def controls(a: Assessment) -> tuple[ControlRow, ...]:
    mapped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for mid, m in a.catalog.mitigations.items():
        for framework, ids in m.compliance.by_framework().items():
            for control in ids:
                mapped[(framework, control)].append(mid)
    order = list(FRAMEWORKS)
    rows = []
    for (framework, control), mids in sorted(mapped.items(), key=lambda kv: (order.index(kv[0][0]),
                                                                             _control_key(kv[0][1]))):
        states = tuple((mid, mitigation_state(a, mid)) for mid in sorted(mids))
        rows.append(ControlRow(framework, control, _combined([s for _, s in states]), states))
    return tuple(rows)


def summary(rows: tuple[ControlRow, ...]) -> dict[str, dict[str, int]]:
    """Per framework: how many controls in each state."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        counts = out.setdefault(r.framework, {s: 0 for s in CONTROL_STATES})
        counts[r.state] += 1
    return out


def sentence(rows: tuple[ControlRow, ...]) -> str:
    """One line per framework for the terminal: 'cis-docker 9 controls: 5 verified, 1 absent, ...'."""
    parts = []
    for framework, counts in summary(rows).items():
        shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        parts.append(f"{framework} {sum(counts.values())} controls: {shown}")
    return "; ".join(parts)
