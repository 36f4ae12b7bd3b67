"""Graph analyses: invariants with counterexamples, attack paths, single points of failure,
boundary crossings, export."""

import json
import shutil
from functools import lru_cache

import networkx as nx

from threatgraph import pipeline
from threatgraph.config import load_config

from .conftest import REPO, SMALL_MODEL

DECLARED = SMALL_MODEL + '''
from threatgraph.declare import Declarations, always_through, crossing_flows, never_reaches
analysis = Declarations(
    invariants=[
        always_through(user, [db], via=[app], name="db only through the app"),
        never_reaches(user, [db], name="users never reach the db"),
        crossing_flows(dmz, encrypted=True, name="crossing dmz is encrypted"),
    ],
    entry_points=[user],
    targets=[db],
)
'''


@lru_cache(maxsize=1)
def firewall():
    return pipeline.check(load_config(REPO), use_evidence=False)


def test_firewall_invariants_hold_and_report_paths_and_spofs():
    an = firewall().analysis
    assert [i.holds for i in an.invariants] == [True, True, True, True]
    assert len(an.invariants) == 4
    by_target: dict = {}
    for p in an.paths:  # the most open path to each target (paths come open first)
        by_target.setdefault(p.target, p)
    # credentials: the environment is readable (T11 open), on-disk files are blocked by the masks
    assert not by_target["agent_env"].blocked and by_target["agent_env"].residual_risk == "high"
    assert by_target["ds_creds"].blocked
    assert by_target["ds_creds"].steps[0]["blocked_by"] == ["C-CRED-OVERLAY-DOCKER", "C-CRED-OVERLAY-GH",
                                                             "C-HOME-SELECTIVE"]
    assert not by_target["ext_dns"].blocked and by_target["ext_dns"].steps[0]["step"] == "leak"  # DNS leaks
    spofs = {s.mitigation: s for s in an.single_points_of_failure}
    assert set(spofs) == {"C-DOCKER-SOCK-MASK", "M-NO-IPV6-NETWORK"}
    assert spofs["M-NO-IPV6-NETWORK"].opens[0].path[0]["flows"] == ["x_agent_ipv6"]
    (squid,) = an.bypass
    assert squid.bypassed == ("squid",) and squid.open == () and squid.other_open_egress == ("agent_dns",)
    assert {x.flow for x in squid.still_blocked} == {"x_agent_direct_tcp", "x_agent_direct_udp",
                                                    "x_agent_icmp", "x_agent_ipv6"}
    assert all(c.threats for c in an.crossings)  # every crossing is analysed (policy on)


def test_removing_the_dnat_redirect_breaks_the_egress_invariant(tmp_path, run):
    shutil.copytree(REPO / "model", tmp_path / "model")
    for d in ("threats", "mitigations"):
        shutil.copytree(REPO / d, tmp_path / d)
    flows = tmp_path / "model" / "flows.py"
    text = flows.read_text()
    old = 'agent_dnat_to_squid = flow(agent, squid, "F08 direct 80/443 redirected to Squid (DNAT)"'
    assert old in text
    flows.write_text(text.replace(old, 'agent_dnat_to_squid = flow(agent, ext_allowed, "F08 direct 80/443, no redirect"'))
    (tmp_path / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    r = run("paths", "--format", "json", cwd=tmp_path)
    assert r.code == 1
    egress = json.loads(r.out)["invariants"][0]
    assert egress["holds"] is False
    assert egress["counterexample"] == [{"from": "agent", "to": "ext_allowed", "flows": ["agent_dnat_to_squid"]}]
    r = run("check", cwd=tmp_path)
    assert r.code == 1 and "invariant broken: egress from the agent side goes through Squid" in r.out


def test_drifted_control_opens_an_attack_edge(project, run):
    project.write("model.py", DECLARED.replace("bypass = Dataflow(user, db", "bypass = Dataflow(user, db"))
    project.write("threats/main.yaml", """
        threats:
          - id: TH-BYPASS
            title: Direct database access
            stride: [elevation_of_privilege]
            severity: high
            applies_to:
              - flows: {attack: true}
            mitigations: [M-NET]
          - id: TH-WEB
            title: Web tampering
            stride: [tampering]
            severity: medium
            applies_to:
              - flows: [login, web_to_app, app_to_db]
        """)
    project.write("mitigations/main.yaml", """
        mitigations:
          - id: M-NET
            title: Network policy
            status: implemented
            evidence:
              - {kind: regex, proves: db port closed, path: net.conf, pattern: "^deny 5432$"}
        """)
    src = project.root / "target"
    project.write("target/net.conf", "deny 5432\n")
    doc = json.loads(run("paths", "--format", "json", "--source", str(src), cwd=project.root).out)
    holds = {i["name"]: i["holds"] for i in doc["invariants"]}
    # while M-NET holds, the bypass edge is blocked, so nothing unencrypted crosses the DMZ
    assert holds == {"db only through the app": True, "users never reach the db": False,
                     "crossing dmz is encrypted": True}
    never = next(i for i in doc["invariants"] if i["name"] == "users never reach the db")
    assert never["counterexample"][0] == {"from": "user", "to": "web", "flows": ["login"], "step": "move"}
    assert [s["mitigation"] for s in doc["single_points_of_failure"]] == []
    project.write("target/net.conf", "allow 5432\n")  # the control disappears: drift
    doc = json.loads(run("paths", "--format", "json", "--source", str(src), cwd=project.root).out)
    through = next(i for i in doc["invariants"] if i["name"] == "db only through the app")
    assert through["holds"] is False and through["counterexample"][0]["flows"] == ["bypass"]
    crossing = next(i for i in doc["invariants"] if i["name"] == "crossing dmz is encrypted")
    assert crossing["holds"] is False and crossing["counterexample"][0]["flows"] == ["bypass"]


def test_spof_when_one_control_stands_alone(project, run):
    project.write("model.py", DECLARED)
    project.write("threats/main.yaml", """
        threats:
          - id: TH-BYPASS
            title: Direct database access
            stride: [elevation_of_privilege]
            severity: high
            applies_to:
              - flows: {attack: true}
            mitigations: [M-NET]
        """)
    project.write("mitigations/main.yaml", """
        mitigations:
          - {id: M-NET, title: Network policy, status: implemented}
        """)
    doc = json.loads(run("paths", "--format", "json", cwd=project.root).out)
    assert [s["mitigation"] for s in doc["single_points_of_failure"]] == ["M-NET"]
    assert doc["single_points_of_failure"][0]["opens"][0]["target"] == "db"
    (p,) = [p for p in doc["paths"] if p["target"] == "db"]
    assert p["blocked"] and p["steps"][0]["blocked_by"] == ["M-NET"]


def test_crossing_policy_and_declaration_errors(project, run):
    project.write("pyproject.toml", """
        [tool.threatgraph]
        model = "model.py"
        [tool.threatgraph.policy]
        fail_on = "never"
        require_crossing_threats = true
        """)
    r = run("check", cwd=project.root)
    assert r.code == 1 and "flow web_to_app crosses inner but no threat is mapped" in r.out
    project.write("model.py", SMALL_MODEL + '\nfrom threatgraph.declare import Declarations, never_reaches\n'
                  'analysis = Declarations(invariants=[never_reaches(user, ["dbb"])])\n')
    r = run("check", cwd=project.root)
    assert r.code == 2 and "model.py:19:1: error: declarations name element 'dbb'" in r.err and "'db'" in r.err


def test_export_graphml_and_json(project, run, tmp_path):
    out = tmp_path / "g.graphml"
    assert run("export", "--format", "graphml", "--out", str(out), cwd=project.root).code == 0
    g = nx.read_graphml(out, force_multigraph=True)
    assert set(g.nodes) == {"user", "web", "app", "db"} and g.number_of_edges() == 4
    assert g.nodes["app"]["boundaries"] == "inner,dmz"
    doc = json.loads(run("export", "--format", "json", cwd=project.root).out)
    assert {e["key"] for e in doc["edges"]} == {"login", "web_to_app", "app_to_db", "bypass"}


def _random_project(project, rnd):
    lines = ["from pytm import TM, Process, Datastore, Dataflow",
             "from threatgraph.declare import Declarations", "tm = TM('random')"]
    for i in range(10):
        kind = "Datastore" if i in (3, 8, 9) else "Process"
        lines.append(f"e{i} = {kind}('E{i}')")
    attack, normal = [], []
    for f in range(18):
        u, v = rnd.sample(range(10), 2)
        is_attack = rnd.random() < 0.5
        lines.append(f"f{f} = Dataflow(e{u}, e{v}, 'F{f}', isAttack={is_attack})")
        (attack if is_attack else normal).append(f"f{f}")
    lines.append("analysis = Declarations(entry_points=[e0, e1], targets=[e7, e8, e9])")
    project.write("model.py", "\n".join(lines) + "\n")
    threats = ["threats:"]
    for t, fid in enumerate(attack + normal):
        stride = rnd.choice(["tampering", "information_disclosure", "elevation_of_privilege"])
        mits = rnd.sample(["M0", "M1", "M2", "M3", "M4"], rnd.randint(0, 2))
        threats.append(f"  - {{id: T{t}, title: t, stride: [{stride}], severity: high, "
                       f"applies_to: [{{flows: {fid}}}], mitigations: [{', '.join(mits)}]}}")
    project.write("threats/main.yaml", "\n".join(threats) + "\n")
    project.write("mitigations/main.yaml", "mitigations:\n" + "".join(
        f"  - {{id: M{i}, title: m, status: {'implemented' if i < 4 else 'planned'}}}\n" for i in range(5)))


def test_single_points_of_failure_match_a_brute_force_search(project):
    import random

    from threatgraph.analysis import depth, graph

    seen = 0
    for seed in range(25):
        _random_project(project, random.Random(seed))
        a = pipeline.check(load_config(project.root), use_evidence=False)
        fp = graph.FlowPairs.of(a)
        fast = {s.mitigation: sorted((o.entry, o.target) for o in s.opens)
                for s in depth.single_points_of_failure(a, fp)}
        decl = a.model.declarations
        g0 = graph.reach_graph(a.model, graph.traversal(a, fp))
        closed = [(e, t) for e in decl.entry_points for t in decl.targets if graph.reach_path(g0, [e], [t]) is None]
        slow = {}
        for m in sorted(fp.sole_blockers()):
            g = graph.reach_graph(a.model, graph.traversal(a, fp, failed=[m]))
            hits = sorted((e, t) for e, t in closed if graph.reach_path(g, [e], [t]) is not None)
            if hits:
                slow[m] = hits
        assert fast == slow, seed
        seen += len(slow)
    assert seen > 5  # the random models do exercise single points of failure


def test_a_threat_someone_else_carries_out_extends_no_attack_path(project, run):
    """`attacker: other` (root on the host, an on-path adversary): the pair is assessed, but the
    entry points' attacker does not move through it."""
    project.write("model.py", DECLARED)
    threat = """
        threats:
          - id: TH-ALL
            title: Tampering along every ordinary flow
            stride: [tampering]
            severity: high
            attacker: {who}
            applies_to:
              - flows: {{attack: false}}
          - id: TH-BYPASS
            title: Direct database access
            stride: [elevation_of_privilege]
            severity: high
            applies_to:
              - flows: {{attack: true}}
            mitigations: [M-NET]
        """
    project.write("mitigations/main.yaml", "mitigations:\n  - {id: M-NET, title: Network policy, status: implemented}\n")
    reached = {}
    for who in ("entry_points", "other"):
        project.write("threats/main.yaml", threat.format(who=who))
        r = run("paths", "--format", "json", cwd=project.root)
        assert r.out, r.err
        doc = json.loads(r.out)
        reached[who] = next(i for i in doc["invariants"] if i["name"] == "users never reach the db")["holds"]
        pairs = json.loads(run("check", "--format", "json", cwd=project.root).out)["threats"][0]["targets"]
        assert {t["id"] for t in pairs} == {"login", "web_to_app", "app_to_db"}  # assessed either way
    assert reached == {"entry_points": False, "other": True}


def test_a_check_leaves_the_report_only_analyses_uncomputed_until_read():
    """A verdict never reads paths or the defence-in-depth analyses; read later, they are what
    computing them directly on the same assessment gives."""
    from threatgraph.analysis import depth
    from threatgraph.analysis.graph import FlowPairs

    a = pipeline.check(load_config(REPO), use_evidence=False)
    lazy = ("paths", "single_points_of_failure", "defence_in_depth", "bypass")
    assert not set(lazy) & set(vars(a.analysis))
    fp = FlowPairs.of(a)
    assert a.analysis.single_points_of_failure == depth.single_points_of_failure(a, fp)
    assert a.analysis.defence_in_depth == depth.independent_mitigations(a)
    assert a.analysis.bypass == depth.bypass(a, fp)
    assert set(lazy) - {"paths"} <= set(vars(a.analysis))
