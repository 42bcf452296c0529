"""The update journal replays to the same store every time (it keeps effects, not text), keeps the provenance
graph out of every update's reach however it is spelled, and refuses files edited or removed by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import URIRef

from kg.build import rebuild
from kg.errors import Forbidden, InputError, StoreError
from kg.namespaces import META_GRAPH
from kg.settings import Settings
from kg.store import open_store
from kg.updates import commit, journal
from tests.conftest import tmp_settings

NOTES = "https://example.org/interfirm-test/notes"
GRAPHS = "https://w3id.org/interfirm/graph/"
BASE = "https://example.org/interfirm-test/sparql"


def notes(settings: Settings) -> set[str]:
    """The notes graph as N-Quads lines (blank node labels included: they must replay exactly)."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(settings.store_path / "db"))
    quads = store.quads_for_pattern(None, None, None, ox.NamedNode(NOTES))
    return set((ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS) or b"").decode().splitlines())


def test_non_deterministic_functions_replay_to_the_same_store(tmp_path: Path) -> None:
    """Issue: NOW() or RAND() in a WHERE replayed to different data on every rebuild."""
    settings = tmp_settings(tmp_path, "oxigraph")
    commit(
        settings,
        f"INSERT {{ GRAPH <{NOTES}> {{ ?b <urn:x:at> ?now ; <urn:x:r> ?r ; <urn:x:id> ?u ; <urn:x:n> ?i }} }} "
        "WHERE { BIND(NOW() AS ?now) BIND(RAND() AS ?r) BIND(STRUUID() AS ?u) BIND(BNODE() AS ?b) "
        "{ SELECT ?i WHERE { ?i a <https://w3id.org/interfirm/ontology#ResearchQuestion> } LIMIT 1 } }",
        base=BASE,
        agent="test",
    )
    live = notes(settings)
    assert len(live) == 4 and any("_:" in line for line in live)
    rebuild(settings, force=True)
    assert notes(settings) == live


@pytest.mark.parametrize(
    "update",
    [
        f"PREFIX g: <{GRAPHS}> DROP GRAPH g:meta",
        f"BASE <{GRAPHS}> DROP GRAPH <meta>",
        "DROP GRAPH <https://w3id.org/interfirm/graph/m\\u0065ta>",
        f"PREFIX g: <{GRAPHS}> INSERT DATA {{ GRAPH g:m\\eta {{ <urn:x:a> <urn:x:b> 1 }} }}",
        f"INSERT {{ GRAPH <{NOTES}> {{ ?s ?p ?o }} }} USING <{GRAPHS}meta> WHERE {{ ?s ?p ?o }}",
    ],
)
def test_the_provenance_graph_is_refused_however_it_is_spelled(tmp_path: Path, update: str) -> None:
    """Issue: the guard compared the full IRI text; a prefixed name, a BASE-relative IRI or an escape got
    through, and after `DROP GRAPH g:meta` every rebuild failed."""
    settings = tmp_settings(tmp_path, "oxigraph")
    with pytest.raises((Forbidden, InputError)) as info:
        commit(settings, update, base=BASE, agent="test")
    assert isinstance(info.value, Forbidden) or "does not parse" in str(info.value)
    assert journal(settings) == []
    rebuild(settings, force=True)


def test_an_update_cannot_read_the_provenance_graph_through_with(tmp_path: Path) -> None:
    """Issue: `WITH <g>` made the WHERE clause's named graphs every graph of the store, the provenance graph too.
    It is not in the store while an update runs."""
    settings = tmp_settings(tmp_path, "oxigraph")
    commit(settings, "DROP SILENT GRAPH <urn:x:nothing>", agent="test")  # the provenance graph records update 1
    commit(
        settings,
        f"WITH <{NOTES}> INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o FILTER(CONTAINS(STR(?g), 'meta')) }} }}",
        agent="test",
    )
    assert notes(settings) == set()
    store = open_store(settings)
    try:
        assert META_GRAPH in store.graph_names()  # it is there for queries
    finally:
        store.close()


def test_writing_into_the_provenance_graph_by_any_spelling_is_refused(tmp_path: Path) -> None:
    """A spelling the text check cannot read (the graph computed in the WHERE clause) is caught by the effect."""
    settings = tmp_settings(tmp_path, "oxigraph")
    with pytest.raises(Forbidden):
        commit(
            settings,
            'INSERT { GRAPH ?g { <urn:x:a> <urn:x:b> 1 } } WHERE { BIND(IRI(CONCAT("https://w3id.org/interfirm/", '
            '"graph/meta")) AS ?g) }',
            agent="test",
        )
    assert journal(settings) == []


def test_statements_about_blank_nodes_from_the_files_cannot_change(tmp_path: Path) -> None:
    """The ontology's blank nodes get new labels on every build: removing or extending them could not replay."""
    settings = tmp_settings(tmp_path, "oxigraph")
    owl = "http://www.w3.org/2002/07/owl#"
    with pytest.raises(InputError, match="blank node read from a source file"):
        commit(
            settings, f"DELETE {{ GRAPH ?g {{ ?r ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?r a <{owl}Restriction> ; ?p ?o }} }}"
        )
    with pytest.raises(InputError, match="blank node read from a source file"):
        commit(settings, f"INSERT {{ GRAPH <{NOTES}> {{ ?r <urn:x:note> 1 }} }} WHERE {{ ?r a <{owl}Restriction> }}")
    # blank nodes an update makes itself are its own: later updates may change them
    commit(settings, f"INSERT DATA {{ GRAPH <{NOTES}> {{ _:a <urn:x:p> 1 . _:a <urn:x:q> 2 }} }}")
    commit(
        settings, f"DELETE {{ GRAPH <{NOTES}> {{ ?a <urn:x:p> 1 }} }} WHERE {{ GRAPH <{NOTES}> {{ ?a <urn:x:p> 1 }} }}"
    )
    live = notes(settings)
    assert len(live) == 1 and "<urn:x:q>" in next(iter(live))
    rebuild(settings, force=True)
    assert notes(settings) == live


def three_updates(settings: Settings) -> list[Path]:
    for i in range(3):
        commit(settings, f'INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:x:s> <urn:x:n> "{i}" }} }}', agent="test")
    return sorted(settings.updates_path.glob("*.json"))


def test_a_journal_file_edited_by_hand_is_refused_naming_it(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path, "oxigraph")
    files = three_updates(settings)
    record = json.loads(files[1].read_text())
    record["added"] = record["added"].replace('"1"', '"one"')
    files[1].write_text(json.dumps(record, indent=2))
    with pytest.raises(StoreError) as info:
        rebuild(settings, force=True)
    assert str(files[1]) in str(info.value) and "changed after it was written" in str(info.value)
    # the edit with its checksum recomputed: the next file no longer follows it
    from kg.updates import _read

    edited = _read(files[1])
    files[1].write_text(edited.to_json())
    with pytest.raises(StoreError) as info:
        rebuild(settings, force=True)
    assert str(files[2]) in str(info.value) and "does not follow" in str(info.value)


def test_a_journal_file_removed_by_hand_is_refused(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path, "oxigraph")
    files = three_updates(settings)
    middle = files[1].read_text()
    files[1].unlink()
    with pytest.raises(StoreError) as info:
        rebuild(settings, force=True)
    assert str(files[2]) in str(info.value) and "update 2 belongs there" in str(info.value)
    files[1].write_text(middle)
    files[2].unlink()  # the last one: the store's manifest still holds it
    with pytest.raises(StoreError) as info:
        open_store(settings)
    assert "holds update 3" in str(info.value) and "kg build --force" in str(info.value)
    assert rebuild(settings, force=True)  # dropping it on purpose
    assert len(notes(settings)) == 2


def test_a_journal_file_from_before_effects_were_kept_still_replays(tmp_path: Path) -> None:
    settings = tmp_settings(tmp_path, "oxigraph")
    settings.updates_path.mkdir(parents=True)
    insert = f'INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:x:s> <urn:x:n> "old" }} }}'
    old = {
        "seq": 1,
        "text": insert,
        "evaluated": insert,
        "base": None,
        "after_ingests": [],
        "time": "2026-01-01T00:00:00+00:00",
        "agent": "test",
        "request_id": "r1",
    }
    (settings.updates_path / "00000001.json").write_text(json.dumps(old))
    commit(settings, f'INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:x:s> <urn:x:n> "new" }} }}', agent="test")
    assert len(notes(settings)) == 2
    rebuild(settings, force=True)
    assert len(notes(settings)) == 2


def test_an_update_that_changes_a_graph_its_text_did_not_seem_to_name_is_refused() -> None:
    """The effect is read from the graphs the text names; the store's count catches a change elsewhere (a text the
    lexical reading got wrong), so the journal never keeps half an effect."""
    import dataclasses

    import pyoxigraph as ox

    from kg.updates import Entry, check_count, evaluate

    def store() -> ox.Store:
        s = ox.Store()
        s.add(ox.Quad(ox.NamedNode("urn:x:a"), ox.NamedNode("urn:x:b"), ox.Literal("1"), ox.NamedNode("urn:x:g")))
        return s

    text = "INSERT DATA { GRAPH <urn:x:g> { <urn:x:a> <urn:x:b> 2 } }"
    entry = Entry(1, text, text, None, (), "", "test", "r", Path("1.json"), pending=True, removed="", added="")
    wrong = dataclasses.replace(entry, targets=frozenset({"urn:x:elsewhere"}))
    with pytest.raises(InputError, match="changed graphs its text does not name"):
        evaluate(store(), wrong)
    counted = evaluate(store(), wrong, count=1)  # the caller counts the store: the entry says what it must hold
    with pytest.raises(InputError, match="changed graphs its text does not name"):
        check_count(2, counted.expected_quads or 0)
    right = evaluate(store(), dataclasses.replace(entry, targets=frozenset({"urn:x:g"})), count=1)
    assert right.added.count("\n") == 1 and right.expected_quads == 2


def _subjects_and_objects(settings: Settings, graph: str) -> list:  # type: ignore[type-arg]
    """(subject, object) of every statement of `graph` in the store as it is now."""
    store = open_store(settings)
    try:
        return store.query("SELECT ?s ?o WHERE { GRAPH ?g { ?s ?p ?o } }", bindings={"g": URIRef(graph)}).rows
    finally:
        store.close()


def test_a_graph_emptied_by_an_update_replays_blank_nodes_and_all(tmp_path: Path) -> None:
    """CLEAR (or DROP, or deleting everything) of a graph that holds the files' blank nodes is kept as the graph
    cleared, so it replays whatever labels the build gives them; then the update's own additions."""
    settings = tmp_settings(tmp_path, "oxigraph")
    ontology = "https://w3id.org/interfirm/graph/ontology"
    commit(settings, f'CLEAR GRAPH <{ontology}> ; INSERT DATA {{ GRAPH <{ontology}> {{ <urn:x:a> <urn:x:b> "new" }} }}')
    (entry,) = journal(settings)
    assert entry.cleared == (ontology,) and entry.removed == ""
    for _ in range(2):
        assert [(str(s), str(o)) for s, o in _subjects_and_objects(settings, ontology)] == [("urn:x:a", "new")]
        rebuild(settings, force=True)


def test_a_graph_dropped_and_filled_again_replays_even_where_its_statements_come_back(tmp_path: Path) -> None:
    """`kg push` to a kg server sends DROP GRAPH then INSERT DATA with the graph's own statements: those without
    blank nodes come back unchanged, so only the text says the graph was emptied (issue: the push was refused
    as removing the files' blank nodes). The journal keeps it as cleared and replays its whole new content."""
    settings = tmp_settings(tmp_path, "oxigraph")
    ontology = "https://w3id.org/interfirm/graph/ontology"
    store = open_store(settings)
    try:
        held = store.query(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) } }",
            bindings={"g": URIRef(ontology)},
        ).rows[0][0]
        label = store.query(
            "SELECT ?l WHERE { GRAPH ?g { <https://w3id.org/interfirm/ontology#Firm> ?p ?l } "
            "FILTER(?p = <http://www.w3.org/2000/01/rdf-schema#label>) }",
            bindings={"g": URIRef(ontology)},
        ).rows[0][0]
    finally:
        store.close()
    assert int(held) > 100
    firm = "<https://w3id.org/interfirm/ontology#Firm> <http://www.w3.org/2000/01/rdf-schema#label>"
    commit(
        settings,
        f"DROP SILENT GRAPH <{ontology}> ;\nINSERT DATA {{ GRAPH <{ontology}> {{ {firm} {label.n3()} . "
        "_:x <urn:x:p> <urn:x:o> } }",
    )
    (entry,) = journal(settings)
    assert entry.cleared == (ontology,) and entry.removed == ""
    for _ in range(2):
        assert sorted(str(o) for _, o in _subjects_and_objects(settings, ontology)) == sorted([str(label), "urn:x:o"])
        rebuild(settings, force=True)
