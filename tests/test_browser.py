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
