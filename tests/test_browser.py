"""Open the built firewall site in headless Chromium, as a reviewer would."""

import shutil

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
def test_diagrams_fit_the_page_and_the_legend_stays_small(tmp_path):
    """At 1440 and 390 px, on the home page and a threat, element, flow and paths page: no
    horizontal overflow of the page, the diagram's initial view fits the content width, and
    the legend takes at most a quarter of the diagram."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' brings Playwright")
    from threatgraph import build
    from threatgraph.config import load_config

    build.build_all(load_config(REPO), tmp_path / "build", use_evidence=False)
    site = tmp_path / "build" / "site"
    pages = ["index.html", "threat-t01~u.html", "element-squid.html", "flow-agent_to_squid.html", "paths.html"]
    legends = 0
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for width, height in ((1440, 900), (390, 844)):
            page = browser.new_page(viewport={"width": width, "height": height})
            for name in pages:
                page.goto((site / name).as_uri())
                page.wait_for_load_state("networkidle")
                assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, (name, width)
                svg = page.locator(".tg-diagram svg").first
                box = svg.bounding_box()
                content = page.locator("article").first.bounding_box()
                assert box and content and box["width"] <= content["width"] + 2, (name, width)
                legend = page.locator(".tg-diagram svg g[id^='clust'] title", has_text="cluster_legend").first
                if legend.count():
                    legends += 1
                    lbox = page.evaluate("(t) => t.parentElement.getBoundingClientRect().toJSON()", legend.element_handle())
                    assert lbox["width"] * lbox["height"] <= box["width"] * box["height"] / 4, (name, width)
            page.screenshot(path=str(ARTIFACTS / f"threat-{width}.png"))
            page.close()
        browser.close()
    assert legends == 2 * len(pages)  # every diagram has its legend, and each was measured
