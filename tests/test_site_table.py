"""The site's one table value: cells render to HTML with every string escaped, in the search
index on small sites and kept out of it on large ones."""

import html
import re

from threatgraph import pipeline
from threatgraph.config import load_config
from threatgraph.site import pages
from threatgraph.site.embed import fill_tables
from threatgraph.site.table import Anchor, Badge, Code, Emphasis, Link, Mark, Table, Text, listed

HOSTILE = 'x <script>alert(1)</script> | ` ** [a](javascript:1) \n line'


def href(kind: str, ident: str, ext: str) -> str:
    return f"{kind}-{ident}{ext}"


def table() -> Table:
    return Table.of(["name", "status"], [
        [[Link("threat", "T1", HOSTILE), Text(" " + HOSTILE)], [Badge("partially-mitigated", note="gap")]],
        [[Anchor("f", "F1"), Code(HOSTILE), Emphasis(HOSTILE)], [Mark("unmitigated", "U", title=HOSTILE)]],
        [listed([Link("threat", "A"), Link("threat", "B")]), []],
    ])


def test_html_escapes_every_part():
    out = table().html(href)
    assert "<script>" not in out and 'title="x &lt;script&gt;' in out
    assert out.count("<tr>") == 4 and out.count("<td>") == 6


def test_html_links_to_the_pages_href_names():
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', table().html(href))]
    assert links == ["threat-T1.html", "threat-A.html", "threat-B.html"]


def test_small_and_large_layouts_list_the_same_pairs():
    """One pairs table, two renderings: every (target, mitigation) the small layout lists on a
    threat page, the large layout lists too (before the split, the large one dropped the
    mitigations' declared states)."""
    from tests.conftest import REPO

    a = pipeline.check(load_config(REPO), use_evidence=False)
    tid = "T11"
    small = pages.SiteWriter(a, lambda n, s: None, large=False)
    large = pages.SiteWriter(a, lambda n, s: None, large=True)
    small_page = small.threat_page(tid)
    large_page = large.threat_page(tid)

    def mitigations(page: str, fragments: dict[str, str]) -> list[tuple[str, str]]:
        names = re.findall(r'data-fragment="([^"]+)"', page)
        fragment = next(fragments[n] for n in names if "tg-badge" in fragments[n] and "mitigation-" in fragments[n])
        return re.findall(r">([A-Z0-9-]+)</a> \((\w[\w-]*)\)", fragment)

    assert 'class="tg-table"' in small_page and 'class="tg-embed"' in large_page  # indexed, not indexed
    small_mits, large_mits = mitigations(small_page, small.fragments), mitigations(large_page, large.fragments)
    assert small_mits and small_mits == large_mits


def test_a_grouped_wrapped_table_spans_every_column_and_escapes_its_groups():
    t = Table.of(["threat", [Link("flow", "f1")], [Link("flow", "f2")], "x"], [[[Text("a")], [], [], []]],
                 groups=[("", 1), (HOSTILE, 2), ("other", 1)])
    out = t.html(href, "tg-matrix")
    assert out.startswith('<div class="tg-matrix">') and '<table class="tg-grid">' in out
    spans = [int(n) for n in re.findall(r'<th colspan="(\d+)"', out)]
    assert sum(spans) == len(t.headers) == 4
    assert "<script>" not in out and "x &lt;script&gt;" in out
    assert 'href="flow-f1.html"' in out  # a header can be a link
    assert "<div" not in t.html(href) and "<table>" in t.html(href)  # unwrapped, unchanged


def _matrix_cells(fragments: dict[str, str]) -> list[tuple[str, str, str]]:
    """(threat, target, letter) for every coloured cell of the matrix tables, read back from HTML."""
    out = []
    for frag in fragments.values():
        if "tg-matrix" not in frag:
            continue
        head = re.findall(r'<th><a href="(?:element|flow|boundary)-([^".]+)\.html"', frag)
        for row in re.findall(r"<tr>(.*?)</tr>", frag.split("</thead>", 1)[1], re.S):
            cells = re.findall(r"<td>(.*?)</td>", row, re.S)
            tid = re.search(r">([^<]+)</a>", cells[0]).group(1)
            for target, c in zip(head, cells[1:], strict=True):
                m = re.search(r'class="tg-cell [^"]+"[^>]*>(\w)<', c)
                if m:
                    out.append((tid, html.unescape(target), m.group(1)))
    return out


def test_the_matrix_shows_every_pair_once_and_its_heat_map_adds_up():
    """Oracle: the assessment's own pairs. Every pair is one cell of the table of its threat's
    first STRIDE category, with its status's letter; the boundary x STRIDE heat map counts each
    pair once per category of its threat, and its open counts are the open pairs."""
    from tests.conftest import REPO
    from threatgraph.render.pages import slug

    a = pipeline.check(load_config(REPO), use_evidence=False)
    w = pages.SiteWriter(a, lambda n, s: None, large=False)
    text = fill_tables(w.matrix_by_target(), w.fragments)
    got = sorted(_matrix_cells(w.fragments))
    want = sorted((p.threat, slug(p.target.id), p.status[:1].upper()) for p in a.pairs)
    assert got == want and len(got) == len(a.pairs)
    heat = text.split("## By boundary and STRIDE category", 1)[1].split("## Threat by target", 1)[0]
    counted = [(int(o), int(n)) for o, n in re.findall(r'class="tg-cell [^"]+" title="[^"]*">(\d+)/(\d+)<', heat)]
    total = sum(len(a.catalog.threats[p.threat].stride) for p in a.pairs)
    opened = sum(len(a.catalog.threats[p.threat].stride) for p in a.pairs
                 if p.status in ("unmitigated", "accepted-expired", "partially-mitigated"))
    assert sum(n for _, n in counted) == total and sum(o for o, _ in counted) == opened
