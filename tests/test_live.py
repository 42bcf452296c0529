"""The real server (`python -m kg serve`, gunicorn) answering real SPARQL clients: SPARQLWrapper and rdflib's
SPARQLStore. The expected answers come from the store itself and from the paper's Table 2 (38 printed counts
summing to 2,598)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, XSD
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import GET, JSON, POST, TURTLE, XML, SPARQLWrapper

from kg.namespaces import IFD, ONTOLOGY_GRAPH
from kg.store import open_store
from tests.conftest import ROOT, make_settings
from tests.live import http, running_server

pytestmark = pytest.mark.slow

TABLE2 = (ROOT / "queries" / "table2-it-alliances-by-country.rq").read_text(encoding="utf-8")
SAMSUNG = IFD["firm-samsung"]


def _get(url: str, accept: str = "*/*") -> tuple[int, str, bytes]:
    status, headers, body = http(url, headers={"Accept": accept})
    return status, headers.get("Content-Type", ""), body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m kg serve` on a free port with its store in a temporary folder; its base URL."""
    # one client sends many requests at once here; its share of the workers is tested in test_hardening_live.py
    with running_server(tmp_path_factory.mktemp("live"), env={"KG_CLIENT_CONCURRENCY": "0"}) as base:
        yield base


@pytest.fixture(scope="module")
def expected() -> list[dict[str, rdflib.term.Identifier]]:
    """Table 2 as the engine answers it without any server in between."""
    store = open_store(make_settings(store="memory"))
    try:
        return store.query(TABLE2).as_dicts()
    finally:
        store.close()


def _check_table2(
    found: list[dict[str, rdflib.term.Identifier]], expected: list[dict[str, rdflib.term.Identifier]]
) -> None:
    assert found == expected
    printed = [r for r in found if "row" in r]
    assert len(printed) == 38
    assert sum(int(r["alliances"]) for r in printed) == 2598
    assert found[-1] == {
        "country": Literal("Total"),
        "alliances": Literal(2598, datatype=XSD.integer),
        "statedTotal": Literal(2598, datatype=XSD.integer),
    }


def _term(kind: str, value: str, lang: str | None = None, datatype: str | None = None) -> rdflib.term.Identifier:
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return rdflib.BNode(value)
    return Literal(value, lang=lang, datatype=datatype)


def test_expected_table2(expected: list[dict[str, rdflib.term.Identifier]]) -> None:
    _check_table2(expected, expected)


def test_sparqlwrapper_get_json(server: str, expected: list[dict[str, rdflib.term.Identifier]]) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setMethod(GET)
    client.setReturnFormat(JSON)
    client.setQuery(TABLE2)
    doc = client.queryAndConvert()
    assert isinstance(doc, dict)
    assert doc["head"]["vars"] == ["row", "country", "alliances", "statedTotal"]
    found = [
        {k: _term(v["type"], v["value"], v.get("xml:lang"), v.get("datatype")) for k, v in b.items()}
        for b in doc["results"]["bindings"]
    ]
    _check_table2(found, expected)


def test_sparqlwrapper_post_xml(server: str, expected: list[dict[str, rdflib.term.Identifier]]) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setMethod(POST)
    client.setReturnFormat(XML)
    client.setQuery(TABLE2)
    doc = client.queryAndConvert()
    found = []
    for result in doc.getElementsByTagName("result"):  # type: ignore[union-attr]
        row = {}
        for binding in result.getElementsByTagName("binding"):
            node = next(n for n in binding.childNodes if n.nodeType == n.ELEMENT_NODE)
            text = "".join(c.data for c in node.childNodes if c.nodeType == c.TEXT_NODE)
            row[binding.getAttribute("name")] = _term(
                "literal" if node.tagName == "literal" else node.tagName,
                text,
                node.getAttribute("xml:lang") or None,
                node.getAttribute("datatype") or None,
            )
        found.append(row)
    _check_table2(found, expected)


def test_sparqlwrapper_ask_and_construct(server: str) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setReturnFormat(JSON)
    client.setQuery(f"ASK {{ <{SAMSUNG}> ?p ?o }}")
    assert client.queryAndConvert()["boolean"] is True  # type: ignore[index]
    client.setReturnFormat(TURTLE)
    client.setQuery(f"CONSTRUCT {{ <{SAMSUNG}> ?p ?o }} WHERE {{ <{SAMSUNG}> ?p ?o }}")
    g = rdflib.Graph().parse(data=client.queryAndConvert(), format="turtle")  # type: ignore[arg-type]
    assert (SAMSUNG, RDFS.label, Literal("Samsung", lang="en")) in g


def test_sparqlwrapper_malformed_query(server: str) -> None:
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    client = SPARQLWrapper(server + "/sparql")
    client.setQuery("SELECT * WHERE { ?s ?p ")
    with pytest.raises(QueryBadFormed, match="does not parse"):
        client.query()


def test_rdflib_sparqlstore(server: str, expected: list[dict[str, rdflib.term.Identifier]]) -> None:
    store = SPARQLStore(server + "/sparql")
    graph = rdflib.Graph(store=store)
    result = graph.query(TABLE2)
    variables = [str(v) for v in result.vars or []]
    assert variables == ["row", "country", "alliances", "statedTotal"]
    found = [{v: row[v] for v in variables if row[v] is not None} for row in result]  # type: ignore[index]
    _check_table2(found, expected)

    local = open_store(make_settings(store="memory"))
    try:
        total = len(local.graph())
        in_ontology = len(local.graph(ONTOLOGY_GRAPH))
    finally:
        local.close()
    assert len(graph) == total
    assert (SAMSUNG, RDFS.label, Literal("Samsung", lang="en")) in graph
    # a graph named on the store is queried through default-graph-uri
    assert len(rdflib.Graph(store=store, identifier=ONTOLOGY_GRAPH)) == in_ontology
    store.close()


def test_concurrent_clients(server: str) -> None:
    url = server + "/sparql?query=" + urllib.request.quote("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _get(url, "application/sparql-results+json"), range(16)))
    assert {a[0] for a in answers} == {200}
    assert len({json.loads(a[2])["results"]["bindings"][0]["n"]["value"] for a in answers}) == 1


def test_live_service_description_and_health(server: str) -> None:
    status, media, body = _get(server + "/sparql", "text/turtle")
    assert status == 200 and media.startswith("text/turtle")
    g = rdflib.Graph().parse(data=body, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    endpoint = URIRef("https://w3id.org/interfirm/sparql")  # the configured public base, not the Host header
    assert (endpoint, sd.endpoint, endpoint) in g
    assert _get(server + "/health")[0] == 200


# --------------------------------------------------------------- every return format SPARQLWrapper offers

SELECT_FORMATS = ["json", "xml", "csv", "tsv"]
GRAPH_FORMATS = ["xml", "rdf+xml", "rdf", "n3", "turtle", "json-ld", "json"]
SAMSUNG_LABEL = (SAMSUNG, RDFS.label, Literal("Samsung", lang="en"))


def _wrapper(server: str, query: str, fmt: str, method: str) -> object:
    """SPARQLWrapper's converted answer (its own parsing of what the server sent)."""
    import warnings

    client = SPARQLWrapper(server + "/sparql")
    client.setMethod(method)
    client.setReturnFormat(fmt)
    client.setQuery(query)
    with warnings.catch_warnings():
        # SPARQLWrapper warns that it sends Accept: */* for JSON on CONSTRUCT; the `format=json` it also sends decides
        warnings.filterwarnings("ignore", "Sending Accept header", RuntimeWarning)
        return client.queryAndConvert()


def _rows(converted: object, fmt: str) -> list[list[str]]:
    """SELECT rows as text, from whichever form SPARQLWrapper converted them to."""
    if fmt == "json":
        doc = converted
        assert isinstance(doc, dict)
        return [[b[v]["value"] for v in doc["head"]["vars"]] for b in doc["results"]["bindings"]]
    if fmt == "xml":
        return [
            [
                "".join(n.data for n in b.getElementsByTagName("literal")[0].childNodes)
                for b in r.getElementsByTagName("binding")
            ]
            for r in converted.getElementsByTagName("result")
        ]  # type: ignore[attr-defined]
    assert isinstance(converted, bytes)
    lines = converted.decode("utf-8").splitlines()[1:]
    return [[cell.strip('"').split('"@')[0] for cell in line.split("," if fmt == "csv" else "\t")] for line in lines]


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("fmt", SELECT_FORMATS)
def test_sparqlwrapper_select_and_ask_in_every_format(server: str, fmt: str, method: str) -> None:
    query = f"SELECT ?l WHERE {{ <{SAMSUNG}> <{RDFS.label}> ?l }}"
    assert _rows(_wrapper(server, query, fmt, method), fmt) == [["Samsung"]]
    answer = _wrapper(server, f"ASK {{ <{SAMSUNG}> ?p ?o }}", fmt, method)
    if fmt == "json":
        assert answer["boolean"] is True  # type: ignore[index]
    elif fmt == "xml":
        assert answer.getElementsByTagName("boolean")[0].firstChild.data == "true"  # type: ignore[attr-defined]
    else:
        assert isinstance(answer, bytes) and answer.decode().split()[-1] == "true"


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
@pytest.mark.parametrize("form", ["construct", "describe"])
def test_sparqlwrapper_construct_and_describe_in_every_format(server: str, fmt: str, form: str, method: str) -> None:
    query = (
        f"CONSTRUCT {{ <{SAMSUNG}> ?p ?o }} WHERE {{ <{SAMSUNG}> ?p ?o }}"
        if form == "construct"
        else f"DESCRIBE <{SAMSUNG}>"
    )
    converted = _wrapper(server, query, fmt, method)
    if isinstance(converted, bytes):  # N3 and Turtle come back as text (the server sends Turtle, which is N3)
        converted = rdflib.Graph().parse(data=converted, format="turtle")
    assert isinstance(converted, rdflib.Graph), type(converted)
    assert SAMSUNG_LABEL in converted
    assert len(set(converted.predicate_objects(SAMSUNG))) >= 8


# ------------------------------------------------------------------- kg push to another kg server, with a token


def _graph_size(base: str, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    status, _, body = _get(base + "/sparql?query=" + urllib.request.quote(query), "application/sparql-results+json")
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_push_to_another_kg_server_with_a_bearer_token(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The target drops a graph (with its token); `kg push` without the token is refused, with it restores the
    graph. The target keeps its own provenance graph, which push then leaves alone."""
    from tests.live import run_kg

    token = "push-test-token"
    table2 = "https://w3id.org/interfirm/graph/table2"
    local = open_store(make_settings(store="memory"))
    try:
        expected = len(local.graph(URIRef(table2)))
    finally:
        local.close()
    with running_server(tmp_path_factory.mktemp("push-target"), env={"KG_UPDATE_TOKEN": token}) as target:
        status, _, body = http(
            target + "/sparql",
            data=f"DROP GRAPH <{table2}>".encode(),
            headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {token}"},
        )
        assert status == 200, body
        assert _graph_size(target, table2) == 0
        source = tmp_path_factory.mktemp("push-source")
        refused = run_kg(source, "push", "--endpoint", target + "/sparql")
        assert refused.returncode == 4, refused.stderr
        assert "403" in refused.stderr and "--token" in refused.stderr
        pushed = run_kg(source, "push", "--endpoint", target + "/sparql", env={"KG_ENDPOINT_TOKEN": token})
        assert pushed.returncode == 0, pushed.stderr
        assert "pushed " in pushed.stdout and " graphs to " in pushed.stdout
        assert "not pushed: <https://w3id.org/interfirm/graph/meta>" in pushed.stderr
        assert _graph_size(target, table2) == expected > 0
