"""The web application through the Flask test client: the SPARQL 1.1 Protocol, saved queries, validation,
Linked Data pages, service description, dumps, health and OpenAPI.

Every response any test receives is checked for a traceback (see `CheckedClient`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import multiprocessing as mp
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, RDFS, XSD
from rdflib.util import from_n3
from werkzeug.test import TestResponse

from kg.namespaces import GRAPH, IFD, ONTOLOGY_GRAPH, STATISTICS_GRAPH
from kg.settings import WIKIDATA_SPARQL
from kg.web import create_app
from tests.conftest import BACKENDS, ROOT, make_settings
from tests.wikidata.standin import standin

# rdflib's own JSON-LD parser still builds a ConjunctiveGraph
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
SRX = "{http://www.w3.org/2005/sparql-results#}"
CASES = ROOT / "tests" / "cases"
CASE_FILES = sorted((CASES / "valid").glob("*.ttl")) + sorted((CASES / "invalid").glob("*.ttl"))
SAMSUNG = str(IFD["firm-samsung"])
TABULAR = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPHS = {
    "turtle": ("text/turtle", "turtle"),
    "nt": ("application/n-triples", "nt"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdfxml": ("application/rdf+xml", "xml"),
}
RDF_PARSERS = {media: parser for media, parser in GRAPHS.values()}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# literals with a comma, quotes, a tab, a newline, a language and a datatype; an unbound variable; a blank node
AWKWARD = """SELECT ?text ?lang ?int ?iri ?none ?b WHERE {
  VALUES (?text ?lang ?int ?iri) { ("a, \\"b\\"\\tc\\nd" "x"@en-GB 42 <http://example.org/a#b>) }
  BIND (BNODE("k") AS ?b)
}"""


class CheckedClient(FlaskClient):
    """A test client that fails any response whose body holds a Python traceback."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:  # type: ignore[override]
        resp = super().open(*args, **kwargs)
        assert b"Traceback" not in resp.get_data(), resp.get_data(as_text=True)[:2000]
        return resp


def _app(**overrides: object) -> Flask:
    app = create_app(make_settings(threads=1, **overrides))
    app.test_client_class = CheckedClient
    return app


@pytest.fixture(scope="session")
def wikidata() -> Iterator[dict[str, object]]:
    """Wikidata's endpoint stood in for on loopback (tests/wikidata/), for the federated saved queries."""
    with standin() as (url, _):
        yield {"allowed_services": (WIKIDATA_SPARQL,), "service_map": (f"{WIKIDATA_SPARQL}={url}",)}


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, wikidata: dict[str, object]) -> Iterator[Flask]:
    """The app as `kg serve` runs it (Oxigraph on disk)."""
    application = _app(store="oxigraph", store_dir=tmp_path_factory.mktemp("web") / "store", **wikidata)
    yield application
    application.extensions["kg"].close()


@pytest.fixture(scope="session")
def memory_app(wikidata: dict[str, object]) -> Iterator[Flask]:
    application = _app(store="memory", **wikidata)
    yield application
    application.extensions["kg"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(params=BACKENDS)
def any_client(request: pytest.FixtureRequest) -> FlaskClient:
    """A client on each backend (dataset selection is done by the store)."""
    return request.getfixturevalue("app" if request.param == "oxigraph" else "memory_app").test_client()


@pytest.fixture(scope="session")
def small_app() -> Iterator[Flask]:
    """An app with tiny limits: bodies over 1 KiB, queries over 200 characters."""
    application = _app(store="memory", max_body_bytes=1024, max_query_chars=200)
    yield application
    application.extensions["kg"].close()


@pytest.fixture(scope="session")
def outside() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server standing for 'outside': its URL and the paths anyone asked it for."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n"
            self.send_response(200)
            self.send_header("Content-Type", "application/n-triples")
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/data.nt", hits
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------------------------------------------- helpers


def rows(resp: TestResponse) -> list[dict[str, Any]]:
    """The bindings of a SPARQL JSON result, as rdflib terms."""
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [{k: json_term(v) for k, v in b.items()} for b in json.loads(resp.get_data())["results"]["bindings"]]


def select(client: FlaskClient, query: str, **params: str | list[str]) -> list[dict[str, Any]]:
    return rows(client.get("/sparql", query_string={"query": query, **params}, headers={"Accept": TABULAR["json"]}))


def count(client: FlaskClient, where: str, **params: str | list[str]) -> int:
    return int(select(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}", **params)[0]["n"])


def ask(client: FlaskClient, query: str, **params: str | list[str]) -> bool:
    resp = client.get("/sparql", query_string={"query": query, **params}, headers={"Accept": TABULAR["json"]})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return bool(json.loads(resp.get_data())["boolean"])


def json_term(b: dict[str, str]) -> rdflib.term.Identifier:
    if b["type"] == "uri":
        return URIRef(b["value"])
    if b["type"] == "bnode":
        return BNode(b["value"])
    return Literal(b["value"], lang=b.get("xml:lang"), datatype=b.get("datatype"))


def xml_term(node: ET.Element) -> rdflib.term.Identifier:
    kind = node.tag.removeprefix(SRX)
    if kind == "uri":
        return URIRef(node.text or "")
    if kind == "bnode":
        return BNode(node.text or "")
    return Literal(
        node.text or "", lang=node.get("{http://www.w3.org/XML/1998/namespace}lang"), datatype=node.get("datatype")
    )


def csv_text(term: rdflib.term.Identifier) -> str:
    """How SPARQL CSV writes a term."""
    return f"_:{term}" if isinstance(term, BNode) else str(term)


def tabular_rows(resp: TestResponse) -> tuple[list[str], list[dict[str, Any]]]:
    """Variables and rows of a JSON, XML or TSV result as rdflib terms; of a CSV result as text."""
    body = resp.get_data()
    media = resp.mimetype
    if media == TABULAR["json"]:
        doc = json.loads(body)
        return doc["head"]["vars"], [{k: json_term(v) for k, v in b.items()} for b in doc["results"]["bindings"]]
    if media == TABULAR["xml"]:
        root = ET.fromstring(body)
        names = [v.get("name", "") for v in root.iter(f"{SRX}variable")]
        out = [
            {b.get("name", ""): xml_term(b[0]) for b in r.findall(f"{SRX}binding")} for r in root.iter(f"{SRX}result")
        ]
        return names, out
    text = body.decode("utf-8")
    if media == TABULAR["csv"]:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        return header, [{k: v for k, v in zip(header, row, strict=True) if v != ""} for row in reader]
    assert media == TABULAR["tsv"], media
    lines = text.split("\n")
    assert lines[-1] == "", "a TSV result ends with a newline"
    header = [v.removeprefix("?") for v in lines[0].split("\t")]
    out = []
    for line in lines[1:-1]:
        cells = line.split("\t")
        assert len(cells) == len(header), f"TSV row with {len(cells)} cells for {len(header)} variables: {line!r}"
        out.append({k: from_n3(c) for k, c in zip(header, cells, strict=True) if c != ""})
    return header, out


def as_multiset(result: list[dict[str, Any]]) -> Counter[tuple[tuple[str, Any], ...]]:
    return Counter(tuple(sorted(r.items())) for r in result)


def graph_of(resp: TestResponse) -> rdflib.Graph:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype in RDF_PARSERS, resp.mimetype
    return rdflib.Graph().parse(data=resp.get_data(), format=RDF_PARSERS[resp.mimetype])


def a_data_graph(client: FlaskClient) -> URIRef:
    """One of the repository's data graphs (the one with the most triples after the ontology)."""
    found = select(client, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY DESC(?n)")
    names = [r["g"] for r in found if r["g"] != ONTOLOGY_GRAPH and str(r["g"]).startswith(str(GRAPH))]
    assert names, found
    return names[0]


# ---------------------------------------------------------------------------------------------- /sparql: query


def test_query_by_get(client: FlaskClient) -> None:
    assert count(client, f"<{SAMSUNG}> ?p ?o") > 0


def test_query_by_post_form(client: FlaskClient) -> None:
    resp = client.post("/sparql", data={"query": f"ASK {{ <{SAMSUNG}> ?p ?o }}"})
    assert resp.status_code == 200
    assert json.loads(resp.get_data())["boolean"] is True


def test_query_by_post_direct(client: FlaskClient) -> None:
    resp = client.post("/sparql", data=f"ASK {{ <{SAMSUNG}> ?p ?o }}".encode(), content_type="application/sparql-query")
    assert resp.status_code == 200
    assert json.loads(resp.get_data())["boolean"] is True


def test_trailing_slash_and_head(client: FlaskClient) -> None:
    assert client.get("/sparql/", query_string={"query": "ASK {}"}).status_code == 200
    head = client.head("/sparql", query_string={"query": "ASK {}"})
    assert head.status_code == 200 and head.mimetype == TABULAR["json"]


def test_default_graph_is_union_of_named_graphs(any_client: FlaskClient) -> None:
    union = count(any_client, "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert count(any_client, "?s ?p ?o") == union > 0
    assert any_client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_default_graph_uri_selects_a_held_graph(any_client: FlaskClient) -> None:
    g = a_data_graph(any_client)
    in_g = count(any_client, f"GRAPH <{g}> {{ ?s ?p ?o }}")
    assert count(any_client, "?s ?p ?o", **{"default-graph-uri": str(g)}) == in_g
    both = [str(g), str(ONTOLOGY_GRAPH)]
    in_both = count(any_client, "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": both})
    assert count(any_client, "?s ?p ?o", **{"default-graph-uri": both}) == in_both


def test_named_graph_uri_restricts_the_named_graphs(any_client: FlaskClient) -> None:
    g = a_data_graph(any_client)
    found = select(any_client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": str(g)})
    assert [r["g"] for r in found] == [g]
    # with only named graphs given, the default graph is empty
    assert count(any_client, "?s ?p ?o", **{"named-graph-uri": str(g)}) == 0


def test_from_clause_selects_a_held_graph(any_client: FlaskClient) -> None:
    g = a_data_graph(any_client)
    expected = count(any_client, f"GRAPH <{g}> {{ ?s ?p ?o }}")
    got = select(any_client, f"SELECT (COUNT(*) AS ?n) FROM <{g}> WHERE {{ ?s ?p ?o }}")
    assert int(got[0]["n"]) == expected
    named = select(any_client, f"SELECT DISTINCT ?g FROM NAMED <{g}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}")
    assert [r["g"] for r in named] == [g]


def test_protocol_dataset_overrides_from_clause(any_client: FlaskClient) -> None:
    g = a_data_graph(any_client)
    query = f"ASK FROM <{ONTOLOGY_GRAPH}> {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"
    assert ask(any_client, query, **{"named-graph-uri": str(g)}) is True


def test_graphs_from_outside_are_never_loaded(any_client: FlaskClient, outside: tuple[str, list[str]]) -> None:
    url, hits = outside
    before = len(hits)
    assert count(any_client, "?s ?p ?o", **{"default-graph-uri": url}) == 0
    assert count(any_client, "GRAPH ?g { ?s ?p ?o }", **{"named-graph-uri": url}) == 0
    assert select(any_client, f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}") == []
    assert select(any_client, f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}") == []
    assert len(hits) == before, f"the endpoint fetched {hits[before:]}"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ ?x ?y ?z . SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} LIMIT 1",
        "PREFIX e: <{url}#>\nselect * where {{ service e:x {{ ?s ?p ?o }} }}",
    ],
    ids=["service", "service-silent", "service-pname"],
)
def test_federated_query_is_refused(any_client: FlaskClient, outside: tuple[str, list[str]], query: str) -> None:
    url, hits = outside
    before = len(hits)
    resp = any_client.get("/sparql", query_string={"query": query.format(url=url)})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert "SERVICE" in resp.get_data(as_text=True)
    assert len(hits) == before, f"the endpoint fetched {hits[before:]}"


def test_service_in_a_string_or_iri_is_not_federation(client: FlaskClient) -> None:
    query = 'SELECT ?x WHERE { BIND ("SERVICE <http://x/> { }" AS ?x) FILTER (?x != <http://x/SERVICE>) } # SERVICE'
    assert [str(r["x"]) for r in select(client, query)] == ["SERVICE <http://x/> { }"]


def test_relative_iris_resolve_against_the_endpoint(any_client: FlaskClient) -> None:
    resp = any_client.post(
        "/sparql",
        data=b"CONSTRUCT { <s> <p> 1 } WHERE {}",
        content_type="application/sparql-query",
        headers={"Accept": "application/n-triples"},
    )
    triples = list(graph_of(resp))
    assert len(triples) == 1 and all(isinstance(t, URIRef) and t.startswith("http") for t in triples[0][:2])


# ------------------------------------------------------------------------------------ /sparql: result formats


@pytest.mark.parametrize("fmt", list(TABULAR))
def test_select_formats_hold_the_json_rows(client: FlaskClient, fmt: str) -> None:
    for query in (AWKWARD, "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"):
        base = client.get("/sparql", query_string={"query": query}, headers={"Accept": TABULAR["json"]})
        names, expected = tabular_rows(base)
        resp = client.get("/sparql", query_string={"query": query}, headers={"Accept": TABULAR[fmt]})
        assert resp.status_code == 200 and resp.mimetype == TABULAR[fmt]
        assert resp.headers["Content-Type"].endswith("charset=utf-8")
        got_names, got = tabular_rows(resp)
        assert got_names == names
        if fmt == "csv":
            expected = [{k: csv_text(v) for k, v in r.items()} for r in expected]
        assert as_multiset(got) == as_multiset(expected)
        assert resp.headers["X-Result-Rows"] == str(len(expected))


@pytest.mark.parametrize("fmt", list(TABULAR))
def test_ask_formats(client: FlaskClient, fmt: str) -> None:
    for query, value in ((f"ASK {{ <{SAMSUNG}> ?p ?o }}", True), ("ASK { <urn:x:nothing> ?p ?o }", False)):
        resp = client.get("/sparql", query_string={"query": query}, headers={"Accept": TABULAR[fmt]})
        assert resp.status_code == 200 and resp.mimetype == TABULAR[fmt]
        body = resp.get_data()
        if fmt == "json":
            assert json.loads(body)["boolean"] is value
        elif fmt == "xml":
            assert ET.fromstring(body).findtext(f"{SRX}boolean") == str(value).lower()
        else:
            table = list(csv.reader(io.StringIO(body.decode()), delimiter="," if fmt == "csv" else "\t"))
            assert table[1] == [str(value).lower()]


@pytest.mark.parametrize("fmt", list(GRAPHS))
def test_graph_formats_hold_the_same_triples(client: FlaskClient, fmt: str) -> None:
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?s ?p ?o }} }}"
    reference = graph_of(
        client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/n-triples"})
    )
    assert any(isinstance(s, BNode) for s in reference.subjects()), "the sample should hold blank nodes"
    resp = client.get("/sparql", query_string={"query": query}, headers={"Accept": GRAPHS[fmt][0]})
    assert resp.mimetype == GRAPHS[fmt][0]
    assert isomorphic(graph_of(resp), reference)
    assert count(client, f"GRAPH <{ONTOLOGY_GRAPH}> {{ ?s ?p ?o }}") == len(reference)


@pytest.mark.parametrize("fmt", list(GRAPHS))
def test_describe_formats(client: FlaskClient, fmt: str) -> None:
    resp = client.get("/sparql", query_string={"query": f"DESCRIBE <{SAMSUNG}>"}, headers={"Accept": GRAPHS[fmt][0]})
    g = graph_of(resp)
    assert (URIRef(SAMSUNG), RDFS.label, Literal("Samsung", lang="en")) in g


@pytest.mark.parametrize(
    ("accept", "kind", "media"),
    [
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "select", TABULAR["xml"]),
        ("text/csv;q=0.9, application/sparql-results+xml;q=0.5", "select", TABULAR["csv"]),
        ("text/tab-separated-values, */*;q=0.1", "select", TABULAR["tsv"]),
        ("application/sparql-results+json;q=0.2, text/turtle", "select", TABULAR["json"]),
        ("*/*", "select", TABULAR["json"]),
        ("application/json", "select", TABULAR["json"]),
        ("text/turtle;q=0.3, application/rdf+xml;q=0.8, application/ld+json;q=0.5", "construct", GRAPHS["rdfxml"][0]),
        ("application/n-triples, text/turtle;q=0.9", "construct", GRAPHS["nt"][0]),
        ("application/ld+json;q=1.0, text/turtle;q=0.99", "construct", GRAPHS["jsonld"][0]),
        ("*/*", "construct", GRAPHS["turtle"][0]),
        ("application/sparql-results+xml, application/rdf+xml;q=0.1", "construct", GRAPHS["rdfxml"][0]),
        ("application/sparql-results+xml;q=0.1, application/ld+json", "ask", TABULAR["xml"]),
    ],
)
def test_accept_q_values_choose_the_format(client: FlaskClient, accept: str, kind: str, media: str) -> None:
    query = {
        "select": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2",
        "ask": "ASK {}",
        "construct": "CONSTRUCT WHERE { ?s a ?o } LIMIT 2",
    }[kind]
    resp = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert resp.status_code == 200 and resp.mimetype == media
    assert resp.headers["Vary"] == "Accept"


def test_no_accept_header_gives_json_and_turtle(client: FlaskClient) -> None:
    environ = {"HTTP_ACCEPT": ""}
    resp = client.get("/sparql", query_string={"query": "ASK {}"}, environ_base=environ)
    assert resp.mimetype == TABULAR["json"]
    resp = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s a ?o } LIMIT 1"}, environ_base=environ)
    assert resp.mimetype == "text/turtle"


@pytest.mark.parametrize(
    ("fmt", "kind", "media"),
    [
        ("csv", "select", TABULAR["csv"]),
        ("tsv", "select", TABULAR["tsv"]),
        ("xml", "select", TABULAR["xml"]),
        ("json", "select", TABULAR["json"]),
        ("nt", "construct", GRAPHS["nt"][0]),
        ("jsonld", "construct", GRAPHS["jsonld"][0]),
        ("rdfxml", "construct", GRAPHS["rdfxml"][0]),
        ("turtle", "construct", GRAPHS["turtle"][0]),
    ],
)
def test_format_parameter_overrides_accept(client: FlaskClient, fmt: str, kind: str, media: str) -> None:
    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2" if kind == "select" else "CONSTRUCT WHERE { ?s a ?o } LIMIT 2"
    accept = "application/sparql-results+json, text/turtle"
    by_get = client.get("/sparql", query_string={"query": query, "format": fmt}, headers={"Accept": accept})
    by_form = client.post("/sparql", data={"query": query, "format": fmt}, headers={"Accept": accept})
    assert by_get.status_code == by_form.status_code == 200
    assert by_get.mimetype == by_form.mimetype == media


def test_unknown_format_parameter_is_400(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": "ASK {}", "format": "yaml"})
    assert resp.status_code == 400 and "format" in resp.get_data(as_text=True)


def test_vary_and_content_type_on_every_result(client: FlaskClient) -> None:
    for query in ("ASK {}", "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"):
        for method in ("GET", "POST"):
            if method == "GET":
                resp = client.get("/sparql", query_string={"query": query})
            else:
                resp = client.post("/sparql", data=query.encode(), content_type="application/sparql-query")
            assert resp.status_code == 200
            assert resp.headers["Vary"] == "Accept"
            assert resp.mimetype in set(TABULAR.values()) | set(RDF_PARSERS)


# ---------------------------------------------------------------------------------------------- /sparql: errors


@pytest.mark.parametrize("query", ["SELECT ?s WHERE { ?s ?p ", "ASK {", "SELEKT * WHERE { ?s ?p ?o }"])
def test_malformed_query_is_400_with_the_parser_message(any_client: FlaskClient, query: str) -> None:
    resp = any_client.get("/sparql", query_string={"query": query})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and resp.mimetype == "text/plain"
    assert "does not parse" in text and any(c.isdigit() for c in text), text


def test_error_as_json_when_only_json_is_accepted(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": "ASK {"}, headers={"Accept": "application/json"})
    assert resp.status_code == 400 and resp.mimetype == "application/json"
    doc = json.loads(resp.get_data())
    assert doc["status"] == 400 and "does not parse" in doc["error"]


def test_two_query_parameters_are_400(client: FlaskClient) -> None:
    resp = client.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20*%20%7B%7D")
    assert resp.status_code == 400 and "query" in resp.get_data(as_text=True)
    resp = client.post(
        "/sparql", data="query=ASK%20%7B%7D&query=ASK%20%7B%7D", content_type="application/x-www-form-urlencoded"
    )
    assert resp.status_code == 400


def test_missing_query_in_a_post_is_400(client: FlaskClient) -> None:
    resp = client.post("/sparql", data={"default-graph-uri": SAMSUNG})
    assert resp.status_code == 400 and "query" in resp.get_data(as_text=True)


def test_a_function_the_engine_does_not_provide_is_400_not_500(client: FlaskClient) -> None:
    """SPARQL 1.1, 17.6: an unsupported extension function is an error of the query (found by the fuzz test)."""
    resp = client.get("/sparql", query_string={"query": "SELECT ?x WHERE { BIND(<http://example.org/fn>(1) AS ?x) }"})
    assert resp.status_code == 400
    assert "cannot be evaluated" in resp.get_data(as_text=True)
    assert "example.org/fn" in resp.get_data(as_text=True)


def test_graph_uri_that_is_not_an_iri_is_400(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": "ASK {}", "default-graph-uri": "not an iri"})
    assert resp.status_code == 400 and "default-graph-uri" in resp.get_data(as_text=True)


@pytest.mark.parametrize("how", ["get-update", "form-update", "direct-update"])
def test_updates_are_refused_with_403_without_a_token(client: FlaskClient, how: str) -> None:
    update = "INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> <urn:x:o> } }"
    if how == "get-update":
        resp = client.get("/sparql", query_string={"update": update})
    elif how == "form-update":
        resp = client.post("/sparql", data={"update": update})
    else:
        resp = client.post("/sparql", data=update.encode(), content_type="application/sparql-update")
    assert resp.status_code == 403
    assert "read-only" in resp.get_data(as_text=True)
    assert ask(client, "ASK { <urn:x:s> ?p ?o }") is False
    assert count(client, f"<{SAMSUNG}> ?p ?o") > 0


@pytest.mark.parametrize(
    "query",
    [
        "CLEAR ALL",
        "PREFIX x: <urn:x:>\nDELETE WHERE { ?s ?p ?o }",
        "# a comment\nINSERT DATA { <urn:x:s> <urn:x:p> 1 }",
    ],
)
def test_an_update_sent_to_the_query_service_is_400(client: FlaskClient, query: str) -> None:
    resp = client.post("/sparql", data={"query": query})
    assert resp.status_code == 400
    assert "'update'" in resp.get_data(as_text=True)
    assert count(client, f"<{SAMSUNG}> ?p ?o") > 0


@pytest.mark.parametrize("media", ["text/plain", "application/json", "text/turtle"])
def test_body_of_another_media_type_is_415(client: FlaskClient, media: str) -> None:
    resp = client.post("/sparql", data=b"ASK {}", content_type=media)
    assert resp.status_code == 415
    assert "application/sparql-query" in resp.get_data(as_text=True)


def test_post_without_content_type_is_400(client: FlaskClient) -> None:
    resp = client.post("/sparql", data=b"ASK {}")
    assert resp.status_code == 400 and "Content-Type" in resp.get_data(as_text=True)


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_non_utf8_body_is_400(client: FlaskClient, content_type: str) -> None:
    body = "ASK {}".encode("utf-16") if content_type.endswith("query") else "query=ASK {} é".encode("latin-1")
    resp = client.post("/sparql", data=body, content_type=content_type)
    assert resp.status_code == 400 and "UTF-8" in resp.get_data(as_text=True)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(client: FlaskClient, method: str) -> None:
    resp = client.open("/sparql", method=method, query_string={"query": "ASK {}"})
    assert resp.status_code == 405
    allowed = {m.strip() for m in resp.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and method not in allowed


@pytest.mark.parametrize("path", ["/sparql", "/validate", "/queries/partners-of-firm"])
def test_body_too_large_is_413(small_app: Flask, path: str) -> None:
    media = {"/sparql": "application/sparql-query", "/validate": "text/turtle"}.get(path, "application/json")
    resp = small_app.test_client().post(path, data=b"#" * 2048, content_type=media)
    assert resp.status_code == 413
    assert "1024 bytes" in resp.get_data(as_text=True)


def test_query_too_long_is_400(small_app: Flask) -> None:
    long_query = "SELECT * WHERE { ?s ?p ?o }" + " " * 300
    for resp in (
        small_app.test_client().get("/sparql", query_string={"query": long_query}),
        small_app.test_client().post("/sparql", data={"query": long_query}),
    ):
        assert resp.status_code == 400 and "longer than 200" in resp.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------------ CORS


def test_cors_on_get_and_post(client: FlaskClient) -> None:
    headers = {"Origin": "https://elsewhere.example"}
    for resp in (
        client.get("/sparql", query_string={"query": "ASK {}"}, headers=headers),
        client.post("/sparql", data={"query": "ASK {}"}, headers=headers),
        client.get("/sparql", query_string={"query": "ASK {"}, headers=headers),
    ):
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "Content-Type" in resp.headers["Access-Control-Expose-Headers"]


def test_cors_preflight(client: FlaskClient) -> None:
    resp = client.options(
        "/sparql",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, accept",
        },
    )
    assert resp.status_code in (200, 204)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert {"GET", "POST"} <= {m.strip() for m in resp.headers["Access-Control-Allow-Methods"].split(",")}
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "accept"} <= allowed


# ------------------------------------------------------------------------------------- service description


def service_description(client: FlaskClient, media: str) -> rdflib.Graph:
    resp = client.get("/sparql", headers={"Accept": media})
    assert resp.status_code == 200 and resp.mimetype == media
    assert resp.headers["Vary"] == "Accept"
    return graph_of(resp)


@pytest.mark.parametrize("media", ["text/turtle", "application/ld+json"])
def test_service_description(client: FlaskClient, media: str) -> None:
    g = service_description(client, media)
    endpoint = URIRef("https://w3id.org/interfirm/sparql")  # the configured public base, not the Host header
    assert (endpoint, RDF.type, SD.Service) in g
    assert (endpoint, SD.endpoint, endpoint) in g
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in g
    formats = set(g.objects(endpoint, SD.resultFormat))
    assert {
        URIRef(f"http://www.w3.org/ns/formats/{f}")
        for f in (
            "SPARQL_Results_JSON",
            "SPARQL_Results_XML",
            "SPARQL_Results_CSV",
            "SPARQL_Results_TSV",
            "Turtle",
            "N-Triples",
            "JSON-LD",
            "RDF_XML",
        )
    } <= formats
    dataset = g.value(endpoint, SD.defaultDataset)
    default_graph = g.value(dataset, SD.defaultGraph)
    total = count(client, "?s ?p ?o")
    assert g.value(default_graph, VOID.triples).toPython() == total  # type: ignore[union-attr]
    names = {g.value(ng, SD.name) for ng in g.objects(dataset, SD.namedGraph)}
    held = {r["g"] for r in select(client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert names == held


def test_void_description(client: FlaskClient) -> None:
    g = service_description(client, "text/turtle")
    datasets = set(g.subjects(VOID.sparqlEndpoint, None))
    assert len(datasets) == 1
    ds = datasets.pop()
    assert g.value(ds, VOID.triples).toPython() == count(client, "?s ?p ?o")  # type: ignore[union-attr]
    assert g.value(ds, VOID.sparqlEndpoint) == URIRef("https://w3id.org/interfirm/sparql")
    classes = {
        r["c"]: int(r["n"])
        for r in select(client, "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c")
    }
    partitions = {
        g.value(p, VOID["class"]): g.value(p, VOID.entities).toPython()  # type: ignore[union-attr]
        for p in g.objects(ds, VOID.classPartition)
    }
    assert partitions == classes and URIRef("https://w3id.org/interfirm/ontology#Firm") in partitions
    by_property = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
    properties = {r["p"]: int(r["n"]) for r in select(client, by_property)}
    partitions = {
        g.value(p, VOID.property): g.value(p, VOID.triples).toPython()  # type: ignore[union-attr]
        for p in g.objects(ds, VOID.propertyPartition)
    }
    assert partitions == properties
    # the linksets of data/links/, as subsets of this dataset, with the links they count
    linksets = set(g.subjects(RDF.type, VOID.Linkset))
    wikidata = [ls for ls in linksets if g.value(ls, VOID.objectsTarget) == URIRef("http://www.wikidata.org/")]
    wikidata_links = count(
        client,
        'GRAPH ?g { ?s ?p ?o } FILTER (STRSTARTS(STR(?g), "https://w3id.org/interfirm/'
        'graph/links/") && isIRI(?o) && STRSTARTS(STR(?o), "http://www.wikidata.org/entity/"))',
    )
    assert sum(g.value(ls, VOID.triples).toPython() for ls in wikidata) == wikidata_links > 0  # type: ignore[union-attr]
    assert all(g.value(ls, VOID.subjectsTarget) == ds for ls in linksets)
    targets = {g.value(ls, VOID.objectsTarget) for ls in linksets}
    assert URIRef("https://unstats.un.org/unsd/methodology/m49/") in targets
    assert URIRef("https://www.iso.org/iso-3166-country-codes.html") in targets
    assert URIRef("http://zbw.eu/stw") in targets
    subsets = set(g.objects(ds, VOID.subset))
    assert all(ls in subsets or any((s, VOID.subset, ls) in g for s in subsets) for ls in linksets)
    assert g.value(ds, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")


def test_void_and_dcat_list_every_dump_with_its_size_and_checksum(client: FlaskClient) -> None:
    """Five syntaxes, each plain and gzipped; the size and SHA-256 DCAT states are those of the bytes served."""
    assert fetched(client, "/dumps/interfirm.nq").status_code == 200  # waits until this generation's dumps are written
    g = service_description(client, "text/turtle")
    ds = URIRef("https://w3id.org/interfirm/dataset")  # the public base, never the request's Host
    dumps = set(g.objects(ds, VOID.dataDump))
    assert {str(d).rsplit("/", 1)[-1] for d in dumps} == {
        f"interfirm.{ext}{gz}" for ext in ("nt", "nq", "ttl", "trig", "jsonld") for gz in ("", ".gz")
    }
    spdx = rdflib.Namespace("http://spdx.org/rdf/terms#")
    for dist in g.objects(ds, DCAT.distribution):
        url = g.value(dist, DCAT.downloadURL)
        assert url in dumps
        assert g.value(dist, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
        body = fetched(client, str(url).removeprefix("https://w3id.org/interfirm")).get_data()
        assert g.value(dist, DCAT.byteSize).toPython() == len(body)  # type: ignore[union-attr]
        checksum = g.value(dist, spdx.checksum)
        assert g.value(checksum, spdx.algorithm) == spdx.checksumAlgorithm_sha256
        assert str(g.value(checksum, spdx.checksumValue)) == hashlib.sha256(body).hexdigest()
        gzipped = str(url).endswith(".gz")
        assert (g.value(dist, DCAT.compressFormat) is not None) == gzipped
        assert body.startswith(b"\x1f\x8b") == gzipped


def test_service_description_html_for_a_browser(client: FlaskClient) -> None:
    resp = client.get("/sparql", headers={"Accept": BROWSER})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "/sparql" in resp.get_data(as_text=True)
    assert client.get("/", headers={"Accept": BROWSER}).mimetype == "text/html"


def test_service_description_format_parameter_beats_a_browser(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"format": "jsonld"}, headers={"Accept": BROWSER})
    assert resp.mimetype == "application/ld+json"
    graph_of(resp)


def test_dataset_page(client: FlaskClient) -> None:
    g = graph_of(client.get("/dataset", headers={"Accept": "text/turtle"}))
    assert (URIRef("https://w3id.org/interfirm/dataset"), RDF.type, VOID.Dataset) in g


# ----------------------------------------------------------------------------------------------- saved queries


def test_saved_query_list_json(client: FlaskClient) -> None:
    resp = client.get("/queries", headers={"Accept": "application/json"})
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    listed = {q["name"]: q for q in json.loads(resp.get_data())["queries"]}
    assert set(listed) == {p.stem for p in (ROOT / "queries").glob("*.rq")}
    firm = listed["partners-of-firm"]["parameters"]
    assert [(p["name"], p["type"], p["default"]) for p in firm] == [("firm", "iri", SAMSUNG)]
    assert all(q["url"] == f"/queries/{n}" and q["summary"] for n, q in listed.items())
    for name, q in listed.items():
        declared = [
            line
            for line in (ROOT / "queries" / f"{name}.rq").read_text().splitlines()
            if line.startswith("#+   - name:")
        ]
        assert len(q["parameters"]) == len(declared), name


def test_saved_query_list_html(client: FlaskClient) -> None:
    resp = client.get("/queries", headers={"Accept": BROWSER})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert all(p.stem in resp.get_data(as_text=True) for p in (ROOT / "queries").glob("*.rq"))


def test_saved_query_with_parameter(client: FlaskClient) -> None:
    resp = client.get("/queries/partners-of-firm", query_string={"firm": SAMSUNG})
    names = {str(r["partnerName"]) for r in rows(resp)}
    assert {"Toshiba", "IBM", "Fujitsu", "Hewlett-Packard"} <= names
    assert "Samsung" not in names
    assert resp.headers["Vary"] == "Accept"


def test_saved_query_parameter_is_bound_by_the_engine(client: FlaskClient) -> None:
    toshiba = str(IFD["firm-toshiba"])
    names = {
        str(r["partnerName"]) for r in rows(client.get("/queries/partners-of-firm", query_string={"firm": toshiba}))
    }
    assert "Samsung" in names and "Toshiba" not in names
    sneaky = SAMSUNG + "> } #"
    assert client.get("/queries/partners-of-firm", query_string={"firm": sneaky}).status_code == 400


def test_saved_query_by_post_form_and_json(client: FlaskClient) -> None:
    expected = rows(client.get("/queries/partners-of-firm", query_string={"firm": SAMSUNG}))
    assert rows(client.post("/queries/partners-of-firm", data={"firm": SAMSUNG})) == expected
    assert rows(client.post("/queries/partners-of-firm", json={"firm": SAMSUNG})) == expected


@pytest.mark.parametrize("fmt", list(TABULAR))
def test_saved_query_conneg(client: FlaskClient, fmt: str) -> None:
    by_accept = client.get("/queries/table2-it-alliances-by-country", headers={"Accept": TABULAR[fmt]})
    by_param = client.get("/queries/table2-it-alliances-by-country", query_string={"format": fmt})
    assert by_accept.mimetype == by_param.mimetype == TABULAR[fmt]
    assert by_accept.get_data() == by_param.get_data()
    assert len(tabular_rows(by_accept)[1]) == 39


def test_saved_query_bad_parameter_is_400_naming_it(client: FlaskClient) -> None:
    resp = client.get("/queries/partners-of-firm", query_string={"firm": "not an iri"})
    assert resp.status_code == 400 and "'firm'" in resp.get_data(as_text=True)
    resp = client.get("/queries/partners-of-firm", query_string={"frim": SAMSUNG})
    assert resp.status_code == 400 and "'frim'" in resp.get_data(as_text=True)
    resp = client.get(f"/queries/partners-of-firm?firm={SAMSUNG}&firm={SAMSUNG}")
    assert resp.status_code == 400 and "'firm'" in resp.get_data(as_text=True)


def test_unknown_saved_query_is_404(client: FlaskClient) -> None:
    assert client.get("/queries/no-such-query").status_code == 404
    assert client.get("/queries/no-such-query.rq").status_code == 404


def test_every_saved_query_runs_with_its_defaults(client: FlaskClient) -> None:
    for path in sorted((ROOT / "queries").glob("*.rq")):
        resp = client.get(f"/queries/{path.stem}")
        assert resp.status_code == 200, (path.stem, resp.get_data(as_text=True))
        text = client.get(f"/queries/{path.stem}.rq")
        assert text.get_data(as_text=True) == path.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------------- /validate


def cli_verdict(path: Path) -> tuple[bool, list[str]]:
    """What `kg validate FILE` concludes: conforms, and the shapes that report violations."""
    from kg.validation import validate

    report = validate(make_settings(store="memory"), [path])
    return report.conforms, sorted(f.shape for f in report.violations)


@pytest.fixture(scope="session")
def cli_verdicts() -> Iterator[dict[Path, Future[tuple[bool, list[str]]]]]:
    """The CLI verdict of every case file, computed in other processes while the web requests run."""
    pool = ProcessPoolExecutor(max_workers=max(1, (mp.cpu_count() or 2) - 1), mp_context=mp.get_context("spawn"))
    yield {p: pool.submit(cli_verdict, p) for p in CASE_FILES}
    pool.shutdown(cancel_futures=True)


def validate_json(client: FlaskClient, data: bytes, media: str = "text/turtle") -> dict[str, Any]:
    resp = client.post("/validate", data=data, content_type=media, headers={"Accept": "application/json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    return json.loads(resp.get_data())


# the JSON report of each case file sent as Turtle, kept: a validation takes seconds
REPORTS: dict[Path, dict[str, Any]] = {}


def case_report(client: FlaskClient, path: Path) -> dict[str, Any]:
    if path not in REPORTS:
        REPORTS[path] = validate_json(client, path.read_bytes())
    return REPORTS[path]


@pytest.mark.slow  # ~2.5 s of SHACL per file here, and as much again for the CLI verdict in another process
@pytest.mark.parametrize("path", CASE_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in CASE_FILES])
def test_validate_case_file_like_the_cli(
    client: FlaskClient, cli_verdicts: dict[Path, Future[tuple[bool, list[str]]]], path: Path
) -> None:
    before = count(client, "?s ?p ?o")
    report = case_report(client, path)
    assert count(client, "?s ?p ?o") == before, "a validation changed the server's data"
    assert set(report) == {"conforms", "results"}
    for r in report["results"]:
        assert {"focus", "path", "constraint", "severity", "message"} <= set(r)
    violations = sorted(r["shape"] for r in report["results"] if r["severity"] == "Violation")
    assert (report["conforms"], violations) == cli_verdicts[path].result(timeout=900)
    if path.parent.name == "valid":
        assert report["conforms"] is True, violations
    else:
        expected = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ").strip()
        assert report["conforms"] is False and expected in violations


@pytest.mark.parametrize("fmt", ["nt", "json-ld", "xml"])
def test_validate_other_syntaxes(client: FlaskClient, fmt: str) -> None:
    media = {"nt": "application/n-triples", "json-ld": "application/ld+json", "xml": "application/rdf+xml"}[fmt]
    path = CASES / "invalid" / "equity-sum.ttl"
    data = rdflib.Graph().parse(path, format="turtle").serialize(format=fmt, encoding="utf-8")
    got, expected = validate_json(client, data, media), case_report(client, path)
    assert got["conforms"] == expected["conforms"] is False
    assert Counter(r["shape"] for r in got["results"]) == Counter(r["shape"] for r in expected["results"])


@pytest.mark.parametrize("media", ["text/turtle", "application/ld+json"])
def test_validation_report_as_rdf(client: FlaskClient, media: str) -> None:
    resp = client.post(
        "/validate",
        data=(CASES / "invalid" / "year.ttl").read_bytes(),
        content_type="text/turtle",
        headers={"Accept": media},
    )
    assert resp.status_code == 200 and resp.mimetype == media
    g = graph_of(resp)
    sh = Namespace("http://www.w3.org/ns/shacl#")
    report = next(g.subjects(RDF.type, sh.ValidationReport))
    assert g.value(report, sh.conforms) == Literal(False)
    assert any(g.objects(report, sh.result))


def test_validate_unparseable_turtle_names_the_line(client: FlaskClient) -> None:
    data = b"@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e .\n"
    resp = client.post("/validate", data=data, content_type="text/turtle")
    assert resp.status_code == 400 and "line 3" in resp.get_data(as_text=True)


def test_validate_unparseable_ntriples_names_the_line(client: FlaskClient) -> None:
    data = b"<http://x/a> <http://x/b> <http://x/c> .\n<http://x/a> <http://x/b> .\n"
    resp = client.post("/validate", data=data, content_type="application/n-triples")
    assert resp.status_code == 400 and "line 2" in resp.get_data(as_text=True)


def test_validate_refuses_remote_jsonld_context(client: FlaskClient, outside: tuple[str, list[str]]) -> None:
    url, hits = outside
    before = len(hits)
    doc = {"@context": url, "@id": "http://example.org/a", "name": "x"}
    resp = client.post("/validate", data=json.dumps(doc).encode(), content_type="application/ld+json")
    assert resp.status_code == 400 and "@context" in resp.get_data(as_text=True)
    assert len(hits) == before


def test_validate_refuses_rdfxml_doctype(client: FlaskClient) -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    )
    resp = client.post("/validate", data=data, content_type="application/rdf+xml")
    assert resp.status_code == 400 and "DOCTYPE" in resp.get_data(as_text=True)


def test_validate_refuses_other_media_types_and_empty_bodies(client: FlaskClient) -> None:
    assert client.post("/validate", data=b"a,b", content_type="text/csv").status_code == 415
    assert client.post("/validate", data=b"", content_type="text/turtle").status_code == 400
    assert client.get("/validate").status_code == 405


def test_validation_leaves_the_server_data_unchanged(client: FlaskClient) -> None:
    before = count(client, "?s ?p ?o")
    path = CASES / "valid" / "consortium.ttl"
    subjects = set(rdflib.Graph().parse(path, format="turtle").subjects()) - set(
        r["s"] for r in select(client, "SELECT DISTINCT ?s WHERE { ?s ?p ?o }")
    )
    assert subjects, "the case file should describe something new"
    case_report(client, path)
    assert count(client, "?s ?p ?o") == before
    assert not any(ask(client, f"ASK {{ <{s}> ?p ?o }}") for s in subjects if isinstance(s, URIRef))


# ---------------------------------------------------------------------------------------- Linked Data pages


def test_resource_html(client: FlaskClient) -> None:
    resp = client.get("/resource", query_string={"iri": SAMSUNG}, headers={"Accept": BROWSER})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "<h1>Samsung</h1>" in html
    assert 'href="/id/agreement-samsung-toshiba-flash-memories"' in html, "our IRIs link to their local pages"
    assert 'href="/resource?iri=http%3A%2F%2Fwww.wikidata.org%2Fentity%2FQ20718"' in html, "others to /resource"
    assert 'class="kg-network"' in html and "Hewlett-Packard" in html


@pytest.mark.parametrize("fmt", ["turtle", "jsonld", "nt"])
def test_resource_rdf(client: FlaskClient, fmt: str) -> None:
    media = GRAPHS[fmt][0]
    g = graph_of(client.get("/resource", query_string={"iri": SAMSUNG}, headers={"Accept": media}))
    assert (URIRef(SAMSUNG), RDFS.label, Literal("Samsung", lang="en")) in g
    outgoing = count(client, f"SELECT DISTINCT ?p ?o WHERE {{ <{SAMSUNG}> ?p ?o }}")
    assert len(set(g.predicate_objects(URIRef(SAMSUNG)))) == outgoing
    assert any(g.subjects(None, URIRef(SAMSUNG))), "the description holds the incoming links too"
    by_param = client.get("/resource", query_string={"iri": SAMSUNG, "format": fmt}, headers={"Accept": BROWSER})
    assert by_param.mimetype == media


@pytest.mark.parametrize(
    "media", ["text/html", "text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]
)
def test_unknown_resource_is_404(client: FlaskClient, media: str) -> None:
    resp = client.get("/resource", query_string={"iri": str(IFD["no-such-thing"])}, headers={"Accept": media})
    assert resp.status_code == 404


def test_resource_without_an_iri_is_400(client: FlaskClient) -> None:
    assert client.get("/resource").status_code == 400
    assert client.get("/resource", query_string={"iri": "not an iri"}).status_code == 400


def test_ontology_html(client: FlaskClient) -> None:
    resp = client.get("/ontology", headers={"Accept": BROWSER})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "InterFirmAgreement" in resp.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["turtle", "rdfxml", "jsonld"])
def test_ontology_rdf(client: FlaskClient, fmt: str) -> None:
    g = graph_of(client.get("/ontology", headers={"Accept": GRAPHS[fmt][0]}))
    assert (URIRef("https://w3id.org/interfirm/ontology"), RDF.type, OWL.Ontology) in g
    assert len(g) == count(client, f"GRAPH <{ONTOLOGY_GRAPH}> {{ ?s ?p ?o }}")


# --------------------------------------------------------------------------------- dumps, health, OpenAPI


DUMP_PARSERS = {"nt": "nt", "ttl": "turtle", "nq": "nquads", "trig": "trig", "jsonld": "json-ld"}


def fetched(client: FlaskClient, path: str, **kwargs: Any) -> TestResponse:
    """A response read whole and closed (a file sent by the server is closed as a WSGI server would)."""
    resp = client.get(path, **kwargs)
    resp.get_data()
    resp.close()
    return resp


@pytest.mark.parametrize("ext", list(DUMP_PARSERS))
def test_dump_is_the_whole_store(any_client: FlaskClient, ext: str) -> None:
    """nt/ttl: the union of the named graphs, each triple once; nq/trig/jsonld: every graph under its name."""
    resp = fetched(any_client, f"/dumps/interfirm.{ext}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert f"filename=interfirm.{ext}" in resp.headers["Content-Disposition"]
    assert resp.headers["Content-Type"].endswith("; charset=utf-8")
    assert int(resp.headers["Content-Length"]) == len(resp.get_data())
    if ext in ("nt", "ttl"):
        g = rdflib.Graph().parse(data=resp.get_data(), format=DUMP_PARSERS[ext])
        assert len(g) == count(any_client, "?s ?p ?o")
        if ext == "nt":  # one line per triple: no duplicates from triples in several graphs
            assert len(resp.get_data().splitlines()) == len(g)
    else:
        ds = rdflib.Dataset()
        ds.parse(data=resp.get_data(), format=DUMP_PARSERS[ext])
        held = {
            str(r["g"]): int(r["n"])
            for r in select(any_client, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        }
        found = {str(g.identifier): len(g) for g in ds.graphs() if len(g)}
        assert found == held


def test_dump_gzip_by_url_and_by_accept_encoding(client: FlaskClient) -> None:
    plain = fetched(client, "/dumps/interfirm.nq")
    assert plain.headers["Vary"] == "Accept-Encoding" and "Content-Encoding" not in plain.headers
    encoded = fetched(client, "/dumps/interfirm.nq", headers={"Accept-Encoding": "gzip, deflate"})
    assert encoded.headers["Content-Encoding"] == "gzip"
    assert encoded.headers["Content-Type"] == "application/n-quads; charset=utf-8"
    assert gzip.decompress(encoded.get_data()) == plain.get_data()
    assert encoded.headers["ETag"] != plain.headers["ETag"]
    file = fetched(client, "/dumps/interfirm.nq.gz")
    assert file.headers["Content-Type"] == "application/gzip" and "Content-Encoding" not in file.headers
    assert "filename=interfirm.nq.gz" in file.headers["Content-Disposition"]
    assert gzip.decompress(file.get_data()) == plain.get_data()
    again = fetched(client, "/dumps/interfirm.nq", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304


def test_unknown_dump_is_404(client: FlaskClient) -> None:
    for name in ("interfirm.csv", "interfirm.nt.zip", "other.nt"):
        resp = client.get(f"/dumps/{name}")
        assert resp.status_code == 404 and b"interfirm.nq[.gz]" in resp.get_data()


def test_the_papers_text_is_served_as_the_provenance_graph_names_it(client: FlaskClient) -> None:
    """The provenance graph names sources/unctad-ite-eds-2.txt with its SHA-256; /sources/ serves those bytes."""
    text = ROOT / "sources" / "unctad-ite-eds-2.txt"
    resp = fetched(client, "/sources/unctad-ite-eds-2.txt")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.get_data() == text.read_bytes()
    rows = select(
        client,
        f"""PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX spdx: <http://spdx.org/rdf/terms#>
        SELECT ?text ?sum WHERE {{ GRAPH <{GRAPH["meta"]}> {{
          <{IFD["unctad-ite-eds-2"]}> dcterms:hasFormat ?text . ?text a prov:Entity ; dcterms:isFormatOf ?paper ;
            spdx:checksum [ spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue ?sum ] .
          <{GRAPH["table2"]}> prov:wasDerivedFrom ?text ; prov:hadPrimarySource ?paper }} }}""",
    )
    assert [(r["text"], str(r["sum"])) for r in rows] == [
        (URIRef("https://w3id.org/interfirm/sources/unctad-ite-eds-2.txt"), hashlib.sha256(resp.get_data()).hexdigest())
    ]
    assert client.get("/sources/other.txt").status_code == 404


def test_health(client: FlaskClient) -> None:
    resp = client.get("/health")
    assert resp.status_code == 200 and json.loads(resp.get_data()) == {"status": "ok"}


def test_openapi_lists_every_route(app: Flask, client: FlaskClient) -> None:
    resp = client.get("/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    spec = json.loads(resp.get_data())
    assert spec["openapi"].startswith("3.") and spec["info"]["title"]
    documented = {
        (path, method.upper())
        for path, ops in spec["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "delete", "patch")
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule.rstrip("/") or "/"
        for arg in rule.arguments:
            path = path.replace(f"<path:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
        routes |= {(path, m) for m in rule.methods or () if m in ("GET", "POST", "PUT", "DELETE", "PATCH")}
    assert routes - documented == set()
    saved = {f"/queries/{p.stem}" for p in (ROOT / "queries").glob("*.rq")}  # each saved query's own operation
    assert {p for p, _ in documented} == {p for p, _ in routes} | saved


def test_literal_types_survive_every_format(client: FlaskClient) -> None:
    query = 'SELECT ?d ?y WHERE { BIND ("1.50"^^<http://www.w3.org/2001/XMLSchema#decimal> AS ?d) BIND (1996 AS ?y) }'
    results = []
    for fmt in ("json", "xml", "tsv"):
        _, found = tabular_rows(client.get("/sparql", query_string={"query": query}, headers={"Accept": TABULAR[fmt]}))
        assert found[0]["d"].datatype == XSD.decimal and found[0]["d"].toPython() == Decimal("1.5")
        assert found[0]["y"].datatype == XSD.integer and found[0]["y"].toPython() == 1996
        results.append(found)
    assert results[0] == results[1] == results[2]


def test_false_values_survive_every_format(any_client: FlaskClient) -> None:
    """0, false and "" are values too (rdflib's XML writer used to drop the text of false-valued literals)."""
    query = (
        'SELECT ?zero ?no ?empty ?nought WHERE { BIND (0 AS ?zero) BIND (false AS ?no) BIND ("" AS ?empty) '
        "BIND (0.0 AS ?nought) }"
    )
    expected = [
        {
            "zero": Literal("0", datatype=XSD.integer),
            "no": Literal("false", datatype=XSD.boolean),
            "empty": Literal(""),
            "nought": Literal("0.0", datatype=XSD.decimal),
        }
    ]
    for fmt in ("json", "xml", "tsv"):
        resp = any_client.get("/sparql", query_string={"query": query}, headers={"Accept": TABULAR[fmt]})
        found = tabular_rows(resp)[1]
        assert [{k: v.toPython() for k, v in r.items()} for r in found] == [
            {k: v.toPython() for k, v in r.items()} for r in expected
        ], fmt
        assert [{k: v.datatype for k, v in r.items()} for r in found] == [
            {k: v.datatype for k, v in r.items()} for r in expected
        ], fmt
    resp = any_client.get("/sparql", query_string={"query": query}, headers={"Accept": TABULAR["csv"]})
    (row,) = tabular_rows(resp)[1]
    assert row.pop("nought") in ("0.0", "0") and row == {"zero": "0", "no": "false"}


def test_saved_queries_agree_across_backends(client: FlaskClient, memory_app: Flask) -> None:
    other = memory_app.test_client()
    for path in sorted((ROOT / "queries").glob("*.rq")):
        on_oxigraph = client.get(f"/queries/{path.stem}", headers={"Accept": TABULAR["json"]})
        in_memory = other.get(f"/queries/{path.stem}", headers={"Accept": TABULAR["json"]})
        ox_names, ox_rows = tabular_rows(on_oxigraph)
        mem_names, mem_rows = tabular_rows(in_memory)
        assert ox_names == mem_names, path.stem
        assert as_multiset(_concat_lists_sorted(ox_rows)) == as_multiset(_concat_lists_sorted(mem_rows)), path.stem


def _concat_lists_sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with each GROUP_CONCAT list (values separated by " | ") in sorted order: SPARQL 1.1 leaves it to
    the engine (as tests/test_queries.normalise_cell)."""
    from tests.test_queries import normalise_cell

    return [{k: normalise_cell(str(v)) if " | " in str(v) else v for k, v in r.items()} for r in rows]


# ---- asserted, inferred and their union as graphs ------------------------------------------------------------------

ASSERTED = "https://w3id.org/interfirm/graph/asserted"
INFERRED = "https://w3id.org/interfirm/graph/inferred"
UNION = "https://w3id.org/interfirm/graph/union"
STRATEGIC = "?x a <https://w3id.org/interfirm/ontology#StrategicPartnership>"


def test_asserted_inferred_and_union_are_graphs_of_their_own(any_client: FlaskClient) -> None:
    """The inferred graph is a named graph; graph/asserted and graph/union name default graphs (FROM or
    default-graph-uri); the default graph without them is the union."""
    total = count(any_client, "?s ?p ?o")
    asserted = count(any_client, "?s ?p ?o", **{"default-graph-uri": ASSERTED})
    inferred = count(any_client, "?s ?p ?o", **{"default-graph-uri": INFERRED})
    assert inferred > 1000 and asserted > 5000
    statistics = count(any_client, f"GRAPH <{STATISTICS_GRAPH}> {{ ?s ?p ?o }}")  # derived too: in neither
    assert count(any_client, "?s ?p ?o", **{"default-graph-uri": UNION}) == total == asserted + inferred + statistics
    assert count(any_client, STRATEGIC, **{"default-graph-uri": ASSERTED}) == 0
    assert count(any_client, STRATEGIC, **{"default-graph-uri": INFERRED}) == count(any_client, STRATEGIC) >= 15
    assert count(any_client, f"GRAPH <{INFERRED}> {{ {STRATEGIC} }}") >= 15
    in_text = select(any_client, f"SELECT (COUNT(*) AS ?n) FROM <{ASSERTED}> WHERE {{ {STRATEGIC} }}")
    assert int(in_text[0]["n"]) == 0
    resp = any_client.get(
        "/sparql",
        query_string={"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1", "named-graph-uri": ASSERTED},
        headers={"Accept": TABULAR["json"]},
    )
    assert resp.status_code == 400 and "default graph" in resp.get_data(as_text=True)


def test_the_service_description_says_what_each_graph_is(client: FlaskClient) -> None:
    g = service_description(client, "text/turtle")
    dataset = URIRef("https://w3id.org/interfirm/dataset")  # the public base, never the request's Host
    for graph in (ASSERTED, INFERRED, UNION):
        assert (dataset, VOID.subset, URIRef(graph)) in g
        assert g.value(URIRef(graph), VOID.triples) is not None
        assert g.value(URIRef(graph), RDFS.comment) is not None
    assert g.value(URIRef(INFERRED), VOID.triples).toPython() == count(client, f"GRAPH <{INFERRED}> {{ ?s ?p ?o }}")
