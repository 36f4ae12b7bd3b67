"""`threatgraph build`: reports, every diagram (DOT and SVG) and the built site into one
folder, built beside it and swapped in only when everything succeeded."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threatgraph import pipeline, process, site
from threatgraph.config import Config
from threatgraph.errors import Problem
from threatgraph.fsutil import StagedDir, write_new
from threatgraph.render import svg
from threatgraph.render.reports import report_files
from threatgraph.site.publish import publish


@dataclass(frozen=True)
class BuildResult:
    passed: bool
    coverage: float
    violations: tuple[Any, ...]  # threatgraph.policy.Violation
    warnings: tuple[Problem, ...]
    diagrams: int
    timings: dict[str, float]


def build_all(config: Config, out: Path, use_evidence: bool = True, renderer: str = "auto",
              with_site: bool = True, log: Callable[[str], None] = lambda s: None,
              since: str | None = None, progress: Callable[[str], None] = lambda s: None,
              mkdocs: site.Mkdocs | None = None) -> BuildResult:
    """Everything, staged; `progress` hears each stage as it starts ("" when done). `mkdocs`:
    the site's workers, when the caller started them (before importing this module); this
    function owns them from here, stopping them if it fails."""
    timings: dict[str, float] = {}
    with ExitStack() as stack:
        # started first, so mkdocs' imports run on another core while the model is checked
        if mkdocs is not None:
            stack.enter_context(mkdocs)  # ended with the build; left idle without the site
            mkdocs = mkdocs if with_site else None
        elif with_site:
            mkdocs = stack.enter_context(site.Mkdocs())
        t = time.perf_counter()
        progress("checking the model, the catalogs and the evidence")
        with process.while_waiting(svg.COMPILE_WHILE_WAITING_AFTER, svg.prepare_while_waiting(renderer)):
            a = pipeline.check(config, use_evidence=use_evidence)
        timings["check"] = time.perf_counter() - t
        src = pipeline.source_path(config)
        if since and src is not None:
            from threatgraph.history import attach

            t = time.perf_counter()
            progress(f"replaying the source's history since {since}")
            a = attach(a, src, since, config.source_ref)
            timings["history"] = time.perf_counter() - t
        with StagedDir(out) as stage:
            try:
                def reports() -> None:
                    for name, content in report_files(a).items():
                        write_new(stage / "reports" / name, content)

                t = time.perf_counter()
                if mkdocs is not None:
                    progress("building the site (mkdocs) while the diagrams are drawn and the reports written")
                    diagrams = publish(a, stage / ".site-src", stage / "site", site.site_folder(config), renderer,
                                       mkdocs, stage / "diagrams", meanwhile=reports)
                    timings["site+diagrams+reports"] = time.perf_counter() - t
                else:
                    progress("drawing the diagrams and writing the reports")
                    diagrams = site.write_sources(a, stage / ".site-src", site.site_folder(config), renderer)
                    diagrams.write(stage / "diagrams")
                    reports()
                    timings["diagrams+reports"] = time.perf_counter() - t
                shutil.rmtree(stage / ".site-src")
            except BaseException:
                if mkdocs is not None:  # its workers write into the staging folder: stopped before it goes
                    mkdocs.stop()
                raise
    progress("")
    log(f"wrote {out}/reports (coverage.md, coverage.json), {out}/diagrams ({len(diagrams.items)} DOT+SVG)"
        + (f", {out}/site (open {out}/site/index.html)" if with_site else ""))
    return BuildResult(a.passed, float(a.summary["coverage"]), a.violations, a.warnings, len(diagrams.items),
                       {k: round(v, 3) for k, v in timings.items()})
