"""Derived graphs are recomputed by every build path and described in the provenance graph."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from kg import derived
from kg.namespaces import GRAPH, META_GRAPH
from kg.store import open_store
from tests.conftest import BACKENDS, ROOT, tmp_settings

COUNT = derived.Derivation(
    graph=GRAPH["test-derived"],
    label="how many triples each asserted named graph holds (a test derivation)",
    method="SELECT ?g (COUNT(*) AS ?n) over every named graph",
    compute=lambda store: [
        (ox.NamedNode(str(row["g"].value)), ox.NamedNode("https://example.org/triples"), row["n"])
        for row in store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    ],
)


@pytest.fixture()
def one_derivation(monkeypatch: pytest.MonkeyPatch) -> derived.Derivation:
    monkeypatch.setattr(derived, "derivations", lambda: (COUNT,))
    return COUNT


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_build_writes_each_derived_graph_and_its_provenance(
    kind: str, tmp_path: Path, one_derivation: derived.Derivation
) -> None:
    store = open_store(tmp_settings(tmp_path, kind))
    try:
        assert one_derivation.graph in store.graph_names()
        counted = store.query(
            "SELECT ?g ?n WHERE { GRAPH ?d { ?g <https://example.org/triples> ?n } }",
            bindings={"d": one_derivation.graph},
        ).as_dicts()
        asserted = {r["g"]: int(r["n"]) for r in counted}
        ontology = store.query(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", bindings={"g": GRAPH["ontology"]}
        ).rows[0][0]
        assert asserted[GRAPH["ontology"]] == int(ontology)
        assert one_derivation.graph not in asserted  # computed before it was written
        prov = store.query(
            "ASK { GRAPH ?m { ?d <http://www.w3.org/ns/prov#wasGeneratedBy> ?a . "
            "?a <http://purl.org/dc/terms/description> ?how } }",
            bindings={"m": META_GRAPH, "d": one_derivation.graph},
        )
        assert prov.boolean
    finally:
        store.close()


def test_updates_may_not_name_a_derived_graph(tmp_path: Path, one_derivation: derived.Derivation) -> None:
    from kg.errors import Forbidden
    from kg.updates import commit

    settings = tmp_settings(tmp_path, "oxigraph")
    with pytest.raises(Forbidden, match="derived graph"):
        commit(settings, f"INSERT DATA {{ GRAPH <{one_derivation.graph}> {{ <urn:a> <urn:b> <urn:c> }} }}")
    assert not settings.updates_path.exists() or not list(settings.updates_path.glob("*.json"))


def test_every_registered_derivation_has_its_graph(tmp_path: Path) -> None:
    """The registry holds the reasoner's graph; a build writes every registered graph and says in its manifest
    how big each is and how long it took."""
    import json

    from kg.namespaces import INFERRED_GRAPH

    settings = tmp_settings(tmp_path, "oxigraph")
    store = open_store(settings)
    try:
        names = set(store.graph_names())
    finally:
        store.close()
    assert INFERRED_GRAPH in {d.graph for d in derived.derivations()}
    assert {URIRef(str(d.graph)) for d in derived.derivations()} <= names
    manifest = json.loads((settings.store_path / "manifest.json").read_text())
    assert manifest["derived"][str(INFERRED_GRAPH)]["triples"] > 1000
    assert manifest["derived"][str(INFERRED_GRAPH)]["seconds"] >= 0


def test_a_derivation_that_writes_its_graph_is_updated_after_an_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an ingest (only new graphs), a derivation that writes its own graph is given the new graphs
    (`delta`) and the graph as it was, instead of an empty graph."""
    from kg.ingest import ingest_files

    calls: list[object] = []

    def write(store: ox.Store, graph: ox.NamedNode, delta: object) -> derived.Outcome:
        calls.append(delta)
        store.add(ox.Quad(ox.NamedNode("urn:x"), ox.NamedNode("urn:calls"), ox.Literal(str(len(calls))), graph))
        return derived.Outcome(len(list(store.quads_for_pattern(None, None, None, graph))))

    only = derived.Derivation(GRAPH["test-written"], "a test derivation", "counts its calls", write=write)
    monkeypatch.setattr(derived, "derivations", lambda: (only,))
    settings = tmp_settings(tmp_path, "oxigraph")
    open_store(settings).close()
    result = ingest_files(settings, [ROOT / "tests" / "cases" / "valid" / "cluster-network.ttl"], agent="test")
    assert result.committed
    assert calls[0] is None and calls[-1] == [str(result.graph)]
    store = open_store(settings)
    try:
        n = store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", bindings={"g": only.graph})
        assert int(n.rows[0][0]) == 2  # the first build's triple kept, the ingest's added
    finally:
        store.close()
