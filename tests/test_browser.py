"""Open the built firewall site in headless Chromium, as a reviewer would."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO / "test-artifacts"


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `apt-get install chromium` (Debian) to run the browser test")
def test_site_in_a_real_browser(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' brings Playwright")
    from threatgraph import build
    from threatgraph.config import load_config

    build.build_all(load_config(REPO), tmp_path / "build", use_evidence=False)
    index = (tmp_path / "build" / "site" / "index.html").as_uri()
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(index)
        box = page.locator(".tg-diagram svg").first.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 200
        page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
        # a node in the diagram is a link to its element's page
        page.locator(".tg-diagram svg a[*|href='element-squid.html']").first.click()
        assert page.url.endswith("element-squid.html")
        # a threat page links to its mitigations, and those links resolve
        page.goto(index.replace("index.html", "threat-seed-apparmor-unconfined~u.html"))
        link = page.locator("a[href='mitigation-c-agent-apparmor~u.html']").first
        assert link.count() == 1
        link.click()
        assert "AppArmor" in page.locator("h1").inner_text()
        assert page.locator("a[href='threat-seed-apparmor-unconfined~u.html']").count() >= 1  # and back
        page.screenshot(path=str(ARTIFACTS / "mitigation.png"), full_page=True)
        browser.close()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `apt-get install chromium` (Debian) to run the browser test")
def test_site_works_offline_from_files_and_asks_nothing_of_the_network(tmp_path):
    """Opened as files, the site makes no request beyond file:// (no fonts, no CDN), search
    finds a threat by a word of its title, and no page names the machine's path to the model."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' brings Playwright")
    from threatgraph import build
    from threatgraph.config import load_config

    build.build_all(load_config(REPO), tmp_path / "build", use_evidence=False)
    site = tmp_path / "build" / "site"
    for page_file in site.glob("*.html"):
        assert str(REPO) not in page_file.read_text(encoding="utf-8"), page_file.name
    requests: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.goto((site / "index.html").as_uri())
        page.wait_for_load_state("networkidle")
        page.keyboard.press("/")  # material's shortcut to the search box
        page.keyboard.type("tunnelling")
        page.wait_for_selector(".md-search-result__item", timeout=15000)
        results = page.locator(".md-search-result__item").all_inner_texts()
        page.screenshot(path=str(ARTIFACTS / "search-offline.png"))
        browser.close()
    assert any("DNS tunnelling" in r for r in results), results
    outside = [u for u in requests if not u.startswith(("file://", "data:", "blob:"))]
    assert outside == [], outside


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `apt-get install chromium` (Debian) to run the browser test")
def test_every_page_type_fits_and_diagrams_fit_with_a_small_legend(tmp_path):
    """At 1440 and 390 px, on each page type (home, threat, mitigation, element, flow, matrix,
    evidence, paths, report): no horizontal overflow of the page (wide tables scroll inside
    their own box); where there is a diagram, its initial view fits the content width and the
    legend takes at most a quarter of it."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' brings Playwright")
    from threatgraph import build
    from threatgraph.config import load_config

    build.build_all(load_config(REPO), tmp_path / "build", use_evidence=False)
    site = tmp_path / "build" / "site"
    pages = ["index.html", "threat-t01~u.html", "mitigation-c-agent-apparmor~u.html", "element-squid.html",
             "flow-agent_to_squid.html", "matrix.html", "evidence.html", "paths.html", "report.html"]
    with_diagram = {"index.html", "threat-t01~u.html", "element-squid.html", "flow-agent_to_squid.html", "paths.html",
                    "report.html"}
    legends = 0
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for width, height in ((1440, 900), (390, 844)):
            page = browser.new_page(viewport={"width": width, "height": height})
            for name in pages:
                page.goto((site / name).as_uri())
                page.wait_for_load_state("networkidle")
                assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, (name, width)
                page.screenshot(path=str(ARTIFACTS / f"{name.split('.')[0].replace('~', '_')}-{width}.png"))
                assert (page.locator(".tg-diagram svg").count() > 0) == (name in with_diagram), name
                if name not in with_diagram:
                    continue
                svg = page.locator(".tg-diagram svg").first
                box = svg.bounding_box()
                content = page.locator("article").first.bounding_box()
                assert box and content and box["width"] <= content["width"] + 2, (name, width)
                legend = page.locator(".tg-diagram svg g[id^='clust'] title", has_text="cluster_legend").first
                if legend.count():
                    legends += 1
                    lbox = page.evaluate("(t) => t.parentElement.getBoundingClientRect().toJSON()", legend.element_handle())
                    assert lbox["width"] * lbox["height"] <= box["width"] * box["height"] / 4, (name, width)
            page.close()
        browser.close()
    assert legends == 2 * len(with_diagram)  # every diagram has its legend, and each was measured


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `apt-get install chromium` (Debian) to run the browser test")
def test_matrix_headers_and_threat_column_stay_in_view_while_it_scrolls(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' brings Playwright")
    from threatgraph import build
    from threatgraph.config import load_config

    build.build_all(load_config(REPO), tmp_path / "build", use_evidence=False)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto((tmp_path / "build" / "site" / "matrix.html").as_uri())
        page.wait_for_load_state("networkidle")
        moved = page.evaluate("""() => {
            const box = [...document.querySelectorAll('.tg-matrix')].find(
                m => m.scrollHeight > m.clientHeight + 100 && m.scrollWidth > m.clientWidth + 100);
            if (!box) return null;
            box.scrollIntoView();
            box.scrollTop = 100; box.scrollLeft = 300;
            const frame = box.getBoundingClientRect();
            const head = box.querySelector('thead').getBoundingClientRect();
            const first = box.querySelector('tbody tr:nth-child(8) td').getBoundingClientRect();
            const later = box.querySelector('tbody tr:nth-child(8) td:nth-child(3)').getBoundingClientRect();
            return {top: head.top - frame.top, left: first.left - frame.left, scrolled: later.left - frame.left};
        }""")
        page.screenshot(path=str(ARTIFACTS / "matrix-scrolled.png"))
        browser.close()
    assert moved is not None, "no matrix table large enough to scroll both ways"
    assert abs(moved["top"]) <= 2 and abs(moved["left"]) <= 2  # stuck to the box's top and left edges
    assert moved["scrolled"] < 300  # while the other cells did move


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `apt-get install chromium` (Debian) to run the browser test")
def test_audit_report_prints_every_open_pair_on_paper(tmp_path):
    """The report page, printed to PDF by the browser: every open pair of the assessment is a
    row, nothing overflows the paper width, and the PDF is kept as an artifact."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' brings Playwright")
    from threatgraph import build, pipeline
    from threatgraph.config import load_config

    config = load_config(REPO)
    a = pipeline.check(config, use_evidence=False)
    open_pairs = [p for p in a.pairs if p.status in ("unmitigated", "accepted-expired", "partially-mitigated")]
    build.build_all(config, tmp_path / "build", use_evidence=False)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
        page.goto((tmp_path / "build" / "site" / "report.html").as_uri())
        page.wait_for_load_state("networkidle")
        page.emulate_media(media="print")
        rows = page.evaluate("""() => {
            const h = [...document.querySelectorAll('h2')].find(e => e.textContent.startsWith('Open pairs'));
            let n = h.nextElementSibling; while (n && !n.querySelector('table') && n.tagName !== 'TABLE') n = n.nextElementSibling;
            return n.querySelectorAll('tbody tr').length;
        }""")
        assert page.evaluate("document.documentElement.scrollWidth") <= 794 + 1
        pdf = page.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4", print_background=True)
        browser.close()
    assert rows == len(open_pairs) > 0
    assert pdf.startswith(b"%PDF") and 1 < pdf.count(b"/Type /Page") < 80


FIREWALL = os.environ.get("THREATGRAPH_FIREWALL_REPO")


def _git_dir(repo: str) -> str:
    """A clone's git directory, or a bare mirror itself."""
    return str(Path(repo) / ".git") if (Path(repo) / ".git").exists() else repo


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `apt-get install chromium` (Debian) to run the browser test")
@pytest.mark.skipif(not FIREWALL, reason="set THREATGRAPH_FIREWALL_REPO to a clone of github/gh-aw-firewall")
def test_every_evidence_link_points_at_the_pinned_commit(tmp_path):
    """Built with evidence against b8596445: every link out of the evidence page names the full
    commit the evidence was read at, and clicking one is a request for exactly that URL."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' brings Playwright")
    commit = subprocess.run(["git", "--git-dir", _git_dir(FIREWALL), "rev-parse", "b8596445^{commit}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    r = subprocess.run([sys.executable, "-m", "threatgraph", "build", "--source", FIREWALL, "--source-ref", commit,
                        "--out", str(tmp_path / "build")], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.route("https://**", lambda route: route.fulfill(status=200, body="ok"))  # nothing leaves the machine
        page.goto((tmp_path / "build" / "site" / "evidence.html").as_uri())
        links = page.evaluate("[...document.querySelectorAll('article a[href^=\"https://github.com/\"]')].map(a => a.href)")
        with page.expect_request(lambda r: r.url.startswith("https://github.com/")) as clicked:
            page.locator("article a[href^='https://github.com/']").first.click()
        requested = clicked.value.url
        browser.close()
    assert len(links) > 50
    assert all(f"/blob/{commit}/" in u for u in links), [u for u in links if commit not in u][:3]
    assert requested == links[0].split("#")[0]  # the fragment (#L<line>) stays in the browser
