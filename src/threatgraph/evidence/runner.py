"""Run every mitigation's evidence against a source tree (or mark it unverified)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from threatgraph.catalog.definitions import Mitigation
from threatgraph.evidence.base import UNVERIFIED, EvidenceResult, Runner
from threatgraph.evidence.registry import KINDS
from threatgraph.evidence.source import SourceTree


def run_evidence(mitigations: Mapping[str, Mitigation], source: SourceTree | None,
                 regex_timeout: float = 2.0) -> Mapping[str, tuple[EvidenceResult, ...]]:
    """Results per mitigation id, in catalog order of its evidence items."""
    out: dict[str, tuple[EvidenceResult, ...]] = {}
    runner = Runner(source, KINDS, regex_timeout) if source is not None else None
    for mid, mitigation in mitigations.items():
        if runner is None:
            out[mid] = tuple(EvidenceResult(UNVERIFIED, item["kind"], item.get("proves", ""),
                                            item.get("path"), None, "no source given",
                                            gap=bool(item.get("gap", False)))
                             for item in mitigation.evidence)
        else:
            out[mid] = tuple(runner.run(item) for item in mitigation.evidence)
    return MappingProxyType(out)
