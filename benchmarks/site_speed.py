"""Time the whole firewall build (reports, every diagram, the mkdocs site), per stage.

    python benchmarks/site_speed.py [--runs 3] [--renderer auto|dot|wasm]

Each run is a fresh process running `threatgraph build` (cold: interpreter, imports, model,
catalogs); stage times come from the same runs. Prints min / median / max.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = """
import json, sys
from pathlib import Path
from threatgraph import build
from threatgraph.config import load_config
r = build.build_all(load_config(Path(sys.argv[1])), Path(sys.argv[2]), use_evidence=False, renderer=sys.argv[3])
print(json.dumps({**r.timings, "diagrams": r.diagrams}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--renderer", default="auto")
    args = ap.parse_args()
    print(f"machine: {platform.machine()} python {platform.python_version()}, renderer {args.renderer}")
    total, stages = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", STAGES, str(ROOT), tmp, args.renderer],
                                 capture_output=True, text=True, check=True).stdout
            total.append(time.perf_counter() - t)
            stages.append(json.loads(out.strip().splitlines()[-1]))
    print(f"{'whole build (cold)':<22} min {min(total):.2f}s  median {statistics.median(total):.2f}s  max {max(total):.2f}s")
    for key in ("check", "reports", "diagrams+pages", "mkdocs"):
        vals = [s[key] for s in stages]
        print(f"{key:<22} min {min(vals):.2f}s  median {statistics.median(vals):.2f}s  max {max(vals):.2f}s")
    print(f"diagrams drawn: {stages[0]['diagrams']}")


if __name__ == "__main__":
    main()
