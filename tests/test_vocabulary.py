"""One vocabulary, one ordering: every "worst status" (diagram nodes, the small and the large
coverage matrix) reads the same rank, so the two layouts can no longer disagree."""

from __future__ import annotations

import re

from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.render import dot
from threatgraph.site import pages as site_pages
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
    writer = site_pages.SiteWriter(a, lambda name, source: "", large=True)
    writer.generate()
    matrix = next(html for html in writer.fragments.values() if "T-1" in html and "tg-cell" in html)
    cells = re.findall(r'class="tg-cell tg-([a-z-]+)">(\d+)<', matrix)
    assert cells == [(PARTIAL, "2")]  # before: "mitigated", the first pair's status
