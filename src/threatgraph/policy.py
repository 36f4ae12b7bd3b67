"""Policy rules, first-class: one small function per rule, each beside its metadata in one
table, evaluated once into the verdict every renderer reads.

A rule reads the finished assessment (its analysis included) and, for `check --base`, the
change since a base revision; it returns typed violations, each located where a reviewer acts
on it. Adding a rule is one function and one row of RULES (plus its switch in `Policy`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from threatgraph.evidence.as_built import failed
from threatgraph.location import UNKNOWN, Location
from threatgraph.vocabulary import OPEN_STATUSES, severity_rank

if TYPE_CHECKING:
    from threatgraph.assess import Assessment
    from threatgraph.config import Policy


@dataclass(frozen=True)
class Violation:
    """One reason the policy fails. `str()` is the sentence every text output prints."""

    rule: str
    message: str
    location: Location | None = None
    subject: str = ""  # the threat, mitigation, flow or invariant it is about
    severity: str = "error"

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {"rule": self.rule, "message": self.message, "file": loc.file if loc else None,
                "line": loc.line if loc else None,
                "subject": self.subject, "severity": self.severity}


@dataclass(frozen=True)
class RuleInput:
    assessment: Assessment
    policy: Policy
    change: Any = None  # threatgraph.diff.Change, for check --base


@dataclass(frozen=True)
class Rule:
    id: str
    doc: str
    check: Callable[[RuleInput], list[Violation]]


def _declared_at(a: Assessment, ident: str) -> Location:
    """Where the model declares an element, boundary or flow (the model file when unknown)."""
    target = a.model.target(ident)
    return target.location if target is not None and target.location else Location(a.model.file, 1)


def _known(loc: Location) -> Location | None:
    return None if loc == UNKNOWN else loc


def fail_on(i: RuleInput) -> list[Violation]:
    a, floor_name = i.assessment, i.policy.fail_on
    if floor_name is None:
        return []
    floor = severity_rank(floor_name)
    return [Violation("fail_on", f"{p.severity} threat {p.threat} is {p.status} on {p.target.id} (fail_on = {floor_name})",
                      _known(a.catalog.locations.threat(p.threat)), subject=p.threat)
            for p in a.pairs if p.status in OPEN_STATUSES and severity_rank(p.severity) >= floor]


def min_coverage(i: RuleInput) -> list[Violation]:
    key = "verified_coverage" if i.policy.require_verified else "coverage"
    coverage = float(i.assessment.summary[key])
    if coverage >= i.policy.min_coverage or not i.assessment.summary["assessed"]:
        return []
    shown = "verified coverage" if i.policy.require_verified else "coverage"
    return [Violation("min_coverage", f"{shown} {coverage:.1%} is below min_coverage {i.policy.min_coverage:.1%}")]


def require_verified(i: RuleInput) -> list[Violation]:
    a = i.assessment
    if not i.policy.require_verified:
        return []
    return [Violation("require_verified", f"{p.severity} threat {p.threat} on {p.target.id} is mitigated by claims only: "
                      f"{', '.join(p.mitigations)} not verified against the source (require_verified)",
                      _known(a.catalog.locations.threat(p.threat)), subject=p.threat)
            for p in a.pairs if p.status == "mitigated" and p.basis == "claimed"]


def nothing_assessed(i: RuleInput) -> list[Violation]:
    reason = i.assessment.summary["nothing_assessed"]
    if reason is None or not i.policy.fail_on_nothing_assessed:
        return []
    return [Violation("fail_on_nothing_assessed", f"nothing assessed: {reason} (fail_on_nothing_assessed)")]


def expired_acceptance(i: RuleInput) -> list[Violation]:
    a = i.assessment
    if not i.policy.fail_on_expired_acceptance:
        return []
    out = []
    for n in a.expired_decisions:
        d = a.catalog.decisions[n]
        out.append(Violation("fail_on_expired_acceptance",
                             f"acceptance of {d.threat} on {', '.join(d.targets)} (owner {d.owner}) "
                             f"expired on {d.expires.isoformat() if d.expires else '?'}",
                             _known(a.catalog.locations.decision(n)), subject=d.threat))
    return out


def drift(i: RuleInput) -> list[Violation]:
    a = i.assessment
    if not i.policy.fail_on_drift:
        return []
    return [Violation("fail_on_drift", f"drift: mitigation {mid} is declared {a.mitigation_states[mid].declared} "
                      "but its evidence does not hold", _known(a.catalog.locations.mitigation(mid)), subject=mid)
            for mid in a.drift]


def require_evidence(i: RuleInput) -> list[Violation]:
    a = i.assessment
    if not i.policy.require_evidence:
        return []
    out = []
    for mid, s in a.mitigation_states.items():
        if s.declared in ("implemented", "partial") and s.evidence_state != "pass" and not s.drift:
            shown = "no" if s.evidence_state == "none" else s.evidence_state
            out.append(Violation("require_evidence", f"mitigation {mid} has {shown} evidence (require_evidence)",
                                 _known(a.catalog.locations.mitigation(mid)), subject=mid))
    return out


def invariants(i: RuleInput) -> list[Violation]:
    a = i.assessment
    if a.analysis is None:
        return []
    decl = a.model.declarations
    where = decl.location if decl is not None else Location(a.model.file, 1)
    return [Violation("invariants", f"invariant broken: {r.name} ({r.detail})", where, subject=r.name)
            for r in a.analysis.invariants if not r.holds]


def require_crossing_threats(i: RuleInput) -> list[Violation]:
    a = i.assessment
    if not i.policy.require_crossing_threats or a.analysis is None:
        return []
    out = []
    for c in a.analysis.crossings:
        if c.threats:
            continue
        out.append(Violation("require_crossing_threats", f"flow {c.flow} crosses {', '.join(c.crosses)} but no "
                             "threat is mapped to it (require_crossing_threats)",
                             _declared_at(a, c.flow), subject=c.flow, severity="warning"))
    return out


def stale_model(i: RuleInput) -> list[Violation]:
    a = i.assessment
    if not i.policy.fail_on_stale_model:
        return []
    out = []
    for ident in a.stale:
        what = "; ".join(f"{r.proves or r.kind} ({r.detail})" for r in failed(a.model_evidence[ident])[:2])
        out.append(Violation("fail_on_stale_model", f"stale model: {ident} no longer exists as modelled in "
                             f"{a.source_label}: {what} (fail_on_stale_model)", _declared_at(a, ident),
                             subject=ident))
    return out


def require_stride_per_element(i: RuleInput) -> list[Violation]:
    a = i.assessment
    if not i.policy.require_stride_per_element or a.analysis is None:
        return []
    out = []
    for cell in a.analysis.stride.open_cells():
        out.append(Violation("require_stride_per_element",
                             f"{cell.category.replace('_', ' ')} not considered for {cell.target} "
                             "(require_stride_per_element)", _declared_at(a, cell.target), subject=cell.target))
    return out


def no_new_unmitigated(i: RuleInput) -> list[Violation]:
    if not i.policy.no_new_unmitigated or i.change is None:
        return []
    a = i.assessment
    return [Violation("no_new_unmitigated", f"new unmitigated pair since {i.change.base}: {r.severity} threat "
                      f"{r.threat} on {r.target} (no_new_unmitigated)", _known(a.catalog.locations.threat(r.threat)),
                      subject=r.threat)
            for r in i.change.newly_unmitigated]


RULES: tuple[Rule, ...] = (
    Rule("fail_on", "an open pair at or above this severity fails", fail_on),
    Rule("fail_on_nothing_assessed", "no (threat, target) pair at all fails instead of reading as covered",
         nothing_assessed),
    Rule("min_coverage", "coverage below this ratio fails (verified coverage under require_verified)", min_coverage),
    Rule("require_verified", "a mitigated pair needs evidence checked against the source", require_verified),
    Rule("fail_on_expired_acceptance", "an acceptance past its expiry fails", expired_acceptance),
    Rule("fail_on_drift", "an implemented mitigation whose evidence no longer holds fails", drift),
    Rule("require_evidence", "an implemented or partial mitigation needs passing evidence", require_evidence),
    Rule("invariants", "every invariant the model declares holds", invariants),
    Rule("require_crossing_threats", "every flow crossing a trust boundary has a threat", require_crossing_threats),
    Rule("fail_on_stale_model", "an element or flow whose own evidence no longer holds fails", stale_model),
    Rule("require_stride_per_element", "every STRIDE-per-element cell has a threat or a not_applicable answer",
         require_stride_per_element),
    Rule("no_new_unmitigated", "check --base: the change adds no open pair", no_new_unmitigated),
)


def evaluate(a: Assessment, policy: Policy, change: Any = None) -> tuple[Violation, ...]:
    """Every rule, once, in table order."""
    found = RuleInput(a, policy, change)
    return tuple(v for rule in RULES for v in rule.check(found))
