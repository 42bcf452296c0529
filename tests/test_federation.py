"""Federated queries: SERVICE to allow-listed endpoints only (Wikidata's by default), answered in the tests by a
stand-in on loopback (tests/wikidata/) that the service map sends Wikidata's IRI to; no test needs the internet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import rdflib
from rdflib.namespace import RDF, SKOS

from kg.errors import InputError
from kg.guard import check_query, route_services
from kg.namespaces import IFC
from kg.settings import WIKIDATA_SPARQL, Settings
from kg.web import create_app
from tests.conftest import ROOT, make_settings
from tests.live import http, running_server
from tests.test_queries import CATALOG
from tests.wikidata.standin import standin

FEDERATED = [n for n in CATALOG.names() if "federated" in CATALOG.get(n).tags]


@pytest.fixture(scope="module")
def wikidata() -> Iterator[tuple[str, list[str]]]:
    with standin() as served:
        yield served


def test_at_least_two_saved_queries_join_with_wikidata() -> None:
    assert len(FEDERATED) >= 2
    for name in FEDERATED:
        assert f"SERVICE <{WIKIDATA_SPARQL}>" in CATALOG.get(name).text


def test_wikidata_is_allowed_by_default_and_nothing_else() -> None:
    settings = Settings.from_env(environ={}, root=ROOT)  # the defaults (tests turn SERVICE off: make_settings)
    assert settings.allowed_services == (WIKIDATA_SPARQL,)
    check_query(f"SELECT * WHERE {{ SERVICE <{WIKIDATA_SPARQL}> {{ ?s ?p ?o }} }}", settings.allowed_services)
    with pytest.raises(InputError, match="refused"):
        check_query("SELECT * WHERE { SERVICE <https://dbpedia.org/sparql> { ?s ?p ?o } }", settings.allowed_services)
    none = Settings.from_env(environ={"KG_ALLOWED_SERVICES": ""}, root=ROOT)
    assert none.allowed_services == ()
    with pytest.raises(InputError, match="refused"):
        check_query(f"SELECT * WHERE {{ SERVICE <{WIKIDATA_SPARQL}> {{ ?s ?p ?o }} }}", none.allowed_services)


def test_a_service_map_entry_must_be_iri_equals_url() -> None:
    with pytest.raises(InputError, match="IRI=URL"):
        Settings.from_env(environ={"KG_SERVICE_MAP": "wikidata"}, root=ROOT)


def test_routing_rewrites_only_service_iris_the_map_names() -> None:
    query = (
        "PREFIX q: <https://query.wikidata.org/>\n"
        f"SELECT * WHERE {{ SERVICE <{WIKIDATA_SPARQL}> {{ ?a ?b ?c }} SERVICE SILENT q:sparql {{ ?d ?e ?f }}\n"
        f'  BIND ("SERVICE <{WIKIDATA_SPARQL}>" AS ?g) }} # SERVICE <{WIKIDATA_SPARQL}>'
    )
    routed = route_services(query, [f"{WIKIDATA_SPARQL}=http://127.0.0.1:1/sparql"])
    assert routed.count("<http://127.0.0.1:1/sparql>") == 2
    assert f'"SERVICE <{WIKIDATA_SPARQL}>"' in routed and routed.endswith(f"# SERVICE <{WIKIDATA_SPARQL}>")


def test_the_firm_query_asks_wikidata_about_the_linked_firms_only() -> None:
    """The items listed inside the SERVICE block are the firms' items of the Wikidata linkset."""
    links = rdflib.Graph().parse(ROOT / "data" / "links" / "wikidata.ttl")
    firms = {str(o).rsplit("/", 1)[1] for s, o in links.subject_objects(SKOS.exactMatch) if "/firm-" in str(s)}
    text = CATALOG.get("wikidata-firm-headquarters").text
    listed = {w.removeprefix("wd:") for w in text.split("VALUES ?item {", 1)[1].split("}", 1)[0].split()}
    assert listed == firms and len(firms) == 4


@pytest.mark.parametrize("kind", ["oxigraph", "memory"])
def test_federated_saved_queries_through_the_api_return_joined_rows(
    kind: str, tmp_path: Path, wikidata: tuple[str, list[str]]
) -> None:
    url, seen = wikidata
    settings = make_settings(
        store=kind,
        store_dir=tmp_path / "store",
        threads=1,
        allowed_services=(WIKIDATA_SPARQL,),
        service_map=(f"{WIKIDATA_SPARQL}={url}",),
    )
    app = create_app(settings)
    try:
        client = app.test_client()
        before = len(seen)
        resp = client.get("/queries/wikidata-country-population", headers={"Accept": "text/csv"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
        china = next(r for r in rows if r["iso"] == "CN")
        assert china["alliances"] == "270" and china["item"] == "http://www.wikidata.org/entity/Q148"
        assert china["population"] == "8000000"  # the stand-in's (fictitious) value
        assert len(rows) == 32  # every country row of Table 2
        resp = client.get("/queries/wikidata-firm-headquarters", headers={"Accept": "application/sparql-results+json"})
        bindings = json.loads(resp.get_data())["results"]["bindings"]
        agree = {(b["name"]["value"], b["basedIn"]["value"], b["agrees"]["value"]) for b in bindings}
        assert ("IBM", "US", "yes") in agree and ("Samsung", "KR", "yes") in agree
        assert ("Unilever", "NL", "no") in agree  # the paper bases Unilever in two countries
        assert len(seen) > before  # the stand-in answered: nothing went elsewhere
    finally:
        app.extensions["kg"].close()


def test_kg_serve_answers_a_federated_query_from_the_stand_in(tmp_path: Path, wikidata: tuple[str, list[str]]) -> None:
    url, _ = wikidata
    env = {
        "KG_ALLOWED_SERVICES": WIKIDATA_SPARQL,
        "KG_SERVICE_MAP": f"{WIKIDATA_SPARQL}={url}",
        "KG_WORKERS": "1",
        "KG_THREADS": "1",
    }
    with running_server(tmp_path, env=env) as base:
        status, _, body = http(f"{base}/queries/wikidata-firm-headquarters?format=csv", timeout=120)
        assert status == 200, body[:500]
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        assert {r["name"] for r in rows} == {"IBM", "Intel", "Samsung", "Unilever"}
        assert all(r["headquartersCountry"] for r in rows)
        # a SERVICE off the allow-list is refused before anything is sent
        q = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
        status, _, body = http(f"{base}/sparql?query={quote(q)}", timeout=60)
        assert status == 400 and b"refused" in body


def test_the_firms_linked_to_wikidata_are_firms(tmp_path: Path) -> None:
    """The join key of the firm query: every firm of the linkset is an ifc:Firm based in a country."""
    g = rdflib.Graph()
    for name in ("cases.ttl", "places.ttl", "links/wikidata.ttl", "links/iso3166.ttl"):
        g.parse(ROOT / "data" / name)
    firms = [s for s, o in g.subject_objects(SKOS.exactMatch) if "/firm-" in str(s)]
    for f in firms:
        assert any((f, RDF.type, c) in g for c in (IFC.Firm, IFC.TransnationalCorporation)), f
        assert any(g.value(c, IFC.isoAlpha2) for c in g.objects(f, IFC.basedIn)), f


def test_an_unreachable_service_is_a_502_that_names_it(tmp_path: Path) -> None:
    """A SERVICE endpoint that cannot be reached is the other endpoint's failure, not this store's: 502 Bad
    Gateway naming the URL the server tried."""
    import socket

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings(
        store="oxigraph",
        store_dir=tmp_path / "store",
        threads=1,
        allowed_services=(WIKIDATA_SPARQL,),
        service_map=(f"{WIKIDATA_SPARQL}=http://127.0.0.1:{port}/sparql",),
    )
    app = create_app(settings)
    try:
        resp = app.test_client().get("/queries/wikidata-country-population", headers={"Accept": "text/csv"})
        body = resp.get_data(as_text=True)
        assert resp.status_code == 502, body
        assert f"SERVICE endpoint <http://127.0.0.1:{port}/sparql> could not be answered" in body  # where it went
        assert "Traceback" not in body
    finally:
        app.extensions["kg"].close()
