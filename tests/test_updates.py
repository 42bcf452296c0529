"""SPARQL Update with the update token: refused without it, applied all or nothing with it, kept by every build.

The expected counts come from the paper: it asks eleven research questions, (a) to (k) (Part III.D).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import URIRef

from kg.build import rebuild
from kg.errors import StoreError
from kg.ingest import ingest_files
from kg.store import open_store
from kg.updates import journal
from kg.web import create_app
from tests.conftest import BACKENDS, ROOT, make_settings, tmp_settings
from tests.live import http, run_kg, running_server

TOKEN = "update-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
IFC = "https://w3id.org/interfirm/ontology#"
NOTES = "https://example.org/interfirm-test/notes"
NOTES_REF = URIRef(NOTES)
PREFIXES = f"PREFIX ifc: <{IFC}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
QUESTIONS = PREFIXES + "SELECT (COUNT(DISTINCT ?q) AS ?n) WHERE { ?q a ifc:ResearchQuestion }"
DROP_K_OPERATION = f'DELETE {{ GRAPH ?g {{ ?q ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?q <{IFC}letter> "k" ; ?p ?o }} }}'
DROP_K = PREFIXES + DROP_K_OPERATION
VALID = ROOT / "tests" / "cases" / "valid"


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """A fresh app per test, with an update token and its own store and journal."""
    application = create_app(tmp_settings(tmp_path, request.param, update_token=TOKEN, query_timeout=5.0))
    yield application
    application.extensions["kg"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def select_one(client: FlaskClient, query: str) -> str:
    resp = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    row = json.loads(resp.get_data())["results"]["bindings"][0]
    return next(iter(row.values()))["value"]


def questions(client: FlaskClient) -> int:
    return int(select_one(client, QUESTIONS))


def post_update(client: FlaskClient, text: str, *, headers: dict[str, str] | None = None, **params: str):
    return client.post(
        "/sparql",
        query_string=params,
        data=text.encode("utf-8"),
        content_type="application/sparql-update",
        headers=AUTH if headers is None else headers,
    )


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
def test_without_the_right_bearer_token_an_update_is_refused_with_403(client: FlaskClient, headers: dict) -> None:
    assert questions(client) == 11
    resp = post_update(client, DROP_K, headers=headers)
    assert resp.status_code == 403
    assert "update token" in resp.get_data(as_text=True)
    form = client.post("/sparql", data={"update": DROP_K}, headers=headers)
    assert form.status_code == 403
    assert questions(client) == 11


def test_with_the_token_an_update_is_applied_and_seen_by_queries(client: FlaskClient) -> None:
    resp = post_update(client, DROP_K)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = json.loads(resp.get_data())
    assert body["applied"] is True and body["update"].endswith("/graph/update/1")
    assert questions(client) == 10
    # the form encoding of the protocol works too
    form = client.post(
        "/sparql",
        data={"update": f'INSERT DATA {{ GRAPH <{NOTES}> {{ <{NOTES}#a> <{IFC}letter> "z" }} }}'},
        headers=AUTH,
    )
    assert form.status_code == 200, form.get_data(as_text=True)
    assert select_one(client, f"SELECT ?l {{ GRAPH <{NOTES}> {{ ?s ?p ?l }} }}") == "z"


def test_where_sees_the_union_of_the_named_graphs(client: FlaskClient) -> None:
    update = PREFIXES + f'INSERT {{ GRAPH <{NOTES}> {{ ?q rdfs:comment "seen" }} }}\n'
    update += "WHERE { ?q a ifc:ResearchQuestion }"
    assert post_update(client, update).status_code == 200
    assert select_one(client, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{NOTES}> {{ ?s ?p ?o }} }}") == "11"


def test_the_update_is_recorded_in_the_provenance_graph(client: FlaskClient) -> None:
    assert post_update(client, DROP_K).status_code == 200
    text = select_one(
        client,
        "PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcterms: <http://purl.org/dc/terms/> "
        "SELECT ?text { GRAPH <https://w3id.org/interfirm/graph/meta> "
        "{ ?u a prov:Activity ; dcterms:description ?text } "
        'FILTER STRSTARTS(STR(?u), "https://w3id.org/interfirm/graph/update/") }',  # not a derivation's activity
    )
    assert text == DROP_K


@pytest.mark.parametrize(
    ("update", "status", "words"),
    [
        ("INSERT DATA { <urn:x:s> <urn:x:p> 1 }", 400, "default graph"),
        ("DROP GRAPH <https://example.org/no-such-graph>", 400, "does not exist"),
        ("INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> }", 400, "does not parse"),
        ("LOAD <http://127.0.0.1:9/data.ttl>", 403, "LOAD is refused"),
        ("CLEAR GRAPH <https://w3id.org/interfirm/graph/meta>", 403, "provenance graph"),
        (
            "INSERT { GRAPH <urn:x:g> { ?s ?p ?o } } WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
            400,
            "SERVICE",
        ),
    ],
)
def test_a_failing_update_changes_nothing(client: FlaskClient, update: str, status: int, words: str) -> None:
    assert post_update(client, DROP_K).status_code == 200
    before = select_one(client, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
    resp = post_update(client, f"{update} ;\n{DROP_K.replace('k', 'j')}")  # the first fails: no change at all
    assert resp.status_code == status
    assert words in resp.get_data(as_text=True)
    assert "Traceback" not in resp.get_data(as_text=True)
    assert select_one(client, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }") == before
    assert [e.seq for e in journal(client.application.extensions["kg"].settings)] == [1]


def test_protocol_errors_for_updates(client: FlaskClient) -> None:
    assert client.get("/sparql", query_string={"update": DROP_K}, headers=AUTH).status_code == 400
    both = client.post("/sparql", data={"update": DROP_K, "query": "ASK {}"}, headers=AUTH)
    assert both.status_code == 400
    two = client.post(
        "/sparql",
        data=urllib.parse.urlencode([("update", DROP_K), ("update", DROP_K)]),
        content_type="application/x-www-form-urlencoded",
        headers=AUTH,
    )
    assert two.status_code == 400
    utf16 = client.post("/sparql", data=DROP_K.encode("utf-16"), content_type="application/sparql-update", headers=AUTH)
    assert utf16.status_code == 400
    as_query = client.post("/sparql", data={"query": DROP_K}, headers=AUTH)
    assert as_query.status_code == 400 and "'update'" in as_query.get_data(as_text=True)
    not_iri = post_update(client, DROP_K, **{"using-graph-uri": "not an iri"})
    assert not_iri.status_code == 400
    assert questions(client) == 11


def test_a_runaway_update_is_stopped_and_changes_nothing(client: FlaskClient) -> None:
    runaway = f"INSERT {{ GRAPH <{NOTES}> {{ ?a <urn:x:p> ?d }} }} WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }}"
    resp = post_update(client, runaway)
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert "nothing was changed" in resp.get_data(as_text=True)
    assert journal(client.application.extensions["kg"].settings) == []
    assert select_one(client, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{NOTES}> {{ ?s ?p ?o }} }}") == "0"
    assert post_update(client, DROP_K).status_code == 200  # the server still takes updates
    assert questions(client) == 10


@pytest.mark.parametrize("kind", BACKENDS)
def test_updates_survive_a_rebuild_in_the_order_they_came(tmp_path: Path, kind: str) -> None:
    """Ingest A, then an update that deletes every ingested triple, then ingest B: a rebuild from the files
    must give B and not A, whatever order the files are read in."""
    settings = tmp_settings(tmp_path, kind)
    first = ingest_files(settings, [VALID / "cluster-network.ttl"], agent="test")
    assert first.committed
    from kg.updates import commit

    commit(
        settings,
        "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } "
        'FILTER STRSTARTS(STR(?g), "https://w3id.org/interfirm/graph/ingest/") }',
        agent="test",
    )
    second = ingest_files(settings, [VALID / "consortium.ttl"], agent="test")
    assert second.committed
    rebuild(settings, force=True)
    store = open_store(settings)
    try:
        count = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
        assert store.query(count, bindings={"g": first.graph}).rows[0][0].toPython() == 0
        assert store.query(count, bindings={"g": second.graph}).rows[0][0].toPython() > second.triples
    finally:
        store.close()


def test_a_journal_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path, "memory")
    settings.updates_path.mkdir(parents=True)
    bad = settings.updates_path / "00000001.json"
    bad.write_text("{ not json", encoding="utf-8")
    with pytest.raises(StoreError) as info:
        open_store(settings)
    assert str(bad) in str(info.value)


def test_an_update_replays_its_effect_onto_changed_sources(tmp_path: Path) -> None:
    """The journal keeps what an update did, not its text (here: it emptied and dropped a graph); a build replays
    exactly that, also after the files changed (the extra file's graph gone, then the file served again)."""
    extra = tmp_path / "extra.ttl"
    extra.write_text("<urn:x:s> <urn:x:p> <urn:x:o> .\n", encoding="utf-8")
    with_extra = tmp_settings(tmp_path, "oxigraph", extra_files=(f"{NOTES}={extra}",))
    from kg.updates import commit

    commit(with_extra, f"DROP GRAPH <{NOTES}>", agent="test")
    (entry,) = journal(with_extra)
    assert entry.cleared == entry.dropped == (NOTES,) and entry.removed == entry.added == ""
    for settings, removed in ((tmp_settings(tmp_path, "oxigraph"), [str(extra)]), (with_extra, [])):
        rebuild(settings, force=True, remove=removed)  # the file's graph gone, then the file served again
        store = open_store(settings)
        try:
            assert NOTES_REF not in store.graph_names()
            assert store.query(QUESTIONS).rows[0][0].toPython() == 11  # the rest is as the files say
        finally:
            store.close()


def test_kg_update_applies_lists_and_refuses_with_exit_codes(tmp_path: Path) -> None:
    done = run_kg(tmp_path, "update", "-", stdin=DROP_K)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("applied: update 1 ")
    assert run_kg(tmp_path, "update", "-e", "INSERT DATA { <urn:x:s> <urn:x:p> 1 }").returncode == 2
    assert run_kg(tmp_path, "update", "-e", "LOAD <http://127.0.0.1:9/x.ttl>").returncode == 4
    missing = run_kg(tmp_path, "update", str(tmp_path / "nope.ru"))
    assert missing.returncode == 2 and "nope.ru" in missing.stderr
    listed = run_kg(tmp_path, "update", "--list")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 1
    assert run_kg(tmp_path, "build", "--force").returncode == 0
    store = open_store(tmp_settings(tmp_path, "oxigraph"))
    try:
        assert store.query(QUESTIONS).rows[0][0].toPython() == 10
    finally:
        store.close()


@pytest.mark.slow
def test_live_server_update_with_sparqlwrapper_persists_across_restart(tmp_path: Path) -> None:
    from SPARQLWrapper import JSON, POST, POSTDIRECTLY, SPARQLWrapper

    def count(base: str) -> int:
        url = base + "/sparql?" + urllib.parse.urlencode({"query": QUESTIONS})
        status, _, body = http(url, headers={"Accept": "application/sparql-results+json"})
        assert status == 200
        return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])

    with running_server(tmp_path, env={"KG_UPDATE_TOKEN": TOKEN}) as base:
        client = SPARQLWrapper(base + "/sparql", updateEndpoint=base + "/sparql")
        client.setMethod(POST)
        client.setRequestMethod(POSTDIRECTLY)
        client.setQuery(DROP_K)
        status, _, _ = http(
            base + "/sparql", data=DROP_K.encode(), headers={"Content-Type": "application/sparql-update"}
        )
        assert status == 403
        client.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
        client.setReturnFormat(JSON)
        response = client.query()
        assert response.response.status == 200
        assert count(base) == 10
    with running_server(tmp_path) as base:  # restarted, now without a token: the change is still there
        assert count(base) == 10


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        # no WHERE clause: nothing to add
        ("INSERT DATA { GRAPH <urn:g:1> { <urn:x:s> <urn:x:p> 1 } }", None),
        ("CLEAR ALL", None),
        # the union of the graphs, as the default graph and as named graphs, before WHERE
        (
            "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }",
            "DELETE { GRAPH ?g { ?s ?p ?o } } USING <urn:g:1> USING <urn:g:2> "
            "USING NAMED <urn:g:1> USING NAMED <urn:g:2>\n"
            "WHERE { GRAPH ?g { ?s ?p ?o } }",
        ),
        # DELETE WHERE has no place for USING: it becomes DELETE { P } USING ... WHERE { P }
        (
            "delete where { GRAPH ?g { ?s <urn:x:p> ?o } }",
            "DELETE { GRAPH ?g { ?s <urn:x:p> ?o } }\nUSING <urn:g:1> USING <urn:g:2> USING NAMED <urn:g:1> "
            "USING NAMED <urn:g:2>\nWHERE { GRAPH ?g { ?s <urn:x:p> ?o } }",
        ),
        # the update's own dataset is kept; keywords in strings, IRIs and comments are not read
        ("WITH <urn:g:1> DELETE { ?s ?p 'WHERE' } WHERE { ?s ?p 'USING' } # WHERE", None),
        ("INSERT { GRAPH <urn:g:3> { ?s ?p ?o } } USING <urn:g:2> WHERE { ?s ?p ?o }", None),
    ],
)
def test_the_dataset_of_each_where_clause_is_made_explicit(update: str, expected: str | None) -> None:
    from kg.updates import explicit_dataset

    assert explicit_dataset(update, ["urn:g:1", "urn:g:2"]) == (update if expected is None else expected)


def test_protocol_graphs_conflict_with_using_or_with() -> None:
    from kg.errors import InputError
    from kg.updates import explicit_dataset

    update = "WITH <urn:g:1> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    with pytest.raises(InputError, match="USING or WITH"):
        explicit_dataset(update, ["urn:g:1"], using=["urn:g:2"])
    plain = "INSERT { GRAPH <urn:g:3> { ?s ?p ?o } } WHERE { ?s ?p ?o }"
    assert "USING <urn:g:2>\nWHERE" in explicit_dataset(plain, ["urn:g:1"], using=["urn:g:2"])


def test_each_operation_may_have_its_own_prologue(client: FlaskClient) -> None:
    update = f'PREFIX n: <{NOTES}#>\nINSERT DATA {{ GRAPH <{NOTES}> {{ n:a n:b "1" }} }} ;\n{DROP_K}'
    resp = post_update(client, update)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert questions(client) == 10
    clash = post_update(client, f"PREFIX ifc: <{NOTES}#>\nCLEAR GRAPH <{NOTES}> ;\n{DROP_K}")
    assert clash.status_code == 400 and "declared twice" in clash.get_data(as_text=True)


@pytest.mark.slow
def test_concurrent_writers_are_serialised_and_none_is_lost(tmp_path: Path) -> None:
    """Two server processes, four clients, sixteen updates at once: every one is applied, in one order."""
    from concurrent.futures import ThreadPoolExecutor

    env = {
        "KG_UPDATE_TOKEN": TOKEN,
        "KG_WORKERS": "2",
        "KG_RATE_LIMIT_PER_MINUTE": "0",
        "KG_CLIENT_CONCURRENCY": "0",
        "KG_QUEUE_WAIT": "60",
    }
    with running_server(tmp_path, env=env) as base:

        def send(i: int) -> int:
            update = f'INSERT DATA {{ GRAPH <{NOTES}> {{ <{NOTES}#n{i}> <{IFC}letter> "{i}" }} }}'
            headers = {"Content-Type": "application/sparql-update", **AUTH}
            return http(base + "/sparql", data=update.encode(), headers=headers, timeout=120)[0]

        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(send, range(16)))
        assert statuses == [200] * 16
        url = (
            base
            + "/sparql?"
            + urllib.parse.urlencode({"query": f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{NOTES}> {{ ?s ?p ?o }} }}"})
        )
        status, _, body = http(url, headers={"Accept": "application/sparql-results+json"})
        assert status == 200
        assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "16"
    names = sorted(p.name for p in (tmp_path / "updates").iterdir())
    assert names == [f"{i:08d}.json" for i in range(1, 17)]


def test_an_update_on_a_copy_of_the_store_equals_a_replay_of_the_journal(tmp_path: Path) -> None:
    """Commits apply each update to a copy of the live store; builds replay the journal: same graphs."""
    from rdflib.compare import isomorphic

    from kg.namespaces import META_GRAPH
    from kg.updates import commit

    settings = tmp_settings(tmp_path, "oxigraph")
    ingest_files(settings, [VALID / "cluster-network.ttl"], agent="test")
    commit(settings, DROP_K, agent="test")
    commit(settings, PREFIXES + f"INSERT {{ GRAPH <{NOTES}> {{ ?q rdfs:comment ?l }} }} WHERE {{ ?q rdfs:label ?l }}")

    def graphs() -> dict:
        store = open_store(settings)
        try:
            return {g: store.graph(g) for g in store.graph_names() if g != META_GRAPH}
        finally:
            store.close()

    copied = graphs()
    assert len(copied[NOTES_REF]) > 100
    rebuild(settings, force=True)
    replayed = graphs()
    assert copied.keys() == replayed.keys()
    for name, graph in copied.items():
        assert isomorphic(graph, replayed[name]), name


def test_after_the_files_changed_an_update_applies_on_top_of_them_and_the_journal(tmp_path: Path) -> None:
    """A store built before the files changed is rebuilt (files + journal) before the new update runs on it."""
    from kg.updates import commit

    commit(tmp_settings(tmp_path, "oxigraph"), DROP_K, agent="test")
    extra = tmp_path / "extra.ttl"
    extra.write_text(f'<{NOTES}#x> <{IFC}letter> "x" .\n', encoding="utf-8")
    changed = tmp_settings(tmp_path, "oxigraph", extra_files=(f"{NOTES}={extra}",))
    commit(changed, f'INSERT DATA {{ GRAPH <{NOTES}> {{ <{NOTES}#y> <{IFC}letter> "y" }} }}', agent="test")
    store = open_store(changed)
    try:
        letters = {str(r[0]) for r in store.query(f"SELECT ?l {{ GRAPH <{NOTES}> {{ ?s <{IFC}letter> ?l }} }}").rows}
        assert letters == {"x", "y"}
        asserted = QUESTIONS.replace("WHERE", "FROM <https://w3id.org/interfirm/graph/asserted> WHERE")
        assert store.query(asserted).rows[0][0].toPython() == 10  # (k) dropped
        # x and y have a letter, which only research questions have (its domain): the inferred graph says so
        assert store.query(QUESTIONS).rows[0][0].toPython() == 12
    finally:
        store.close()


def test_the_service_description_lists_sparql_update_only_with_a_token(client: FlaskClient) -> None:
    sd = client.get("/sparql", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert "SPARQL11Update" in sd
    readonly = create_app(make_settings(store="memory", threads=1))
    try:
        sd = readonly.test_client().get("/sparql", headers={"Accept": "text/turtle"}).get_data(as_text=True)
        assert "SPARQL11Query" in sd and "SPARQL11Update" not in sd
    finally:
        readonly.extensions["kg"].close()


def test_a_slow_ingest_is_stopped_at_the_time_limit_and_adds_nothing(tmp_path: Path) -> None:
    """POST /cases runs in a query worker: past the time limit (here 0.2 s, less than a validation) it is 503."""
    app = create_app(tmp_settings(tmp_path, "oxigraph", update_token=TOKEN, query_timeout=0.2))
    try:
        client = app.test_client()
        client.get("/health")
        body = (VALID / "full-case.ttl").read_bytes()
        resp = client.post("/cases", data=body, content_type="text/turtle", headers=AUTH)
        assert resp.status_code == 503, resp.get_data(as_text=True)
        assert "nothing was added" in resp.get_data(as_text=True)
        assert not list((tmp_path / "ingest").glob("*.nt"))
    finally:
        app.extensions["kg"].close()
