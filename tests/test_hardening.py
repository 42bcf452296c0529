"""A public endpoint that hostile queries and uploads cannot take down, leak from, or corrupt (issue: hardening)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kg.guard import service_endpoints
from kg.web import create_app
from tests.conftest import ROOT, make_settings, tmp_settings
from tests.live import http, running_server

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


class Listener:
    """A loopback TCP listener that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module", params=["memory", "oxigraph"])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    settings = tmp_settings(tmp_path_factory.mktemp("hard"), request.param, max_result_rows=50, query_timeout=5)
    application = create_app(settings)
    yield application
    application.extensions["kg"].close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sparql(client: FlaskClient, query: str, **params: str):  # type: ignore[no-untyped-def]
    return client.get(
        "/sparql", query_string={"query": query, **params}, headers={"Accept": "application/sparql-results+json"}
    )


def test_service_to_loopback_is_refused_and_never_connects(client: FlaskClient, listener: Listener) -> None:
    for form in (
        f"SERVICE <http://127.0.0.1:{listener.port}/sparql>",
        f"SERVICE SILENT <http://127.0.0.1:{listener.port}/>",
    ):
        r = sparql(client, f"SELECT * WHERE {{ {form} {{ ?s ?p ?o }} }}")
        assert r.status_code == 400, r.data
        assert b"SERVICE" in r.data and b"Traceback" not in r.data
    r = sparql(client, "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }")
    assert r.status_code == 400
    time.sleep(0.3)
    assert listener.connections == 0


def test_saved_queries_and_post_are_guarded_too(client: FlaskClient, listener: Listener) -> None:
    q = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/> {{ ?s ?p ?o }} }}"
    r = client.post("/sparql", data=q, content_type="application/sparql-query")
    assert r.status_code == 400
    time.sleep(0.3)
    assert listener.connections == 0


def test_service_detection_ignores_strings_comments_and_names() -> None:
    assert service_endpoints('SELECT * WHERE { ?s ?p "SERVICE <http://x/>" } # SERVICE <http://y/>') == []
    assert service_endpoints("SELECT ?SERVICE WHERE { ?s <http://e/SERVICE> ?SERVICE }") == []
    assert service_endpoints("PREFIX e: <http://e.org/> SELECT * { SERVICE e:q { ?s ?p ?o } }") == ["http://e.org/q"]


def test_allow_listed_service_passes_the_guard() -> None:
    from kg.guard import check_query

    check_query(
        "SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }", ["https://query.wikidata.org/sparql"]
    )


def test_from_file_reads_nothing(client: FlaskClient, tmp_path: Path) -> None:
    secret = tmp_path / "secret.ttl"
    secret.write_text('<urn:x:secret> <urn:x:is> "TOPSECRET-8f3a" .\n', encoding="utf-8")
    for q in (
        f"SELECT * FROM <{secret.as_uri()}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{secret.as_uri()}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    ):
        r = sparql(client, q)
        assert r.status_code in (200, 400), r.data
        assert b"TOPSECRET" not in r.data
    r = sparql(client, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": secret.as_uri()})
    assert b"TOPSECRET" not in r.data
    assert json.loads(r.data)["results"]["bindings"] == []


def test_updates_and_load_are_refused(client: FlaskClient, listener: Listener) -> None:
    load = f"LOAD <http://127.0.0.1:{listener.port}/data.ttl>"
    for body, ctype in (
        (load, "application/sparql-update"),
        ("DROP ALL", "application/sparql-update"),
        (urllib.parse.urlencode({"update": load}), "application/x-www-form-urlencoded"),
    ):
        r = client.post("/sparql", data=body, content_type=ctype)
        assert r.status_code == 403, r.data
    r = client.get("/sparql", query_string={"query": load})
    assert 400 <= r.status_code < 500
    time.sleep(0.3)
    assert listener.connections == 0


def test_result_rows_are_capped_and_say_so(client: FlaskClient) -> None:
    r = sparql(client, "SELECT * WHERE { ?s ?p ?o }")
    assert r.status_code == 200
    assert len(json.loads(r.data)["results"]["bindings"]) == 50
    assert r.headers["X-Result-Truncated"] == "rows=50"
    r = sparql(client, "SELECT * WHERE { ?s ?p ?o } LIMIT 3")
    assert "X-Result-Truncated" not in r.headers


def test_body_and_query_length_caps(tmp_path: Path) -> None:
    app = create_app(make_settings(store="memory", max_body_bytes=2000, max_query_chars=500, threads=1))
    try:
        c = app.test_client()
        r = c.post("/sparql", data="ASK {}" + " " * 5000, content_type="application/sparql-query")
        assert r.status_code == 413
        r = c.post("/validate", data=b"#" * 5000, content_type="text/turtle")
        assert r.status_code == 413
        r = c.get("/sparql", query_string={"query": "ASK {}" + " " * 600})
        assert r.status_code == 400 and b"longer than 500" in r.data
    finally:
        app.extensions["kg"].close()


def test_doctype_and_remote_context_and_imports_are_not_followed(client: FlaskClient, listener: Listener) -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    )
    r = client.post("/validate", data=bomb, content_type="application/rdf+xml")
    assert r.status_code == 400 and b"DOCTYPE" in r.data
    ctx = json.dumps({"@context": f"http://127.0.0.1:{listener.port}/ctx.jsonld", "@id": "urn:x:a", "urn:x:p": "v"})
    r = client.post("/validate", data=ctx, content_type="application/ld+json")
    assert r.status_code == 400
    imports = (
        f"<urn:x:o> a <http://www.w3.org/2002/07/owl#Ontology> ; "
        f"<http://www.w3.org/2002/07/owl#imports> <http://127.0.0.1:{listener.port}/onto.ttl> .\n"
    )
    r = client.post("/validate", data=imports, content_type="text/turtle")
    assert r.status_code == 200
    time.sleep(0.3)
    assert listener.connections == 0


def test_uploaded_shapes_are_ignored(client: FlaskClient) -> None:
    """Shapes come from the server: an upload that declares a shape rejecting everything changes nothing."""
    evil = """@prefix sh: <http://www.w3.org/ns/shacl#> .
    <urn:x:evil> a sh:NodeShape ; sh:targetClass <https://w3id.org/interfirm/ontology#Firm> ; sh:maxCount 0 ;
      sh:property [ sh:path <http://www.w3.org/2000/01/rdf-schema#label> ; sh:maxCount 0 ] ."""
    r = client.post("/validate", data=evil, content_type="text/turtle", headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert json.loads(r.data)["conforms"] is True


def test_validation_runs_under_the_time_limit(tmp_path: Path) -> None:
    """A validation past the limit is stopped like a query (503 naming the limit); the server goes on."""
    from kg.generate import generate, load_vocabulary

    app = create_app(make_settings(store="memory", threads=1, query_timeout=0.3))
    try:
        c = app.test_client()
        generate(tmp_path / "case.ttl", 3000, 5, load_vocabulary(ROOT / "data"))  # seconds of validation
        case = (tmp_path / "case.ttl").read_bytes()
        r = c.post("/validate", data=case, content_type="text/turtle")
        assert r.status_code == 503 and b"validation was stopped after 0.3 s" in r.data
        assert c.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    finally:
        app.extensions["kg"].close()


def test_per_client_rate_limit(tmp_path: Path) -> None:
    """A sliding window per client; the counts are in a file every server process shares."""
    from kg.errors import TooBusy
    from kg.web.limits import Admission

    limiter = Admission(tmp_path / "limits.sqlite", 3, 0)
    other_process = Admission(tmp_path / "limits.sqlite", 3, 0)  # another server process: the same counts
    for i in range(3):
        (limiter if i % 2 else other_process).enter("10.0.0.1", now=100.0 + i)
    with pytest.raises(TooBusy) as info:
        limiter.enter("10.0.0.1", now=103.0)
    assert 50 <= info.value.retry_after <= 61
    limiter.enter("10.0.0.2", now=103.0)  # another client is not affected
    limiter.enter("10.0.0.1", now=161.0)  # the window has moved on


def test_per_client_concurrency_and_requests_of_dead_processes(tmp_path: Path) -> None:
    """At most N requests of one client at once, server-wide; a process killed mid-request does not keep its
    tickets."""
    import subprocess
    import sys

    from kg.errors import TooBusy
    from kg.web.limits import Admission

    limiter = Admission(tmp_path / "limits.sqlite", 0, 2)
    first = limiter.enter("10.0.0.1")
    limiter.enter("10.0.0.1")
    with pytest.raises(TooBusy) as info:
        limiter.enter("10.0.0.1")
    assert info.value.retry_after == 1 and "2 requests running" in str(info.value)
    limiter.enter("10.0.0.2")
    limiter.leave(first)
    limiter.enter("10.0.0.1")  # a ticket was given back
    # another process takes both of a third client's tickets, then dies without giving them back
    code = (
        "import os, sys; from pathlib import Path; from kg.web.limits import Admission; "
        f"a = Admission(Path({str(tmp_path / 'limits.sqlite')!r}), 0, 2); "
        "a.enter('10.0.0.3'); a.enter('10.0.0.3'); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    limiter.enter("10.0.0.3")


@pytest.mark.slow
def test_runaway_query_is_stopped_while_others_are_served(tmp_path: Path) -> None:
    with running_server(tmp_path, "--query-timeout", "3", "--workers", "1") as base:
        url = base + "/sparql?" + urllib.parse.urlencode({"query": RUNAWAY})
        with ThreadPoolExecutor(max_workers=1) as pool:
            started = time.monotonic()
            runaway = pool.submit(http, url, headers={"Accept": "application/sparql-results+json"}, timeout=60)
            time.sleep(0.5)
            t0 = time.monotonic()
            status, _, body = http(base + "/queries/table2-it-alliances-by-country?format=csv")
            assert status == 200 and b"2598" in body
            assert time.monotonic() - t0 < 1.0
            status, _, body = runaway.result(timeout=60)
            elapsed = time.monotonic() - started
        assert status == 503, body
        assert b"3 s" in body and b"Traceback" not in body
        assert 2.5 < elapsed < 10
        status, _, body = http(base + "/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}))
        assert status == 200 and b"true" in body


def test_the_pool_grows_on_demand_and_replaces_a_worker_grown_too_large(tmp_path: Path) -> None:
    """One worker at first and one spare beside the busy ones, up to the pool's size; a worker holding more than
    `worker_max_rss_mb` after a job is replaced (here every one: the limit is 1 MB)."""
    from kg.executor import QueryExecutor
    from tests.conftest import tmp_settings

    pool = QueryExecutor(tmp_settings(tmp_path, "oxigraph"), workers=3)
    try:
        assert pool.started == 1
        assert b"true" in pool.run("ASK { ?s ?p ?o }").body
        assert pool.started == 2  # the one that answered, and a spare started when it was taken
        with ThreadPoolExecutor(max_workers=3) as threads:
            answers = list(threads.map(lambda _: pool.run("ASK { ?s ?p ?o }").body, range(6)))
        assert all(b"true" in a for a in answers) and pool.started <= 3
    finally:
        pool.close()
    small = QueryExecutor(tmp_settings(tmp_path, "oxigraph", worker_max_rss_mb=1), workers=2)
    try:
        first = small._idle.queue[-1].process
        assert b"true" in small.run("ASK { ?s ?p ?o }").body
        first.join(timeout=10)
        assert not first.is_alive()  # replaced after its job
        assert b"true" in small.run("ASK { ?s ?p ?o }").body and small.started <= 2
    finally:
        small.close()


def test_a_memory_error_in_python_is_the_memory_limit_and_the_worker_is_replaced() -> None:
    """In the memory store (rdflib), running out of memory is a Python MemoryError, not an abort: it is answered
    as the memory limit, and the next query gets a fresh worker."""
    from kg.errors import MemoryLimit
    from kg.executor import QueryExecutor

    executor = QueryExecutor(make_settings(store="memory", query_memory_mb=400, query_timeout=60), workers=1)
    doubling = 'BIND("aaaaaaaaaaaaaaaa" AS ?x0) ' + " ".join(
        f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(28)
    )
    try:
        with pytest.raises(MemoryLimit, match="more memory than the 400 MB"):
            executor.run(f"SELECT (STRLEN(?x28) AS ?n) WHERE {{ {doubling} }}")
        assert b"true" in executor.run("ASK { ?s ?p ?o }").body
    finally:
        executor.close()
