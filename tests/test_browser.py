"""The YASGUI page at `/` in a real headless Chromium (Debian's), driven by Playwright, against the real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import pytest

from tests.live import ROOT, running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request

CHROMIUM = Path("/usr/bin/chromium")
# no background traffic to Google: without these flags Chromium's own connections are refused many at a time
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000  # every wait in the browser

pytestmark = pytest.mark.slow


def unavailable(reason: str) -> NoReturn:
    """Fail in CI (.ci/run installs Chromium and Playwright), skip elsewhere."""
    message = f"{reason}; the browser test needs Debian's chromium (apt-get install chromium) and pip's playwright"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`kg serve` on a free port with a fresh store (results cut at 1,000 rows); yields its base URL."""
    with running_server(tmp_path_factory.mktemp("browser"), env={"KG_MAX_RESULT_ROWS": "1000"}) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched by Playwright (no `playwright install`)."""
    if not CHROMIUM.is_file():
        unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package playwright is not installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=WAIT_MS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (its own context: empty localStorage) with bounded waits."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def test_saved_query_runs_in_yasgui_and_shows_its_rows(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    requests: list[Request] = []

    def on_console(m: ConsoleMessage) -> None:
        if m.type == "error":
            errors.append(f"console error: {m.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r))  # playwright cannot wrap a bound builtin method

    page.goto(f"{server}/", wait_until="load")
    tabs = page.get_by_role("tab")
    expect(tabs.first).to_be_visible()
    names = [t.strip().removesuffix("✖").strip() for t in tabs.all_inner_texts()]
    expected = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    assert names == expected

    page.get_by_role("tab", name="table2-it-alliances-by-country", exact=True).click()
    panel = page.locator(".tabPanel.active")
    expect(panel.locator(".CodeMirror")).to_contain_text("PREFIX ifd:")
    with page.expect_response(lambda r: r.url == f"{server}/sparql" and r.request.method == "POST") as answer:
        panel.locator(".yasqe_queryButton").click()
    assert answer.value.status == 200
    rows = panel.locator(".yasr table tbody tr")
    expect(rows.filter(has_text="People's Republic of China")).to_have_count(1)
    total = rows.filter(has_text="Total")
    expect(total).to_have_count(1)
    expect(total).to_contain_text("2598")
    expect(rows).to_have_count(39)  # the 38 printed counts and the total

    # a new tab starts with the project's prefixes declared
    page.get_by_role("button", name="Add a new tab").click()
    new_query = page.evaluate("() => window.kgYasgui.getTab().getQuery()")
    assert "PREFIX ifc: <https://w3id.org/interfirm/ontology#>" in new_query
    assert "PREFIX ifd: <https://w3id.org/interfirm/id/>" in new_query

    assert errors == []
    outside = [r.url for r in requests if urlsplit(r.url).netloc != urlsplit(server).netloc and r.url[:5] != "data:"]
    assert outside == [], "the page must work offline"
    assert page.evaluate("() => window.localStorage.length") == 0


def test_a_cut_result_shows_a_banner_and_a_complete_one_does_not(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/", wait_until="load")
    banner = page.locator("#kg-truncated")
    panel = page.locator(".tabPanel.active")

    def run(query: str) -> None:
        page.evaluate("(q) => { window.kgYasgui.getTab().setQuery(q); }", query)
        with page.expect_response(lambda r: r.url == f"{server}/sparql" and r.request.method == "POST") as answer:
            panel.locator(".yasqe_queryButton").click()
        assert answer.value.status == 200

    run("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")  # 7,000 triples and more: cut at 1,000
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("at most 1,000 rows")
    assert page.locator("#kg-truncated-link").get_attribute("href") == "/limits#result-rows"
    run("SELECT ?s WHERE { ?s a <https://w3id.org/interfirm/ontology#Firm> } LIMIT 5")
    expect(banner).to_be_hidden()
