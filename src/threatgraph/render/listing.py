"""`threatgraph list ...`: the ids an architect types into selectors and catalogs."""

from __future__ import annotations

from typing import Any

from threatgraph.catalog.loader import Catalog
from threatgraph.model.types import Model
from threatgraph.render.escape import visible

WHAT = ("threats", "mitigations", "elements", "flows", "boundaries", "data")


def rows(what: str, model: Model, catalog: Catalog) -> list[dict[str, Any]]:
    if what == "threats":
        return [{"id": k, "severity": t.severity, "stride": list(t.stride), "title": t.title}
                for k, t in catalog.threats.items()]
    if what == "mitigations":
        return [{"id": k, "status": mit.status, "type": mit.type, "title": mit.title}
                for k, mit in catalog.mitigations.items()]
    if what == "elements":
        return [{"id": k, "kind": e.kind, "boundary": e.boundaries[0] if e.boundaries else None, "name": e.name}
                for k, e in model.elements.items()]
    if what == "flows":
        return [{"id": k, "source": f.source, "sink": f.sink, "protocol": f.protocol, "port": f.port,
                 "crosses": list(f.crosses), "attack": f.attack, "name": f.name}
                for k, f in model.flows.items()]
    if what == "boundaries":
        return [{"id": k, "parent": b.parent, "name": b.name} for k, b in model.boundaries.items()]
    return [{"id": k, "classification": d.classification, "credentials": d.is_credentials, "name": d.name}
            for k, d in model.data.items()]


def render_text(items: list[dict[str, Any]]) -> str:
    if not items:
        return "(none)\n"
    keys = list(items[0])
    cells = [[visible(", ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v)))
              for v in (row[k] for k in keys)] for row in items]
    widths = [min(40, max(len(k), *(len(r[i]) for r in cells))) for i, k in enumerate(keys)]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)).rstrip()]
    for r in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"
