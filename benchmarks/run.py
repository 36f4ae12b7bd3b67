"""The benchmark suite: threatgraph and pytm on the same synthetic models, in one run.

    python benchmarks/run.py                      # 100, 1,000 and 10,000 elements, then the targets
    python benchmarks/run.py --sizes 100 1000 --runs 5
    python benchmarks/run.py --quick              # the targets only, small sizes, one round (minutes)

For each size it generates a project (benchmarks/synthetic.py: nested boundaries, a mix of
element kinds, 2.4 flows per element, data assets, threats whose selectors hit realistic
fractions of the model, mitigations with evidence against a generated source tree), then runs
every stage in a fresh process (benchmarks/stage.py), in rounds (each stage once per round,
so a round's stages share the machine's conditions), and records the median, the spread and
the peak memory; the check-versus-resolve() ratio is taken per round. pytm's own stages (model construction, resolve(), report(),
dfd()) run on the same model file, each under the same timeout and an 8 GB memory cap, so a
stage that runs out of memory or time is reported as such. Whole commands (`threatgraph check`,
`threatgraph build`) are timed cold. Results go to benchmarks/results/latest.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import targets  # noqa: E402
from synthetic import generate  # noqa: E402

TG = ["tg_load", "tg_catalog", "tg_mapping", "tg_coverage", "tg_evidence", "tg_analysis", "tg_report", "tg_dot",
      "tg_svg", "tg_site"]
PYTM = ["pytm_construct", "pytm_resolve", "pytm_report", "pytm_dfd"]


def _limit(gb: float):
    def apply() -> None:
        size = int(gb * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return apply


def stage(name: str, root: Path, timeout: float, gb: float) -> dict:
    t = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(HERE / "stage.py"), name, str(root)], capture_output=True, text=True,
                              timeout=timeout, preexec_fn=_limit(gb), env={**os.environ, "PYTHONHASHSEED": "0"})
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"did not finish in {timeout:.0f} s", "wall": time.perf_counter() - t}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        if "MemoryError" in proc.stderr or "Cannot allocate memory" in proc.stderr:
            err = f"out of memory ({gb:.0f} GB cap)"
        return {"ok": False, "error": err[:120], "wall": time.perf_counter() - t}
    return json.loads(lines[-1])


def command(args: list[str], cwd: Path, runs: int, timeout: float) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(args, cwd=cwd, capture_output=True, timeout=timeout)
        out.append(time.perf_counter() - t)
    return out


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from threatgraph.render import svg

    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "svg_renderer": svg.pick("auto")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--runs", type=int, default=3, help="runs per stage (fresh process each)")
    ap.add_argument("--large-runs", type=int, default=1, help="runs per stage at 10,000 elements and above")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--pytm-timeout", type=float, default=120, help="timeout for pytm's report and dfd stages")
    ap.add_argument("--memory-gb", type=float, default=8)
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--quick", action="store_true", help="only the targets (benchmarks/targets.py), at small sizes, "
                    "one round; prints met/missed and writes nothing")
    ap.add_argument("--baseline", default=targets.BASELINE, help="the revision the build target is measured against")
    ap.add_argument("--remeasure", nargs="+", choices=["identical", "build", "cold_check", "scale", "history"],
                    help="measure only these targets at full size and replace them in the results (the rest of "
                    "latest.json is kept)")
    args = ap.parse_args()
    # Compile threatgraph's bytecode once, as pip does for a regular install, and the firewall
    # model's, as Python does on its first import (under PYTHONDONTWRITEBYTECODE every run would
    # otherwise recompile them).
    import compileall

    import threatgraph

    compileall.compile_dir(str(Path(threatgraph.__file__).parent), quiet=1)
    compileall.compile_dir(str(ROOT / "model"), quiet=1)  # the firewall model, as its first check leaves it
    if args.remeasure:
        results = json.loads((args.out / "latest.json").read_text())
        results["targets"].update(targets.measure(quick=False, baseline=args.baseline, only=set(args.remeasure)))
        results["targets"]["remeasured"] = sorted(set(results["targets"].get("remeasured", [])) | set(args.remeasure))
        m = machine()  # a later run may be on another machine: its targets say which
        results["targets"]["remeasured_on"] = f"{m['cpu']} ({m['cores']} cores), Python {m['python']}"
        (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
        (args.out / "latest.md").write_text(render(results))
        print(render(results))
        return
    if args.quick:
        print(targets.render(targets.measure(quick=True, baseline=args.baseline)))
        return
    info = machine()
    print(f"machine: {info['cpu']} ({info['cores']} cores), {info['platform']}, Python {info['python']}, "
          f"SVG by {info['svg_renderer']}", flush=True)
    results: dict = {"machine": info, "sizes": {}}
    for n in args.sizes:
        runs = args.large_runs if n >= 10000 else args.runs
        with tempfile.TemporaryDirectory(prefix=f"tg-bench-{n}-") as tmp:
            root = generate(n, Path(tmp) / "project")
            row: dict = {"stages": {}}
            # Rounds: every stage once per round, so each round samples all stages under the same
            # machine conditions, and a round's own-work / resolve() ratio compares like with like.
            samples: dict[str, list[dict]] = {name: [] for name in TG + PYTM}
            for rnd in range(runs):
                for name in TG + PYTM:
                    slow_pytm = name in ("pytm_report", "pytm_dfd")
                    if slow_pytm and rnd:
                        continue  # once is enough to show they do not scale
                    samples[name].append(stage(name, root, args.pytm_timeout if slow_pytm else args.timeout,
                                               args.memory_gb))
                print(f"  {n:>6} round {rnd + 1}/{runs} done", flush=True)
            for name in TG + PYTM:
                got = samples[name]
                ok = [s for s in got if s.get("ok")]
                entry = {"ok": len(ok) == len(got), "peak_mb": max((s.get("peak_mb", 0) for s in got), default=0)}
                if ok and entry["ok"]:
                    entry.update(spread([s["seconds"] for s in ok]))
                    entry.update({k: v for k, v in ok[0].items() if k in ("diagrams", "pages", "findings", "renderer")})
                    if "snapshot" in ok[0]:
                        entry["snapshot"] = statistics.median(s["snapshot"] for s in ok)
                        entry["snapshot_spread"] = spread([s["snapshot"] for s in ok])
                else:
                    entry["error"] = next(s.get("error") for s in got if not s.get("ok"))
                row["stages"][name] = entry
                shown = _timing(entry) if entry["ok"] else entry["error"]
                print(f"  {n:>6} {name:<15} {shown}  (peak {entry['peak_mb']:.0f} MB)", flush=True)
            row["rounds"] = _rounds(samples, runs)
            from threatgraph import pipeline
            from threatgraph.config import load_config

            row["pairs"] = len(pipeline.check(load_config(root), use_evidence=False).pairs)
            check_runs = command([sys.executable, "-m", "threatgraph", "check", "--no-evidence"], root, runs, args.timeout)
            build_runs = command([sys.executable, "-m", "threatgraph", "build", "--out", str(Path(tmp) / "out")], root,
                                 runs, args.timeout)
            row["check_cold"] = spread(check_runs)
            row["build_cold"] = spread(build_runs)
            print(f"  {n:>6} check (cold)    {row['check_cold']['median']:.2f} s; build (cold) "
                  f"{row['build_cold']['median']:.2f} s", flush=True)
            results["sizes"][str(n)] = row
    # cold check on the firewall model against `import pytm`
    fw, imp = [], []
    for _ in range(15):
        fw += command([sys.executable, "-m", "threatgraph", "check", "--no-evidence"], ROOT, 1, 60)
        imp += command([sys.executable, "-c", "import pytm"], ROOT, 1, 60)
    results["firewall_cold_check"] = spread(fw)
    results["import_pytm"] = spread(imp)
    print("targets:", flush=True)
    results["targets"] = targets.measure(quick=False, baseline=args.baseline)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    table = render(results)
    (args.out / "latest.md").write_text(table)
    print()
    print(table)


def _rounds(samples: dict[str, list[dict]], runs: int) -> list[dict]:
    """Per round: threatgraph's own check work (model snapshot, catalogs, mapping, coverage)
    and pytm's resolve(), measured in the same round."""
    out = []
    for i in range(runs):
        got = [samples[k][i] for k in ("tg_load", "tg_catalog", "tg_mapping", "tg_coverage", "pytm_resolve")]
        if all(g.get("ok") for g in got):
            own = got[0]["snapshot"] + sum(g["seconds"] for g in got[1:4])
            out.append({"own": own, "resolve": got[4]["seconds"], "ratio": got[4]["seconds"] / own})
    return out


def _timing(e: dict, digits: int = 3) -> str:
    """The median, with the range of the runs behind it (or the fact that there was one run)."""
    if e.get("runs", 1) < 2:
        return f"{e['median']:.{digits}f} s (1 run)"
    return f"{e['median']:.{digits}f} s [{e['min']:.{digits}f}–{e['max']:.{digits}f}]"


def _med(row: dict, name: str) -> float | None:
    e = row["stages"][name]
    return e["median"] if e["ok"] else None


def render(results: dict) -> str:
    m = results["machine"]
    lines = [f"Machine: {m['cpu']} ({m['cores']} cores), Python {m['python']}, SVG by {m['svg_renderer']}. "
             "Medians of fresh-process runs, with [fastest–slowest] of the runs. Every stage, pytm's included, runs under "
             "threatgraph's process settings (`threatgraph/process.py`: GC threshold, pydantic plugins off).", ""]
    sizes = list(results["sizes"])
    lines.append("| stage | " + " | ".join(f"{int(s):,} elements" for s in sizes) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in sizes) + " |")
    names = {"tg_load": "threatgraph: model load (runs the pytm model file)", "tg_catalog": "threatgraph: catalogs",
             "tg_mapping": "threatgraph: selector mapping", "tg_coverage": "threatgraph: coverage",
             "tg_evidence": "threatgraph: evidence", "tg_analysis": "threatgraph: graph analysis",
             "tg_report": "threatgraph: report", "tg_dot": "threatgraph: pages + DOT",
             "tg_svg": "threatgraph: SVG", "tg_site": "threatgraph: mkdocs site",
             "pytm_construct": "pytm: model construction", "pytm_resolve": "pytm: resolve()",
             "pytm_report": "pytm: report()", "pytm_dfd": "pytm: dfd()"}
    for key, label in names.items():
        cells = []
        for s in sizes:
            e = results["sizes"][s]["stages"][key]
            extra = f", {e['diagrams']} diagrams" if "diagrams" in e and key == "tg_svg" else \
                (f", {e['pages']} pages" if "pages" in e else "")
            cells.append(f"{_timing(e)} ({e['peak_mb']:.0f} MB{extra})" if e["ok"] else f"**{e['error']}**")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| threatgraph check, cold command | " + " | ".join(
        _timing(results['sizes'][s]['check_cold'], 2) for s in sizes) + " |")
    lines.append("| threatgraph build, cold command (reports, diagrams, site) | " + " | ".join(
        _timing(results['sizes'][s]['build_cold'], 2) for s in sizes) + " |")
    lines += ["", "| ratio | " + " | ".join(f"{int(s):,}" for s in sizes) + " |", "| --- | " + " | ".join("---:" for _ in sizes) + " |"]
    own, total = [], []
    for s in sizes:
        row = results["sizes"][s]
        parts = [_med(row, k) for k in ("tg_load", "tg_catalog", "tg_mapping", "tg_coverage")]
        construct, resolve = _med(row, "pytm_construct"), _med(row, "pytm_resolve")
        snapshot = row["stages"]["tg_load"].get("snapshot")
        if None in parts or construct is None or resolve is None or snapshot is None:
            own.append("n/a")
            total.append("n/a")
            continue
        mine = snapshot + sum(parts[1:])  # threatgraph's own work: snapshot, catalogs, mapping, coverage
        rounds = row.get("rounds") or []
        if len(rounds) > 1:
            ratios = [r["ratio"] for r in rounds]
            own.append(f"{statistics.median(ratios):.1f}x [{min(ratios):.1f}–{max(ratios):.1f}] "
                       f"({statistics.median(r['own'] for r in rounds):.3f} s)")
        else:
            own.append(f"{resolve / mine:.1f}x ({mine:.3f} s)")
        total.append(f"{(construct + resolve) / sum(parts):.1f}x")
    lines.append("| pytm resolve() / threatgraph check (its own work: model snapshot, catalogs, mapping, coverage; "
                 "running the pytm model file, the same for both tools, left out): median of the rounds' ratios "
                 "[lowest–highest] | " + " | ".join(own) + " |")
    pairs = []
    for s in sizes:
        row = results["sizes"][s]
        pairs.append(str(row.get("pairs", "")))
    lines.append("| (threat, target) pairs in the synthetic catalog | " + " | ".join(pairs) + " |")
    lines.append("| pytm construction + resolve() / threatgraph check including construction | " + " | ".join(total) + " |")
    fw, imp = results["firewall_cold_check"]["median"], results["import_pytm"]["median"]
    fws, imps = results["firewall_cold_check"], results["import_pytm"]
    lines += ["", f"Cold `threatgraph check` on the firewall model: {_timing(fws)}; `python -c \"import pytm\"`: "
              f"{_timing(imps)}; ratio {fw / imp:.2f}x ({fws['runs']} interleaved runs each, medians)."]
    if "targets" in results:
        lines += ["", "### Targets", "", targets.render(results["targets"]).rstrip("\n")]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
