"""The storage interface behaves the same on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from kg.build import build_oxigraph, is_current
from kg.errors import QuerySyntaxError
from kg.namespaces import GRAPH, IFD, META_GRAPH, ONTOLOGY_GRAPH
from kg.sources import repository_sources
from kg.store import Store
from tests.conftest import make_settings


def test_named_graph_per_source_plus_provenance(store: Store) -> None:
    names = set(store.graph_names())
    assert {ONTOLOGY_GRAPH, META_GRAPH, GRAPH["table2"], GRAPH["cases"], GRAPH["references"]} <= names


def test_default_graph_is_the_union(store: Store) -> None:
    r = store.query("ASK { <https://w3id.org/interfirm/id/table-2-dataset> ?p ?o . ?p ?q ?r }")
    assert r.boolean is True  # data and ontology joined without GRAPH


def test_bindings_are_typed_terms_not_text(store: Store) -> None:
    q = "SELECT ?label WHERE { ?x <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    r = store.query(q, bindings={"x": IFD["table-2-row-2"]})
    assert [str(row[0]) for row in r.rows] == ["Table 2, row 2: People's Republic of China"]
    hostile = Literal('"} ; DROP ALL ; SELECT * { ?s ?p ?o')
    assert store.query(q, bindings={"x": hostile}).rows == []


def test_graph_selection(store: Store) -> None:
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    only_table2 = int(store.query(q, default_graphs=[GRAPH["table2"]]).rows[0][0])  # type: ignore[arg-type]
    everything = int(store.query(q).rows[0][0])  # type: ignore[arg-type]
    assert 0 < only_table2 < everything
    nothing = int(store.query(q, default_graphs=[URIRef("https://example.org/not-held")]).rows[0][0])  # type: ignore[arg-type]
    assert nothing == 0


def test_provenance_of_graphs(store: Store) -> None:
    q = """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT ?id WHERE { GRAPH ?m { ?g prov:hadPrimarySource <https://w3id.org/interfirm/id/unctad-ite-eds-2> ;
    dcterms:identifier ?id } }"""
    r = store.query(q, bindings={"g": GRAPH["table2"]})
    assert len(r.rows) == 1 and str(r.rows[0][0]).startswith("sha256:")


def test_syntax_error_is_a_query_syntax_error(store: Store) -> None:
    with pytest.raises(QuerySyntaxError):
        store.query("SELECT ?x WHERE { ?x ")


def test_construct_returns_a_graph(store: Store) -> None:
    r = store.query("CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 5")
    assert r.kind == "GRAPH" and r.graph is not None and len(r.graph) == 5


def test_rebuild_is_skipped_then_done_when_a_source_changes(tmp_path: Path) -> None:
    settings = make_settings(store="oxigraph", store_dir=tmp_path / "s")
    sources = repository_sources(settings)
    assert build_oxigraph(settings.store_path, sources, settings.root)
    assert is_current(settings.store_path, sources, root=settings.root)
    assert not build_oxigraph(settings.store_path, sources, settings.root)
    extra = tmp_path / "extra.ttl"
    extra.write_text("<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n")
    from kg.sources import extra_sources

    more = sources + extra_sources([extra])
    assert not is_current(settings.store_path, more, root=settings.root)
    assert build_oxigraph(settings.store_path, more, settings.root)


def test_failed_build_keeps_the_previous_store(tmp_path: Path) -> None:
    from kg.errors import InputError
    from kg.sources import extra_sources
    from kg.store.oxigraph import OxigraphStore

    settings = make_settings(store="oxigraph", store_dir=tmp_path / "s")
    sources = repository_sources(settings)
    build_oxigraph(settings.store_path, sources, settings.root)
    before = len(OxigraphStore(settings.store_path / "db", read_only=True))
    broken = tmp_path / "broken.ttl"
    broken.write_text("<https://example.org/a> <https://example.org/b> .\n")
    with pytest.raises(InputError):
        build_oxigraph(settings.store_path, sources + extra_sources([broken]), settings.root)
    assert is_current(settings.store_path, sources, root=settings.root)
    assert len(OxigraphStore(settings.store_path / "db", read_only=True)) == before
