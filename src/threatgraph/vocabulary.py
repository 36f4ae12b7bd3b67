"""Each vocabulary declared once: severities, STRIDE categories, pair statuses with their
rank. The catalog's types, the CLI's choices, the assessment, the diagrams, the site's CSS
classes and the matrices all derive from these, so no renderer keeps a private ordering."""

from __future__ import annotations

from collections.abc import Iterable

SEVERITIES = ("info", "low", "medium", "high", "critical")  # lowest first
STRIDE = ("spoofing", "tampering", "repudiation", "information_disclosure", "denial_of_service",
          "elevation_of_privilege")

# STRIDE per element (Microsoft's Threat Modeling Tool, Threat Dragon's "threats by type"): the
# categories that apply to each kind of element, and to flows. A data store that keeps logs
# (pytm's storesLogData, or the tag `log`) adds repudiation. A project overrides any row in
# [tool.threatgraph.stride]; boundaries are not elements here.
_ALL = STRIDE
STRIDE_PER_KIND: dict[str, tuple[str, ...]] = {
    "external_entity": ("spoofing", "repudiation"),
    "actor": ("spoofing", "repudiation"),
    "process": _ALL, "set_of_processes": _ALL, "server": _ALL, "lambda": _ALL, "llm": _ALL, "agent": _ALL,
    "asset": _ALL, "element": _ALL,
    "datastore": ("tampering", "information_disclosure", "denial_of_service"),
    "datastore_log": ("tampering", "repudiation", "information_disclosure", "denial_of_service"),
    "flow": ("tampering", "information_disclosure", "denial_of_service"),
}

PROMPT_TAG = "prompt"  # a threat that asks a question (the stride pack's): it never answers a cell

MITIGATED, PARTIAL, UNMITIGATED = "mitigated", "partially-mitigated", "unmitigated"
ACCEPTED, EXPIRED, FALSE_POSITIVE = "accepted", "accepted-expired", "false-positive"
# Least covered first: the order every "worst status" uses (a diagram node, a matrix cell).
STATUSES = (UNMITIGATED, EXPIRED, PARTIAL, MITIGATED, ACCEPTED, FALSE_POSITIVE)
# How a mitigated pair is shown when it rests on declarations only: never in the verified colour.
CLAIMED = "mitigated-claimed"
# How a diagram shows an attack edge the analysis proves blocked (a full-strength control holds).
BLOCKED, BLOCKED_CLAIMED = "blocked", "blocked-claimed"  # ... by a verified control, or by a claim
STATUS_RANK = {UNMITIGATED: 0, EXPIRED: 0, PARTIAL: 1, CLAIMED: 2, BLOCKED_CLAIMED: 2, MITIGATED: 3, BLOCKED: 3,
               ACCEPTED: 4, FALSE_POSITIVE: 5}
RISK = ("none", *SEVERITIES)  # none < info < low < medium < high < critical


def residual_risk(severity: str, status: str) -> str:
    """What is left of a pair's severity: all of it while open, one level less when partially
    mitigated, nothing when mitigated or a false positive (accepted risk is still risk)."""
    if status in (MITIGATED, FALSE_POSITIVE):
        return "none"
    if status == PARTIAL:
        return RISK[max(0, RISK.index(severity) - 1)]
    return severity
OPEN_STATUSES = frozenset({UNMITIGATED, EXPIRED})
NO_STATUS = "none"  # nothing mapped


def leaves_open(status: str) -> bool:
    """Unmitigated, expired or partially mitigated: risk the pair leaves open."""
    return status in OPEN_STATUSES or status == PARTIAL


def status_rank(status: str) -> int:
    return STATUS_RANK.get(status, len(STATUS_RANK) + 1)


def shown_status(status: str, basis: str) -> str:
    """The status as diagrams and the site colour it: a claimed-only mitigated pair is CLAIMED."""
    return CLAIMED if status == MITIGATED and basis == "claimed" else status


def worst_status(statuses: Iterable[str]) -> str:
    """The least covered of `statuses` (NO_STATUS when there are none)."""
    return min(statuses, key=status_rank, default=NO_STATUS)


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)

# Compliance frameworks a mitigation may map to (catalog.definitions.Compliance checks each id's form).
FRAMEWORKS = {"nist-800-53": "NIST SP 800-53 Rev. 5", "iso-27001-2022": "ISO/IEC 27001:2022 Annex A",
              "asvs-4": "OWASP ASVS 4.0", "cis-docker": "CIS Docker Benchmark v1.6.0"}
# A control's state, least covered first: it is as good as the least of the mitigations mapped to it.
CONTROL_STATES = ("drifted", "absent", "partial", "claimed", "verified", "not-applicable")

# Likelihood x impact -> severity: the overall-risk table of the OWASP Risk Rating Methodology
# (its "Note" is threatgraph's info). Shown beside a declared severity, warned about when they differ.
RISK_MATRIX = {("low", "low"): "info", ("medium", "low"): "low", ("high", "low"): "medium",
               ("low", "medium"): "low", ("medium", "medium"): "medium", ("high", "medium"): "high",
               ("low", "high"): "medium", ("medium", "high"): "high", ("high", "high"): "critical"}


def rated_severity(likelihood: str | None, impact: str | None) -> str | None:
    """The severity likelihood and impact give together, or None unless both are declared."""
    return RISK_MATRIX.get((likelihood, impact)) if likelihood and impact else None
