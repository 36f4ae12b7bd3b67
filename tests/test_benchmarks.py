"""The benchmark tooling runs: each stage of benchmarks/stage.py on a small generated project
reports success, its measurements and peak memory, and the profiler prints a profile. Times
are never asserted here; they are measured by `python benchmarks/run.py`."""

import json
import subprocess
import sys

import pytest

from .conftest import REPO, synthetic_project

STAGES = ["tg_load", "tg_catalog", "tg_mapping", "tg_coverage", "tg_evidence", "tg_analysis", "tg_report",
          "tg_dot", "pytm_construct", "pytm_resolve"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return synthetic_project(60, tmp_path_factory.mktemp("bench") / "project")


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_reports_a_measurement(generated, stage):
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "stage.py"), stage, str(generated)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["ok"] is True and result["seconds"] > 0 and result["peak_mb"] > 10
    if stage == "tg_load":
        assert 0 < result["snapshot"] < result["seconds"]  # threatgraph's share of loading
    if stage == "tg_dot":
        assert result["diagrams"] > 10
    if stage == "pytm_resolve":
        assert result["findings"] > 0


def test_profiler_prints_where_the_time_goes():
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "profile_stage.py"), "tg_mapping", "--size", "60",
                        "--top", "40"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Ordered by: internal time" in r.stdout and "map_threats" in r.stdout


def test_committed_results_table_is_rendered_from_the_json_and_in_the_readme():
    """benchmarks/results/latest.md is what run.py renders from latest.json, and the README
    carries that same table, so the published numbers are the measured ones."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("tg_bench_run", REPO / "benchmarks" / "run.py")
    assert spec and spec.loader
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    results = json.loads((REPO / "benchmarks" / "results" / "latest.json").read_text(encoding="utf-8"))
    table = run.render(results)
    assert table == (REPO / "benchmarks" / "results" / "latest.md").read_text(encoding="utf-8")
    assert table.strip() in (REPO / "README.md").read_text(encoding="utf-8")
    assert set(results["sizes"]) == {"100", "1000", "10000"}


def _targets_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("tg_bench_targets", REPO / "benchmarks" / "targets.py")
    assert spec and spec.loader
    targets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(targets)
    return targets


def _work(targets, root):
    r = subprocess.run([sys.executable, "-c", targets.WORK_COUNT, str(root)], capture_output=True, text=True,
                       env=targets._env(), timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_identical_work_counts_what_each_side_does(tmp_path):
    """The counts printed beside the identical-work ratio are pytm's own: one applicability
    test per (in-scope object, threat), and one condition evaluated wherever the threat's
    target classes match the object (worked out here from pytm's threat list, without
    evaluating anything). threatgraph's condition nodes are evaluated once per model, not once
    per object: three times the model, about as many nodes."""
    targets = _targets_module()
    root = targets._pack_project(40, tmp_path / "pack")
    work = _work(targets, root)
    script = f"""
import json, runpy
from pytm import TM
runpy.run_path({str(root / "tm.py")!r})
objs = [e for e in TM._elements if getattr(e, "inScope", True)]
def matches(t, e):
    return not t.target or any(x == type(e).__name__ if isinstance(x, str) else isinstance(e, x) for x in t.target)
print(json.dumps([len(objs) * len(TM._threats),
                  sum(1 for e in objs for t in TM._threats if t._compiled_condition is not None and matches(t, e))]))
"""
    tests, conditions = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                                  check=True, timeout=300).stdout)
    assert work["pytm_tests"] == tests > 0
    assert work["pytm_conditions"] == conditions > 0
    bigger = _work(targets, targets._pack_project(120, tmp_path / "bigger"))
    assert bigger["pytm_conditions"] > 2 * work["pytm_conditions"]
    assert 0 < work["threatgraph_nodes"] <= bigger["threatgraph_nodes"] < 1.1 * work["threatgraph_nodes"]
