"""The model's threatgraph `Declarations` (invariants, entry points, targets), found among its
modules and resolved to ids, every unknown reference reported at once."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from threatgraph.errors import InputError, Problem, did_you_mean
from threatgraph.location import Location
from threatgraph.model.bindings import _binding_lines, _by_file, _module_file


def find_declarations(modules: list[ModuleType], root: Path, shown: str, ids: dict[int, str],
                  elements: dict[str, Any], boundaries: dict[str, Any], flows: dict[str, Any]) -> Any:
    """The model's `Declarations`, with every reference resolved to an id (or InputError)."""
    from dataclasses import replace

    from threatgraph.declare import Declarations, Resolved

    found: list[tuple[Any, str, int]] = []
    for m in _by_file(modules):
        file = _module_file(m, root, shown)
        lines = _binding_lines(m)
        for name, value in vars(m).items():
            if isinstance(value, Declarations) and all(value is not f[0] for f in found):
                found.append((value, file, lines.get(name, 1)))
    if not found:
        return None
    if len(found) > 1:
        raise InputError([Problem(f, ln, 1, "the model binds more than one threatgraph Declarations",
                                  "declare invariants, entry points and targets in one place") for _, f, ln in found])
    decl, file, line = found[0]
    problems: list[Problem] = []

    def resolve(ref: Any, allowed: dict[str, Any], what: str) -> str | None:
        ident = ref if isinstance(ref, str) else ids.get(id(ref))
        if ident is None or ident not in allowed:
            shown_ref = ref if isinstance(ref, str) else getattr(ref, "name", repr(ref))
            problems.append(Problem(file, line, 1, f"declarations name {what} {shown_ref!r}, which is not one in the model",
                                    did_you_mean(str(shown_ref), allowed)))
            return None
        return ident

    def many(refs: Any, allowed: dict[str, Any], what: str) -> tuple[str, ...]:
        return tuple(i for i in (resolve(r, allowed, what) for r in refs) if i is not None)

    invariants = []
    for inv in decl.invariants:
        if not hasattr(inv, "kind"):
            problems.append(Problem(file, line, 1, f"{inv!r} is not an invariant",
                                    "use always_through(), never_reaches() or crossing_flows()"))
            continue
        invariants.append(replace(
            inv, sources=many(inv.sources, elements, "element"), targets=many(inv.targets, elements, "element"),
            via=many(inv.via, elements, "element"),
            boundary=resolve(inv.boundary, boundaries, "boundary") if inv.boundary is not None else None,
            exceptions=many(inv.exceptions, flows, "flow")))
    resolved = Resolved(tuple(invariants), many(decl.entry_points, elements, "element"),
                        many(decl.targets, elements, "element"), int(decl.k_paths), Location(file, line))
    if problems:
        raise InputError(problems)
    return resolved
