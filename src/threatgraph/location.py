"""One location type for everything a user wrote: a catalog entry, a selector, an evidence
item, a decision. Renderers and policy rules ask the catalog for a typed location instead of
building string-tuple keys, so a misspelt key is a type error rather than a silent '?'."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


UNKNOWN = Location("?", 1)


def _frozen(d: Mapping[str, Location]) -> Mapping[str, Location]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class CatalogLocations:
    """Where each catalog entry and each of its parts was written."""

    threats: Mapping[str, Location] = field(default_factory=dict)
    mitigations: Mapping[str, Location] = field(default_factory=dict)
    decisions: tuple[Location, ...] = ()
    selectors: Mapping[str, tuple[Location, ...]] = field(default_factory=dict)  # threat id -> applies_to items
    references: Mapping[tuple[str, str], Location] = field(default_factory=dict)  # (threat, mitigation)
    evidence: Mapping[str, tuple[Location, ...]] = field(default_factory=dict)  # mitigation id -> items
    not_applicable: tuple[Location, ...] = ()

    def threat(self, tid: str) -> Location:
        return self.threats.get(tid, UNKNOWN)

    def mitigation(self, mid: str) -> Location:
        return self.mitigations.get(mid, UNKNOWN)

    def decision(self, n: int) -> Location:
        return self.decisions[n] if 0 <= n < len(self.decisions) else UNKNOWN

    def selector(self, tid: str, i: int) -> Location:
        items = self.selectors.get(tid, ())
        return items[i] if 0 <= i < len(items) else self.threat(tid)

    def reference(self, tid: str, mid: str) -> Location:
        return self.references.get((tid, mid), self.threat(tid))

    def evidence_item(self, mid: str, k: int) -> Location:
        items = self.evidence.get(mid, ())
        return items[k] if 0 <= k < len(items) else self.mitigation(mid)

    def not_applicable_entry(self, n: int) -> Location:
        return self.not_applicable[n] if 0 <= n < len(self.not_applicable) else UNKNOWN

    def known(self, loc: Location) -> bool:
        return loc is not UNKNOWN and loc != UNKNOWN
