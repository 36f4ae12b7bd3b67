"""The catalog's vocabulary, declared once: the loader validates with these models and the
JSON Schemas under schemas/ are generated from them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=100)]
Text = Annotated[str, StringConstraints(max_length=20_000)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]

Severity = Literal["critical", "high", "medium", "low", "info"]
Level = Literal["high", "medium", "low"]
StrideCategory = Literal["spoofing", "tampering", "repudiation", "information_disclosure",
                         "denial_of_service", "elevation_of_privilege"]
MitigationStatus = Literal["implemented", "partial", "planned", "absent", "not-applicable"]
MitigationType = Literal["prevent", "detect", "respond", "recover", "limit"]


def _short_refs(value: Any) -> Any:
    """`mitigations: [M-1]` is short for `mitigations: [{id: M-1}]`."""
    if isinstance(value, list):
        return [{"id": v} if isinstance(v, str) else v for v in value]
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class References(_Strict):
    """External identifiers and links that explain a threat or control."""

    cwe: list[Annotated[str, StringConstraints(pattern=r"^CWE-\d+$")]] = []
    capec: list[Annotated[str, StringConstraints(pattern=r"^CAPEC-\d+$")]] = []
    attack: list[Annotated[str, StringConstraints(pattern=r"^T\d{4}(\.\d{3})?$")]] = Field(
        default=[], description="MITRE ATT&CK technique ids, e.g. T1071.004")
    links: list[Annotated[str, StringConstraints(max_length=2000)]] = []
    notes: list[Text] = Field(default=[], description="where the threat comes from, e.g. a review finding")

    def linked(self) -> list[tuple[str, str]]:
        """(id, URL at MITRE) for every CWE, CAPEC and ATT&CK id, in that order."""
        return ([(r, f"https://cwe.mitre.org/data/definitions/{r.split('-')[1]}.html") for r in self.cwe]
                + [(r, f"https://capec.mitre.org/data/definitions/{r.split('-')[1]}.html") for r in self.capec]
                + [(r, f"https://attack.mitre.org/techniques/{r.replace('.', '/')}/") for r in self.attack])


class MitigationRef(_Strict):
    """A mitigation that addresses a threat, optionally only on some of its targets, with what it
    does against this threat's technique (threatgraph.defence: prevents, layer, detects)."""

    id: Ident
    role: Literal["prevents", "layer", "detects"] = Field(
        default="layer", description="prevents: stops this technique on its own; layer (default): one of several "
        "defences that stop it together (all must hold); detects: notices it after the fact, never mitigates")
    targets: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = Field(
        default=None, description="only these target ids (glob patterns allowed); default: all")


class Threat(_Strict):
    id: Ident
    title: Title
    description: Text = ""
    stride: list[StrideCategory] = Field(min_length=1)
    severity: Severity
    likelihood: Level | None = None
    impact: Level | None = None
    references: References = References()
    tags: list[Ident] = []
    applies_to: list[dict[str, Any]] = Field(
        min_length=1, description="selectors: each item is {flows: selector} or {elements: selector}")
    mitigations: list[MitigationRef] = []
    attacker: Literal["entry_points", "other"] = Field(
        default="entry_points", description="who carries it out: the attacker at the model's entry points (the "
        "default; the threat extends that attacker's reach in attack paths), or someone else, such as root on the "
        "host or an on-path adversary (it does not)")

    @field_validator("mitigations", mode="before")
    @classmethod
    def _short_refs(cls, value: Any) -> Any:
        return _short_refs(value)


class Decision(_Strict):
    """A reviewed verdict on (threat, target) pairs: an accepted risk, a false positive, or a
    bare claim that the pair is mitigated (what a pytm `Finding` response says; it counts as
    claimed, never verified, because nothing is checked)."""

    threat: Ident
    targets: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default=["*"], description="target ids; glob patterns allowed; default: every target")
    decision: Literal["accept", "false_positive", "mitigated"]
    owner: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    justification: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    expires: dt.date | None = Field(default=None, description="required for accept: when it must be reviewed")
    decided: dt.date | None = None
    references: References = References()


Nist = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-\d{1,2}(\(\d{1,2}\))?$")]
Iso = Annotated[str, StringConstraints(pattern=r"^A\.[5-8]\.\d{1,2}$")]
Asvs = Annotated[str, StringConstraints(pattern=r"^V\d{1,2}\.\d{1,2}\.\d{1,2}$")]
Cis = Annotated[str, StringConstraints(pattern=r"^\d{1,2}\.\d{1,2}(\.\d{1,2})?$")]


class Compliance(_Strict):
    """The framework controls a mitigation implements, by framework (see vocabulary.FRAMEWORKS)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True)

    nist_800_53: list[Nist] = Field(default=[], alias="nist-800-53",
                                    description="NIST SP 800-53 Rev. 5 controls, e.g. SC-7, SC-7(5), AC-4")
    iso_27001_2022: list[Iso] = Field(default=[], alias="iso-27001-2022",
                                      description="ISO/IEC 27001:2022 Annex A controls, e.g. A.8.20")
    asvs_4: list[Asvs] = Field(default=[], alias="asvs-4",
                               description="OWASP ASVS 4.0 requirements, e.g. V14.2.1")
    cis_docker: list[Cis] = Field(default=[], alias="cis-docker",
                                  description="CIS Docker Benchmark v1.6.0 recommendations, e.g. 5.3")

    @field_validator("nist_800_53", "iso_27001_2022", "asvs_4", "cis_docker", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        for v in value if isinstance(value, list) else []:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                raise ValueError(f"control id {v!r} was read by YAML as a number (and 5.10 as 5.1): "
                                 "quote each id as the framework writes it, e.g. ['5.10', '5.3']")
        return value

    def by_framework(self) -> dict[str, tuple[str, ...]]:
        """Framework id -> its control ids, frameworks with none left out."""
        return {name: tuple(getattr(self, field)) for field, name in
                (("nist_800_53", "nist-800-53"), ("iso_27001_2022", "iso-27001-2022"), ("asvs_4", "asvs-4"),
                 ("cis_docker", "cis-docker")) if getattr(self, field)}


class Mitigation(_Strict):
    id: Ident
    title: Title
    description: Text = ""
    type: MitigationType = "prevent"
    status: MitigationStatus
    owner: Annotated[str, StringConstraints(max_length=200)] | None = None
    evidence: list[dict[str, Any]] = Field(
        default=[], description="machine-checkable proof in the target's source")
    references: References = References()
    tags: list[Ident] = []
    compliance: Compliance = Field(default=Compliance(), description="the framework controls this mitigation implements")


class Amendment(_Strict):
    """Changes to a threat defined elsewhere (a pack's, usually): its severity, likelihood or
    impact, and mitigations or tags added to it."""

    id: Ident
    severity: Severity | None = None
    likelihood: Level | None = None
    impact: Level | None = None
    tags: list[Ident] = []
    mitigations: list[MitigationRef] = []

    @field_validator("mitigations", mode="before")
    @classmethod
    def _short_refs(cls, value: Any) -> Any:
        return _short_refs(value)


class NotApplicable(_Strict):
    """STRIDE categories that cannot happen to these elements or flows, and why: the explicit
    answer that makes a STRIDE-per-element cell considered without a threat. Each target is
    named (no patterns), so no blanket answer hides what was never looked at."""

    targets: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(min_length=1)
    stride: list[StrideCategory] = Field(min_length=1)
    owner: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    justification: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class ThreatFile(_Strict):
    """A file under threats/: threats, the decisions taken on them, and changes to threats of
    an included pack (`exclude` drops them by id, `amend` adjusts them)."""

    threats: list[Threat] = []
    decisions: list[Decision] = []
    exclude: list[Ident] = Field(default=[], description="ids of pack threats this project does not assess")
    amend: list[Amendment] = Field(default=[], description="severity, mitigations or tags for threats defined elsewhere")
    not_applicable: list[NotApplicable] = Field(
        default=[], description="STRIDE categories that cannot happen to named elements or flows, with why")


class MitigationFile(_Strict):
    """A file under mitigations/."""

    mitigations: list[Mitigation] = []
