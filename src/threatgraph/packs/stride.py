"""STRIDE-per-element prompts: one question per STRIDE category, landing on every element and
flow whose kind that category applies to (the project's STRIDE-per-element table). They fill
the completeness grid with questions instead of blanks; a cell answered only by a prompt still
counts as not considered, until a real threat or a `not_applicable` answer replaces it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threatgraph.catalog.definitions import Threat
from threatgraph.location import Location
from threatgraph.packs.base import Pack, PackContext
from threatgraph.vocabulary import PROMPT_TAG, STRIDE

QUESTIONS = {
    "spoofing": "Spoofing: can something pretend to be this, or stand in its place?",
    "tampering": "Tampering: can its code, data or messages be changed by someone who should not?",
    "repudiation": "Repudiation: can an action here be denied afterwards for want of a record?",
    "information_disclosure": "Information disclosure: can what it holds or carries reach someone who should not see it?",
    "denial_of_service": "Denial of service: can it be stopped, slowed or exhausted?",
    "elevation_of_privilege": "Elevation of privilege: can someone gain more rights through it than they were given?",
}
LABEL = "threatgraph-stride-pack"


def _applies(category: str, table: Mapping[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    kinds = sorted(k for k, cats in table.items() if category in cats and k not in ("flow", "datastore_log"))
    out: list[dict[str, Any]] = [{"elements": {"kind": kinds}}] if kinds else []
    if category in table.get("datastore_log", ()) and "datastore" not in kinds:
        out += [{"elements": {"kind": "datastore", "attribute": {"storesLogData": True}}},
                {"elements": {"kind": "datastore", "tag": "log"}}]
    if category in table.get("flow", ()):
        out.append({"flows": {"id": "*"}})
    return out


def load(context: PackContext) -> Pack:
    threats = []
    for n, category in enumerate(STRIDE, 1):
        applies = _applies(category, context.stride)
        if not applies:
            continue
        threat = Threat.model_validate({
            "id": f"STRIDE-{category.upper().replace('_', '-')}", "title": QUESTIONS[category],
            "description": "A prompt from threatgraph's STRIDE pack, not a finding: write the real threats of this "
                           "category for the targets that have them, answer `not_applicable` (with the reason) for "
                           "those that cannot, then drop the prompt with `exclude`.",
            "stride": [category], "severity": "info", "tags": [PROMPT_TAG], "applies_to": applies,
            "references": {"notes": ["STRIDE per element, as in Microsoft's Threat Modeling Tool"]},
        })
        threats.append((threat, Location(LABEL, n)))
    return Pack("stride", "1", tuple(threats))
