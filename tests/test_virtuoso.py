"""The `sparql` backend against a real Virtuoso: `kg push`, then every saved query gives its golden rows.

.ci/run installs Debian's virtuoso-opensource, starts it with tests/virtuoso/virtuoso.ini and sets
KG_TEST_VIRTUOSO_ENDPOINT. Elsewhere these tests are skipped with a message (and fail under CI=true).
"""

from __future__ import annotations

import os
import urllib.request

import pytest

from kg import results
from kg.build import push
from kg.store.remote import RemoteStore
from tests.conftest import make_settings
from tests.test_queries import CATALOG, GOLDEN, normalise, rows_of

ENDPOINT = os.environ.get("KG_TEST_VIRTUOSO_ENDPOINT", "")


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=5) as resp:
            return resp.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def virtuoso() -> RemoteStore:
    if not ENDPOINT or not _reachable(ENDPOINT):
        message = "no Virtuoso to test against: set KG_TEST_VIRTUOSO_ENDPOINT (see tests/virtuoso/virtuoso.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    settings = make_settings(store="sparql", endpoint=ENDPOINT)
    counts = push(settings, source=make_settings(store="memory"))
    assert sum(counts.values()) > 5000
    return RemoteStore(ENDPOINT)


def test_push_loads_every_graph(virtuoso: RemoteStore) -> None:
    names = {str(g) for g in virtuoso.graph_names()}
    assert "https://w3id.org/interfirm/graph/ontology" in names
    assert "https://w3id.org/interfirm/graph/table2" in names
    assert "https://w3id.org/interfirm/graph/meta" in names


LOCAL = [n for n in CATALOG.names() if "federated" not in CATALOG.get(n).tags]  # SERVICE: tested on our engines


@pytest.mark.parametrize("name", LOCAL)
def test_saved_query_golden_on_virtuoso(name: str, virtuoso: RemoteStore) -> None:
    saved = CATALOG.get(name)
    result = virtuoso.query(saved.text, bindings=saved.bind({}))
    ordered = "ORDER BY" in saved.text.upper()
    got = normalise(rows_of(results.serialize(result, "csv")), ordered)
    want = normalise(rows_of((GOLDEN / f"{name}.csv").read_bytes()), ordered)
    assert got == want


def test_kg_serve_in_front_of_virtuoso_answers_saved_queries(virtuoso: RemoteStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`kg serve --store sparql` (our API in front of the remote store) gives the embedded store's rows."""
    from tests.live import http, running_server

    with running_server(
        tmp_path, env={"KG_STORE": "sparql", "KG_ENDPOINT": ENDPOINT, "KG_RATE_LIMIT_PER_MINUTE": "0"}
    ) as base:
        for name in LOCAL:
            status, _, body = http(f"{base}/queries/{name}?format=csv")
            assert status == 200, (name, body[:300])
            ordered = "ORDER BY" in CATALOG.get(name).text.upper()
            got = normalise(rows_of(body), ordered)
            want = normalise(rows_of((GOLDEN / f"{name}.csv").read_bytes()), ordered)
            assert got == want, name


def test_kg_push_sends_extra_files_with_their_graph_names(virtuoso: RemoteStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`kg build` a TriG file, then `kg push`: its named graph and its own graph arrive under their names."""
    import re

    from tests.live import run_kg

    data = tmp_path / "notes.trig"
    data.write_text(
        '@prefix ex: <https://example.org/> .\nex:s ex:p "default" .\nex:pushed { ex:s ex:p "named" . }\n',
        encoding="utf-8",
    )
    assert run_kg(tmp_path, "build", f"https://example.org/pushed-own={data}").returncode == 0
    try:
        proc = run_kg(tmp_path, "push", "--endpoint", ENDPOINT)
        assert proc.returncode == 0, proc.stderr
        assert re.match(r"pushed [\d,]+ triples in \d+ graphs to ", proc.stdout), proc.stdout
        names = {str(g) for g in virtuoso.graph_names()}
        assert {"https://example.org/pushed", "https://example.org/pushed-own"} <= names
    finally:
        for graph in ("https://example.org/pushed", "https://example.org/pushed-own"):
            virtuoso.update(f"DROP SILENT GRAPH <{graph}>")
        push(make_settings(store="sparql", endpoint=ENDPOINT), source=make_settings(store="memory"))
