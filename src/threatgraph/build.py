"""`threatgraph build`: every output for a model into one folder, swapped in atomically."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from threatgraph import pipeline
from threatgraph.config import Config
from threatgraph.errors import Problem
from threatgraph.fsutil import StagedDir, write_atomic
from threatgraph.render import json_report, markdown


@dataclass(frozen=True)
class BuildResult:
    passed: bool
    coverage: float
    warnings: tuple[Problem, ...]


def build_all(config: Config, out: Path, use_evidence: bool = True,
              log: Callable[[str], None] = lambda s: None) -> BuildResult:
    a = pipeline.check(config, use_evidence=use_evidence)
    with StagedDir(out) as stage:
        write_atomic(stage / "reports" / "coverage.json", json_report.render(a))
        write_atomic(stage / "reports" / "coverage.md", markdown.render(a))
    log(f"wrote {out}/reports/coverage.json and coverage.md")
    return BuildResult(a.passed, float(a.summary["coverage"]), a.warnings)
