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
    """`kg serve` on a free port with a fresh store (results cut at the default 100,000 rows); yields its base URL."""
    with running_server(tmp_path_factory.mktemp("browser")) as base:
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


# --------------------------------------------------------------------------- the web as researchers use it

SAMSUNG = "https://w3id.org/interfirm/id/firm-samsung"
IBM = "https://w3id.org/interfirm/id/firm-ibm"
HP = "https://w3id.org/interfirm/id/firm-hewlett-packard"


class Watch:
    """What a page did: console errors, page errors, requests to anywhere but the server."""

    def __init__(self, page: Page, server: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        host = urlsplit(server).netloc
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console error: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on(
            "request", lambda r: urlsplit(r.url).netloc != host and r.url[:5] != "data:" and self.outside.append(r.url)
        )

    def check(self) -> None:
        assert self.errors == []
        assert self.outside == [], "pages must work offline"


def test_saved_query_page_form_runs_with_another_parameter(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    watch = Watch(page, server)
    page.goto(f"{server}/queries", wait_until="load")
    page.get_by_role("link", name="partners-of-firm", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("The partners of a given firm")
    results = page.locator("table.results tbody tr")
    expect(results.filter(has_text="Samsung-Toshiba flash memory alliance")).to_have_count(1)  # the default: Samsung
    page.locator("select#p-firm").select_option(IBM)
    page.get_by_role("button", name="Run").click()
    page.wait_for_url("**/queries/partners-of-firm?firm=*")
    expect(page.locator("select#p-firm")).to_have_value(IBM)
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Samsung-IBM mutual semiconductor patent swap")
    # the partner links to its local page
    results.first.locator('a[href="/id/firm-samsung"]').click()
    page.wait_for_url(f"{server}/id/firm-samsung")
    watch.check()


def test_yasgui_tab_binds_its_parameter(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    watch = Watch(page, server)
    page.goto(f"{server}/", wait_until="load")
    page.get_by_role("tab", name="partners-of-firm", exact=True).click()
    panel = page.locator(".tabPanel.active")
    field = panel.locator("#kg-params select[name='firm']")
    expect(field).to_have_value(SAMSUNG)
    field.select_option(IBM)
    with page.expect_response(lambda r: r.url == f"{server}/sparql" and r.request.method == "POST") as answer:
        panel.locator(".yasqe_queryButton").click()
    assert answer.value.status == 200
    sent = answer.value.request.post_data or ""
    assert "%24firm=%3Chttps%3A%2F%2Fw3id.org%2Finterfirm%2Fid%2Ffirm-ibm%3E" in sent  # $firm=<...firm-ibm>
    assert "firm-ibm" not in panel.locator(".CodeMirror").inner_text(), "the text is not edited"
    rows = panel.locator(".yasr table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Samsung-IBM mutual semiconductor patent swap")
    # this dataset's IRIs open their local page in the same window
    link = rows.first.locator("a.iri").first
    assert link.get_attribute("href") == "/id/firm-samsung" and link.get_attribute("target") is None
    watch.check()


def test_search_from_the_header_to_a_resource_page(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    watch = Watch(page, server)
    page.goto(f"{server}/ontology", wait_until="load")
    box = page.get_by_role("searchbox", name="Search labels")
    box.fill("samsung")
    box.press("Enter")
    page.wait_for_url("**/search?q=samsung")
    hits = page.locator("ol.hits > li")
    expect(hits.first).to_contain_text("firm")  # the hit's class
    hits.first.locator("a.hit").click()
    page.wait_for_url(f"{server}/id/firm-samsung")
    expect(page.get_by_role("heading", level=1)).to_have_text("Samsung")
    watch.check()


def test_network_view_draws_labelled_edges(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    watch = Watch(page, server)
    page.goto(f"{server}/id/firm-samsung", wait_until="load")
    network = page.locator(".kg-network")
    expect(network).to_have_attribute("data-ready", "true")
    expect(network.locator("canvas").first).to_be_visible()
    edges = page.evaluate("""() => window.kgNetwork.edges().map(e => ({
        ends: [e.source().id(), e.target().id()].sort(), label: e.style('label'), shown: e.visible() }))""")
    assert len(edges) == 7 and all(e["label"] and e["shown"] for e in edges)
    to_hp = sorted(e["label"] for e in edges if e["ends"] == sorted([SAMSUNG, HP]))
    assert to_hp == ["joint venture", "second-source licensing"]  # two agreements, two edges
    # a deeper neighbourhood is fetched and drawn
    with page.expect_response(lambda r: "/network.json" in r.url) as answer:
        page.locator("select#depth").select_option("2")
    assert answer.value.status == 200
    expect(network).to_have_attribute("data-ready", "true")
    assert page.evaluate("() => window.kgNetwork.edges().length") >= 7
    # the whole network, filtered by form
    page.goto(f"{server}/network", wait_until="load")
    expect(page.locator(".kg-network")).to_have_attribute("data-ready", "true")
    assert page.evaluate("() => window.kgNetwork.nodes('[kind = \"cluster\"]').length") > 0
    watch.check()


def test_a_100000_row_result_is_previewed(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    watch = Watch(page, server)
    digits = "{ 0 1 2 3 4 5 6 7 8 9 }"
    query = (
        f"SELECT ?i WHERE {{ VALUES ?a {digits} VALUES ?b {digits} VALUES ?c {digits} VALUES ?d {digits} "
        f"VALUES ?e {digits} BIND (?a * 10000 + ?b * 1000 + ?c * 100 + ?d * 10 + ?e AS ?i) }}"
    )
    page.goto(f"{server}/", wait_until="load")
    page.get_by_role("button", name="Add a new tab").click()
    page.evaluate("(q) => window.kgYasgui.getTab().getYasqe().setValue(q)", query)
    panel = page.locator(".tabPanel.active")
    with page.expect_response(lambda r: r.url == f"{server}/sparql" and r.request.method == "POST") as answer:
        panel.locator(".yasqe_queryButton").click()
    assert answer.value.status == 200
    assert answer.value.headers["x-result-total-rows"] == "100000"
    assert len(answer.value.json()["results"]["bindings"]) == 1000  # only the preview crosses the network
    banner = panel.locator(".kg-preview")
    expect(banner).to_contain_text("Showing the first 1,000 of 100,000 rows")
    expect(panel.locator(".yasr table tbody tr").first).to_be_visible()
    assert page.evaluate("() => document.querySelectorAll('.tabPanel.active .yasr table tbody tr').length") <= 1000
    # the whole result is a download
    with page.expect_download() as download:
        banner.get_by_role("button", name="CSV").click()
    path = download.value.path()
    with open(path, encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == 1 + 100_000
    assert download.value.suggested_filename == "result.csv"
    watch.check()


def test_ontology_page_shows_a_union_domain(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    watch = Watch(page, server)
    page.goto(f"{server}/ontology#hasBenefit", wait_until="load")
    term = page.locator("section#hasBenefit")
    expect(term).to_be_in_viewport()
    domain = term.locator("tr", has=page.locator("th", has_text="Domain")).locator("td")
    expect(domain).to_contain_text("ifc:CooperationPattern or ifc:InterFirmCooperation or ifc:Claim")
    expect(term.locator("tr", has=page.locator("th", has_text="Range"))).to_contain_text("ifc:Benefit")
    expect(page.locator("#diagram ~ .kg-network")).to_have_attribute("data-ready", "true")
    watch.check()


def test_query_form_without_javascript(browser: Browser, server: str) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    try:
        watch = Watch(page, server)
        page.goto(f"{server}/", wait_until="load")
        form = page.locator("form.query-form")
        expect(form).to_be_visible()
        form.locator("textarea").fill(
            f"SELECT ?label WHERE {{ <{SAMSUNG}> <http://www.w3.org/2000/01/rdf-schema#label> ?label }}"
        )
        form.get_by_role("button", name="Run query").click()
        page.wait_for_url(f"{server}/sparql")
        expect(page.get_by_role("heading", level=1)).to_have_text("Query results")
        expect(page.locator("table.results tbody tr")).to_have_count(1)
        expect(page.locator("table.results tbody")).to_contain_text("Samsung")
        # a saved query's page works without JavaScript too
        page.goto(f"{server}/queries/partners-of-firm?firm={IBM}", wait_until="load")
        expect(page.locator("table.results tbody tr")).to_have_count(1)
        watch.check()
    finally:
        context.close()


def test_api_documentation_renders_offline(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    watch = Watch(page, server)
    page.goto(f"{server}/api", wait_until="load")
    operation = page.locator(".opblock-summary-path", has_text="/queries/partners-of-firm").first
    expect(operation).to_be_visible()
    saved = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    assert page.locator(".opblock[id^='operations-saved_queries-']").count() == len(saved)
    watch.check()


def test_a_cut_result_shows_a_banner_and_a_complete_one_does_not(page: Page, server: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/", wait_until="load")
    banner = page.locator("#kg-truncated")
    panel = page.locator(".tabPanel.active")

    def run(query: str) -> None:
        page.evaluate("(q) => { window.kgYasgui.getTab().setQuery(q); }", query)
        # 100,000 rows are computed and serialised before the preview is cut: slow on a loaded machine
        with page.expect_response(
            lambda r: r.url == f"{server}/sparql" and r.request.method == "POST", timeout=4 * WAIT_MS
        ) as answer:
            panel.locator(".yasqe_queryButton").click()
        assert answer.value.status == 200

    digits = "{ 0 1 2 3 4 5 6 7 8 9 }"
    # 200,000 rows: more than the server's cap of 100,000
    run(
        f"SELECT * WHERE {{ VALUES ?a {digits} VALUES ?b {digits} VALUES ?c {digits} VALUES ?d {digits} "
        f"VALUES ?e {digits} VALUES ?f {{ 0 1 }} }}"
    )
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("at most 100,000 rows")
    assert page.locator("#kg-truncated-link").get_attribute("href") == "/limits#result-rows"
    run("SELECT ?s WHERE { ?s a <https://w3id.org/interfirm/ontology#Firm> } LIMIT 5")
    expect(banner).to_be_hidden()
