"""Time the graph analyses (invariants, attack paths, single points of failure, crossings) on
synthetic models of 1,000 and 10,000 elements. Model loading and assessment are done once and
not timed here (benchmarks/run.py covers them); each analysis run is timed several times.

    python benchmarks/analysis_speed.py [--sizes 1000 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from threatgraph import pipeline
    from threatgraph.analysis.run import analyse
    from threatgraph.config import load_config

    print(f"machine: {platform.machine()} python {platform.python_version()}")
    print("| elements | flows | pairs | analysis min | median | max | µs per (flow + pair) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = generate(n, Path(tmp) / "p")
            a = pipeline.check(load_config(root), use_evidence=False)
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                analyse(a)
                times.append(time.perf_counter() - t)
            med = statistics.median(times)
            print(f"| {n} | {len(a.model.flows)} | {len(a.pairs)} | {min(times):.3f}s | {med:.3f}s | "
                  f"{max(times):.3f}s | {med / (len(a.model.flows) + len(a.pairs)) * 1e6:.1f} |")


if __name__ == "__main__":
    main()
