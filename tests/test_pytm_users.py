"""For pytm users: models in pytm's documented form load unchanged, pytm's own threat library
runs as a compiled pack with exactly the findings of pytm's own resolve(), and pytm's triage
(Finding overrides, Assumptions) carries over as decisions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from threatgraph import conditions, pipeline
from threatgraph.config import load_config
from threatgraph.errors import InputError
from threatgraph.model.loader import load_model
from threatgraph.packs import pytm as pytm_pack
from threatgraph.safeyaml import YamlDocument

from .pytm_models import random_model

PYPROJECT = '[tool.threatgraph]\nmodel = "tm.py"\npacks = ["pytm"]\n'

# pytm's own resolve() on a fresh interpreter: the oracle. Every pytm object the model binds
# is named by its variable, as threatgraph names it.
ORACLE = r'''
import json, runpy, sys
ns = runpy.run_path(sys.argv[1])
from pytm import TM
tm = next(v for v in ns.values() if isinstance(v, TM))
names = {id(v): k for k, v in ns.items() if not k.startswith("_")}
tm.resolve()
print(json.dumps({"findings": sorted([f.threat_id, names[id(f.element)]] for f in tm.findings),
                  "excluded": sorted([f.threat_id, names[id(f.element)]] for f in tm.excluded_findings)}))
'''


def pytm_findings(model: Path) -> dict[str, set[tuple[str, str]]]:
    r = subprocess.run([sys.executable, "-c", ORACLE, str(model)], capture_output=True, text=True, timeout=120,
                       check=True)
    return {k: {tuple(x) for x in v} for k, v in json.loads(r.stdout).items()}


def threatgraph_findings(root: Path) -> dict[str, set[tuple[str, str]]]:
    a = pipeline.check(load_config(root), use_evidence=False)
    assumed = {n for n, d in enumerate(a.catalog.decisions) if d.justification.startswith("pytm Assumption")}
    return {"findings": {(p.threat, p.target.id) for p in a.pairs if p.decision not in assumed},
            "excluded": {(p.threat, p.target.id) for p in a.pairs if p.decision in assumed}}


def write_project(root: Path, model: str, pyproject: str = PYPROJECT) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "tm.py").write_text(textwrap.dedent(model), encoding="utf-8")
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (root / "threats").mkdir(exist_ok=True)
    (root / "mitigations").mkdir(exist_ok=True)
    return root


def assert_parity(root: Path) -> int:
    want, got = pytm_findings(root / "tm.py"), threatgraph_findings(root)
    for key in ("findings", "excluded"):
        missing, extra = sorted(want[key] - got[key]), sorted(got[key] - want[key])
        assert not missing and not extra, f"{key}: pytm only {missing[:20]}, threatgraph only {extra[:20]}"
    return len(want["findings"])


def test_every_condition_of_the_installed_library_translates():
    pack = pytm_pack.load()
    assert [(u.id, u.reason) for u in pack.untranslated] == []
    assert len(pack.threats) >= 100
    doc = YamlDocument("pack", None, {}, {})
    for threat, _ in pack.threats:  # every compiled tree is a valid condition
        for item in threat.applies_to:
            what, selector = next(iter(item.items()))
            for sub in selector.get("any", [selector]):
                assert conditions.check(sub["where"], doc, ()) == [], threat.id


@pytest.mark.parametrize("condition, reason", [
    ("target.f(1)", "call"), ("target.a == 1 + 2", "operand"), ("x.y is True", "identity"),
    ("lambda: 1", "expression"), ("target.a is", "not a Python expression"),
    ("any(d for d in target.data if d)", "any()"),
])
def test_constructs_without_a_translation_are_reported_with_the_reason(condition, reason):
    with pytest.raises(pytm_pack.Untranslatable) as exc:
        pytm_pack.translate(condition)
    assert reason in str(exc.value)


@pytest.mark.parametrize("seed", range(12))
def test_pack_findings_equal_pytm_resolve_on_random_models(tmp_path, seed):
    root = write_project(tmp_path / "p", random_model(seed))
    assert assert_parity(root) > 0


@pytest.mark.fuzz
@pytest.mark.parametrize("seed", range(100, 160))
def test_pack_findings_equal_pytm_resolve_on_more_random_models(tmp_path, seed):
    root = write_project(tmp_path / "p", random_model(seed, elements=14, flows=24))
    assert_parity(root)


HAND_WRITTEN = '''
from pytm import (TM, Boundary, Actor, ExternalEntity, Process, SetOfProcesses, Server, Datastore, Lambda, LLM,
                  Agent, Dataflow, Data, Classification, Lifetime, TLSVersion, Finding, Assumption)
TM.reset()
tm = TM("every class", description="one of each")
tm.assumptions = [Assumption("internal network", description="no outside attacker", exclude=["DO01"])]
internet = Boundary("Internet")
cloud = Boundary("Cloud")
user = Actor("User", inBoundary=internet)
partner = ExternalEntity("Partner", inBoundary=internet)
web = Server("Web", inBoundary=cloud, OS="linux", sourceFiles=["web/app.py"], levels=[0, 1])
web.protocol = "HTTP"
web.controls.sanitizesInput = True
web.overrides = [Finding(threat_id="INP03", response="mitigated by the template engine")]
worker = Process("Worker", inBoundary=cloud, environment="Production")
workers = SetOfProcesses("Workers", inBoundary=cloud)
fn = Lambda("Resize", inBoundary=cloud)
fn.usesEnvironmentVariables = True
db = Datastore("DB", inBoundary=cloud)
db.assumptions = [Assumption("encrypted disks", exclude=["DS06"])]
model = LLM("Model", inBoundary=cloud)
agent = Agent("Agent", inBoundary=cloud)
token = Data("Token", classification=Classification.SECRET, isCredentials=True, credentialsLife=Lifetime.LONG)
page = Data("Page", format="JSON", classification=Classification.PUBLIC)
login = Dataflow(user, web, "Login", protocol="HTTPS", dstPort=443, data=[token], tlsVersion=TLSVersion.TLSv12)
feed = Dataflow(partner, web, "Feed", protocol="HTTP", data=[page])
jobs = Dataflow(web, worker, "Jobs", data="job description")
fanout = Dataflow(worker, workers, "Fan out", data="job description")
resize = Dataflow(worker, fn, "Resize")
store = Dataflow(fn, db, "Store", protocol="SQL", data=[token])
ask = Dataflow(agent, model, "Ask", protocol="HTTPS")
tm.resolve()
'''


def test_a_model_of_every_class_matches_pytm_and_its_triage_carries_over(tmp_path):
    root = write_project(tmp_path / "p", HAND_WRITTEN)
    assert assert_parity(root) > 50
    a = pipeline.check(load_config(root), use_evidence=False)
    by_pair = {(p.threat, p.target.id): p for p in a.pairs}
    inp03 = by_pair[("INP03", "web")]
    assert (inp03.status, inp03.basis) == ("mitigated", "claimed")  # a claim, never shown as verified
    assert "template engine" in inp03.reason
    assert by_pair[("DO01", "worker")].status == "accepted"  # the model-wide assumption
    decision = a.catalog.decisions[by_pair[("DO01", "worker")].decision]
    assert decision.justification == "pytm Assumption: internal network: no outside attacker"
    w = a.catalog.locations.decision(by_pair[("INP03", "web")].decision)
    assert (w.file, w.line) == ("tm.py", 11)  # where the element is declared
    assert {d for d in a.model.data} >= {"token", "page", "job_description", "job_description_2"}


def test_pytm_command_line_idioms_do_not_interfere(tmp_path):
    root = write_project(tmp_path / "p", '''
        import argparse, sys
        from pytm import TM, Server, Actor, Dataflow
        parser = argparse.ArgumentParser()
        parser.add_argument("--report")
        args = parser.parse_args()  # would fail on threatgraph's own flags
        tm = TM("cli")
        web = Server("Web")
        user = Actor("User")
        login = Dataflow(user, web, "Login")
        print(tm.dfd())
        print(tm.seq())
        tm.process()
        sys.exit(0)
        ''')
    loaded = load_model("tm.py", root, facts=True)
    assert sorted(loaded.model.elements) == ["user", "web"] and list(loaded.model.flows) == ["login"]
    from threatgraph.model.loader import load_model_here

    saved = sys.argv
    sys.argv = ["threatgraph", "check", "--format", "json"]
    try:  # in-process (the preview server's path): the same
        assert sorted(load_model_here("tm.py", root).model.elements) == ["user", "web"]
        assert sys.argv[1:] == ["check", "--format", "json"]
    finally:
        sys.argv = saved


def test_model_errors_point_at_the_users_line_readably(tmp_path):
    root = write_project(tmp_path / "p", '''
        from pytm import TM, Server
        tm = TM("bad")

        def server(name, os_name):
            return Server(name, OS=os_name)

        web = server("Web", "linux")
        api = server("Api", 3)
        ''')
    venv = root / ".venv" / "lib" / "site-packages"  # a virtualenv inside the project
    venv.mkdir(parents=True)
    (venv / "noise.py").write_text("x = 1\n")
    with pytest.raises(InputError) as exc:
        load_model("tm.py", root)
    p = exc.value.problems[0]
    assert (p.file, p.line) == ("tm.py", 6)  # inside the user's helper, not in pydantic
    assert p.message == "the model raised ValidationError: Server.OS: Input should be a valid string (got 3)"
    assert "called from tm.py:9" in p.hint and "\n" not in p.message


def test_a_model_that_exits_with_an_error_status_is_located(tmp_path):
    root = write_project(tmp_path / "p", "import sys\nfrom pytm import TM\ntm = TM('x')\nsys.exit(3)\n")
    with pytest.raises(InputError) as exc:
        load_model("tm.py", root)
    p = exc.value.problems[0]
    assert (p.file, p.line) == ("tm.py", 4) and "exited with status 3" in p.message


def test_a_project_excludes_amends_and_overrides_pack_threats(tmp_path):
    root = write_project(tmp_path / "p", HAND_WRITTEN)
    (root / "threats" / "pytm.yaml").write_text(textwrap.dedent('''
        exclude: [DO02]
        amend:
          - {id: INP02, severity: low, mitigations: [M-BOUNDS]}
        threats:
          - id: AC01
            title: Our own reading of AC01
            stride: [elevation_of_privilege]
            severity: critical
            applies_to:
              - elements: {id: web}
        '''))
    (root / "mitigations" / "m.yaml").write_text(
        "mitigations:\n  - {id: M-BOUNDS, title: Bounds checks, status: implemented}\n")
    a = pipeline.check(load_config(root), use_evidence=False)
    threats = a.catalog.threats
    assert "DO02" not in threats and threats["INP02"].severity == "low"
    assert [r.id for r in threats["INP02"].mitigations] == ["M-BOUNDS"]
    assert threats["AC01"].title == "Our own reading of AC01" and "AC01" not in a.catalog.packs
    assert {p.target.id for p in a.pairs if p.threat == "AC01"} == {"web"}
    assert all(p.status == "mitigated" for p in a.pairs if p.threat == "INP02")


def test_pack_mistakes_are_located_errors(tmp_path, run):
    root = write_project(tmp_path / "p", HAND_WRITTEN, PYPROJECT.replace('["pytm"]', '["pytn"]'))
    r = run("check", cwd=root)
    assert r.code == 2 and "pyproject.toml:3:1: error: unknown pack 'pytn'" in r.err and "pytm" in r.err
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "threats" / "x.yaml").write_text("exclude: [NOPE01]\namend:\n  - {id: INP02, mitigations: [M-X]}\n")
    r = run("check", cwd=root)
    assert r.code == 2
    assert "threats/x.yaml:1:" in r.err and "exclude names unknown threat 'NOPE01'" in r.err
    assert "threats/x.yaml:3:" in r.err and "unknown mitigation 'M-X'" in r.err


def test_where_and_pytm_class_in_a_projects_own_catalog(tmp_path):
    root = write_project(tmp_path / "p", HAND_WRITTEN, '[tool.threatgraph]\nmodel = "tm.py"\n')
    (root / "threats" / "own.yaml").write_text(textwrap.dedent('''
        threats:
          - id: OWN-TLS
            title: Old TLS on a credential flow
            stride: [information_disclosure]
            severity: high
            applies_to:
              - flows:
                  where:
                    all:
                      - {attr: tlsVersion, lt: {enum: TLSVersion.TLSv13}}
                      - some: {in: data, where: {attr: item.isCredentials, is: true}}
          - id: OWN-PROCESSES
            title: Processes without sanitising
            stride: [tampering]
            severity: medium
            applies_to:
              - elements: {pytm_class: [Process, Server], where: {not: {attr: controls.sanitizesInput}}}
        '''))
    a = pipeline.check(load_config(root), use_evidence=False)
    pairs = {(p.threat, p.target.id) for p in a.pairs}
    assert {t for h, t in pairs if h == "OWN-TLS"} == {"login", "store"}
    # SetOfProcesses is a Process (subclasses count, as in pytm); web sanitises its input
    assert {t for h, t in pairs if h == "OWN-PROCESSES"} == {"worker", "workers"}
