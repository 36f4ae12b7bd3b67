"""Run one benchmark stage in this (fresh) process and print its time and peak memory as JSON.

    python benchmarks/stage.py STAGE PROJECT_ROOT

Prerequisites of a stage run first, untimed; only the stage itself is timed. Peak memory is
the process's peak resident set size after the stage (`ru_maxrss`), so it includes the
prerequisites: the figure that matters for "will it fit"."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

STAGES = ("tg_load", "tg_catalog", "tg_mapping", "tg_coverage", "tg_evidence", "tg_analysis", "tg_report",
          "tg_dot", "tg_svg", "tg_site", "pytm_construct", "pytm_resolve", "pytm_report", "pytm_dfd")


def _peak_mb() -> float:
    """This process's own peak resident memory. Linux's ru_maxrss carries over fork and exec
    (it would report run.py's memory for a small stage); VmHWM belongs to this program's own
    memory map, made new at exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(stage: str, root: Path) -> dict:
    if stage.startswith("pytm_"):
        return _pytm(stage, root)
    import datetime

    import pytm  # noqa: F401  (imported before timing, as in the pytm stages: the same cost for both)

    from threatgraph.analysis.run import analyse
    from threatgraph.assess import assess
    from threatgraph.catalog.loader import load_catalog
    from threatgraph.config import load_config
    from threatgraph.evidence.runner import run_evidence
    from threatgraph.evidence.source import DirSource
    from threatgraph.evidence.spec import validate_item
    from threatgraph.mapping import map_threats
    from threatgraph.model.loader import load_model

    cfg = load_config(root)
    if stage == "tg_load":
        from threatgraph.model import loader

        spent = {"snapshot": 0.0}
        real = loader._snapshot

        def timed_snapshot(*args, **kwargs):  # threatgraph's own share of loading (the rest is pytm's)
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent["snapshot"] += time.perf_counter() - t

        loader._snapshot = timed_snapshot
        # The whole load as `check` runs it (the model in a child process), then the snapshot's
        # share measured on an in-process load of the same model.
        secs, _ = _timed(lambda: load_model(cfg.model, cfg.root))
        loader.load_model_here(cfg.model, cfg.root)
        return {"seconds": secs, "snapshot": spent["snapshot"]}
    model = load_model(cfg.model, cfg.root).model

    def catalog():
        return load_catalog(cfg.path(cfg.threats), cfg.path(cfg.mitigations), model, cfg.root, validate_item)

    if stage == "tg_catalog":
        secs, _ = _timed(catalog)
        return {"seconds": secs}
    cat = catalog()
    if stage == "tg_mapping":
        secs, _ = _timed(lambda: map_threats(model, cat))
        return {"seconds": secs}
    mapping = map_threats(model, cat)
    if stage == "tg_evidence":
        secs, _ = _timed(lambda: run_evidence(cat.mitigations, DirSource(cfg.path(cfg.source))))
        return {"seconds": secs}
    evidence = run_evidence(cat.mitigations, DirSource(cfg.path(cfg.source)))
    if stage == "tg_coverage":
        secs, _ = _timed(lambda: assess(model, cat, mapping, evidence, cfg.policy, datetime.date(2026, 1, 1)))
        return {"seconds": secs}
    a = assess(model, cat, mapping, evidence, cfg.policy, datetime.date(2026, 1, 1))
    if stage == "tg_analysis":
        def full():
            an = analyse(a)
            return an.paths  # attack paths are computed lazily; include them
        secs, _ = _timed(full)
        return {"seconds": secs}
    from dataclasses import replace

    a = replace(a, analysis=analyse(a))
    if stage == "tg_report":
        from threatgraph.render import json_report, markdown

        secs, _ = _timed(lambda: (json_report.render(a), markdown.render(a)))
        return {"seconds": secs}
    from threatgraph.render import svg
    from threatgraph.site import pages as site_pages

    sources: dict[str, str] = {}

    def collect(name: str, source: str) -> str:
        sources[name] = source
        return ""

    if stage == "tg_dot":
        secs, _ = _timed(lambda: site_pages.SiteWriter(a, collect).generate())
        return {"seconds": secs, "diagrams": len(sources)}
    site_pages.SiteWriter(a, collect).generate()
    if stage == "tg_svg":
        secs, _ = _timed(lambda: [svg.render_svg(src) for src in sources.values()])
        return {"seconds": secs, "diagrams": len(sources), "renderer": svg.pick("auto")}
    import tempfile

    from threatgraph import site

    tmp = Path(tempfile.mkdtemp(prefix="tg-bench-site-"))
    site.write_sources(a, tmp / "src", None)
    secs, _ = _timed(lambda: site.build(tmp / "src", tmp / "out"))
    pages = len(list((tmp / "out").glob("*.html")))
    return {"seconds": secs, "pages": pages}


def _pytm(stage: str, root: Path) -> dict:
    import importlib.util

    import pytm  # noqa: F401  (untimed, as in threatgraph's load stage)

    def construct():
        spec = importlib.util.spec_from_file_location("pytm_model", root / "model.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.tm

    if stage == "pytm_construct":
        secs, _ = _timed(construct)
        return {"seconds": secs}
    tm = construct()
    if stage == "pytm_resolve":
        secs, _ = _timed(tm.resolve)
        return {"seconds": secs, "findings": sum(len(e.findings) for e in tm._elements)}
    if stage == "pytm_report":
        tm.resolve()
        template = str(Path(__file__).with_name("pytm_template.md"))
        secs, _ = _timed(lambda: tm.report(template))
        return {"seconds": secs}
    if stage == "pytm_dfd":
        secs, out = _timed(lambda: tm.dfd())
        return {"seconds": secs}
    raise SystemExit(f"unknown stage {stage}")


if __name__ == "__main__":
    stage, root = sys.argv[1], Path(sys.argv[2])
    # Every stage, threatgraph's and pytm's alike, runs under the process settings of a
    # threatgraph command (garbage-collector threshold, pydantic plugins off), so a ratio
    # compares the work each tool does, not the settings it ran under.
    from threatgraph import process

    process.configure()
    sys.setrecursionlimit(10_000)
    try:
        result = run(stage, root)
        result["ok"] = True
    except MemoryError:
        result = {"ok": False, "error": "MemoryError"}
    except RecursionError:
        result = {"ok": False, "error": "RecursionError"}
    result["peak_mb"] = round(_peak_mb(), 1)
    print(json.dumps(result))
