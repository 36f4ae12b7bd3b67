"""pytm's own threat library on identical work: threatgraph's compiled pytm pack against pytm's
`tm.resolve()`, on the same generated pytm models (tests/pytm_models.py). The two result sets
are asserted equal before anything is timed; each side is timed in a fresh process, three
rounds, median reported.

    python benchmarks/pytm_pack_speed.py [--sizes 50 200 800] [--rounds 3]

pytm side: run the model file, then `tm.resolve()` (timed: resolve alone, and the whole
process). threatgraph side: `pipeline.check` (model run in its child, pack compiled, selectors,
assessment and analysis; timed: from the constructed inputs, and the whole process).
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
sys.path.insert(0, str(ROOT))
from tests.pytm_models import random_model  # noqa: E402

PYTM = r'''
import json, runpy, sys, time
t0 = time.perf_counter()
ns = runpy.run_path(sys.argv[1])
from pytm import TM
tm = next(v for v in ns.values() if isinstance(v, TM))
names = {id(v): k for k, v in ns.items() if not k.startswith("_")}
t1 = time.perf_counter()
tm.resolve()
t2 = time.perf_counter()
print(json.dumps({"resolve": t2 - t1, "findings": sorted([f.threat_id, names[id(f.element)]] for f in tm.findings),
                  "excluded": len(tm.excluded_findings)}))
'''

OURS = r'''
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from threatgraph import pipeline
from threatgraph.config import load_config
cfg = load_config(Path(sys.argv[1]))
inputs = pipeline.load_inputs(cfg)
t1 = time.perf_counter()
a = pipeline.check(cfg, use_evidence=False, inputs=inputs)
t2 = time.perf_counter()
assumed = {n for n, d in enumerate(a.catalog.decisions) if d.justification.startswith("pytm Assumption")}
print(json.dumps({"check": t2 - t1, "load": t1 - t0,
                  "findings": sorted([p.threat, p.target.id] for p in a.pairs if p.decision not in assumed)}))
'''


def run(code: str, arg: Path) -> tuple[dict, float]:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code, str(arg)], capture_output=True, text=True, check=True)
    return json.loads(r.stdout), time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 800])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    print("| elements | flows | findings | pytm resolve() | threatgraph check | ratio | pytm process | "
          "threatgraph process | ratio |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "tm.py").write_text(random_model(7, elements=n, flows=2 * n))
            (root / "threats").mkdir()
            (root / "mitigations").mkdir()
            (root / "pyproject.toml").write_text('[tool.threatgraph]\nmodel = "tm.py"\npacks = ["pytm"]\n'
                                                 '[tool.threatgraph.policy]\nfail_on = "never"\n')
            first_pytm, _ = run(PYTM, root / "tm.py")
            first_ours, _ = run(OURS, root)
            assert first_pytm["findings"] == first_ours["findings"], "result sets differ: nothing is timed"
            pytm_inner, pytm_total, ours_inner, ours_total = [], [], [], []
            for _ in range(args.rounds):
                doc, total = run(PYTM, root / "tm.py")
                pytm_inner.append(doc["resolve"])
                pytm_total.append(total)
                doc, total = run(OURS, root)
                ours_inner.append(doc["check"])
                ours_total.append(total)
            pi, oi = statistics.median(pytm_inner), statistics.median(ours_inner)
            pt, ot = statistics.median(pytm_total), statistics.median(ours_total)
            print(f"| {n} | {2 * n} | {len(first_pytm['findings'])} | {pi:.3f} s | {oi:.3f} s | {pi / oi:.1f}x | "
                  f"{pt:.2f} s | {ot:.2f} s | {pt / ot:.1f}x |")


if __name__ == "__main__":
    main()
