"""Pins the firewall model's shape and checks the seed review's findings come out as gaps
on the right components."""

import json
from functools import lru_cache

import pytest

from threatgraph import pipeline
from threatgraph.config import load_config

from .conftest import REPO

SHARED = REPO.parent / "shared"


@lru_cache(maxsize=1)
def assessment():
    return pipeline.check(load_config(REPO), use_evidence=False)


def test_shape():
    m = assessment().model
    assert len(m.elements) >= 25 and len(m.flows) >= 22 and len(m.boundaries) == 9
    assert m.boundaries["tb_priv"].chain == ("tb_agentnet", "tb_fwd", "tb_docker", "tb_vm")
    assert m.elements["agent"].boundaries[0] == "tb_priv"
    assert m.elements["squid"].boundaries[0] == "tb_egress"
    f = m.flows["agent_to_squid"]
    assert (f.source, f.sink, f.port, f.encrypted, f.authenticated) == ("agent", "squid", 3128, True, False)
    assert m.flows["agent_dns"].protocol == "DNS" and not m.flows["agent_dns"].encrypted
    assert {"tb_priv", "tb_agentnet", "tb_fwd", "tb_docker", "tb_vm"} <= set(m.flows["agent_dns"].crosses)
    assert "tb_vm" in m.flows["squid_to_allowed"].crosses and "tb_vm" not in m.flows["agent_to_squid"].crosses
    attack = {k for k, f in m.flows.items() if f.attack}
    assert {"x_agent_direct_tcp", "x_agent_direct_udp", "x_agent_icmp", "x_agent_ipv6",
            "x_agent_docker_socket", "x_squid_blocked_domain"} <= attack
    names = " ".join(f.name for f in m.flows.values())
    for n in range(1, 23):
        assert f"F{n:02d} " in names, f"flow F{n:02d} missing"
    secrets = {d for d, a in m.data.items() if a.classification == "secret"}
    assert {"github_token", "provider_keys", "mcp_gateway_key", "oidc_request", "compose_secrets", "ca_key"} <= secrets


def test_catalog_covers_everything():
    a = assessment()
    assert len(a.catalog.threats) >= 40
    for tid in a.catalog.threats:
        assert a.pairs_of_threat(tid), f"{tid} has no target"
    used = {r.id for t in a.catalog.threats.values() for r in t.mitigations}
    assert set(a.catalog.mitigations) - used == set()
    missing = [f"T{n:02d}" for n in range(1, 29) if f"T{n:02d}" not in a.catalog.threats]
    assert missing == []


@pytest.mark.skipif(not (SHARED / "firewall-controls.json").exists(), reason="shared/ not beside the repo")
def test_every_part_c_control_is_a_mitigation():
    controls = json.loads((SHARED / "firewall-controls.json").read_text(encoding="utf-8"))["controls"]
    assert len(controls) == 76
    assert {c["id"] for c in controls} <= set(assessment().catalog.mitigations)


@pytest.mark.parametrize("threat,target,severity", [
    ("SEED-SECCOMP-DEFAULT-ALLOW", "agent", "medium"),
    ("SEED-APPARMOR-UNCONFINED", "agent", "medium"),
    ("SEED-SQUID-DNS-HARDCODED", "squid", "low"),
    ("SEED-MOUNT-NO-DENYLIST", "awf_cli", "info"),
    ("SEED-NO-ESCAPE-TESTS", "x_agent_direct_udp", "info"),
])
def test_seed_findings_are_gaps_on_the_right_component(threat, target, severity):
    a = assessment()
    (pair,) = [p for p in a.pairs_of_threat(threat) if p.target.id == target]
    assert pair.severity == severity
    assert pair.status in ("unmitigated", "partially-mitigated")


def test_accepted_risk_from_the_project_docs():
    a = assessment()
    dns = [p for p in a.pairs_of_threat("T01")]
    assert dns and all(p.status == "accepted" for p in dns)
    d = a.catalog.decisions[dns[0].decision]
    assert d.owner and d.expires and d.justification


def test_every_stride_per_element_cell_is_considered_by_name():
    """The firewall's STRIDE-per-element grid is complete, and no answer is a blanket one: each
    not_applicable entry names its targets (patterns are refused by the loader) and says why."""
    from threatgraph import pipeline
    from threatgraph.config import load_config

    a = pipeline.check(load_config(REPO), use_evidence=False)
    grid = a.analysis.stride
    assert grid.total > 250 and grid.open_cells() == []
    for entry in a.catalog.not_applicable:
        assert len(entry.justification) > 60 and len(entry.targets) <= 12


def test_every_flow_the_firewall_creates_carries_evidence_that_it_exists():
    from threatgraph.model.loader import load_model

    model = load_model("model/firewall.py", REPO).model
    without = {f.id for f in model.flows.values() if not f.evidence}
    # attack edges are what the design blocks; the agent's own environment reads and its stdio
    # MCP servers (configured by the workflow) are not created by the firewall's code
    assert without == {f.id for f in model.flows.values() if f.attack} | {"env_to_agent", "agent_to_mcp_stdio"}
