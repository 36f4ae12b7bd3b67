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
