"""Shared helpers: small real projects written to a temp folder, and the CLI run in-process."""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from threatgraph.cli import main

REPO = Path(__file__).resolve().parents[1]

# Every test runs its model unless it asks for the snapshot cache (tests/test_model_cache.py),
# so a test's result never depends on what an earlier test (or the developer) left cached.
os.environ["THREATGRAPH_NO_CACHE"] = "1"

SMALL_MODEL = '''
from pytm import TM, Boundary, Process, Datastore, ExternalEntity, Dataflow, Data, Classification
tm = TM("shop")
internet = Boundary("Internet zone")
dmz = Boundary("DMZ")
inner = Boundary("Inner", inBoundary=dmz)
user = ExternalEntity("User", inBoundary=internet)
web = Process("Web server", inBoundary=dmz)
app = Process("App", inBoundary=inner)
db = Datastore("Orders DB", inBoundary=inner)
password = Data("Password", classification=Classification.SECRET, isCredentials=True)
order = Data("Order", classification=Classification.RESTRICTED)
login = Dataflow(user, web, "Login", protocol="HTTPS", dstPort=443, data=[password])
login.controls.isEncrypted = True
web_to_app = Dataflow(web, app, "Forward", protocol="HTTP", dstPort=8080, data=[order])
app_to_db = Dataflow(app, db, "Store order", protocol="SQL", dstPort=5432, data=[order])
bypass = Dataflow(user, db, "Direct DB access", protocol="SQL", dstPort=5432, isAttack=True)
'''

THREATS = '''
threats:
  - id: TH-SNIFF
    title: Credential sniffing
    stride: [information_disclosure]
    severity: high
    applies_to:
      - flows: {data: password}
    mitigations: [M-TLS]
  - id: TH-SQLI
    title: SQL injection
    stride: [tampering]
    severity: critical
    applies_to:
      - flows: {protocol: sql, attack: false}
    mitigations: [M-PARAM]
  - id: TH-BYPASS
    title: Direct database access
    stride: [elevation_of_privilege]
    severity: medium
    applies_to:
      - flows: {attack: true}
    mitigations: [M-NET]
'''

MITIGATIONS = '''
mitigations:
  - id: M-TLS
    title: TLS everywhere
    status: implemented
    evidence:
      - kind: regex
        proves: the server enables TLS
        path: "src/**/*.conf"
        pattern: "^ssl on$"
  - id: M-PARAM
    title: Parameterised queries
    status: partial
  - id: M-NET
    title: Network policy
    status: planned
'''

PYPROJECT = '''
[tool.threatgraph]
model = "model.py"
threats = "threats"
mitigations = "mitigations"

[tool.threatgraph.policy]
fail_on = "critical"
'''


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Project:
    root: Path

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path / "proj")
    p.write("pyproject.toml", PYPROJECT)
    p.write("model.py", SMALL_MODEL)
    p.write("threats/main.yaml", THREATS)
    p.write("mitigations/main.yaml", MITIGATIONS)
    return p


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    def _run(*args: str, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


def synthetic_project(n: int, folder: Path) -> Path:
    """The benchmark suite's generated project (benchmarks/synthetic.py) with n elements."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("tg_bench_synthetic", REPO / "benchmarks" / "synthetic.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(n, folder)
