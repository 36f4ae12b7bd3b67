"""Pair statuses, decisions, policy and the CLI's exit codes on a small real project."""

import json

from threatgraph.assess import mitigation_state
from threatgraph.evidence.base import EvidenceResult


def statuses(run, project, *extra):
    r = run("check", "--format", "json", *extra, cwd=project.root)
    assert r.code in (0, 1), r.err
    doc = json.loads(r.out)
    return r, doc, {(t["id"], x["id"]): x["status"] for t in doc["threats"] for x in t["targets"]}


def test_statuses_and_contract(run, project):
    r, doc, st = statuses(run, project)
    assert st == {("TH-SNIFF", "login"): "mitigated",  # implemented, evidence unverified
                  ("TH-SQLI", "app_to_db"): "partially-mitigated",
                  ("TH-BYPASS", "bypass"): "unmitigated"}
    assert set(doc) >= {"tool", "model", "summary", "policy", "threats", "mitigations", "drift"}
    assert doc["model"] == {"name": "shop", "elements": 4, "flows": 4, "boundaries": 3, "data": 2}
    s = doc["summary"]
    assert (s["pairs"], s["mitigated"], s["partially_mitigated"], s["unmitigated"]) == (3, 1, 1, 1)
    assert s["coverage"] == round(1 / 3, 4)
    tls = next(m for m in doc["mitigations"] if m["id"] == "M-TLS")
    assert tls["evidence"][0]["result"] == "unverified" and tls["evidence"][0]["file"] == "src/**/*.conf"
    assert r.code == 0 and doc["policy"]["passed"]


def test_fail_on_and_min_coverage_flags_fail_the_gate(run, project):
    r, doc, _ = statuses(run, project, "--fail-on", "medium")
    assert r.code == 1 and any("TH-BYPASS" in v for v in doc["policy"]["violations"])
    r, doc, _ = statuses(run, project, "--min-coverage", "0.5")
    assert r.code == 1 and "below min_coverage" in doc["policy"]["violations"][0]


def test_decisions_accept_expire_and_false_positive(run, project, monkeypatch):
    project.write("threats/decisions.yaml", """
        decisions:
          - threat: TH-BYPASS
            decision: accept
            owner: alice
            justification: network team owns it
            expires: 2020-01-01
          - threat: TH-SQLI
            targets: ["app_*"]
            decision: false_positive
            justification: ORM only
        """)
    r, doc, st = statuses(run, project)
    assert st[("TH-BYPASS", "bypass")] == "accepted-expired"
    assert st[("TH-SQLI", "app_to_db")] == "false-positive"
    assert r.code == 1 and any("expired on 2020-01-01" in v for v in doc["policy"]["violations"])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1500000000")  # 2017: not yet expired
    r, doc, st = statuses(run, project)
    assert st[("TH-BYPASS", "bypass")] == "accepted" and r.code == 0


def test_decision_matching_no_pair_is_an_error(run, project):
    project.write("threats/decisions.yaml", """
        decisions:
          - threat: TH-SQLI
            targets: [login]
            decision: false_positive
            justification: wrong target
        """)
    r = run("check", cwd=project.root)
    assert r.code == 2 and "threats/decisions.yaml:2:5: error: decision on TH-SQLI matches no" in r.err
    assert "targets of this threat: app_to_db" in r.err


def test_require_evidence_and_drift_policies(run, project):
    project.write("pyproject.toml", """
        [tool.threatgraph]
        model = "model.py"
        [tool.threatgraph.policy]
        fail_on = "never"
        require_evidence = true
        """)
    r = run("check", cwd=project.root)
    assert r.code == 1 and "M-TLS has unverified evidence (require_evidence)" in r.out
    src = project.root / "target"
    project.write("target/src/nginx.conf", "ssl off\n")
    r = run("check", "--source", str(src), cwd=project.root)
    assert r.code == 1 and "drift: mitigation M-TLS" in r.out
    project.write("target/src/nginx.conf", "ssl on\n")
    r = run("check", "--source", str(src), "--format", "json", cwd=project.root)
    assert json.loads(r.out)["policy"]["violations"] == ["mitigation M-PARAM has no evidence (require_evidence)"]


def test_mitigation_state_semantics():
    ok = EvidenceResult("pass", "regex")
    bad = EvidenceResult("fail", "regex")
    gap_open = EvidenceResult("fail", "regex", gap=True)
    gap_closed = EvidenceResult("pass", "regex", gap=True)
    assert mitigation_state("m", "implemented", (ok,)).strength == "full"
    assert mitigation_state("m", "implemented", (bad,)).drift
    partial = mitigation_state("m", "partial", (ok, gap_open))
    assert (partial.strength, partial.drift, partial.note) == ("partial", False, "the gap is confirmed by the source")
    assert mitigation_state("m", "partial", (bad, gap_open)).drift  # the part that exists regressed
    assert "gap may have closed" in mitigation_state("m", "absent", (gap_closed,)).note
    assert mitigation_state("m", "absent", (gap_open,)).strength == "none"


def test_config_is_found_from_a_subfolder_and_flags_override(run, project):
    sub = project.root / "threats"
    r = run("list", "elements", "--format", "json", cwd=sub)
    assert r.code == 0 and [e["id"] for e in json.loads(r.out)] == ["app", "db", "user", "web"]
    project.write("other.py", "from pytm import TM, Process\ntm = TM('o')\nsolo = Process('Solo')\n")
    r = run("list", "elements", "--model", "other.py", "--threats", "none", "--mitigations", "none",
            cwd=project.root)
    assert r.code == 2 and "catalog folder 'none' does not exist" in r.err


def test_bad_config_keys_and_usage_errors_exit_2(run, project):
    project.write("pyproject.toml", """
        [tool.threatgraph]
        modle = "model.py"
        [tool.threatgraph.policy]
        fail_on = "hihg"
        """)
    r = run("check", cwd=project.root)
    assert r.code == 2 and "pyproject.toml:2:1: error: unknown key 'modle'" in r.err and "did you mean 'model'?" in r.err
    assert "fail_on 'hihg' is not a severity" in r.err
    import pytest
    with pytest.raises(SystemExit) as exc:
        run("check", "--format", "yaml", cwd=project.root)
    assert exc.value.code == 2


def test_report_explain_and_list(run, project):
    out = project.root / "out"
    r = run("report", "--out", str(out), cwd=project.root)
    assert r.code == 0
    md = (out / "coverage.md").read_text(encoding="utf-8")
    assert "**TH-SQLI** SQL injection" in md and "| ❌ unmitigated | 1 |" in md
    assert json.loads((out / "coverage.json").read_text(encoding="utf-8"))["summary"]["pairs"] == 3
    r = run("explain", "TH-SQLI", cwd=project.root)
    assert "partially-mitigated" in r.out and "app_to_db" in r.out and "M-PARAM (layer): partial" in r.out
    r = run("explain", "login", "--format", "json", cwd=project.root)
    assert json.loads(r.out)["threats"][0]["id"] == "TH-SNIFF"
    r = run("explain", "M-TLS", cwd=project.root)
    assert "proves: the server enables TLS" in r.out
    r = run("explain", "TH-SQL", cwd=project.root)
    assert r.code == 2 and "did you mean 'TH-SQLI'?" in r.err
    r = run("list", "flows", cwd=project.root)
    assert r.out.splitlines()[0].split()[:3] == ["id", "source", "sink"]


def test_outputs_are_deterministic(run, project):
    a = run("check", "--format", "markdown", cwd=project.root).out
    b = run("check", "--format", "markdown", cwd=project.root).out
    assert a == b and a.startswith("# Threat coverage: shop")


def test_tool_failures_are_exit_4_not_input_errors(project, run, monkeypatch):
    """A missing git is the machine's problem: exit 4, said plainly, never "error(s) in the inputs"."""
    import subprocess

    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(project.root), *cmd], check=True)
    monkeypatch.setenv("PATH", "/nonexistent")
    r = run("diff", "HEAD", cwd=project.root)
    assert r.code == 4 and "git is not installed" in r.err and "in the inputs" not in r.err
    r = run("check", "--source", str(project.root), "--source-ref", "HEAD", cwd=project.root)
    assert r.code == 4 and "git is not installed" in r.err
