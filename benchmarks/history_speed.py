"""Replay of every firewall mitigation's evidence over b8596445..f5509576 (1,421 first-parent
commits): commits per second and evidence evaluations, incremental against the full evaluation
at every commit it replaces.

    THREATGRAPH_FIREWALL_REPO=../gh-aw-firewall python benchmarks/history_speed.py [--full]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def main() -> int:
    from threatgraph import pipeline, process
    from threatgraph.config import load_config
    from threatgraph.history import replay

    process.configure()
    firewall = os.environ.get("THREATGRAPH_FIREWALL_REPO")
    if not firewall:
        print("set THREATGRAPH_FIREWALL_REPO to a clone of github/gh-aw-firewall", file=sys.stderr)
        return 2
    mitigations = pipeline.load_inputs(load_config(REPO)).catalog.mitigations
    base, head = os.environ.get("HISTORY_BASE", "b8596445"), os.environ.get("HISTORY_HEAD", "f5509576")
    runs = {}
    for mode in (["incremental", "full"] if "--full" in sys.argv else ["incremental"]):
        t = time.perf_counter()
        h = replay(mitigations, Path(firewall), base, head, incremental=mode == "incremental")
        seconds = time.perf_counter() - t
        runs[mode] = {"seconds": round(seconds, 2), "commits": h.commits, "evaluations": h.evaluations,
                      "commits_per_second": round(h.commits / seconds, 1),
                      "flips": sum(len(t.flips) for t in h.timelines),
                      "items": sum(len(m.evidence) for m in mitigations.values())}
    print(json.dumps({"range": f"{base}..{head}", **runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
