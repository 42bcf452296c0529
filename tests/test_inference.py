"""The inferred graph: OWL 2 RL consequences of the ontology that a researcher's questions need, materialised by
every build into graph/inferred, each triple explained by its rule and premises, and equal to an independent
OWL 2 RL reasoner's (owlrl) on the same data."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg import inference, reasoning, rules
from kg.namespaces import IFC, IFD, INFERRED_GRAPH, META_GRAPH, ONTOLOGY_GRAPH
from kg.queries import QueryCatalog
from kg.settings import Settings
from kg.sources import extra_sources, repository_sources
from kg.store import Store, open_store
from tests.conftest import BACKENDS, ROOT, make_settings, tmp_settings
from tests.live import run_kg

NEW = ROOT / "tests" / "inference" / "new-agreements.ttl"
EX = rdflib.Namespace("https://example.org/inference-test/")
CATALOG = QueryCatalog(ROOT / "queries")


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The repository with the new agreements of tests/inference/ as an extra file, built."""
    tmp = tmp_path_factory.mktemp(f"inference-{request.param}")
    st = open_store(tmp_settings(tmp, request.param, extra_files=(str(NEW),)))
    yield st
    st.close()


def members(store: Store, cls: URIRef) -> set[rdflib.term.Node]:
    return {r[0] for r in store.query("SELECT ?x WHERE { ?x a ?c }", bindings={"c": cls}).rows}


def test_all_strategic_partnerships_include_alliances_and_joint_ventures_known_by_form(store: Store) -> None:
    found = members(store, IFC.StrategicPartnership)
    assert EX.alliance in found  # its form is the strategic alliance
    assert EX["joint-venture-two-way"] in found  # a joint venture said to be two-way
    assert EX["co-production"] in found  # two-way because Table 1 prints co-production so
    assert EX["joint-venture-form-only"] not in found  # Table 1 prints joint ventures under both directions
    assert EX.licence not in found  # licensing is one-way
    assert EX.licence in members(store, IFC.OneWayRelationship)
    # the paper's own agreements, none of them typed ifc:StrategicPartnership in data/
    assert IFD["agreement-samsung-motorola-co-development"] in found
    assert IFD["agreement-shanghai-volkswagen-jv"] in found  # presented under strategic partnering (Box 4)


def test_the_class_has_the_members_the_saved_query_reads_without_a_reasoner(store: Store) -> None:
    saved = CATALOG.get("strategic-partnerships")
    by_query = {r["agreement"] for r in store.query(saved.text, bindings=saved.bind({})).as_dicts()}
    agreements = members(store, IFC.InterFirmAgreement)
    assert by_query == members(store, IFC.StrategicPartnership) & agreements
    assert len(by_query) >= 18


def test_north_south_partnerships_are_found_from_the_partners_economies(store: Store) -> None:
    found = members(store, IFC.NorthSouthPartnership)
    assert EX.alliance in found and EX.licence in found  # Germany with a firm of Bangalore, India
    assert EX["joint-venture-two-way"] not in found  # Germany and Japan
    # every agreement the paper orients North-South or South-North, and none it orients otherwise
    oriented = store.query(
        "PREFIX ifc: <https://w3id.org/interfirm/ontology#> "
        "SELECT ?a ?o WHERE { ?a a ifc:InterFirmAgreement ; ifc:orientation ?o }"
    ).rows
    assert {a for a, o in oriented if o in (IFC.NorthSouth, IFC.SouthNorth)} <= found
    assert not {a for a, o in oriented if o in (IFC.NorthNorth, IFC.SouthSouth)} & found
    based = {
        r[0]
        for r in store.query(
            "SELECT ?p WHERE { ?f <https://w3id.org/interfirm/ontology#basedIn> ?p }", bindings={"f": EX["firm-south"]}
        ).rows
    }
    assert IFD["country-in"] in based  # based in Bangalore, located in India
    assert EX["firm-south"] in members(store, IFC.AgentOfTheSouth)


def test_research_questions_about_clusters_find_the_cases_about_clusters(store: Store) -> None:
    saved = CATALOG.get("cases-for-research-question")
    for question in ("rq-a", "rq-b", "rq-c"):  # the questions the paper asks about clusters
        rows = store.query(saved.text, bindings=saved.bind({"question": str(IFD[question])})).as_dicts()
        cases = {r["case"] for r in rows if str(r["pattern"]) == "clustering"}
        assert EX.case in cases and IFD["case-box-3"] in cases, question


def test_clusters_are_located_in_every_place_that_contains_them(store: Store) -> None:
    places = {
        r[0]
        for r in store.query(
            "SELECT ?p WHERE { ?c <https://w3id.org/interfirm/ontology#locatedIn> ?p }", bindings={"c": EX.district}
        ).rows
    }
    assert {IFD["region-sialkot"], IFD["country-pk"]} <= places
    assert EX.district in members(store, IFC.Cluster)
    patterns = store.query(
        "SELECT ?p WHERE { ?c <https://w3id.org/interfirm/ontology#pattern> ?p }", bindings={"c": EX.district}
    ).rows
    assert [(IFC.Clustering,)] == [tuple(r) for r in patterns]


def test_inferred_triples_are_not_asserted_anywhere_else(store: Store) -> None:
    clash = store.query(
        "SELECT * WHERE { GRAPH ?i { ?s ?p ?o } GRAPH ?g { ?s ?p ?o } FILTER (?g != ?i) } LIMIT 5",
        bindings={"i": INFERRED_GRAPH},
    ).rows
    assert not clash


def test_the_asserted_graph_holds_no_inference(store: Store) -> None:
    """graph/asserted is every named graph but the inferred one; the default graph (their union) has both."""
    q = "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/interfirm/graph/asserted> WHERE { ?x a ?c }"
    asserted = int(store.query(q, bindings={"c": IFC.StrategicPartnership}).rows[0][0])
    assert asserted == 0
    union = "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/interfirm/graph/union> WHERE { ?x a ?c }"
    assert int(store.query(union, bindings={"c": IFC.StrategicPartnership}).rows[0][0]) == 18  # 15 of the paper, 3 new


# ---- the same consequences as an independent OWL 2 RL reasoner -----------------------------------------------


def _comparable(t: tuple, ontology_terms: set) -> bool:
    s, p, o = t
    if isinstance(s, BNode | Literal) or isinstance(o, BNode) or s in ontology_terms:
        return False  # schema-level and blank-node conclusions: the engine materialises facts about individuals
    if str(p).startswith((str(OWL), str(RDFS))):
        return False
    return not (p == RDF.type and str(o).startswith((str(OWL), str(RDFS), str(RDF))))


def _value(t: tuple) -> tuple:
    s, p, o = t
    if isinstance(o, Literal) and isinstance(o.toPython(), Decimal | int | float):
        return (s, p, float(o.toPython()))  # Oxigraph writes decimals in canonical form ("50" for "50.0")
    return t


def test_the_inferred_graph_is_what_owlrl_concludes(tmp_path: Path) -> None:
    """owlrl (the Python OWL 2 RL reasoner rdflib users know) on the ontology, the places, their links and the
    new agreements: its conclusions about individuals are exactly the engine's."""
    owlrl = pytest.importorskip("owlrl")
    settings = make_settings()
    wanted = {"ontology", "places", "concepts", "m49"}
    sources = [s for s in repository_sources(settings) if str(s.graph).rsplit("/", 1)[-1] in wanted]
    sources += extra_sources([NEW])
    g = rdflib.Graph()
    for s in sources:
        g += s.parse()
    asserted = set(g)
    terms = set(g.subjects(RDF.type, OWL.Class)) | set(g.subjects(RDF.type, OWL.ObjectProperty))
    terms |= set(g.subjects(RDF.type, OWL.DatatypeProperty)) | set(g.subjects(RDF.type, OWL.AnnotationProperty))
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(g)
    theirs = {_value(t) for t in set(g) - asserted if _comparable(t, terms)} - {_value(t) for t in asserted}

    store = ox.Store()
    for s in sources:
        store.extend(
            ox.Quad(*(ox.NamedNode(str(x)) if isinstance(x, URIRef) else _ox(x) for x in t), ox.NamedNode(str(s.graph)))
            for t in s.parse()
        )
    graph = ox.NamedNode(str(INFERRED_GRAPH))
    run = inference.materialise(store, graph, tmp_path)
    from kg.store.oxigraph import to_rdflib

    ours = {
        _value((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
        for q in store.quads_for_pattern(None, None, None, graph)
    }
    ours = {t for t in ours if _comparable(t, terms)}
    assert run.triples == len(list(store.quads_for_pattern(None, None, None, graph)))
    assert theirs - ours == set(), "owlrl concludes these, the engine does not"
    assert ours - theirs == set(), "the engine concludes these, owlrl does not"
    assert len(ours) > 300


def _ox(term: rdflib.term.Node) -> ox.BlankNode | ox.Literal:
    from kg.store.oxigraph import to_oxigraph

    return to_oxigraph(term)  # type: ignore[return-value]


# ---- the rule kinds the ontology does not use yet ---------------------------------------------------------------

SMALL = """
@prefix : <https://example.org/small#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
:partOf a owl:ObjectProperty, owl:TransitiveProperty ; owl:inverseOf :hasPart .
:hasPart a owl:ObjectProperty .
:knows a owl:ObjectProperty, owl:SymmetricProperty .
:owns a owl:ObjectProperty ; rdfs:range :Asset .
:Asset a owl:Class .
:Holding a owl:Class ; owl:equivalentClass [ a owl:Restriction ; owl:onProperty :owns ; owl:someValuesFrom :Firm ] .
:Firm a owl:Class .
:Parent a owl:Class ; rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :owns ; owl:allValuesFrom :Subsidiary ] .
:Subsidiary a owl:Class ; rdfs:subClassOf :Firm .
"""
DATA = """
@prefix : <https://example.org/small#> .
:a :partOf :b . :b :partOf :c .
:x :knows :y .
:h :owns :f . :f a :Firm .
:p a :Parent ; :owns :s .
"""


def test_inverse_symmetric_transitive_some_and_all_values_from(tmp_path: Path) -> None:
    store = ox.Store()
    store.load(
        SMALL.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("https://w3id.org/interfirm/graph/ontology")
    )
    store.load(DATA.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("https://example.org/data"))
    graph = ox.NamedNode(str(INFERRED_GRAPH))
    inference.materialise(store, graph, tmp_path)
    got = {
        (q.subject.value.rsplit("#", 1)[-1], q.predicate.value.rsplit("#", 1)[-1], q.object.value.rsplit("#", 1)[-1])
        for q in store.quads_for_pattern(None, None, None, graph)
    }
    assert ("a", "partOf", "c") in got  # transitive
    assert ("c", "hasPart", "a") in got and ("b", "hasPart", "a") in got  # inverse, of the transitive closure too
    assert ("y", "knows", "x") in got  # symmetric
    assert ("h", "type", "Holding") in got  # someValuesFrom in a subclass position
    assert ("s", "type", "Subsidiary") in got and ("s", "type", "Firm") in got  # allValuesFrom, then its superclass
    assert ("f", "type", "Asset") in got and ("s", "type", "Asset") in got  # range


DELTAS = [
    "@prefix : <https://example.org/small#> . :c :partOf :d . :z :knows :x . :g a :Firm .",
    # blank nodes: a query cannot name them, so their rules run on the whole store
    "@prefix : <https://example.org/small#> . _:h :owns _:f . _:f a :Firm . :q a :Parent ; :owns [ :partOf :a ] .",
    "@prefix : <https://example.org/small#> . :k :owns :g . :d :partOf :e .",
]


@pytest.mark.parametrize("max_seeds", [inference.MAX_SEEDS, 1])
def test_incremental_runs_give_what_a_full_run_gives_blank_nodes_included(
    tmp_path: Path, max_seeds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Graphs added one after another, each reasoned from its own triples (semi-naive), end where one run over
    everything ends (the same triples up to blank node names); with more matches in the new triples than a
    query takes back (max_seeds 1), the group is evaluated on the whole store, with the same result."""
    monkeypatch.setattr(inference, "MAX_SEEDS", max_seeds)
    from rdflib.compare import isomorphic

    from kg.store.oxigraph import to_rdflib

    graph = ox.NamedNode(str(INFERRED_GRAPH))

    def fresh() -> ox.Store:
        store = ox.Store()
        store.load(SMALL.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(str(ONTOLOGY_GRAPH)))
        store.load(DATA.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("https://example.org/data"))
        return store

    def inferred(store: ox.Store) -> rdflib.Graph:
        out = rdflib.Graph()
        for q in store.quads_for_pattern(None, None, None, graph):
            out.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
        return out

    step = fresh()
    inference.materialise(step, graph, tmp_path)
    whole = fresh()
    for i, text in enumerate(DELTAS):
        name = f"https://example.org/delta/{i}"
        step.load(text.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(name))
        whole.load(text.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(name))
        inference.materialise(step, graph, tmp_path, delta=[name])
    inference.materialise(whole, graph, tmp_path)
    got, want = inferred(step), inferred(whole)
    assert len(want) > 20 and any(isinstance(s, BNode) for s, _, _ in want)
    assert isomorphic(got, want), sorted(set(got) ^ set(want))


# ---- classification, provenance, explanations ---------------------------------------------------------------------


def test_hermit_classification_is_cached_by_checksum(tmp_path: Path) -> None:
    g = rdflib.Graph().parse(ROOT / "ontology" / "interfirm.ttl")
    first = reasoning.classify(g, tmp_path)
    assert (str(IFC.TwoWayPartnership), str(IFC.StrategicPartnership)) in first.classes
    assert (str(IFC.describes), str(IFC.about)) in first.properties
    cached = list(tmp_path.glob("tbox-*.json"))
    assert len(cached) == 1 and first.checksum[:32] in cached[0].name
    reasoning._MEMO.clear()
    again = reasoning.classify(g, tmp_path)  # read from the file, no Java
    assert again.classes == sorted(first.classes) and again.reasoner == first.reasoner


def test_the_told_hierarchy_is_used_without_hermit_and_gives_the_same_rules_here() -> None:
    g = rdflib.Graph().parse(ROOT / "ontology" / "interfirm.ttl")
    told = reasoning.told(g)
    hermit = reasoning.classify(g)
    assert {r.render() for r in rules.compile_rules(g, told)} == {r.render() for r in rules.compile_rules(g, hermit)}


def test_each_rule_is_a_plan_in_the_provenance_graph_with_its_count(store: Store) -> None:
    rows = store.query(
        """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX void: <http://rdfs.org/ns/void#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?rule ?n ?axioms WHERE { GRAPH ?m { ?d prov:qualifiedAssociation ?a . ?a prov:hadPlan ?rule .
          ?rule a prov:Plan ; void:triples ?n ; dcterms:description ?axioms } }""",
        bindings={"m": META_GRAPH},
    ).rows
    total = int(
        store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", bindings={"g": INFERRED_GRAPH}).rows[0][
            0
        ]
    )
    assert rows and sum(int(n) for _, n, _ in rows) == total
    assert any("ifd:form-strategic-alliance SubClassOf ifc:StrategicPartnership" in str(a) for _, _, a in rows)


def test_explain_gives_the_rule_and_the_asserted_premises(store: Store, tmp_path: Path) -> None:
    explanations = inference.explain(store, EX.alliance, tmp_path)
    by_triple = {e.triple: e for e in explanations}
    e = by_triple[(EX.alliance, RDF.type, IFC.StrategicPartnership)]
    assert e.rule is not None and "cls-int1" in e.rule.kind
    assert any("form-strategic-alliance" in a for a in e.rule.axioms)
    premises = {p for p, _, _ in e.premises}
    assert (EX.alliance, IFC.hasForm, IFD["form-strategic-alliance"]) in premises
    assert all(graphs and sub is None for _, graphs, sub in e.premises)  # asserted, in the extra file's graph
    ns = by_triple[(EX.alliance, RDF.type, IFC.NorthSouthPartnership)]
    text = "\n".join(inference.render_explanation(ns))
    assert "ex:" not in text and "region-bangalore" in text and "country-in" in text  # down to the asserted facts


def test_kg_reason_explain_on_the_command_line(tmp_path: Path) -> None:
    proc = run_kg(tmp_path, "reason", "--explain", "ifd:agreement-samsung-motorola-co-development")
    assert proc.returncode == 0, proc.stderr
    assert "a ifc:StrategicPartnership" in proc.stdout
    assert "ifc:TwoWayPartnership EquivalentTo" in proc.stdout
    assert "[asserted in cases]" in proc.stdout
    bad = run_kg(tmp_path, "reason", "--explain", "not an iri")
    assert bad.returncode == 2 and "not an IRI" in bad.stderr


def inferred_triples(settings: Settings) -> set[tuple]:
    """The inferred graph of the store `settings` name, as a set of triples."""
    st = open_store(settings)
    try:
        text = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
        return set(map(tuple, st.query(text, bindings={"g": INFERRED_GRAPH}).rows))
    finally:
        st.close()


def test_an_ingest_updates_the_inferred_graph_as_a_rebuild_computes_it(tmp_path: Path) -> None:
    """After an ingest the inferred graph is updated incrementally (only what the new graph can fire); it is
    the same as a full rebuild's."""
    from kg.build import rebuild
    from kg.ingest import ingest_files

    settings = tmp_settings(tmp_path, "oxigraph")
    open_store(settings).close()
    # one ingest after another, each reasoned from its own triples: blank nodes (equity shares), partners'
    # economies (bodies of five atoms), forms, patterns, policy measures, a data set
    for case in sorted((ROOT / "tests" / "cases" / "valid").glob("*.ttl")):
        assert ingest_files(settings, [case], agent="test").committed, case.name

    incremental = inferred_triples(settings)
    assert any(str(s).startswith("https://example.org/interfirm-case/") for s, _, _ in incremental)
    rebuild(settings, force=True)
    assert inferred_triples(settings) == incremental


def test_updates_keep_the_inferred_graph_as_a_rebuild_computes_it(tmp_path: Path) -> None:
    """An INSERT DATA update adds what its triples entail (incrementally); a DELETE DATA update takes away what
    no longer follows (the graph is computed again); either way a rebuild gives the same graph."""
    from kg.build import rebuild
    from kg.updates import commit

    settings = tmp_settings(tmp_path, "oxigraph")
    open_store(settings).close()
    agreement = "https://example.org/update-test/alliance"

    insert = (
        f"INSERT DATA {{ GRAPH <https://example.org/update-test> {{ <{agreement}> a <{IFC.InterFirmAgreement}> ; "
        f"<{IFC.hasForm}> <{IFD['form-strategic-alliance']}> }} }}"
    )
    commit(settings, insert, agent="test")
    after_insert = inferred_triples(settings)
    assert (URIRef(agreement), RDF.type, IFC.StrategicPartnership) in after_insert
    rebuild(settings, force=True)
    assert inferred_triples(settings) == after_insert
    delete = (
        f"DELETE DATA {{ GRAPH <https://example.org/update-test> {{ <{agreement}> <{IFC.hasForm}> "
        f"<{IFD['form-strategic-alliance']}> }} }}"
    )
    commit(settings, delete, agent="test")
    after_delete = inferred_triples(settings)
    assert (URIRef(agreement), RDF.type, IFC.StrategicPartnership) not in after_delete
    rebuild(settings, force=True)
    assert inferred_triples(settings) == after_delete


def test_a_rule_another_rule_subsumes_is_not_run() -> None:
    """A body that repeats another's atoms with more conditions concludes nothing the shorter one does not."""
    x, y1, y2, y3 = (rules.Var(n) for n in ("x", "y1", "y2", "y3"))
    head = rules.Atom(x, RDF.type, IFC.NorthSouthPartnership)
    north, south = rules.Atom(y1, RDF.type, IFC.AgentOfTheNorth), rules.Atom(y2, RDF.type, IFC.AgentOfTheSouth)
    pair = (rules.Atom(x, IFC.hasPartner, y1), rules.Atom(x, IFC.hasPartner, y2), north, south)
    short = rules.Rule("cls-int1", pair, head, ("a",), 1)
    longer = rules.Rule(
        "cls-int1",
        (*pair, rules.Atom(x, IFC.hasPartner, y3), rules.Atom(y3, RDF.type, IFC.AgentOfTheSouth)),
        head,
        ("b",),
        1,
    )
    other_head = rules.Rule("cls-int1", longer.body, rules.Atom(x, RDF.type, IFC.Cluster), ("c",), 1)
    agent = rules.Atom(y1, RDF.type, URIRef("http://www.w3.org/ns/prov#Agent"))
    once = rules.Rule("cax-sco", (north,), agent, ("d",), 0)  # stage 0 runs once: it cannot stand in for stage 1
    joined = rules.Rule("cls-svf1", (rules.Atom(x, IFC.hasPartner, y1), north), agent, ("e",), 1)
    twin = rules.Rule("cls-int1", pair, head, ("f",), 1)
    kept = rules.without_subsumed([longer, short, other_head, once, joined, twin])
    assert kept == [short, other_head, once, joined]
