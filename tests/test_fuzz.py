"""Property-based fuzzing of /sparql and /validate (never a 5xx, never a traceback), and schemathesis
against /openapi.json (no 5xx, every response as the spec says)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.web import create_app
from tests.conftest import ROOT, make_settings
from tests.live import running_server

QUERIES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))]
CASES = [p.read_bytes() for p in sorted((ROOT / "tests" / "cases").glob("*/*.ttl"))]
SPARQL_WORDS = [
    "SELECT",
    "ASK",
    "CONSTRUCT",
    "DESCRIBE",
    "WHERE",
    "{",
    "}",
    "?s",
    "?p",
    "?o",
    "FILTER",
    "(",
    ")",
    "OPTIONAL",
    "UNION",
    "GRAPH",
    "FROM",
    "<urn:x>",
    '"x"@en',
    "LIMIT 5",
    ".",
    ";",
    "PREFIX",
    "a:",
    "<http://127.0.0.1:1/>",
    "SERVICE",
    "BIND",
    "VALUES",
    "*",
    "COUNT(*)",
    "GROUP BY",
    "ORDER BY",
]
MEDIA = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    store_dir = tmp_path_factory.mktemp("fuzz") / "store"
    application = create_app(
        make_settings(store="oxigraph", store_dir=store_dir, threads=2, query_timeout=10, rate_limit_per_minute=0)
    )
    yield application
    application.extensions["kg"].close()


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def mutate(text: str, data: st.DataObject) -> str:
    """Delete, duplicate or insert characters at random places."""
    for _ in range(data.draw(st.integers(1, 4))):
        if not text:
            break
        i = data.draw(st.integers(0, len(text) - 1))
        op = data.draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if op == "delete":
            text = text[:i] + text[i + 1 :]
        elif op == "insert":
            text = text[:i] + data.draw(st.sampled_from([*list("{}()<>?\"'.;#\\ \n:@^*"), "é", "\x00"])) + text[i:]
        else:
            j = min(len(text), i + data.draw(st.integers(1, 20)))
            text = text[:j] + text[i:j] + text[j:]
    return text


def assert_handled(response) -> None:  # type: ignore[no-untyped-def]
    """Handled: a 2xx-4xx answer, or the time limit's 503 (a mutation can turn a query into a cross join)."""
    timed_out = response.status_code == 503 and b"time limit" in response.data
    assert response.status_code < 500 or timed_out, response.data[:500]
    assert b"Traceback" not in response.data


FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@FUZZ
@given(query=st.one_of(st.text(max_size=200), st.lists(st.sampled_from(SPARQL_WORDS), max_size=15).map(" ".join)))
def test_random_queries(client: FlaskClient, query: str) -> None:
    assert_handled(client.get("/sparql", query_string={"query": query}))
    assert_handled(
        client.post("/sparql", data=query.encode("utf-8", "surrogatepass"), content_type="application/sparql-query")
    )


@FUZZ
@given(data=st.data())
def test_mutated_saved_queries(client: FlaskClient, data: st.DataObject) -> None:
    query = mutate(data.draw(st.sampled_from(QUERIES)), data)
    assert_handled(
        client.post(
            "/sparql",
            data={"query": query},
            headers={
                "Accept": data.draw(
                    st.sampled_from(
                        ["text/csv", "application/sparql-results+xml", "text/turtle", "*/*", "application/ld+json"]
                    )
                )
            },
        )
    )


@FUZZ
@given(body=st.binary(max_size=300), media=st.sampled_from(MEDIA))
def test_random_uploads(client: FlaskClient, body: bytes, media: str) -> None:
    assert_handled(client.post("/validate", data=body, content_type=media))


@settings(FUZZ, max_examples=10)  # each parseable mutant is a full SHACL validation (seconds)
@given(data=st.data())
def test_mutated_case_files(client: FlaskClient, data: st.DataObject) -> None:
    text = mutate(data.draw(st.sampled_from(CASES)).decode("utf-8"), data)
    assert_handled(client.post("/validate", data=text.encode("utf-8", "surrogatepass"), content_type="text/turtle"))


@pytest.mark.slow
def test_schemathesis_against_openapi(tmp_path: Path) -> None:
    st_bin = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    assert st_bin, "schemathesis is a test dependency"
    with running_server(tmp_path, "--query-timeout", "20", env={"KG_RATE_LIMIT_PER_MINUTE": "0"}) as base:
        proc = subprocess.run(
            [
                st_bin,
                "run",
                base + "/openapi.json",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples",
                "15",
                "--generation-deterministic",
                "--request-timeout",
                "60",
                "--suppress-health-check",
                "all",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
        )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
