"""Derived graphs are recomputed by every build path and described in the provenance graph."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from kg import derived
from kg.namespaces import GRAPH, META_GRAPH
from kg.store import open_store
from tests.conftest import BACKENDS, tmp_settings

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


def test_no_derivation_is_registered_yet_means_no_derived_graph(tmp_path: Path) -> None:
    store = open_store(tmp_settings(tmp_path, "oxigraph"))
    try:
        names = set(store.graph_names())
    finally:
        store.close()
    assert {URIRef(str(d.graph)) for d in derived.derivations()} <= names
