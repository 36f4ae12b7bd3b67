"""The model's own evidence: proof, in the target's source, that an element or flow exists.

A model gives an element or flow `evidence=[...]` (the kinds mitigations use). threatgraph
checks the items with the catalogs' rules (located at the object's line in the model), runs them
against the same source as the mitigations, and reports the object **stale** when one stops
holding: the code that creates it is gone or moved, so the model no longer describes the
system there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threatgraph.errors import Problem
from threatgraph.evidence.base import ERROR, FAIL, EvidenceResult
from threatgraph.evidence.runner import run_items
from threatgraph.evidence.source import SourceTree
from threatgraph.evidence.spec import validate_item
from threatgraph.model.types import Model
from threatgraph.safeyaml import YamlDocument


def owners(model: Model) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """Every element and flow that carries evidence, by id."""
    out = {e.id: e.evidence for e in model.elements.values() if e.evidence}
    out.update({f.id: f.evidence for f in model.flows.values() if f.evidence})
    return dict(sorted(out.items()))


def validate(model: Model) -> list[Problem]:
    """Problems in the model's evidence items (errors and warnings), each at the line that
    declares its object."""
    problems: list[Problem] = []
    for ident, items in owners(model).items():
        target = model.target(ident)
        loc = target.location if target is not None else None
        doc = YamlDocument(loc.file if loc else model.file, list(items), {(): (loc.line if loc else 1, 1)})
        for k, item in enumerate(items):
            for p in validate_item(item, doc, (k,)):
                problems.append(Problem(p.file, p.line, p.col, f"{ident}: evidence item {k + 1}: {p.message}", p.hint,
                                        p.severity))
    return problems


def run(model: Model, source: SourceTree | None) -> Mapping[str, tuple[EvidenceResult, ...]]:
    return run_items(owners(model), source)


def failed(results: tuple[EvidenceResult, ...]) -> list[EvidenceResult]:
    """The items that no longer hold (a gap item is expected to fail)."""
    return [r for r in results if r.result in (FAIL, ERROR) and not r.gap]


def stale(results: Mapping[str, tuple[EvidenceResult, ...]]) -> tuple[str, ...]:
    """Objects whose evidence no longer holds."""
    return tuple(i for i, rs in results.items() if failed(rs))
