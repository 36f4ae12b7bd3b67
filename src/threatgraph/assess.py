"""From model, catalog, mapping and evidence to an Assessment: each pair's status, mitigation
states (drift included), decisions applied, coverage summaries and the policy verdict.
Renderers read this; none recomputes a status."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the analysis and the policy read the assessment, not the reverse
    from threatgraph.analysis.run import Analysis
    from threatgraph.history import History
    from threatgraph.policy import Violation
from threatgraph.catalog.loader import Catalog
from threatgraph.config import Policy
from threatgraph.defence import CLAIMED, DECIDED, VERIFIED, Link, Outcome, combine
from threatgraph.errors import InputError, Problem
from threatgraph.evidence.base import ERROR, FAIL, PASS, UNVERIFIED, EvidenceResult
from threatgraph.mapping import Target, TargetIds
from threatgraph.model.types import Model
from threatgraph.selectors import ids_matching
from threatgraph.vocabulary import (
    ACCEPTED,
    EXPIRED,
    FALSE_POSITIVE,
    MITIGATED,
    PARTIAL,
    RISK,
    STATUSES,
    STRIDE,
    UNMITIGATED,
    leaves_open,
    residual_risk,
)
from threatgraph.vocabulary import SEVERITIES as SEVERITY_ORDER

SUMMARY_KEY = {MITIGATED: "mitigated", PARTIAL: "partially_mitigated", UNMITIGATED: "unmitigated",
                ACCEPTED: "accepted", EXPIRED: "accepted_expired", FALSE_POSITIVE: "false_positive"}


@dataclass(frozen=True)
class MitigationState:
    id: str
    declared: str
    evidence: tuple[EvidenceResult, ...]
    evidence_state: str  # pass, fail, error, unverified, none
    strength: str  # full, partial, none
    drift: bool
    note: str = ""
    verified: bool = False  # checked against the source: every item asserting the control passes
    holds_at: str = ""  # where the first passing item matched (file:line)


@dataclass(frozen=True)
class Pair:
    threat: str
    target: Target
    severity: str
    status: str
    mitigations: tuple[str, ...]  # mitigations that apply to this target
    decision: int | None = None  # index into catalog.decisions
    basis: str = ""  # verified, claimed (mitigated pairs), decided (accepted, false positive), "" otherwise
    reason: str = ""  # why it has its status, naming the controls and where their evidence holds


_PAIR_FIELDS = tuple(f.name for f in fields(Pair))


def _pair(*values: Any) -> Pair:
    """A Pair without the frozen dataclass's per-field __setattr__ (a large model makes
    hundreds of thousands): the same object, every field given in order."""
    obj: Pair = object.__new__(Pair)
    obj.__dict__.update(zip(_PAIR_FIELDS, values, strict=True))
    return obj


@dataclass(frozen=True)
class Assessment:
    model: Model
    catalog: Catalog
    pairs: tuple[Pair, ...]
    mitigation_states: Mapping[str, MitigationState]
    summary: Mapping[str, Any]
    by_threat: Mapping[str, Mapping[str, int]]
    by_target: Mapping[str, Mapping[str, int]]
    by_stride: Mapping[str, Mapping[str, int]]
    by_severity: Mapping[str, Mapping[str, int]]
    expired_decisions: tuple[int, ...]
    drift: tuple[str, ...]
    today: dt.date
    source_label: str | None = None
    warnings: tuple[Problem, ...] = field(default_factory=tuple)
    analysis: Analysis | None = None  # added by the pipeline
    violations: tuple[Violation, ...] = ()  # the verdict, judged by the pipeline
    # drifted mitigation -> "stopped holding at <sha> (<date>, <subject>)", from a history replay
    drift_origin: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    history: History | None = None  # the replay of the target's history, when asked for (--since)
    # the model's own evidence (elements and flows proven to exist), and those it no longer proves
    model_evidence: Mapping[str, tuple[EvidenceResult, ...]] = field(default_factory=lambda: MappingProxyType({}))
    stale: tuple[str, ...] = ()
    source_commit: str | None = None  # the commit the evidence was read at (a git source)
    source_url: str | None = None  # the link template for evidence locations

    @property
    def passed(self) -> bool:
        return not self.violations

    @cached_property
    def _by_threat(self) -> dict[str, list[Pair]]:
        out: dict[str, list[Pair]] = defaultdict(list)
        for p in self.pairs:
            out[p.threat].append(p)
        return out

    @cached_property
    def _by_target(self) -> dict[str, list[Pair]]:
        out: dict[str, list[Pair]] = defaultdict(list)
        for p in self.pairs:
            out[p.target.id].append(p)
        return out

    def pairs_of_threat(self, tid: str) -> list[Pair]:
        """Indexed once: pages and reports ask this for every threat."""
        return list(self._by_threat.get(tid, ()))

    def pairs_on(self, target_id: str) -> list[Pair]:
        return list(self._by_target.get(target_id, ()))


def _evidence_state(results: tuple[EvidenceResult, ...]) -> str:
    if not results:
        return "none"
    states = {r.result for r in results}
    for s in (FAIL, ERROR, UNVERIFIED):
        if s in states:
            return s
    return PASS


def mitigation_state(mid: str, declared: str, results: tuple[EvidenceResult, ...]) -> MitigationState:
    """Combine the declared status with the evidence.

    Items assert the control as titled. A `gap` item asserts the part still missing, so it is
    expected to fail while the status is partial/planned/absent. Drift: a declared-present
    part (an item without `gap` on an implemented or partial mitigation) fails or errors.
    """
    ev = _evidence_state(results)
    present = [r for r in results if not r.gap]
    gaps = [r for r in results if r.gap]
    claims_present = declared in ("implemented", "partial")
    broken = [r for r in (present if claims_present else []) if r.result in (FAIL, ERROR)]
    if declared == "implemented":
        broken += [r for r in gaps if r.result in (FAIL, ERROR)]
    drift = bool(broken)
    note = ""
    checked = ev not in (UNVERIFIED, "none")
    if drift:
        verb = "fails" if any(r.result == FAIL for r in broken) else "could not be checked"
        note = f"declared {declared}, but its evidence {verb}"
    elif checked and declared in ("partial", "planned", "absent"):
        open_gaps = [r for r in (gaps if declared == "partial" else results) if r.result != PASS]
        if (gaps or declared != "partial") and not open_gaps:
            note = f"declared {declared}, but its evidence now passes: the gap may have closed; update the status"
        elif open_gaps:
            note = "the gap is confirmed by the source"
    strength = "none" if drift else {"implemented": "full", "partial": "partial"}.get(declared, "none")
    verified = bool(present) and all(r.result == PASS for r in present)
    holds_at = next((r.where for r in present if r.result == PASS and r.line), "")
    return MitigationState(mid, declared, results, ev, strength, drift, note, verified, holds_at)


Counts = dict[str, int]  # pairs by status


def _tally(pairs: list[Pair], catalog: Catalog) -> tuple[Counts, dict[str, Counts], dict[str, Counts],
                                                         dict[str, Counts], dict[str, Counts]]:
    """Pair counts by status: overall, by threat, by target (sorted), by STRIDE category and by
    severity, in one pass over the pairs."""
    zero = dict.fromkeys(STATUSES, 0)
    counts = dict(zero)
    by_threat = {tid: dict(zero) for tid in catalog.threats}
    by_target: dict[str, dict[str, int]] = {}
    by_stride = {s: dict(zero) for s in STRIDE}
    by_severity = {s: dict(zero) for s in reversed(SEVERITY_ORDER)}
    strides = {tid: t.stride for tid, t in catalog.threats.items()}
    for p in pairs:
        status = p.status
        counts[status] += 1
        by_threat[p.threat][status] += 1
        row = by_target.get(p.target.id)
        if row is None:
            row = by_target[p.target.id] = dict(zero)
        row[status] += 1
        for s in strides[p.threat]:
            by_stride[s][status] += 1
        by_severity[p.severity][status] += 1
    return counts, by_threat, dict(sorted(by_target.items())), by_stride, by_severity


def _link(ref: Any, state: MitigationState) -> Link:
    return Link(ref.id, ref.role, state.strength, state.verified, state.declared, state.drift, state.holds_at)


def nothing_assessed(catalog: Catalog, pairs: list[Pair]) -> str | None:
    """Why nothing was assessed, or None: an empty catalog must never read as full coverage."""
    if not catalog.threats:
        return "the catalog has no threats"
    if not pairs:
        return "no threat lands on the model"
    if all(p.status == FALSE_POSITIVE for p in pairs):
        return "every (threat, target) pair is marked a false positive"
    return None


def coverage_ratio(counts: Mapping[str, int]) -> float:
    """(mitigated + accepted) / (pairs - false positives); partial counts as not covered. With
    nothing assessed it is 0, never 100% (the summary says why nothing was assessed)."""
    total = sum(counts.values()) - counts.get(FALSE_POSITIVE, 0)
    if total <= 0:
        return 0.0
    return round((counts.get(MITIGATED, 0) + counts.get(ACCEPTED, 0)) / total, 4)


def _decided(catalog: Catalog, mapping: Mapping[str, tuple[Target, ...]]) -> dict[tuple[str, str], int]:
    """Which decision applies to each (threat, target) pair; a decision that matches no pair,
    or two decisions on one pair, is an input error."""
    problems: list[Problem] = []
    decided: dict[tuple[str, str], int] = {}
    ids = TargetIds(mapping)
    for n, d in enumerate(catalog.decisions):
        hits = sorted(ids_matching(d.targets, ids[d.threat]))  # the mapping's order: by id
        w = catalog.locations.decision(n)
        if not hits:
            problems.append(Problem(w.file, w.line, w.col,
                                    f"decision on {d.threat} matches no (threat, target) pair",
                                    "targets of this threat: " + ", ".join(t.id for t in mapping.get(d.threat, ()))))
        for hit in hits:
            if (d.threat, hit) in decided:
                first = catalog.locations.decision(decided[(d.threat, hit)])
                problems.append(Problem(w.file, w.line, w.col, f"two decisions on ({d.threat}, {hit})",
                                        f"the other is at {first.file}:{first.line}"))
            decided[(d.threat, hit)] = n
    if problems:
        raise InputError(problems)
    return decided


def _decided_pair(catalog: Catalog, tid: str, target: Target, severity: str, applicable: tuple[str, ...],
                  decision: int, expired: bool, outcome: Outcome) -> Pair:
    d = catalog.decisions[decision]
    if d.decision == "mitigated":  # a bare claim: shown as claimed, never verified
        why = (f"claimed mitigated ({d.justification[:200]}), nothing checked; without the claim: {outcome.reason}")
        return Pair(tid, target, severity, MITIGATED, applicable, decision, CLAIMED, why)
    status = FALSE_POSITIVE if d.decision == "false_positive" else EXPIRED if expired else ACCEPTED
    why = (f"{status}: decision by {d.owner or 'an unnamed owner'}"
           + (f", expires {d.expires.isoformat()}" if d.expires else ", no expiry recorded" if d.decision == "accept" else "")
           + f"; without it: {outcome.reason}")
    return Pair(tid, target, severity, status, applicable, decision, "" if status == EXPIRED else DECIDED, why)


def _pairs(catalog: Catalog, mapping: Mapping[str, tuple[Target, ...]], states: Mapping[str, MitigationState],
           decided: Mapping[tuple[str, str], int], expired: tuple[int, ...]) -> list[Pair]:
    pairs: list[Pair] = []
    for tid, threat in catalog.threats.items():
        # Mitigations that apply on every target are combined once per threat, not per pair.
        everywhere = [ref for ref in threat.mitigations if ref.targets is None]
        everywhere_outcome = combine([_link(ref, states[ref.id]) for ref in everywhere])
        restricted = any(ref.targets is not None for ref in threat.mitigations)
        if restricted:
            ids = frozenset(t.id for t in mapping[tid])
            scoped = [None if ref.targets is None else ids_matching(ref.targets, ids) for ref in threat.mitigations]
        for target in mapping[tid]:
            refs, outcome = everywhere, everywhere_outcome
            if restricted:
                refs = [ref for ref, on in zip(threat.mitigations, scoped, strict=True) if on is None or target.id in on]
                outcome = combine([_link(ref, states[ref.id]) for ref in refs])
            applicable = tuple(ref.id for ref in refs)
            decision = decided.get((tid, target.id))
            if decision is not None:
                pairs.append(_decided_pair(catalog, tid, target, threat.severity, applicable, decision,
                                           decision in expired, outcome))
            else:
                pairs.append(_pair(tid, target, threat.severity, outcome.status, applicable, None, outcome.basis,
                                   outcome.reason))
    return pairs


def assess(model: Model, catalog: Catalog, mapping: Mapping[str, tuple[Target, ...]],
           evidence: Mapping[str, tuple[EvidenceResult, ...]], policy: Policy,
           today: dt.date, source_label: str | None = None,
           warnings: tuple[Problem, ...] = ()) -> Assessment:
    states = {mid: mitigation_state(mid, m.status, evidence.get(mid, ()))
              for mid, m in catalog.mitigations.items()}
    decided = _decided(catalog, mapping)
    expired = tuple(n for n, d in enumerate(catalog.decisions)
                    if d.decision == "accept" and d.expires is not None and d.expires < today)
    pairs = _pairs(catalog, mapping, states, decided, expired)

    counts, by_threat, by_target, by_stride, by_severity = _tally(pairs, catalog)
    verified = sum(p.status == MITIGATED and p.basis == VERIFIED for p in pairs)
    nothing = nothing_assessed(catalog, pairs)
    summary = {"threats": len(catalog.threats), "pairs": len(pairs),
               **{SUMMARY_KEY[s]: counts[s] for s in STATUSES},
               "mitigated_verified": verified, "mitigated_claimed": counts[MITIGATED] - verified,
               "coverage": coverage_ratio(counts),
               "verified_coverage": coverage_ratio({**counts, MITIGATED: verified}),
               "assessed": nothing is None, "nothing_assessed": nothing}

    drift = tuple(sorted(mid for mid, s in states.items() if s.drift))
    return Assessment(
        model=model, catalog=catalog, pairs=tuple(pairs), mitigation_states=MappingProxyType(states),
        summary=MappingProxyType(summary), by_threat=MappingProxyType(by_threat),
        by_target=MappingProxyType(by_target), by_stride=MappingProxyType(by_stride),
        by_severity=MappingProxyType(by_severity),
        expired_decisions=expired, drift=drift, today=today, source_label=source_label,
        warnings=warnings)


def open_by_risk(pairs: Iterable[Pair]) -> list[Pair]:
    """The pairs that leave risk open (unmitigated, expired, partial), the most residual risk
    first, then by threat and target: the order every open-pairs list uses."""
    return sorted((p for p in pairs if leaves_open(p.status)),
                  key=lambda p: (-RISK.index(residual_risk(p.severity, p.status)), p.threat, p.target.id))


def by_risk(pairs: Iterable[Pair]) -> list[Pair]:
    """Every pair in the same order (the spreadsheet export lists them all)."""
    return sorted(pairs, key=lambda p: (-RISK.index(residual_risk(p.severity, p.status)), p.threat, p.target.id))
