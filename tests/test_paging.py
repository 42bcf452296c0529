"""Listings page: `limit` and `offset` set the LIMIT clause of the sub-SELECT that picks a page's rows; pages are
disjoint and together give the whole listing, on both backends, over HTTP and on the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kg import results
from kg.errors import InputError, ParameterError
from kg.queries import MAX_PAGE, QueryCatalog, parse_query_text
from kg.sparqltext import limit_clauses, with_slice
from kg.store import Store
from tests.conftest import BACKENDS, ROOT
from tests.live import http, run_kg, running_server

CATALOG = QueryCatalog(ROOT / "queries")
PAGED = [q.name for q in CATALOG if q.page({}) is not None]
LISTINGS = {"clusters-and-networks", "firms-by-country", "partnerships-by-orientation", "strategic-partnerships"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_the_listings_page_with_a_default_of_100() -> None:
    assert set(PAGED) == LISTINGS
    for name in PAGED:
        q = CATALOG.get(name)
        assert q.page({}) == (100, 0)
        assert {p.name: p.type for p in q.params if p.paging} == {"limit": "limit", "offset": "offset"}
        text, bindings = q.prepare({"limit": "7", "offset": "14"})
        assert bindings == {} and "LIMIT 7 OFFSET 14" in text and text.count("LIMIT") == 1


def rows(store: Store, name: str, **values: str) -> list[tuple[str, ...]]:
    text, bindings = CATALOG.get(name).prepare(values)
    table = list(csv.reader(io.StringIO(results.serialize(store.query(text, bindings=bindings), "csv").decode())))
    return [tuple(r) for r in table[1:]]


@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_pages_are_disjoint_and_together_the_whole_listing(name: str, store: Store) -> None:
    whole = rows(store, name, limit=str(MAX_PAGE))
    assert len(whole) > 6
    pages, offset = [], 0
    while True:
        page = rows(store, name, limit="4", offset=str(offset))
        if not page:
            break
        assert page == sorted(page, key=lambda r: whole.index(r)), "a page is sorted as the listing is"
        pages.append(page)
        offset += 4
    assert len(pages) >= 2
    assert sorted(r for p in pages for r in p) == sorted(whole)  # no row twice, none missing
    assert rows(store, name, limit="4", offset=str(offset + 40)) == []


def test_a_page_counts_listed_things_not_rows(store: Store) -> None:
    """partnerships-by-orientation pages by agreement: all partners of an agreement are on the same page."""
    page = rows(store, "partnerships-by-orientation", limit="3", offset="0")
    assert len({r[1] for r in page}) == 3 and len(page) > 3


def test_paging_values_are_checked() -> None:
    q = CATALOG.get("firms-by-country")
    for bad in ({"limit": "0"}, {"limit": str(MAX_PAGE + 1)}, {"limit": "ten"}, {"offset": "-1"}, {"offset": "1.5"}):
        with pytest.raises(ParameterError, match="whole number"):
            q.prepare(bad)
    with pytest.raises(ParameterError, match="no parameter 'page'"):
        q.prepare({"page": "2"})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("SELECT ?s WHERE { ?s ?p ?o }", "exactly one LIMIT clause"),
        ("SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 5 } } LIMIT 9", "exactly one LIMIT clause"),
        ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 50", "differs from the query's LIMIT"),
        ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 10 OFFSET 3", "differs from the query's OFFSET"),
    ],
)
def test_a_paged_query_needs_its_one_limit_clause_with_the_defaults(text: str, problem: str) -> None:
    header = (
        "#+ summary: s\n#+ params:\n#+   - {name: limit, type: limit, default: 10}\n"
        "#+   - {name: offset, type: offset, default: 0}\n"
    )
    with pytest.raises(InputError, match=problem):
        parse_query_text(header + text, name="x", source="x.rq")


def test_the_slice_is_found_beside_strings_and_comments() -> None:
    text = 'SELECT ?s WHERE { ?s ?p "LIMIT 3" } # LIMIT 4\nOFFSET 2 LIMIT 10'
    (clause,) = limit_clauses(text)
    assert (clause.limit, clause.offset) == (10, 2)
    assert with_slice(text, 5, 20).endswith("\nLIMIT 5 OFFSET 20")
    assert with_slice("SELECT * { ?s ?p ?o } LIMIT 1", 2, 3).endswith("LIMIT 2 OFFSET 3")


@pytest.mark.parametrize("kind", BACKENDS)
def test_paging_over_http_and_on_the_command_line(kind: str, tmp_path: Path) -> None:
    env = {"KG_STORE": kind, "KG_RATE_LIMIT_PER_MINUTE": "0"}
    csv_accept = {"Accept": "text/csv"}
    with running_server(tmp_path, env=env) as base:
        status, headers, body = http(f"{base}/queries/clusters-and-networks?limit=3&offset=3", headers=csv_accept)
        assert status == 200 and len(body.decode().strip().splitlines()) == 4
        links = headers["Link"]
        prefix = "/queries/clusters-and-networks?limit=3&offset="
        assert f'<{prefix}0>; rel="first"' in links and f'<{prefix}0>; rel="prev"' in links
        assert f'<{prefix}6>; rel="next"' in links
        status, headers, body = http(f"{base}/queries/clusters-and-networks?limit=3&offset=300&format=json")
        assert status == 200 and json.loads(body)["results"]["bindings"] == []
        assert 'rel="next"' not in headers["Link"] and "format=json" in headers["Link"]
        for bad in ("limit=0", "limit=10001", "offset=-3", "limit=x"):
            status, _, body = http(f"{base}/queries/firms-by-country?{bad}")
            assert status == 400 and b"whole number" in body, bad
        status, _, body = http(f"{base}/queries/firms-by-country?limit=2&offset=2", headers={"Accept": BROWSER})
        page = body.decode()
        assert status == 200
        assert 'name="limit" type="number" value="2" step="1" min="1" max="10000"' in page
        assert 'href="/queries/firms-by-country?limit=2&amp;offset=4" rel="next"' in page
        assert 'href="/queries/firms-by-country?limit=2&amp;offset=0" rel="prev"' in page
        spec = json.loads(http(f"{base}/openapi.json")[2])
        op = spec["paths"]["/queries/firms-by-country"]["get"]
        limit = next(p for p in op["parameters"] if p["name"] == "limit")
        assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100}
        assert "Link" in op["responses"]["200"]["headers"]
    proc = run_kg(
        tmp_path,
        "--store",
        kind,
        "query",
        "clusters-and-networks",
        "--param",
        "limit=2",
        "--param",
        "offset=1",
        "--format",
        "csv",
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 3
    proc = run_kg(tmp_path, "--store", kind, "query", "firms-by-country", "--param", "limit=0")
    assert proc.returncode == 2 and "whole number" in proc.stderr
