"""`explain` answers for every id the tool prints, with no empty template lines, and its
suggestions search names and descriptions as well as ids (issue 22)."""

from __future__ import annotations

import pytest

from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.render import explain

from .conftest import REPO


@pytest.fixture(scope="module")
def firewall():
    return pipeline.check(load_config(REPO), use_evidence=False)


def test_every_id_the_tool_prints_is_explained_without_empty_lines(firewall):
    a = firewall
    ids = set(a.catalog.threats) | set(a.catalog.mitigations) | a.model.all_ids()
    assert len(ids) > 200
    for ident in sorted(ids):
        data = explain.explain_data(a, ident)
        assert data is not None, ident
        text = explain.render_text(data)
        assert text.splitlines()[0].split(" ", 2)[1].rstrip(":") == ident
        for line in text.splitlines():
            assert line.strip() and not line.rstrip().endswith((":  ", ": ,")) and "(none): ," not in line, (ident, line)


def test_a_data_asset_says_what_carries_and_holds_it(project, run):
    r = run("explain", "password", cwd=project.root)
    assert r.code == 0
    assert r.out.splitlines()[:3] == ["data password: Password [secret; credentials]", "  carried by:",
                                      "    login: 1 mitigated"]
    assert "  held by: nothing in the model" in r.out
    on_login = run("explain", "login", cwd=project.root).out  # the same pair, seen from its flow
    assert sum(line.startswith("  mitigated ") for line in on_login.splitlines()) == 1


def test_a_boundary_says_what_it_holds_and_which_flows_cross_it(project, run):
    r = run("explain", "inner", cwd=project.root)
    assert r.code == 0
    assert r.out.splitlines() == [
        "boundary inner: Inner (inside dmz)",
        "  holds elements:",
        "    app: no threat lands there",
        "    db: no threat lands there",
        "  crossed by:",
        "    bypass: 1 unmitigated",
        "    web_to_app: no threat lands there",
    ]


def test_a_suggestion_finds_the_id_whose_name_carries_what_was_asked(project, run):
    r = run("explain", "Forward", cwd=project.root)
    assert r.code == 2
    assert r.err.splitlines()[:2] == [
        "command line: error: no threat, mitigation, element, flow, boundary or data asset 'Forward'",
        "    hint: ids are variable names; 'web_to_app' carries 'Forward' in the name or description"]
    r = run("explain", "wbe", cwd=project.root)
    assert "hint: did you mean 'web'?" in r.err
