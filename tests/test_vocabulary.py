"""One vocabulary, one ordering: every "worst status" (diagram nodes, the small and the large
coverage matrix) reads the same rank, so the two layouts can no longer disagree."""

from __future__ import annotations

import json
import re

from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.render import dot
from threatgraph.site import pages as site_pages
from threatgraph.site.embed import fill_tables
from threatgraph.vocabulary import PARTIAL, STATUSES, worst_status

MODEL = '''
from pytm import TM, Boundary, Process, Datastore, Dataflow
tm = TM("two flows")
zone = Boundary("Zone")
web = Process("Web", inBoundary=zone)
db = Datastore("DB")
cache = Datastore("Cache")
web_to_db = Dataflow(web, db, "query")
web_to_zcache = Dataflow(web, cache, "cache write")
'''
THREATS = '''
threats:
  - id: T-1
    title: t
    stride: [tampering]
    severity: high
    applies_to: [{flows: [web_to_db, web_to_zcache]}]
    mitigations:
      - {id: M-FULL, targets: [web_to_db]}
      - {id: M-PART, targets: [web_to_zcache]}
'''
MITIGATIONS = '''
mitigations:
  - {id: M-FULL, title: full, status: implemented}
  - {id: M-PART, title: part, status: partial}
'''


def test_worst_status_follows_the_declared_order():
    for i, better in enumerate(STATUSES):
        for worse in STATUSES[: i + 1]:
            assert worst_status([better, worse]) in (worse, better)
    assert worst_status(["mitigated", PARTIAL]) == PARTIAL
    assert worst_status([]) == "none"


def test_large_matrix_cell_agrees_with_the_diagram(project):
    project.write("model.py", MODEL)
    project.write("threats/main.yaml", THREATS)
    project.write("mitigations/main.yaml", MITIGATIONS)
    a = pipeline.check(load_config(project.root), use_evidence=False)
    assert sorted(p.status for p in a.pairs) == ["mitigated", PARTIAL]
    assert dot.worst_status(a)["web_to_zcache"] == PARTIAL
    writer = site_pages.SiteWriter(a, lambda name, source: None, large=True)
    writer.generate()
    matrix = next(html for html in writer.fragments.values() if "T-1" in html and "tg-cell" in html)
    cells = re.findall(r'class="tg-cell tg-([a-z-]+)">(\d+)<', matrix)
    assert cells == [(PARTIAL, "2")]  # before: "mitigated", the first pair's status


def test_diagram_colours_have_one_meaning(project):
    """The open pair with the most risk left decides a colour; accepted pairs are not open; an
    attack edge the analysis proves blocked is drawn blocked, whatever else lands on it."""
    project.write("threats/main.yaml", """
        threats:
          - {id: T-LOW, title: Low and open, stride: [tampering], severity: low,
             applies_to: [{flows: [app_to_db, login]}]}
          - {id: T-CRIT, title: Critical and partly mitigated, stride: [tampering], severity: critical,
             applies_to: [{flows: app_to_db}], mitigations: [M-HALF]}
          - {id: T-BYPASS, title: Bypass, stride: [elevation_of_privilege], severity: high,
             applies_to: [{flows: {attack: true}}], mitigations: [{id: M-NET, role: prevents}]}
          - {id: T-DENY, title: Also on the edge, stride: [repudiation], severity: critical,
             applies_to: [{flows: {attack: true}}]}
          - {id: T-WEB, title: Accepted on web, stride: [spoofing], severity: critical,
             applies_to: [{elements: web}]}
        decisions:
          - {threat: T-LOW, targets: [login], decision: accept, owner: me, expires: 2999-01-01, justification: fine}
          - {threat: T-WEB, decision: accept, owner: me, expires: 2999-01-01, justification: fine}
        """)
    project.write("mitigations/main.yaml", """
        mitigations:
          - {id: M-HALF, title: Half, status: partial}
          - {id: M-NET, title: Net, status: implemented}
        """)
    a = pipeline.check(load_config(project.root), use_evidence=False)
    colour = dot.diagram_status(a)
    assert colour["app_to_db"] == PARTIAL  # critical partly mitigated outweighs low unmitigated
    assert colour["login"] == "accepted" and colour["web"] == "accepted"  # not open
    assert colour["bypass"] == "blocked-claimed"  # M-NET prevents (by its declaration alone: no source);
    # the open T-DENY does not repaint it
    assert dot.worst_status(a)["bypass"] == "unmitigated"  # what the matrix shows: least covered


def test_matrix_sorts_threats_by_open_risk_and_never_counts_a_claim_as_verified(project):
    a = pipeline.check(load_config(project.root), use_evidence=False)  # no source: every mitigation is a claim
    writer = site_pages.SiteWriter(a, lambda name, source: None, large=False)
    page = fill_tables(writer.matrix_by_target(), writer.fragments)
    summary = page.split("## By severity", 1)[1].split("## Threat by target", 1)[0]
    assert 'tg-mitigated">' not in summary and "tg-mitigated-claimed" in summary
    seen = []
    matrices = [f for f in writer.fragments.values() if f.startswith('<div class="tg-matrix">')]
    for fragment in matrices:  # one table per STRIDE category, each sorted by open risk
        body = fragment.split("</thead>", 1)[1]
        order = re.findall(r'<tr><td><a href="threat-[^"]+">([^<]+)</a>', body)
        risks = [writer.open_risk(t) for t in order]
        assert risks == sorted(risks, reverse=True)
        seen += order
    assert sorted(seen) == sorted(a.catalog.threats)  # each threat in exactly one table


def test_likelihood_and_impact_rate_a_severity_by_the_owasp_table_and_a_mismatch_warns(project, run):
    from threatgraph.vocabulary import RISK_MATRIX, SEVERITIES, rated_severity

    levels = ("low", "medium", "high")
    # monotone in both: more likely or more harmful never rates lower
    for li, lk in enumerate(levels):
        for ii, im in enumerate(levels):
            here = SEVERITIES.index(RISK_MATRIX[(lk, im)])
            if li + 1 < 3:
                assert SEVERITIES.index(RISK_MATRIX[(levels[li + 1], im)]) >= here
            if ii + 1 < 3:
                assert SEVERITIES.index(RISK_MATRIX[(lk, levels[ii + 1])]) >= here
    assert rated_severity("high", "high") == "critical" and rated_severity("low", "low") == "info"
    assert rated_severity("high", None) is None
    project.write("threats/main.yaml", """
        threats:
          - id: TH-SNIFF
            title: Credential sniffing
            stride: [information_disclosure]
            severity: high
            likelihood: low
            impact: medium
            applies_to:
              - flows: {data: password}
            mitigations: [M-TLS]
          - id: TH-SQLI
            title: SQL injection
            stride: [tampering]
            severity: critical
            likelihood: high
            impact: high
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
        """)
    r = run("check", "--no-evidence", "--format", "json", cwd=project.root)
    assert r.code in (0, 1)
    warnings = json.loads(r.out)["warnings"]
    assert any("threats/main.yaml:5:" in w and "rates low" in w for w in warnings), warnings
    assert not any("TH-SQLI" in w for w in warnings)  # critical agrees with high x high
    doc = json.loads(r.out)
    rated = {t["id"]: t["rated_severity"] for t in doc["threats"]}
    assert rated == {"TH-SNIFF": "low", "TH-SQLI": "critical", "TH-BYPASS": None}
