"""The model's own evidence: an element or flow proves it exists in the target's source, and is
reported stale (in every output, and by the gate) when that proof stops holding."""

from __future__ import annotations

import json

from .conftest import SMALL_MODEL

AS_BUILT = SMALL_MODEL + '''
app_to_db.evidence = [{"kind": "regex", "proves": "the app opens a database connection",
                       "path": "src/app.py", "pattern": "connect\\\\(DB_URL\\\\)"}]
db.evidence = [{"kind": "file_exists", "proves": "the schema ships with the app", "path": "src/schema.sql"}]
'''


def write(project, connects: bool = True):
    project.write("model.py", AS_BUILT)
    project.write("src/app.py", "db = connect(DB_URL)\n" if connects else "db = None  # moved to a service\n")
    project.write("src/schema.sql", "create table orders (id int);\n")
    project.write("src/web.conf", "ssl on\n")


def test_a_model_that_matches_its_source_is_proven(project, run):
    write(project)
    r = run("check", "--source", "src/..", cwd=project.root)
    assert "as built   2 of 2 elements and flows proven to exist in the source, 0 stale" in r.out, r.out
    r = run("check", cwd=project.root)
    doc = json.loads(run("check", "--format", "json", "--source", ".", cwd=project.root).out)
    assert doc["as_built"]["stale"] == [] and set(doc["as_built"]["evidence"]) == {"app_to_db", "db"}


def test_code_that_is_gone_makes_the_model_stale_and_fails_the_gate(project, run):
    write(project, connects=False)
    r = run("check", "--source", ".", cwd=project.root)
    assert r.code == 1
    assert "1 stale" in r.out and "stale model (its evidence no longer holds):" in r.out and "  app_to_db" in r.out
    assert "stale model: app_to_db no longer exists as modelled" in r.out and "(fail_on_stale_model)" in r.out
    sarif = json.loads(run("check", "--source", ".", "--format", "sarif", cwd=project.root).out)
    stale = [x for x in sarif["runs"][0]["results"] if x["ruleId"] == "threatgraph.stale-model"]
    assert len(stale) == 1 and stale[0]["properties"]["target"] == "app_to_db"
    md = run("check", "--source", ".", "--format", "markdown", cwd=project.root).out
    assert "## Stale model" in md and "`app_to_db`" in md
    text = (project.root / "pyproject.toml").read_text()
    project.write("pyproject.toml", text.replace("[tool.threatgraph.policy]",
                                                 "[tool.threatgraph.policy]\nfail_on_stale_model = false"))
    assert run("check", "--source", ".", cwd=project.root).code == 0


def test_a_bad_evidence_item_in_the_model_is_located_at_its_object(project, run):
    project.write("model.py", SMALL_MODEL + '\ndb.evidence = [{"kind": "regexp", "path": "x"}]\n')
    r = run("check", cwd=project.root)
    assert r.code == 2
    line = SMALL_MODEL.lstrip("\n").splitlines().index('db = Datastore("Orders DB", inBoundary=inner)') + 1
    assert f"model.py:{line}:1: error: db: evidence item 1: unknown evidence kind 'regexp'" in r.err, r.err
    assert "regex" in r.err
