"""Time the firewall catalog's evidence checks against a checkout of the target.

    python benchmarks/evidence_speed.py PATH_TO_GH_AW_FIREWALL [--ref REV] [--runs 5]

Each run is a fresh process (`threatgraph check --format json`), so the figure includes
interpreter start, pytm import, model load and catalog validation; the evidence stage alone
is reported from an in-process run. Prints min / median / max over the runs.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("--ref")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    extra = ["--source", args.source] + (["--source-ref", args.ref] if args.ref else [])
    cmds = {"check (no evidence)": ["--no-evidence"], "check (with evidence)": extra}
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    for label, flags in cmds.items():
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "threatgraph", "check", "--format", "json", *flags],
                           cwd=ROOT, capture_output=True, check=False)
            times.append(time.perf_counter() - t)
        print(f"{label:<24} min {min(times):.3f}s  median {statistics.median(times):.3f}s  max {max(times):.3f}s")

    sys.path.insert(0, str(ROOT / "src"))
    from threatgraph import pipeline
    from threatgraph.config import load_config
    from threatgraph.evidence.runner import run_evidence
    from threatgraph.evidence.source import open_source

    inputs = pipeline.load_inputs(load_config(ROOT))
    stage = []
    for _ in range(args.runs):
        source = open_source(Path(args.source), args.ref)
        t = time.perf_counter()
        run_evidence(inputs.catalog.mitigations, source)
        stage.append(time.perf_counter() - t)
        print_reads = source.reads
        getattr(source, "close", lambda: None)()
    items = sum(len(m.evidence) for m in inputs.catalog.mitigations.values())
    print(f"{'evidence stage only':<24} min {min(stage):.3f}s  median {statistics.median(stage):.3f}s  "
          f"max {max(stage):.3f}s  ({items} items, {print_reads} files read once each)")


if __name__ == "__main__":
    main()
