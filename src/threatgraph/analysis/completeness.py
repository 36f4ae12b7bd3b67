"""STRIDE per element: which kinds of threat were considered for each element and flow.

For every in-scope element and every flow, the STRIDE categories that apply to its kind (the
table in vocabulary.STRIDE_PER_KIND, overridable per project) are cells; a cell is considered
when a threat of that category lands on the target, or when a `not_applicable` entry names the
target and the category with an owner and a reason. What is left is what nobody looked at:
the list a reviewer wants first, and what `require_stride_per_element` gates on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from threatgraph.assess import Assessment
from threatgraph.rows import Row
from threatgraph.vocabulary import PROMPT_TAG, STRIDE, STRIDE_PER_KIND

THREATS, NOT_APPLICABLE, NOT_CONSIDERED = "threats", "not_applicable", "not_considered"


@dataclass(frozen=True)
class Cell(Row):
    target: str
    kind: str  # the row of the table it was judged by: an element kind, datastore_log, or flow
    category: str
    state: str  # threats, not_applicable or not_considered
    threats: tuple[str, ...] = ()
    note: str = ""  # the not-applicable justification, with its owner


@dataclass(frozen=True)
class Completeness(Row):
    cells: tuple[Cell, ...]
    considered: int
    total: int
    ratio: float

    def open_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.state == NOT_CONSIDERED]


def row_of(a: Assessment, ident: str) -> str:
    """Which row of the table a target is judged by."""
    if ident in a.model.flows:
        return "flow"
    e = a.model.elements[ident]
    if e.kind == "datastore" and (e.attributes.get("storesLogData") is True or "log" in e.tags):
        return "datastore_log"
    return e.kind


def completeness(a: Assessment, table: Mapping[str, tuple[str, ...]] = STRIDE_PER_KIND) -> Completeness:
    threats: dict[tuple[str, str], set[str]] = {}
    prompts: dict[tuple[str, str], set[str]] = {}  # a prompt is a question, not an answer
    kinds = {tid: (prompts if PROMPT_TAG in t.tags else threats, t.stride) for tid, t in a.catalog.threats.items()}
    for p in a.pairs:
        into, stride = kinds[p.threat]
        for category in stride:
            found = into.get((p.target.id, category))
            if found is None:
                into[(p.target.id, category)] = {p.threat}
            else:
                found.add(p.threat)
    answered: dict[tuple[str, str], str] = {}
    for entry in a.catalog.not_applicable:
        for target in entry.targets:
            for category in entry.stride:
                answered.setdefault((target, category), f"{entry.justification} ({entry.owner})")
    targets = [e.id for e in a.model.elements.values() if e.in_scope] + list(a.model.flows)
    cells = []
    for ident in sorted(targets):
        row = row_of(a, ident)
        for cat in (c for c in STRIDE if c in table.get(row, ())):
            found = threats.get((ident, cat))
            if found:
                cells.append(Cell(ident, row, cat, THREATS, tuple(sorted(found))))
            elif (ident, cat) in answered:
                cells.append(Cell(ident, row, cat, NOT_APPLICABLE, note=answered[(ident, cat)]))
            else:
                cells.append(Cell(ident, row, cat, NOT_CONSIDERED, tuple(sorted(prompts.get((ident, cat), ())))))
    considered = sum(c.state != NOT_CONSIDERED for c in cells)
    return Completeness(tuple(cells), considered, len(cells), round(considered / len(cells), 4) if cells else 1.0)
