"""The performance targets, each measured side by side in one run and judged met or missed.

    python benchmarks/run.py              # the full run: every target at its full size
    python benchmarks/run.py --quick      # every target at small sizes, one round (minutes)

1. Identical work: pytm's own library through threatgraph's pytm pack against pytm's
   `tm.resolve()` on the same random pytm models (tests/pytm_models.py); the two result sets
   are asserted equal before anything is timed. Both sides run in the same process, in
   alternating order, each round: pytm's side is `resolve()` on the constructed TM;
   threatgraph's is everything `check` does once the model is constructed (the pack compiled
   from the installed pytm, the catalogs, selectors, assessment, triage, analysis, policy).
   Also the whole cold process of each (interpreter, imports, model file, the work; the
   model cache off; the model file compiled every run, as `python tm.py` does), beside the
   part both must do (interpreter, `import pytm`, the model file run), which caps the ratio.
2. Build: `threatgraph build` of the firewall and of generated 1,000- and 10,000-element
   projects, against the same build by a baseline revision (git archive of its src/) on this
   machine in this run.
3. Cold check on an unchanged model: the firewall's `threatgraph check` with its snapshot
   cached, against `python -c "import pytm"`; and with the model changed before every run.
4. Scale: cold check at 10,000 and 100,000 generated elements, and peak memory per element,
   with the model's bytecode written (as after its first import); the first run, which
   compiles the model file, is shown beside it.
5. History replay: commits per second over the firewall's b8596445..f5509576 (needs
   THREATGRAPH_FIREWALL_REPO).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from synthetic import generate  # noqa: E402

from tests.pytm_models import random_model  # noqa: E402

BASELINE = "7997dae"  # main before the performance work of issue 21

SIDE_BY_SIDE = r'''
import gc, json, runpy, sys, time
from pathlib import Path
from threatgraph import pipeline, process
process.configure()
from threatgraph.catalog.loader import load_catalog
from threatgraph.config import load_config
from threatgraph.evidence.spec import validate_item
from threatgraph.model.loader import load_model
root, order = Path(sys.argv[1]), sys.argv[2]
out = {}

def ours():
    cfg = load_config(root)
    model = load_model(cfg.model, cfg.root, cfg.model_timeout, facts=True, cache=False)  # the constructed model
    gc.collect()
    t = time.perf_counter()
    packs, warnings = pipeline.load_packs(cfg)
    threats = [(p.name, th, w) for p in packs for th, w in p.threats]
    catalog = load_catalog(cfg.path(cfg.threats), cfg.path(cfg.mitigations), model.model, cfg.root,
                           evidence_validator=validate_item, packs=threats)
    a = pipeline.check(cfg, use_evidence=False, inputs=pipeline.Loaded(model.model, catalog, model.warnings + warnings))
    out["threatgraph"] = time.perf_counter() - t
    assumed = {n for n, d in enumerate(a.catalog.decisions) if d.justification.startswith("pytm Assumption")}
    out["threatgraph_results"] = sorted([p.threat, p.target.id] for p in a.pairs if p.decision not in assumed)

def theirs():
    ns = runpy.run_path(str(root / "tm.py"))
    from pytm import TM
    tm = next(v for v in ns.values() if isinstance(v, TM))
    names = {id(v): k for k, v in ns.items() if not k.startswith("_")}
    gc.collect()
    t = time.perf_counter()
    tm.resolve()
    out["pytm"] = time.perf_counter() - t
    out["pytm_results"] = sorted([f.threat_id, names[id(f.element)]] for f in tm.findings)
    out["pytm_threats"] = len(tm._threats) if hasattr(tm, "_threats") else None

for side in ((ours, theirs) if order == "ours-first" else (theirs, ours)):
    side()
print(json.dumps(out))
'''

# What each side does, counted once per size outside the timed rounds (counting slows both):
# pytm's applicability tests (each threat's `apply` on each in-scope object) and the conditions
# it evaluates one object at a time (each `eval` asks Threat._build_eval_globals for its
# globals); threatgraph's condition nodes, each evaluated once over a column of every object.
WORK_COUNT = r"""
import json, runpy, sys
from pathlib import Path
from threatgraph import columnar, pipeline, process
process.configure()
from threatgraph.config import load_config
root = Path(sys.argv[1])
made = []
_init = columnar.ColumnarConditions.__init__
def init(self, *a, **k):
    _init(self, *a, **k)
    made.append(self)
columnar.ColumnarConditions.__init__ = init
pipeline.check(load_config(root), use_evidence=False)
nodes = sum(len(c._results) for c in made)
ns = runpy.run_path(str(root / "tm.py"))
from pytm import TM
from pytm.threat import Threat
tm = next(v for v in ns.values() if isinstance(v, TM))
calls = {"tests": 0, "conditions": 0}
_apply, _globals = Threat.apply, Threat.__dict__["_build_eval_globals"].__func__
def apply(self, target):
    calls["tests"] += 1
    return _apply(self, target)
def globals_(cls):
    calls["conditions"] += 1
    return _globals(cls)
type.__setattr__(Threat, "apply", apply)
type.__setattr__(Threat, "_build_eval_globals", classmethod(globals_))
tm.resolve()
print(json.dumps({"pytm_tests": calls["tests"], "pytm_conditions": calls["conditions"], "threatgraph_nodes": nodes}))
"""

PYTM_PROCESS = r'''
import runpy, sys
ns = runpy.run_path(sys.argv[1])
from pytm import TM
next(v for v in ns.values() if isinstance(v, TM)).resolve()
'''

# The work both cold processes share: the interpreter, pytm imported and the model file run
# (pytm's own constructors). No tool can be faster than this, so a cold ratio has a ceiling.
PYTM_FLOOR = r'''
import runpy, sys
runpy.run_path(sys.argv[1])
'''


def _spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def _time(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 3600) -> float:
    t = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, timeout=timeout)
    return time.perf_counter() - t


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "THREATGRAPH_NO_CACHE")}
    env.update({"PYTHONHASHSEED": "0", **extra})
    return env


def _pack_project(n: int, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tm.py").write_text(random_model(7, elements=n, flows=2 * n), encoding="utf-8")
    (folder / "threats").mkdir(exist_ok=True)
    (folder / "mitigations").mkdir(exist_ok=True)
    (folder / "pyproject.toml").write_text('[tool.threatgraph]\nmodel = "tm.py"\npacks = ["pytm"]\nmodel_cache = false\n'
                                           '[tool.threatgraph.policy]\nfail_on = "never"\n', encoding="utf-8")
    return folder


def identical_work(sizes: list[int], rounds: int, tmp: Path) -> dict:
    out = {}
    for n in sizes:
        root = _pack_project(n, tmp / f"pack-{n}")
        inner: list[dict] = []
        for r in range(rounds):
            proc = subprocess.run([sys.executable, "-c", SIDE_BY_SIDE, str(root), "ours-first" if r % 2 else "pytm-first"],
                                  capture_output=True, text=True, check=True, env=_env())
            doc = json.loads(proc.stdout.strip().splitlines()[-1])
            if doc["threatgraph_results"] != doc["pytm_results"]:
                raise SystemExit(f"identical work at {n}: the result sets differ, nothing is reported")
            inner.append(doc)
        ratios = [d["pytm"] / d["threatgraph"] for d in inner]
        counted = subprocess.run([sys.executable, "-c", WORK_COUNT, str(root)], capture_output=True, text=True,
                                 check=True, env=_env())
        work = json.loads(counted.stdout.strip().splitlines()[-1])
        ours_cold, theirs_cold, floor = [], [], []
        shutil.rmtree(root / "__pycache__", ignore_errors=True)
        compiled = {"PYTHONDONTWRITEBYTECODE": "1"}  # the model file compiled by all, as `python tm.py` does
        for _ in range(rounds):
            theirs_cold.append(_time([sys.executable, "-c", PYTM_PROCESS, str(root / "tm.py")], root, _env(**compiled)))
            ours_cold.append(_time([sys.executable, "-m", "threatgraph", "check", "--no-evidence"], root,
                                   _env(THREATGRAPH_NO_CACHE="1", **compiled)))
            floor.append(_time([sys.executable, "-c", PYTM_FLOOR, str(root / "tm.py")], root, _env(**compiled)))
        cold = [t / o for t, o in zip(theirs_cold, ours_cold, strict=True)]
        out[str(n)] = {"results": len(inner[0]["pytm_results"]), "pytm_threats": inner[0]["pytm_threats"],
                       "pytm": _spread([d["pytm"] for d in inner]), "threatgraph": _spread([d["threatgraph"] for d in inner]),
                       "ratio": _spread(ratios), "pytm_process": _spread(theirs_cold),
                       "threatgraph_process": _spread(ours_cold), "process_ratio": _spread(cold),
                       "shared_floor": _spread(floor), **work}
        print(f"  identical work {n:>6}: resolve {out[str(n)]['pytm']['median']:.3f} s, check "
              f"{out[str(n)]['threatgraph']['median']:.3f} s, {statistics.median(ratios):.1f}x; processes "
              f"{statistics.median(cold):.1f}x; pytm evaluated {work['pytm_conditions']:,} conditions, threatgraph "
              f"{work['threatgraph_nodes']:,} condition nodes", flush=True)
    return out


def _baseline_src(rev: str, tmp: Path) -> Path:
    dest = tmp / f"baseline-{rev}"
    if (dest / "src").is_dir():  # one extraction serves every target of the run
        return dest / "src"
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    import compileall

    compileall.compile_dir(str(dest / "src"), quiet=1)  # its bytecode too, as for the revision measured against it
    return dest / "src"


def _written(out: Path) -> dict[str, int]:
    """What one build wrote: its files, the site's pages and the SVG diagrams, and their bytes."""
    files = [p for p in out.rglob("*") if p.is_file()]
    return {"files": len(files), "pages": sum(1 for p in files if p.suffix == ".html" and "site" in p.relative_to(out).parts),
            "diagrams": sum(1 for p in files if p.suffix == ".svg" and p.parent == out / "diagrams"),
            "bytes": sum(p.stat().st_size for p in files)}


def builds(sizes: list[int], rounds: int, tmp: Path, baseline: str) -> dict:
    """Each project built by the baseline revision, by this one with its caches warm (the model
    snapshot, wasmtime's compiled Graphviz: a developer's repeated build), and by this one with
    every cache off (a first build, or CI), in interleaved fresh processes."""
    old_src = _baseline_src(baseline, tmp)
    projects = {"firewall": ROOT, **{str(n): generate(n, tmp / f"synthetic-{n}") for n in sizes}}
    envs = {"old": _env(THREATGRAPH_NO_CACHE="1", PYTHONPATH=str(old_src)),
            "warm": _env(THREATGRAPH_CACHE_DIR=str(tmp / "build-cache")), "cold": _env(THREATGRAPH_NO_CACHE="1")}
    out = {}
    for name, root in projects.items():
        written: dict[str, dict[str, int]] = {}

        def build(which: str, name: str = name, root: Path = root, written: dict = written) -> float:
            target = tmp / f"out-{name}-{which}"
            shutil.rmtree(target, ignore_errors=True)
            secs = _time([sys.executable, "-m", "threatgraph", "build", "--no-evidence", "--out", str(target)], root,
                         envs[which])
            written[which] = _written(target)
            return secs
        build("warm")  # fills the caches
        times: dict[str, list[float]] = {"old": [], "warm": [], "cold": []}
        for r in range(rounds):
            for which in (("old", "warm", "cold") if r % 2 == 0 else ("cold", "warm", "old")):
                times[which].append(build(which))
        if written["warm"] != written["cold"]:
            raise SystemExit(f"build {name}: caches warm and off wrote different outputs, nothing is reported")
        out[name] = {"baseline": _spread(times["old"]), "new": _spread(times["warm"]), "cold": _spread(times["cold"]),
                     "written": written["warm"], "baseline_written": written["old"],
                     "speedup": _spread([o / n for o, n in zip(times["old"], times["warm"], strict=True)]),
                     "cold_speedup": _spread([o / n for o, n in zip(times["old"], times["cold"], strict=True)])}
        print(f"  build {name:>9}: {out[name]['baseline']['median']:.2f} s -> {out[name]['new']['median']:.2f} s warm "
              f"({out[name]['speedup']['median']:.2f}x), {out[name]['cold']['median']:.2f} s caches off "
              f"({out[name]['cold_speedup']['median']:.2f}x)", flush=True)
    return out


def _settle(path: Path) -> None:
    """An edit made a minute ago, as an architect's edit is by the time they run a check (the
    caches keep nothing read from a file modified within two seconds of the run)."""
    past = time.time_ns() - 60 * 10**9
    os.utime(path, ns=(past, past))


def cold_check(rounds: int, tmp: Path, baseline: str) -> dict:
    """The firewall's cold check, each against `import pytm`, interleaved: with nothing changed
    (the verdict repeated), with a catalog edited before each run (the snapshot reused, the
    verdict computed), with the model changed before each run (a miss: the model runs and its
    entry is rewritten), and by the baseline revision (which always runs the model)."""
    old_src = _baseline_src(baseline, tmp)
    cache = tmp / "cache"
    env = _env(THREATGRAPH_CACHE_DIR=str(cache))
    old_env = _env(THREATGRAPH_NO_CACHE="1", PYTHONPATH=str(old_src))
    check = [sys.executable, "-m", "threatgraph", "check", "--no-evidence"]
    copies = {}
    for name in ("catalog-edited", "model-changed"):
        copy = copies[name] = tmp / name
        shutil.rmtree(copy, ignore_errors=True)
        copy.mkdir()
        for part in ("model", "threats", "mitigations"):
            shutil.copytree(ROOT / part, copy / part)
        shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
        subprocess.run(check, cwd=copy, env=env, capture_output=True)  # primes the caches
    subprocess.run(check, cwd=ROOT, env=env, capture_output=True)
    model = copies["model-changed"] / "model" / "firewall.py"
    threats = copies["catalog-edited"] / "threats" / "egress-bypass.yaml"
    cached, edited, changed, baseline_runs, imports = [], [], [], [], []
    for i in range(rounds):
        imports.append(_time([sys.executable, "-c", "import pytm"], ROOT, env))
        cached.append(_time(check, ROOT, env))
        threats.write_text(threats.read_text() + f"\n# edit {i}\n")
        _settle(threats)
        edited.append(_time(check, copies["catalog-edited"], env))
        model.write_text(model.read_text() + f"\n# change {i}\n")
        _settle(model)
        changed.append(_time(check, copies["model-changed"], env))
        baseline_runs.append(_time(check, ROOT, old_env))
    imp = statistics.median(imports)
    return {"import_pytm": _spread(imports), "cached": _spread(cached), "edited": _spread(edited),
            "changed": _spread(changed), "baseline": _spread(baseline_runs),
            "cached_ratio": statistics.median(cached) / imp, "edited_ratio": statistics.median(edited) / imp,
            "changed_ratio": statistics.median(changed) / imp, "baseline_ratio": statistics.median(baseline_runs) / imp}


# Started from a fresh, small interpreter: Linux carries a process's peak resident memory over
# fork and exec, so a check forked from this process (which has just generated a 30 MB model
# file and compiled it) would report this process's memory as its own peak.
_LAUNCH = ("import json, os, subprocess, sys, time\n"
           "t = time.perf_counter()\n"
           "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
           "_, status, usage = os.wait4(p.pid, 0)\n"
           "print(json.dumps([time.perf_counter() - t, os.waitstatus_to_exitcode(status), usage.ru_maxrss]))\n")


def _peak(args: list[str], cwd: Path, **env: str) -> tuple[float, float]:
    """Seconds and peak resident memory (MB) of one child process (its own model child included)."""
    out = subprocess.run([sys.executable, "-c", _LAUNCH, *args], cwd=cwd, env=_env(THREATGRAPH_NO_CACHE="1", **env),
                         capture_output=True, text=True, check=True)
    secs, code, maxrss = json.loads(out.stdout)
    if code not in (0, 1):  # 1: the policy failed, the check ran
        raise SystemExit(f"{args} failed in {cwd}")
    return secs, maxrss / 1024


# The model file alone, as a check's child runs it (threatgraph's process settings, its bytecode
# written, and no interpreter teardown: the child leaves with os._exit, and tearing down a
# 100,000-element pytm model would add seconds no check spends): pytm's constructors, which
# every check of that model must run before its own work.
MODEL_ALONE = ("from threatgraph import process; process.configure(); import sys; sys.path.insert(0, '.'); "
               "import model, os; os._exit(0)")


def scale(sizes: list[int], tmp: Path, rounds: int = 1) -> dict:
    """A check on a generated model: first as a first run leaves it to Python to compile the
    model file (a generated 100,000-element file is 30 MB of source, and CPython's compiler
    peaks at several GB on it), then `rounds` times with the bytecode Python writes on that
    first import, as every later check finds it. The target is judged on the median of those
    (single runs at 100,000 elements vary by a tenth here); memory on the highest peak."""
    out = {}
    check = [sys.executable, "-m", "threatgraph", "check", "--no-evidence"]
    for n in sizes:
        root = generate(n, tmp / f"scale-{n}")
        first_secs, first_mb = _peak(check, root, PYTHONDONTWRITEBYTECODE="1")
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root)], check=True)  # in its own process (see _LAUNCH)
        runs = [_peak(check, root) for _ in range(rounds)]
        secs, mb = statistics.median(r[0] for r in runs), max(r[1] for r in runs)
        model_secs = statistics.median(_peak([sys.executable, "-c", MODEL_ALONE], root)[0] for _ in range(rounds))
        out[str(n)] = {"seconds": secs, "peak_mb": mb, "kb_per_element": mb * 1024 / n, "first_seconds": first_secs,
                       "first_peak_mb": first_mb, "first_kb_per_element": first_mb * 1024 / n, "model_seconds": model_secs,
                       "runs": _spread([r[0] for r in runs])}
        print(f"  scale {n:>7}: check {secs:.2f} s, peak {mb:.0f} MB ({mb * 1024 / n:.1f} KB per element); first run "
              f"(the model compiled) {first_secs:.2f} s, {first_mb:.0f} MB; the model file alone {model_secs:.2f} s",
              flush=True)
        shutil.rmtree(root, ignore_errors=True)
    return out


def history() -> dict | None:
    if not os.environ.get("THREATGRAPH_FIREWALL_REPO"):
        return None
    proc = subprocess.run([sys.executable, str(HERE / "history_speed.py")], capture_output=True, text=True, env=_env())
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(proc.stdout)


def measure(quick: bool, baseline: str = BASELINE, only: set[str] | None = None) -> dict:
    """Every target (or only the named ones), measured in this run."""
    with tempfile.TemporaryDirectory(prefix="tg-targets-") as tmp_name:
        tmp = Path(tmp_name)
        rounds = 1 if quick else 3
        steps = {
            "identical": lambda: identical_work([200, 1000] if quick else [1000, 10000], rounds, tmp),
            "build": lambda: builds([1000] if quick else [1000, 10000], rounds, tmp, baseline),
            "cold_check": lambda: cold_check(5 if quick else 15, tmp, baseline),
            "scale": lambda: scale([1000, 10000] if quick else [10000, 100000], tmp, rounds),
            "history": history,
        }
        result: dict = {"quick": quick, "baseline": baseline}
        for name, step in steps.items():
            if only is None or name in only:
                result[name] = step()
    return result


def _mark(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def _s(e: dict, digits: int = 3) -> str:
    if e["runs"] < 2:
        return f"{e['median']:.{digits}f} s"
    return f"{e['median']:.{digits}f} s [{e['min']:.{digits}f}–{e['max']:.{digits}f}]"


def _work(e: dict) -> str:
    """What each side of the identical-work ratio does, in counts (older results lack them)."""
    if "pytm_tests" not in e:
        return (f"{e['results']:,} findings both sides; pytm evaluates every condition of its library on every "
                f"object, threatgraph the same library compiled to a pack")
    threats = f"pytm's library, {e['pytm_threats']} threats" if e.get("pytm_threats") else "pytm's library"
    return (f"{threats}, {e['results']:,} findings both sides; pytm tests every threat on every in-scope object "
            f"({e['pytm_tests']:,} tests) and evaluates {e['pytm_conditions']:,} conditions one object at a time; "
            f"threatgraph runs the same library compiled to a pack: {e['threatgraph_nodes']:,} condition nodes, each "
            f"evaluated once for the whole model, column by column")


def _outputs(e: dict) -> str:
    """What each side of a build ratio wrote (older results lack it)."""
    if "written" not in e:
        return ""

    def said(w: dict) -> str:
        return f"{w['files']:,} files, {w['bytes'] / 1e6:.1f} MB: {w['pages']:,} site pages, {w['diagrams']:,} SVG diagrams"

    return f" (now {said(e['written'])}; the baseline {said(e['baseline_written'])})"


def render(t: dict) -> str:
    rows = ["| target | measured | goal | |", "| --- | --- | --- | --- |"]
    for n, e in t["identical"].items():
        r = e["ratio"]
        rows.append(f"| 1. identical work, {int(n):,} elements ({_work(e)}): "
                    f"pytm `resolve()` {_s(e['pytm'])} / threatgraph whole check from the constructed model "
                    f"{_s(e['threatgraph'])} | {r['median']:.1f}x [{r['min']:.1f}–{r['max']:.1f}] | ≥ 10x | "
                    f"{_mark(r['median'] >= 10)} |")
        p = e["process_ratio"]
        ceiling = ""
        if "shared_floor" in e:  # what both processes must do: interpreter, pytm imported, the model file run
            f = e["shared_floor"]["median"]
            ceiling = (f"; both must start Python, import pytm and run the model file, {f:.2f} s alone, so no tool "
                       f"could exceed {e['pytm_process']['median'] / f:.1f}x here")
        rows.append(f"| 1. identical work, {int(n):,} elements, cold processes (model file run, cache off): pytm "
                    f"{_s(e['pytm_process'], 2)} / threatgraph {_s(e['threatgraph_process'], 2)}{ceiling} | "
                    f"{p['median']:.1f}x [{p['min']:.1f}–{p['max']:.1f}] | ≥ 3x | {_mark(p['median'] >= 3)} |")
    for name, e in t["build"].items():
        label = "the firewall" if name == "firewall" else f"{int(name):,} generated elements"
        s = e["speedup"]
        c = e["cold_speedup"]
        rows.append(f"| 2. build, {label}{_outputs(e)}: baseline {t['baseline']} {_s(e['baseline'], 2)} → now, caches warm, "
                    f"{_s(e['new'], 2)} | {s['median']:.2f}x [{s['min']:.2f}–{s['max']:.2f}] | ≥ 2x | "
                    f"{_mark(s['median'] >= 2)} |")
        rows.append(f"| 2. build, {label}, every cache off (a first build; CI): {_s(e['cold'], 2)} | "
                    f"{c['median']:.2f}x [{c['min']:.2f}–{c['max']:.2f}] | ≥ 2x | {_mark(c['median'] >= 2)} |")
    c = t["cold_check"]
    rows.append(f"| 3. cold check, firewall, nothing changed (the verdict cache repeats the verdict; neither "
                f"catalogs nor model loaded): {_s(c['cached'])} / `import pytm` {_s(c['import_pytm'])} | "
                f"{c['cached_ratio']:.2f}x | ≤ 0.6x | {_mark(c['cached_ratio'] <= 0.6)} |")
    if "edited" in c:
        rows.append(f"| 3. cold check, firewall, model unchanged and a catalog edited before each run (the snapshot "
                    f"reused, pytm never imported, the verdict computed): {_s(c['edited'])} / `import pytm` | "
                    f"{c['edited_ratio']:.2f}x | ≤ 0.6x | {_mark(c['edited_ratio'] <= 0.6)} |")
    if "baseline" in c:  # "at most today's": the baseline revision's check, measured in the same run
        rows.append(f"| 3. cold check, firewall, model changed before each run (the model runs, the entry is "
                    f"rewritten): {_s(c['changed'])} / `import pytm`; baseline {t['baseline']}: {_s(c['baseline'])}, "
                    f"{c['baseline_ratio']:.2f}x | {c['changed_ratio']:.2f}x | ≤ the baseline's "
                    f"{c['baseline_ratio']:.2f}x | {_mark(c['changed_ratio'] <= c['baseline_ratio'])} |")
    else:
        rows.append(f"| 3. cold check, firewall, model changed before each run: {_s(c['changed'])} / `import pytm` | "
                    f"{c['changed_ratio']:.2f}x | ≤ 1.36x | {_mark(c['changed_ratio'] <= 1.36)} |")
    sizes = list(t["scale"])
    if len(sizes) == 2:
        small, big = (t["scale"][s] for s in sizes)
        growth = big["seconds"] / small["seconds"]
        factor = int(sizes[1]) / int(sizes[0])
        timed = (f"{_s(small['runs'], 2)} → {_s(big['runs'], 2)}, medians of {big['runs']['runs']} runs"
                 if "runs" in big and big["runs"]["runs"] > 1 else f"{small['seconds']:.2f} s → {big['seconds']:.2f} s")
        rows.append(f"| 4. scale: cold check (the model's bytecode written, as after its first import) "
                    f"{int(sizes[0]):,} → {int(sizes[1]):,} elements, {timed} | {growth:.1f}x for {factor:.0f}x the "
                    f"elements | ≤ {1.1 * factor:.0f}x | {_mark(growth <= 1.1 * factor)} |")
        if "model_seconds" in big:
            ms, mb_ = small["model_seconds"], big["model_seconds"]
            own_s, own_b = small["seconds"] - ms, big["seconds"] - mb_
            rows.append(f"| 4. the same check in two parts: the model file alone (Python started, pytm imported, its "
                        f"constructors run: what any check of it must do) {ms:.2f} s → {mb_:.2f} s; the rest, "
                        f"threatgraph's own, {own_s:.2f} s → {own_b:.2f} s | the model {mb_ / ms:.1f}x, threatgraph's "
                        f"own {own_b / own_s:.1f}x | not judged | |")
        highest = f" (the highest of {big['runs']['runs']} runs)" if big.get("runs", {}).get("runs", 1) > 1 else ""
        rows.append(f"| 4. memory at {int(sizes[1]):,} elements: peak {big['peak_mb']:.0f} MB{highest} | "
                    f"{big['kb_per_element']:.1f} KB per element | ≤ 30 KB | {_mark(big['kb_per_element'] <= 30)} |")
        if "first_seconds" in big:
            fs, fb = small["first_seconds"], big["first_seconds"]
            rows.append(f"| 4. the same, a first run (CPython compiles the generated model file, {int(sizes[1]):,} "
                        f"elements: {fb:.2f} s, peak {big['first_peak_mb']:.0f} MB) | {fb / fs:.1f}x for "
                        f"{factor:.0f}x the elements; {big['first_kb_per_element']:.1f} KB per element | "
                        f"not judged | |")
    h = t["history"]
    if h is None:
        rows.append("| 5. history replay b8596445..f5509576 | not measured: set THREATGRAPH_FIREWALL_REPO | reported | |")
    elif "error" in h:
        rows.append(f"| 5. history replay | failed: {h['error']} | reported | |")
    else:
        inc = h.get("incremental", h)
        rows.append(f"| 5. history replay b8596445..f5509576: {inc['commits']} commits, {inc['evaluations']} evidence "
                    f"evaluations in {inc['seconds']} s | {inc['commits_per_second']} commits/s | reported | |")
    head = ("Quick mode (small sizes, one round): an indication, not the published figures." if t["quick"] else
            "Full run: medians of 3 rounds (side by side in one process for the identical-work ratio; interleaved "
            "fresh processes for the others), [lowest–highest].")
    if t.get("remeasured"):
        head += " Measured again in a later run of `run.py --remeasure`: " + ", ".join(t["remeasured"])
        head += (f", on {t['remeasured_on']}; the rest on the machine above." if t.get("remeasured_on") else ".")
    return head + "\n\n" + "\n".join(rows) + "\n"
