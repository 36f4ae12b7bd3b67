"""`all` / `any`: combinations of evidence items."""

from __future__ import annotations

from typing import Any

from threatgraph.evidence.base import ERROR, FAIL, PASS, EvidenceKind, EvidenceResult, Runner
from threatgraph.evidence.source import SourceTree


def combine(kind: str, results: list[EvidenceResult]) -> str:
    states = {r.result for r in results}
    if kind == "all":
        return FAIL if FAIL in states else ERROR if ERROR in states else PASS
    return PASS if PASS in states else ERROR if ERROR in states else FAIL


def _run(kind: str, item: dict[str, Any], source: SourceTree, runner: Runner) -> EvidenceResult:
    children = tuple(runner.run(sub) for sub in item["items"])
    state = combine(kind, list(children))
    lead = next((c for c in children if c.result == state), children[0])
    return EvidenceResult(state, kind, item.get("proves", ""), lead.file, lead.line,
                          f"{sum(c.result == PASS for c in children)}/{len(children)} items pass", children)


_ITEMS = {"items": {"type": "array", "items": {"$ref": "#/$defs/evidence"}, "minItems": 1}}
ALL = EvidenceKind("all", "every item passes", _ITEMS, {}, lambda i, s, r: _run("all", i, s, r))
ANY = EvidenceKind("any", "at least one item passes", _ITEMS, {}, lambda i, s, r: _run("any", i, s, r))
