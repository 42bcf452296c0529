"""The W3C SPARQL 1.1 Protocol test suite (tests/w3c/manifest.ttl, W3C test suite licence) replayed against /sparql.

One case per mf:ProtocolTest, on each store backend. Each test's ut:graphData files are served as the named
graphs their labels name (through Settings.extra_files). The requests are replayed as written: method, the
path with `/sparql/` kept, headers, and a body encoded in its cnt:characterEncoding (the two non-UTF-8
tests send UTF-16 with a byte-order mark, which the endpoint must refuse).

Every test runs on a server without an update token (read-only: the positive update tests must get 403 and
change nothing) and every update test runs again on a server started with a token, each request carrying
`Authorization: Bearer` it, where the positive update tests must pass as written.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Namespace
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS
from werkzeug.test import TestResponse

from kg.web import create_app
from tests.conftest import BACKENDS, ROOT, tmp_settings

SUITE = ROOT / "tests" / "w3c"
MANIFEST = SUITE / "manifest.ttl"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SRX = "{http://www.w3.org/2005/sparql-results#}"
STATUS_CLASS = {HTS.StatusCode2xx: 2, HTS.StatusCode3xx: 3, HTS.StatusCode4xx: 4, HTS.StatusCode5xx: 5}
RDF_PARSERS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


@dataclass(frozen=True)
class HttpRequest:
    """One ht:Request of a test and the response it expects."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[int]
    expected_format: str | None = None
    expected_boolean: bool | None = None

    @property
    def is_update(self) -> bool:
        """Whether the request sends SPARQL Update (direct, form or query string)."""
        if self.headers.get("content-type", "").split(";")[0].strip() == "application/sparql-update":
            return True
        if "update" in parse_qs(urlsplit(self.path).query):
            return True
        form = self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        return form and self.body is not None and "update" in parse_qs(self.body.decode("utf-8", "replace"))


@dataclass(frozen=True)
class ProtocolTest:
    """An mf:ProtocolTest: its name, data graphs and requests in order."""

    id: str
    name: str
    graph_data: tuple[tuple[str, Path], ...]
    requests: tuple[HttpRequest, ...] = field(default_factory=tuple)


def _local(iri: rdflib.term.Node) -> str:
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _request(g: rdflib.Graph, node: rdflib.term.Node) -> HttpRequest:
    headers: dict[str, str] = {}
    header_list = g.value(node, HT.headers)
    if header_list is not None:
        for h in Collection(g, header_list):  # type: ignore[arg-type]
            headers[str(g.value(h, HT.fieldName)).lower()] = str(g.value(h, HT.fieldValue))
    body: bytes | None = None
    body_node = g.value(node, HT.body)
    if body_node is not None:
        encoding = str(g.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(g.value(body_node, CNT.chars)).encode(encoding)
    resp = g.value(node, HT.resp)
    fmt = g.value(resp, MF.expectedFormat)
    boolean = g.value(resp, MF.expectedBoolean)
    return HttpRequest(
        method=str(g.value(node, HT.methodName)),
        path=str(g.value(node, HT.absolutePath)),
        headers=headers,
        body=body,
        statuses=frozenset(STATUS_CLASS[s] for s in g.objects(resp, MF.expectedStatus)),  # type: ignore[index]
        expected_format=None if fmt is None else str(fmt),
        expected_boolean=None if boolean is None else bool(boolean.toPython()),  # type: ignore[union-attr]
    )


def load_manifest(path: Path) -> list[ProtocolTest]:
    """The manifest's protocol tests, in mf:entries order."""
    g = rdflib.Graph().parse(path, format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in Collection(g, g.value(manifest, MF.entries)):  # type: ignore[arg-type]
        if (entry, RDF.type, MF.ProtocolTest) not in g:
            continue
        data = tuple(
            sorted(
                (str(g.value(d, RDFS.label)), path.parent / _local(g.value(d, UT.graph)))  # type: ignore[arg-type]
                for d in g.objects(entry, UT.graphData)
            )
        )
        action = g.value(entry, MF.action)
        requests = tuple(_request(g, r) for r in Collection(g, g.value(action, HT.requests)))  # type: ignore[arg-type]
        tests.append(ProtocolTest(_local(entry), str(g.value(entry, MF.name)), data, requests))
    return tests


TESTS = load_manifest(MANIFEST) if MANIFEST.is_file() else []


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """The app on one backend, serving every data file the manifest names as its labelled named graph."""
    graphs = sorted({spec for t in TESTS for spec in t.graph_data})
    settings = tmp_settings(
        tmp_path_factory.mktemp(f"w3c-{request.param}"),
        request.param,
        extra_files=tuple(f"{label}={file}" for label, file in graphs),
    )
    app: Flask = create_app(settings)
    yield app.test_client()
    app.extensions["kg"].close()


TOKEN = "w3c-update-token"


@pytest.fixture(scope="module", params=BACKENDS)
def update_client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """The app on one backend with an update token and a journal of its own."""
    tmp = tmp_path_factory.mktemp(f"w3c-update-{request.param}")
    graphs = sorted({spec for t in TESTS for spec in t.graph_data})
    settings = tmp_settings(
        tmp, request.param, update_token=TOKEN, extra_files=tuple(f"{label}={file}" for label, file in graphs)
    )
    app: Flask = create_app(settings)
    yield app.test_client()
    app.extensions["kg"].close()


def send(client: FlaskClient, req: HttpRequest, token: str | None = None) -> TestResponse:
    """Replay one request as the manifest writes it (with the bearer token, when given)."""
    headers = {k: v for k, v in req.headers.items() if k != "content-type"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.open(
        req.path, method=req.method, data=req.body, headers=headers, content_type=req.headers.get("content-type")
    )


def quad_count(client: FlaskClient) -> int:
    resp = client.get(
        "/sparql",
        query_string={"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    return int(json.loads(resp.get_data())["results"]["bindings"][0]["n"]["value"])


def parse_boolean(resp: TestResponse) -> bool:
    """The boolean of a SPARQL JSON or XML ASK result."""
    if resp.mimetype == "application/sparql-results+json":
        value = json.loads(resp.get_data(as_text=True))["boolean"]
        assert isinstance(value, bool)
        return value
    if resp.mimetype == "application/sparql-results+xml":
        node = ET.fromstring(resp.get_data()).find(f"{SRX}boolean")
        assert node is not None and node.text in ("true", "false")
        return node.text == "true"
    raise AssertionError(f"not a SPARQL boolean result: {resp.mimetype}")


def parse_tabular(resp: TestResponse) -> list[dict[str, str]]:
    """The rows of a SPARQL JSON, XML, CSV or TSV SELECT result (values as text)."""
    text = resp.get_data(as_text=True)
    if resp.mimetype == "application/sparql-results+json":
        doc = json.loads(text)
        assert isinstance(doc["head"]["vars"], list)
        return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]
    if resp.mimetype == "application/sparql-results+xml":
        root = ET.fromstring(resp.get_data())
        assert root.find(f"{SRX}head") is not None
        return [
            {b.get("name", ""): "".join(b.itertext()) for b in r.findall(f"{SRX}binding")}
            for r in root.iter(f"{SRX}result")
        ]
    if resp.mimetype in ("text/csv", "text/tab-separated-values"):
        delimiter = "," if resp.mimetype == "text/csv" else "\t"
        return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    raise AssertionError(f"not a SPARQL tabular result: {resp.mimetype}")


def check_response(resp: TestResponse, req: HttpRequest) -> None:
    """Status class, format and boolean as the manifest expects."""
    body = resp.get_data(as_text=True)
    assert resp.status_code // 100 in req.statuses, f"{req.method} {req.path}: {resp.status} {body[:300]}"
    assert "Traceback" not in body
    if req.expected_format == "boolean":
        value = parse_boolean(resp)
        if req.expected_boolean is not None:
            assert value is req.expected_boolean
    elif req.expected_format == "tabular":
        assert parse_tabular(resp), "a SELECT of one solution gave no rows"
    elif req.expected_format == "RDF":
        assert resp.mimetype in RDF_PARSERS, resp.mimetype
        rdflib.Graph().parse(data=resp.get_data(), format=RDF_PARSERS[resp.mimetype])
    elif req.expected_boolean is not None:
        assert parse_boolean(resp) is req.expected_boolean


def test_manifest_is_present() -> None:
    assert MANIFEST.is_file(), (
        f"the W3C protocol manifest is missing at {MANIFEST} (copied into the repository with its licence)"
    )
    assert len(TESTS) == 34
    assert {len(t.graph_data) for t in TESTS} == {0, 2, 3}


@pytest.mark.parametrize("case", TESTS, ids=[t.id for t in TESTS])
def test_protocol(case: ProtocolTest, client: FlaskClient) -> None:
    first = case.requests[0]
    if first.is_update and 2 in first.statuses:
        before = quad_count(client)
        resp = send(client, first)
        assert resp.status_code == 403, resp.get_data(as_text=True)
        assert "read-only" in resp.get_data(as_text=True)
        after = quad_count(client)
        assert before == after, "a refused update changed the data"
        return
    for req in case.requests:
        check_response(send(client, req), req)


UPDATE_TESTS = [t for t in TESTS if t.requests[0].is_update]


@pytest.mark.parametrize("case", UPDATE_TESTS, ids=[t.id for t in UPDATE_TESTS])
def test_update_protocol_with_token(case: ProtocolTest, update_client: FlaskClient) -> None:
    for req in case.requests:
        check_response(send(update_client, req, TOKEN), req)
