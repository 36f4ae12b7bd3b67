"""The report files, written the same by `report` and `build`: name -> content."""

from __future__ import annotations

from threatgraph.assess import Assessment
from threatgraph.render import json_report, markdown


def report_files(a: Assessment) -> dict[str, str]:
    return {"coverage.json": json_report.render(a), "coverage.md": markdown.render(a)}
