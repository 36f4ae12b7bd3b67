"""Run every mitigation's evidence against a source tree (or mark it unverified)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from threatgraph.catalog.definitions import Mitigation
from threatgraph.evidence.base import UNVERIFIED, EvidenceResult, Runner
from threatgraph.evidence.registry import KINDS
from threatgraph.evidence.source import SourceTree


def run_items(items: Mapping[str, Sequence[Mapping[str, Any]]], source: SourceTree | None,
              regex_timeout: float = 2.0) -> Mapping[str, tuple[EvidenceResult, ...]]:
    """Results per owner id (a mitigation, an element, a flow), in the order of its items."""
    out: dict[str, tuple[EvidenceResult, ...]] = {}
    runner = Runner(source, KINDS, regex_timeout) if source is not None else None
    for owner, owned in items.items():
        if runner is None:
            out[owner] = tuple(EvidenceResult(UNVERIFIED, item["kind"], item.get("proves", ""),
                                              item.get("path"), None, "no source given",
                                              gap=bool(item.get("gap", False)))
                               for item in owned)
        else:
            out[owner] = tuple(runner.run(dict(item)) for item in owned)
    return MappingProxyType(out)


def run_evidence(mitigations: Mapping[str, Mitigation], source: SourceTree | None,
                 regex_timeout: float = 2.0) -> Mapping[str, tuple[EvidenceResult, ...]]:
    """Results per mitigation id, in catalog order of its evidence items."""
    return run_items({mid: m.evidence for mid, m in mitigations.items()}, source, regex_timeout)
