"""Compliance mapping: mitigations name the framework controls they implement; each control is
reported as covered as the least of its mitigations, never verified without evidence, drifted
when one of them drifted; malformed control ids are located errors."""

from __future__ import annotations

import json
import os

import pytest

from threatgraph import compliance, pipeline
from threatgraph.config import load_config

from .conftest import REPO

FIREWALL = os.environ.get("THREATGRAPH_FIREWALL_REPO")


def test_every_mapped_control_is_listed_once_with_its_mitigations():
    a = pipeline.check(load_config(REPO), use_evidence=False)
    rows = compliance.controls(a)
    want: dict[tuple[str, str], set[str]] = {}
    for mid, m in a.catalog.mitigations.items():
        for framework, ids in m.compliance.by_framework().items():
            for c in ids:
                want.setdefault((framework, c), set()).add(mid)
    assert {(r.framework, r.control): {m for m, _ in r.mitigations} for r in rows} == want
    assert len(rows) == len(want) and {"nist-800-53", "cis-docker"} <= {r.framework for r in rows}
    # without a source nothing is verified, and a control is never better than its worst mitigation
    assert "verified" not in {r.state for r in rows}
    for r in rows:
        states = [s for _, s in r.mitigations]
        if all(s == "claimed" for s in states):
            assert r.state == "claimed"
        if all(s == "absent" for s in states):
            assert r.state == "absent"
        if "absent" in states and r.state != "absent":
            assert r.state == "partial"


@pytest.mark.skipif(not FIREWALL, reason="set THREATGRAPH_FIREWALL_REPO to a clone of github/gh-aw-firewall")
def test_at_f5509576_controls_of_drifted_mitigations_read_drifted(run):
    doc = json.loads(run("check", "--source", FIREWALL, "--source-ref", "f5509576", "--format", "json",
                         cwd=REPO).out)
    drifted = set(doc["drift"])
    assert drifted
    for row in doc["compliance"]["controls"]:
        if any(m in drifted for m, _ in row["mitigations"]):
            assert row["state"] == "drifted", row
    cis = {r["control"]: r["state"] for r in doc["compliance"]["controls"] if r["framework"] == "cis-docker"}
    assert cis["5.10"] == "drifted"  # the agent's memory cap became configurable (C-AGENT-RESOURCE-LIMITS)
    assert cis["5.31"] == "partial"  # the socket is masked, but --mount can bring it back


@pytest.mark.parametrize("ids, message", [
    ("{nist-800-53: [sc7]}", "'sc7' is not a valid nist-800-53"),
    ("{cis-docker: [5.10]}", "was read by YAML as a number"),
    ("{pci-dss: ['1.2']}", "unknown key 'pci-dss'"),
])
def test_malformed_control_ids_are_located_errors(project, run, ids, message):
    path = project.write("mitigations/main.yaml", f"""
        mitigations:
          - id: M-TLS
            title: TLS everywhere
            status: implemented
            compliance: {ids}
          - id: M-PARAM
            title: Parameterised queries
            status: partial
          - id: M-NET
            title: Network policy
            status: planned
        """)
    r = run("check", "--no-evidence", cwd=project.root)
    assert r.code == 2 and message in r.err, r.err
    assert f"{path.relative_to(project.root).as_posix()}:5:" in r.err
    if "sc7" in ids:
        assert "e.g. SC-7" in r.err  # the hint says what a valid id looks like
    if "pci" in ids:
        assert "nist-800-53" in r.err  # the frameworks it knows
