"""Profile one benchmark stage: where its time goes, function by function.

    python benchmarks/profile_stage.py tg_coverage                # 1,000 elements, top 25 by own time
    python benchmarks/profile_stage.py tg_load --size 10000 --sort cumulative --out load.prof

Runs exactly what `benchmarks/stage.py` times (same synthetic project, same prerequisites run
first, same process settings) under the standard library's cProfile, and prints the functions
that cost the most. `--out` keeps the raw profile for a viewer such as snakeviz. Profiling
slows Python code down unevenly: read it for where the time goes, and take timings from
`benchmarks/run.py`.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import stage  # noqa: E402
from synthetic import generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("stage", choices=stage.STAGES)
    ap.add_argument("--size", type=int, default=1000, help="elements in the synthetic model")
    ap.add_argument("--sort", default="tottime", choices=["tottime", "cumulative", "ncalls"])
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--out", type=Path, help="also write the raw profile here")
    args = ap.parse_args()

    from threatgraph import process

    process.configure()
    profiler = cProfile.Profile()

    def profiled(fn):  # replaces the stage's timer: only the timed part is profiled
        profiler.enable()
        try:
            out = fn()
        finally:
            profiler.disable()
        return 0.0, out

    stage._timed = profiled
    with tempfile.TemporaryDirectory(prefix=f"tg-profile-{args.size}-") as tmp:
        root = generate(args.size, Path(tmp) / "project")
        stage.run(args.stage, root)
    stats = pstats.Stats(profiler)
    if args.out:
        stats.dump_stats(str(args.out))
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
