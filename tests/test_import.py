"""`threatgraph import otm`: threatgraph's own export round-trips byte for byte, and an OTM file
written the way other tools write them (IriusRisk-style component types, numeric risk, instance
states) becomes a project that `check` and `build` accept; bad files get located errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from threatgraph import pipeline
from threatgraph.config import load_config

from .conftest import REPO

FOREIGN = {
    "otmVersion": "0.2.0",
    "project": {"name": "Payments API", "id": "payments-api", "description": "Card payments behind an API gateway"},
    "representations": [{"name": "Architecture diagram", "id": "diagram-1", "type": "diagram"}],
    "assets": [
        {"id": "card-data", "name": "Card numbers", "risk": {"confidentiality": 100, "integrity": 90, "availability": 60}},
        {"id": "orders", "name": "Orders", "risk": {"confidentiality": 40, "integrity": 70, "availability": 50}},
    ],
    "trustZones": [
        {"id": "internet", "name": "Internet", "risk": {"trustRating": 1}},
        {"id": "aws-cloud", "name": "AWS cloud", "risk": {"trustRating": 60}},
        {"id": "private-subnet", "name": "Private subnet", "risk": {"trustRating": 90},
         "parent": {"trustZone": "aws-cloud"}},
    ],
    "components": [
        {"id": "customer", "name": "Customer browser", "type": "generic-client", "parent": {"trustZone": "internet"}},
        {"id": "api-gw", "name": "API gateway", "type": "api-gateway", "parent": {"trustZone": "aws-cloud"},
         "threats": [{"threat": "weak-tls", "state": "mitigated",
                      "mitigations": [{"mitigation": "tls-1-2", "state": "implemented"}]}]},
        {"id": "payments-fn", "name": "Payments function", "type": "aws-lambda",
         "parent": {"trustZone": "private-subnet"},
         "threats": [{"threat": "sqli", "state": "exposed",
                      "mitigations": [{"mitigation": "prepared-statements", "state": "required"}]},
                     {"threat": "log-forging", "state": "accepted"}]},
        {"id": "class", "name": "Ledger ''' \"\"\" \\ db\nsecond line", "type": "postgresql-database",
         "parent": {"component": "payments-fn"}, "assets": {"stored": ["card-data", "orders"]},
         "threats": [{"threat": "data-leak", "state": "mitigated"}]},
    ],
    "dataflows": [
        {"id": "1-checkout", "name": "Checkout", "source": "customer", "destination": "api-gw",
         "assets": ["card-data"], "tags": ["https"],
         "threats": [{"threat": "weak-tls", "state": "partially-mitigated",
                      "mitigations": [{"mitigation": "tls-1-2", "state": "partially-implemented"}]}]},
        {"id": "invoke", "name": "Invoke", "source": "api-gw", "destination": "payments-fn", "bidirectional": True},
        {"id": "store", "name": "Store payment", "source": "payments-fn", "destination": "class",
         "assets": ["card-data", "orders"]},
    ],
    "threats": [
        {"id": "weak-tls", "name": "Weak TLS configuration", "categories": ["Information Disclosure"],
         "cwes": ["CWE-326"], "risk": {"likelihood": 30, "impact": 80}},
        {"id": "sqli", "name": "SQL injection", "categories": ["Injection"], "cwes": ["CWE-89"],
         "risk": {"likelihood": 70, "impact": 95}},
        {"id": "log-forging", "name": "Log forging", "categories": ["Repudiation"], "risk": {"likelihood": 20, "impact": 30}},
        {"id": "data-leak", "name": "Card data leaves the ledger", "categories": ["Information Disclosure"],
         "risk": {"likelihood": 40, "impact": 100}},
    ],
    "mitigations": [
        {"id": "tls-1-2", "name": "TLS 1.2 or later only", "riskReduction": 80},
        {"id": "prepared-statements", "name": "Prepared statements", "riskReduction": 90},
    ],
}


def _tg(*args: str, cwd=REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "threatgraph", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_threatgraphs_own_export_round_trips_byte_for_byte(tmp_path):
    first = _tg("export", "--format", "otm", "--no-evidence")
    assert first.returncode == 0, first.stderr
    (tmp_path / "fw.otm.json").write_text(first.stdout, encoding="utf-8")
    r = _tg("import", "otm", str(tmp_path / "fw.otm.json"), "--dir", str(tmp_path / "proj"),
            "--accept-until", "2027-06-30")
    assert r.returncode == 0, r.stderr
    again = _tg("export", "--format", "otm", "--no-evidence", cwd=tmp_path / "proj")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout  # components, zones, flows, threats, states, ids
    original = pipeline.check(load_config(REPO), use_evidence=False)
    imported = pipeline.check(load_config(tmp_path / "proj"), use_evidence=False)
    assert sorted((p.threat, p.target.id, p.status) for p in imported.pairs) == \
        sorted((p.threat, p.target.id, p.status) for p in original.pairs)


def test_an_otm_file_from_another_tool_imports_into_a_project_check_and_build_accept(tmp_path):
    src = tmp_path / "payments.otm.json"
    src.write_text(json.dumps(FOREIGN, indent=2), encoding="utf-8")
    r = _tg("import", "otm", str(src), "--dir", str(tmp_path / "proj"), "--accept-until", "2027-01-31")
    assert r.returncode == 0, r.stderr
    proj = tmp_path / "proj"
    a = pipeline.check(load_config(proj), use_evidence=False)
    m = a.model
    assert {e.id: e.kind for e in m.elements.values()} == {
        "customer": "actor", "api_gw": "process", "payments_fn": "lambda", "element_class": "datastore"}
    assert m.elements["element_class"].name == FOREIGN["components"][3]["name"]  # hostile name kept, as a name
    assert m.elements["element_class"].boundaries[0] == "private_subnet"  # parent component's zone
    assert m.boundaries["private_subnet"].parent == "aws_cloud"
    assert {f.id for f in m.flows.values()} == {"flow_1_checkout", "invoke", "invoke_reverse", "store"}
    status = {(p.threat, p.target.id): (p.status, p.basis) for p in a.pairs}
    # tls-1-2 is implemented on the gateway but partial on the flow; one status, the least done
    assert status[("weak-tls", "api_gw")][0] == "partially-mitigated"
    assert status[("weak-tls", "flow_1_checkout")][0] == "partially-mitigated"
    assert "note: mitigation tls-1-2: its instances disagree" in r.stdout
    assert status[("sqli", "payments_fn")][0] == "unmitigated"  # the mitigation is only required
    assert status[("log-forging", "payments_fn")][0] == "accepted"
    assert status[("data-leak", "element_class")] == ("mitigated", "claimed")  # stated without a mitigation
    threats = a.catalog.threats
    assert threats["sqli"].stride == ["tampering"] and threats["sqli"].severity == "critical"
    assert threats["weak-tls"].likelihood == "low" and threats["weak-tls"].impact == "high"
    assert _tg("check", cwd=proj).returncode in (0, 1)
    built = _tg("build", "--no-site", "--out", str(tmp_path / "out"), cwd=proj)
    assert built.returncode in (0, 1), built.stderr
    assert (tmp_path / "out" / "reports" / "coverage.json").exists()


def _problem(tmp_path, doc_text: str) -> subprocess.CompletedProcess[str]:
    src = tmp_path / "bad.otm.json"
    src.write_text(doc_text, encoding="utf-8")
    return _tg("import", "otm", str(src), "--dir", str(tmp_path / "proj"))


@pytest.mark.parametrize("change, message, line_of", [
    (lambda d: d.update(otmVersion="9.9.9"), "otmVersion \"9.9.9\" is not one threatgraph reads", '"otmVersion"'),
    (lambda d: d["dataflows"][2].update(destination="nowhere"), "connects 'nowhere'", '"store"'),
    (lambda d: d["components"][0]["parent"].update(trustZone="mars"), "trust zone 'mars'", '"customer"'),
    (lambda d: d["threats"][1].update(categories=["Business logic"]), "no category threatgraph can read", '"sqli"'),
])
def test_bad_files_get_a_located_error_and_nothing_is_written(tmp_path, change, message, line_of):
    doc = json.loads(json.dumps(FOREIGN))
    change(doc)
    text = json.dumps(doc, indent=2)
    r = _problem(tmp_path, text)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert message in r.stderr, r.stderr
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if line_of in ln)
    assert f"bad.otm.json:{line}:" in r.stderr
    assert not (tmp_path / "proj").exists()


def test_import_never_overwrites(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "model.py").write_text("# mine\n", encoding="utf-8")
    src = tmp_path / "p.otm.json"
    src.write_text(json.dumps(FOREIGN), encoding="utf-8")
    r = _tg("import", "otm", str(src), "--dir", str(proj))
    assert r.returncode == 2 and "already exists; import never overwrites" in r.stderr
    assert (proj / "model.py").read_text(encoding="utf-8") == "# mine\n"
    assert sorted(p.name for p in proj.iterdir()) == ["model.py"]


def test_not_json_is_located(tmp_path):
    r = _problem(tmp_path, '{"otmVersion": "0.2.0",\n  "project": {oops}\n}')
    assert r.returncode == 2 and "bad.otm.json:2:" in r.stderr and "not valid JSON" in r.stderr
