"""The editor's view of a project (threatgraph.editor.project), without the protocol: what
completes where, what a hover says, where a definition is, and that opening a project never
runs its model."""

from __future__ import annotations

import pytest

from threatgraph.editor.project import Project
from threatgraph.model.out_of_process import load_model_out_of_process

CATALOG = """threats:
- id: X
  title: t
  stride: [spo
  applies_to:
  - flows: {prot
  - flows: {id: lo
  - elements: {kind: da
  - flows:
    - we
  - elements:
      in_b
  references:
    cw
  mitigations: [M-
  severity:\x20
  lik
decisions:
- threat: TH-
  decision: ac
"""


@pytest.fixture
def ready(project):
    p = Project((project.root / "pyproject.toml").resolve())
    assert p.refresh({}, run_model=True, read_source=True) == {}
    return p


@pytest.mark.parametrize("typed, first", [
    ("[spo", ["denial_of_service", "elevation_of_privilege", "information_disclosure", "repudiation", "spoofing",
              "tampering"]),
    ("{prot", ["id", "tag", "in_boundary", "crosses", "protocol", "port"]),  # flow selector keys, in declared order
    ("{id: lo", ["app_to_db", "bypass", "login", "web_to_app"]),  # flow ids only
    ("{kind: da", ["actor", "agent", "asset", "boundary", "datastore", "element"]),
    ("    - we", ["app_to_db", "bypass", "login", "web_to_app"]),  # a list of flow ids under `flows:`
    ("      in_b", ["id", "kind", "tag", "in_boundary", "data", "classification"]),  # element selector keys
    ("    cw", ["cwe", "capec", "attack", "links", "notes"]),
    ("[M-", ["M-NET", "M-PARAM", "M-TLS"]),
    ("severity: ", ["critical", "high", "info", "low", "medium"]),
    ("  lik", ["id", "title", "description", "stride", "severity", "likelihood"]),
    ("- threat: TH-", ["TH-BYPASS", "TH-SNIFF", "TH-SQLI"]),
    ("  decision: ac", ["accept", "false_positive", "mitigated"]),
])
def test_completion_offers_what_fits_where_the_cursor_is(ready, project, typed, first):
    path = (project.root / "threats" / "new.yaml").resolve()
    lines = CATALOG.splitlines()
    line = next(i for i, text in enumerate(lines) if text.startswith(typed) or typed in text)
    col = lines[line].index(typed) + len(typed)
    assert [c.label for c in ready.completions(path, CATALOG, line, col)][:6] == first[:6]


def test_completion_is_only_for_catalog_files(ready, project):
    assert ready.completions((project.root / "model.py").resolve(), "x = ", 0, 4) == []


def test_a_hover_names_the_status_and_where_a_threat_lands(ready):
    text = ready.hover("TH-SQLI")
    assert text.splitlines()[0] == "**threat TH-SQLI** — SQL injection"
    assert "lands on 1 target(s): 1 partially-mitigated" in text
    assert "- partially-mitigated `app_to_db`" in text
    assert "`M-PARAM` (layer): declared partial, no evidence declared" in text
    assert ready.hover("M-NET").splitlines()[2] == "declared planned · no evidence declared"
    assert ready.hover("password").startswith("**data password** — Password")
    assert ready.hover("inner").splitlines() == [  # a boundary: what it holds and what crosses it
        "**boundary inner** — Inner · inside `dmz`", "", "holds: `app`, `db`", "",
        "crossed by 2 flow(s): `bypass`, `web_to_app`"]
    assert ready.hover("nothing_by_that_name") is None


def test_a_hover_escapes_what_the_model_names(project):
    project.write("model.py", (project.root / "model.py").read_text().replace(
        'Process("Web server"', 'Process("<img src=x onerror=alert(1)> *bold* [link](http://x)"'))
    p = Project((project.root / "pyproject.toml").resolve())
    p.refresh({}, run_model=True, read_source=True)
    first = p.hover("web").splitlines()[0]
    assert first == ("**process web** — &lt;img src=x onerror=alert\\(1\\)&gt; \\*bold\\* \\[link\\]\\(http://x\\)")


def test_opening_a_project_never_runs_its_model(project):
    marker = project.root / "ran"
    project.write("model.py", (project.root / "model.py").read_text() + f"\nopen({str(marker)!r}, 'w').close()\n")
    p = Project((project.root / "pyproject.toml").resolve())
    assert p.refresh({}, run_model=False, read_source=True) == {}  # the catalogs alone, checked without it
    assert p.model is None and not marker.exists()
    assert "save a file of the project" in p.hover("TH-SQLI")
    p.refresh({}, run_model=True, read_source=True)
    assert p.model is not None and marker.exists()


def test_definitions_lead_to_the_assignment_not_an_import(project):
    project.write("zones.py", 'from pytm import Boundary\n\nedge = Boundary("Edge")\n')
    project.write("model.py", "from zones import edge\n" + (project.root / "model.py").read_text().replace(
        'ExternalEntity("User", inBoundary=internet)', 'ExternalEntity("User", inBoundary=edge)'))
    p = Project((project.root / "pyproject.toml").resolve())
    assert p.refresh({}, run_model=True, read_source=True) == {}
    spot = p.definition("edge")
    assert (spot.path.name, spot.line, spot.start, spot.end) == ("zones.py", 2, 0, 4)
    spot = p.definition("M-TLS")
    assert (spot.path.name, spot.line, spot.start, spot.end) == ("main.yaml", 1, 8, 13)


def test_unsaved_text_is_checked_without_a_save(ready, project):
    path = (project.root / "threats" / "main.yaml").resolve()
    text = path.read_text().replace("severity: high", "severity: severe")
    found = ready.refresh({path: text}, run_model=False, read_source=False)
    (d,) = found[path]
    assert d.message.startswith("'severe' is not a valid severity")
    assert (d.spot.line, d.spot.start, d.spot.end) == (4, 14, 20)
    assert ready.refresh({}, run_model=False, read_source=False) == {}  # the file on disk is fine


def test_a_project_wide_problem_lands_on_the_configuration(project):
    project.write("pyproject.toml", (project.root / "pyproject.toml").read_text().replace(
        'fail_on = "critical"', 'fail_on = "severe"'))
    p = Project((project.root / "pyproject.toml").resolve())
    found = p.refresh({}, run_model=False, read_source=True)
    (d,) = found[(project.root / "pyproject.toml").resolve()]
    assert "fail_on" in d.message and d.spot.line == 6


def test_the_out_of_process_load_keeps_the_models_output_off_the_answer(project):
    project.write("model.py", 'print("{not json")\n' + (project.root / "model.py").read_text())
    loaded = load_model_out_of_process("model.py", project.root, 60, facts=False, cache=False)
    assert set(loaded.model.flows) == {"login", "web_to_app", "app_to_db", "bypass"}
    project.write("model.py", "import nosuchmodule\n")
    from threatgraph.errors import InputError

    with pytest.raises(InputError) as err:
        load_model_out_of_process("model.py", project.root, 60, facts=False, cache=False)
    (p,) = err.value.problems
    assert (p.file, p.line) == ("model.py", 1) and "nosuchmodule" in p.message
