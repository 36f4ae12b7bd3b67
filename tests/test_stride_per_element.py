"""STRIDE per element: every applicable (target, category) cell is considered by a threat or a
named not_applicable answer, checked against a brute-force reading of the table."""

from __future__ import annotations

import json

from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.vocabulary import STRIDE, STRIDE_PER_KIND

NOT_APPLICABLE = '''
not_applicable:
  - targets: [user]
    stride: [repudiation]
    owner: shop-security
    justification: customers act only through the web server, which records every order
'''


def brute_force(a, table=STRIDE_PER_KIND):
    """Every cell by definition: applicable categories per target, threats of that category on it."""
    answered = {(t, c) for e in a.catalog.not_applicable for t in e.targets for c in e.stride}
    out = {}
    for ident in [*(e.id for e in a.model.elements.values() if e.in_scope), *a.model.flows]:
        row = "flow" if ident in a.model.flows else a.model.elements[ident].kind
        for category in table[row]:
            hit = any(p.target.id == ident and category in a.catalog.threats[p.threat].stride for p in a.pairs)
            out[(ident, category)] = "threats" if hit else "not_applicable" if (ident, category) in answered \
                else "not_considered"
    return out


def test_cells_match_the_table_read_by_hand(project):
    project.write("threats/na.yaml", NOT_APPLICABLE)
    a = pipeline.check(load_config(project.root), use_evidence=False)
    grid = a.analysis.stride
    assert {(c.target, c.category): c.state for c in grid.cells} == brute_force(a)
    assert grid.total == len(brute_force(a)) and grid.considered == sum(v != "not_considered" for v in brute_force(a).values())
    cell = next(c for c in grid.cells if (c.target, c.category) == ("user", "repudiation"))
    assert cell.state == "not_applicable" and "records every order" in cell.note
    sniff = next(c for c in grid.cells if (c.target, c.category) == ("login", "information_disclosure"))
    assert sniff.threats == ("TH-SNIFF",)


def test_completeness_in_every_output_and_the_gate(project, run):
    r = run("check", cwd=project.root)
    assert "  stride     " in r.out and "not considered (STRIDE per element" in r.out and "user: spoofing" in r.out
    doc = json.loads(run("check", "--format", "json", cwd=project.root).out)
    s = doc["stride_per_element"]
    assert s["cells"] == len(s["grid"]) and {"target": "user", "kind": "external_entity",
                                               "category": "spoofing"} in s["not_considered"]
    md = run("check", "--format", "markdown", cwd=project.root).out
    assert "## STRIDE per element" in md and "| `user` | spoofing, repudiation |" in md
    text = (project.root / "pyproject.toml").read_text()
    project.write("pyproject.toml", text.replace("[tool.threatgraph.policy]",
                                                 "[tool.threatgraph.policy]\nrequire_stride_per_element = true"))
    r = run("check", cwd=project.root)
    assert r.code == 1 and "spoofing not considered for user (require_stride_per_element)" in r.out


def test_a_project_overrides_rows_of_the_table(project):
    text = (project.root / "pyproject.toml").read_text()
    project.write("pyproject.toml", text.replace("[tool.threatgraph.policy]",
                                                 '[tool.threatgraph.stride]\nflow = ["information_disclosure"]\n'
                                                 'external_entity = []\n\n[tool.threatgraph.policy]'))
    cfg = load_config(project.root)
    a = pipeline.check(cfg, use_evidence=False)
    assert {c.category for c in a.analysis.stride.cells if c.kind == "flow"} == {"information_disclosure"}
    assert not [c for c in a.analysis.stride.cells if c.target == "user"]
    assert {(c.target, c.category): c.state for c in a.analysis.stride.cells} == brute_force(a, cfg.stride)


def test_not_applicable_names_each_target_with_an_owner_and_a_reason(project, run):
    project.write("threats/na.yaml", '''
not_applicable:
  - {targets: ["we*"], stride: [spoofing], owner: me, justification: x}
  - {targets: [nobody], stride: [spoofing], owner: me, justification: x}
  - {targets: [web], stride: [spoofin], owner: me, justification: x}
  - {targets: [web], stride: [spoofing], justification: x}
''')
    r = run("check", cwd=project.root)
    assert r.code == 2
    assert "threats/na.yaml:3:" in r.err and "'we*' is a pattern" in r.err and "blanket" in r.err
    assert "no element or flow with id 'nobody'" in r.err
    assert "'spoofin' is not a valid" in r.err and "spoofing" in r.err
    assert "missing required key 'owner'" in r.err


def test_stride_prompts_fill_the_grid_but_answer_nothing(project, run):
    text = (project.root / "pyproject.toml").read_text()
    project.write("pyproject.toml", text.replace("[tool.threatgraph]", '[tool.threatgraph]\npacks = ["stride"]', 1))
    a = pipeline.check(load_config(project.root), use_evidence=False)
    prompts = {p.threat for p in a.pairs if p.threat.startswith("STRIDE-")}
    assert prompts == {f"STRIDE-{c.upper().replace('_', '-')}" for c in STRIDE}
    cell = next(c for c in a.analysis.stride.cells if (c.target, c.category) == ("user", "spoofing"))
    assert cell.state == "not_considered" and cell.threats == ("STRIDE-SPOOFING",)
    before = pipeline.check(load_config(project.root), use_evidence=False).analysis.stride.considered
    project.write("pyproject.toml", text)
    assert pipeline.check(load_config(project.root), use_evidence=False).analysis.stride.considered == before
