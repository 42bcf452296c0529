"""The statistics graph equals the aggregates computed from scratch after every kind of change, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

from kg import statistics
from kg.build import rebuild
from kg.ingest import ingest_files
from kg.namespaces import GRAPH, IFC, META_GRAPH, STATISTICS_GRAPH
from kg.queries import QueryCatalog
from kg.settings import Settings
from kg.store import Store, open_store
from kg.updates import commit
from tests.conftest import BACKENDS, ROOT, tmp_settings

CASE = ROOT / "tests" / "cases" / "valid" / "cluster-network.ttl"
NOTES = GRAPH["notes"]
S = str(STATISTICS_GRAPH)
PREFIXES = "PREFIX void: <http://rdfs.org/ns/void#>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"


def rows(store: Store, sparql: str, **bindings: URIRef) -> set[tuple[str, ...]]:
    result = store.query(PREFIXES + sparql, bindings=bindings or None)
    return {tuple(str(t) for t in row) for row in result.rows}


def from_scratch(store: Store) -> set[tuple[str, ...]]:
    """The statistics, computed by plain aggregate queries over each named graph (the store's own engine)."""
    out: set[tuple[str, ...]] = set()
    total = 0
    for g in store.graph_names():
        if g in (META_GRAPH, STATISTICS_GRAPH):
            continue
        props = rows(
            store,
            "SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?o) AS ?d) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?p",
            g=g,
        )
        classes = rows(
            store,
            "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } FILTER isIRI(?c) } GROUP BY ?c",
            g=g,
        )
        if not props:
            continue
        triples = sum(int(n) for _, n, _ in props)
        total += triples
        out.add(("graph", str(g), str(triples), str(len(props)), str(len(classes))))
        out |= {("property", str(g), *r) for r in props}
        out |= {("class", str(g), *r) for r in classes}
        listed = {p for p, _, d in props if int(d) <= statistics.MAX_LISTED}
        values = rows(
            store,
            "SELECT DISTINCT ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER (isIRI(?o) && STRSTARTS(STR(?o), "{IFC}")) }}',
            g=g,
        )
        out |= {("value", str(g), p, o) for p, o in values if p in listed}
    out.add(("store", str(total)))
    return out


def derived(store: Store) -> set[tuple[str, ...]]:
    """What the statistics graph says, read back in the same shape; with its size, to catch leftovers."""
    graph = f"GRAPH <{S}>"
    out = {
        ("graph", *r)
        for r in rows(
            store,
            f"SELECT ?g ?n ?np ?nc WHERE {{ {graph} {{ <{S}#store> void:subset ?g . "
            "?g void:triples ?n ; void:properties ?np ; void:classes ?nc } }",
        )
    }
    out |= {
        ("property", *r)
        for r in rows(
            store,
            f"SELECT ?g ?p ?n ?d WHERE {{ {graph} {{ ?g void:propertyPartition ?x . ?x void:property ?p ; "
            "void:triples ?n ; void:distinctObjects ?d } }",
        )
    }
    out |= {
        ("class", *r)
        for r in rows(
            store,
            f"SELECT ?g ?c ?n WHERE {{ {graph} {{ ?g void:classPartition ?x . ?x void:class ?c ; "
            "void:entities ?n } }",
        )
    }
    out |= {
        ("value", *r)
        for r in rows(
            store,
            f"SELECT ?g ?p ?t WHERE {{ {graph} {{ ?g void:propertyPartition ?x . ?x void:property ?p ; "
            "dcterms:references ?t } }",
        )
    }
    out |= {("store", *r) for r in rows(store, f"SELECT ?n WHERE {{ {graph} {{ <{S}#store> void:triples ?n }} }}")}
    size = int(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {graph} {{ ?s ?p ?o }} }}").rows[0][0])  # type: ignore[arg-type]
    kinds = [t[0] for t in out]
    # each described graph is a void:Dataset, said once in the whole store: by the statistics graph unless the
    # graph says so itself (a links file)
    typed = {r[0] for r in rows(store, f"SELECT ?g WHERE {{ {graph} {{ ?g a void:Dataset }} }}")} - {f"{S}#store"}
    for g in {t[1] for t in out if t[0] == "graph"}:
        elsewhere = rows(
            store, f"SELECT ?h WHERE {{ GRAPH ?h {{ ?g a void:Dataset }} FILTER (?h != <{S}>) }}", g=URIRef(g)
        )
        assert (g in typed) != bool(elsewhere), g
    # per graph: triples, properties, classes and the store's subset link (and its type, above); 3 per class
    # partition (link, class, entities), 4 per property partition (link, property, triples, distinct objects),
    # 1 per value; the store's type, label and triples
    expected = 4 * kinds.count("graph") + len(typed) + 3 * kinds.count("class") + 4 * kinds.count("property")
    assert size == expected + kinds.count("value") + 3, "the statistics graph holds triples nothing accounts for"
    return out


def check(settings: Settings) -> set[tuple[str, ...]]:
    store = open_store(settings)
    try:
        got, want = derived(store), from_scratch(store)
        assert got == want, f"missing: {sorted(want - got)[:5]}; extra: {sorted(got - want)[:5]}"
        return got
    finally:
        store.close()


def undeclared(settings: Settings) -> list[str]:
    saved = QueryCatalog(ROOT / "queries").get("qc-undeclared-terms")
    store = open_store(settings)
    try:
        return [str(r[0]) for r in store.query(saved.text).rows]
    finally:
        store.close()


@pytest.mark.parametrize("kind", BACKENDS)
def test_statistics_equal_the_aggregates_after_build_ingest_and_updates(kind: str, tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path, kind)
    first = check(settings)
    assert ("graph", str(GRAPH["ontology"])) in {t[:2] for t in first}
    assert not {t for t in first if t[1] in (str(META_GRAPH), S)}  # neither the provenance graph nor itself
    assert undeclared(settings) == []

    ingest_files(settings, [CASE], agent="test")
    after_ingest = check(settings)
    assert any(t[0] == "graph" and "/graph/ingest/" in t[1] for t in after_ingest)

    typo = f"{IFC}hasPartnr"
    commit(
        settings,
        f"INSERT DATA {{ GRAPH <{NOTES}> {{ <{NOTES}#a> <{typo}> <{IFC}TwoWya> ; a <{IFC}Frim> ; "
        f'<{IFC}letter> "a" }} }}',
        agent="test",
    )
    check(settings)
    assert undeclared(settings) == [f"{IFC}Frim", f"{IFC}TwoWya", typo]  # the property, the class and the value

    commit(settings, f"DELETE WHERE {{ GRAPH <{NOTES}> {{ ?s <{typo}> ?o }} }}", agent="test")
    check(settings)
    assert undeclared(settings) == [f"{IFC}Frim"]

    # a graph variable: the update does not say which graphs it changes, so all are read again
    commit(settings, f"DELETE {{ GRAPH ?g {{ ?s a <{IFC}Frim> }} }} WHERE {{ GRAPH ?g {{ ?s a <{IFC}Frim> }} }}")
    check(settings)
    assert undeclared(settings) == []

    commit(settings, f"DROP GRAPH <{NOTES}>", agent="test")
    last = check(settings)
    assert str(NOTES) not in {t[1] for t in last if len(t) > 1}


def test_an_ingest_or_update_reads_only_the_graphs_it_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On disk, ingests and updates run on a copy of the live store: the statistics of the graphs they did not
    touch are kept, not computed again (a whole recompute reads every triple: seconds at 10^7)."""
    settings = tmp_settings(tmp_path, "oxigraph")
    rebuild(settings)
    refreshed: list[frozenset[str]] = []
    original = statistics.refresh

    def spy(store, changed):  # type: ignore[no-untyped-def]
        refreshed.append(changed)
        original(store, changed)

    def refuse(store):  # type: ignore[no-untyped-def]
        raise AssertionError("the statistics were computed whole")

    monkeypatch.setattr(statistics, "refresh", spy)
    monkeypatch.setattr(statistics, "compute", refuse)
    ingest_files(settings, [CASE], agent="test")
    commit(settings, f'INSERT DATA {{ GRAPH <{NOTES}> {{ <{NOTES}#a> <{IFC}letter> "a" }} }}', agent="test")
    assert len(refreshed) == 2
    assert all(str(GRAPH["ontology"]) not in changed for changed in refreshed)
    assert {str(NOTES)} <= refreshed[1]
    monkeypatch.undo()
    check(settings)


@pytest.mark.parametrize(
    ("update", "graphs"),
    [
        ('INSERT DATA { GRAPH <urn:x:a> { <urn:x:s> <urn:x:p> "1" } }', {"urn:x:a"}),
        (
            'PREFIX x: <urn:x:> DELETE DATA { GRAPH x:a { x:s x:p "0" } } ; INSERT DATA { GRAPH x:b { x:s x:p 1 } }',
            {"urn:x:a", "urn:x:b"},
        ),
        (
            "WITH <urn:x:a> DELETE { ?s ?p ?o } INSERT { GRAPH <urn:x:b> { ?s ?p ?o } } WHERE { ?s ?p ?o }",
            {"urn:x:a", "urn:x:b"},
        ),
        ("DELETE WHERE { GRAPH <urn:x:a> { ?s ?p ?o } }", {"urn:x:a"}),
        ("DROP SILENT GRAPH <urn:x:a> ; CREATE GRAPH <urn:x:d>", {"urn:x:a", "urn:x:d"}),
        ("MOVE <urn:x:a> TO <urn:x:b>", {"urn:x:a", "urn:x:b"}),
        ("DELETE { GRAPH ?g { ?s <urn:x:q> ?o } } WHERE { GRAPH ?g { ?s <urn:x:q> ?o } }", {"urn:x:c"}),
        ("CLEAR ALL", {"urn:x:a", "urn:x:c"}),
        ('INSERT DATA { GRAPH <urn:x:a> { <urn:x:s> <urn:x:p> "0" } }', set()),  # already there: nothing changed
    ],
)
def test_the_graphs_an_update_changed_are_read_from_its_effect(update: str, graphs: set[str]) -> None:
    """What the statistics graph reads again after an update: exactly the graphs its effect touches."""
    import pyoxigraph as ox

    from kg.sparqltext import one_prologue
    from kg.updates import Entry, changed_graphs, evaluate, explicit_dataset
    from kg.updates import written_graphs as targets_of

    store = ox.Store()
    x = ox.NamedNode
    store.add(ox.Quad(x("urn:x:s"), x("urn:x:p"), ox.Literal("0"), x("urn:x:a")))
    store.add(ox.Quad(x("urn:x:s"), x("urn:x:q"), ox.Literal("2"), x("urn:x:c")))
    text = one_prologue(update)
    targets, any_graph = targets_of(text, None)
    entry = Entry(
        1,
        update,
        explicit_dataset(text, ["urn:x:a", "urn:x:c"]),
        None,
        (),
        "2026-01-01T00:00:00+00:00",
        "test",
        "r",
        Path("unused"),
        pending=True,
        removed="",
        added="",
        targets=None if any_graph else targets,
    )
    assert changed_graphs(evaluate(store, entry)) == graphs


def test_the_statistics_graph_is_described_in_the_provenance_graph_and_closed_to_updates(tmp_path: Path) -> None:
    from kg.errors import Forbidden

    settings = tmp_settings(tmp_path, "oxigraph")
    store = open_store(settings)
    try:
        described = store.query(
            "ASK { GRAPH ?m { ?d <http://www.w3.org/ns/prov#wasGeneratedBy> ?a . ?a ?p ?method } }",
            bindings={"m": META_GRAPH, "d": STATISTICS_GRAPH},
        )
        assert described.boolean
    finally:
        store.close()
    with pytest.raises(Forbidden, match="derived graph"):
        commit(settings, f"CLEAR GRAPH <{STATISTICS_GRAPH}>")
