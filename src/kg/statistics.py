"""The statistics graph: a VoID description of every named graph, derived at every build, ingest and update.

For each named graph (all but the provenance graph and this one) it holds what a whole-store aggregate would
otherwise compute by reading every triple::

    <graph/store-statistics#store> a void:Dataset ; void:triples N ; void:subset <g> .
    <g> a void:Dataset ; void:triples n ; void:classes k ; void:properties m ;
        void:classPartition [ void:class C ; void:entities n ] ;
        void:propertyPartition [ void:property P ; void:triples n ; void:distinctObjects d ;
                                 dcterms:references T ] .

`dcterms:references` names the IRIs of the ontology's namespace among a property partition's objects, listed
when the partition has at most MAX_LISTED distinct objects: a property with more values links resources or holds
text and numbers, and listing its values would read every one of them (a minute at 10^7 triples). Partitions are
IRIs (a hash of graph and term) so that one graph's statistics can be replaced on their own: after an ingest or
an update only the graphs it touched are read again (`refresh`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from kg.derived import Derivation, Triple
from kg.namespaces import IFC, META_GRAPH, SCRATCH, STATISTICS_GRAPH

VOID = "http://rdfs.org/ns/void#"
MAX_LISTED = 10_000
STORE = ox.NamedNode(f"{STATISTICS_GRAPH}#store")

_GRAPH = ox.NamedNode(str(STATISTICS_GRAPH))
_SKIPPED = {str(META_GRAPH), str(STATISTICS_GRAPH)}
_A = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_DATASET = ox.NamedNode(VOID + "Dataset")
_REFERENCES = ox.NamedNode("http://purl.org/dc/terms/references")
_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def _void(name: str) -> ox.NamedNode:
    return ox.NamedNode(VOID + name)


_PROPERTIES = """SELECT ?g ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?o) AS ?d)
WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ?p"""
_CLASSES = """SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?n)
WHERE { GRAPH ?g { ?s a ?c } } GROUP BY ?g ?c"""
_VALUES = "SELECT DISTINCT ?g ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"  # substitutions bind projected ones

METHOD = (
    "SPARQL aggregates over each named graph but the provenance graph: triples and distinct objects per property, "
    "distinct subjects per class, and the ontology terms among the objects of each property with at most "
    f"{MAX_LISTED:,} distinct objects (VoID); a graph's type void:Dataset unless another graph states it (a triple "
    "is in one graph only); after an ingest or an update, only the graphs it changed are read again"
)


def derivation() -> Derivation:
    """The statistics graph's derivation (it reads every other graph, derived ones included: it runs last)."""
    return Derivation(
        graph=STATISTICS_GRAPH,
        label="statistics of the store: a VoID description of each named graph (derived)",
        method=METHOD,
        compute=compute,
        refresh=refresh,
    )


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_INTEGER)


def _node(kind: str, graph: str, term: str) -> ox.NamedNode:
    digest = hashlib.sha256(f"{graph} {term}".encode()).hexdigest()[:20]
    return ox.NamedNode(f"{STATISTICS_GRAPH}#{kind}-{digest}")


def _described(graph: object) -> bool:
    return isinstance(graph, ox.NamedNode) and graph.value not in _SKIPPED and not graph.value.startswith(SCRATCH)


def describes(graph: object) -> bool:
    """Whether the statistics graph describes the named graph `graph` (its size among the rest)."""
    return _described(ox.NamedNode(str(graph)))


def _typed_elsewhere(store: ox.Store, graph: ox.NamedNode) -> bool:
    """Whether a graph other than the statistics graph already says that `graph` is a void:Dataset (a links
    file describes itself)."""
    return any(q.graph_name != _GRAPH for q in store.quads_for_pattern(graph, _A, _DATASET, None))


def compute(store: ox.Store) -> list[Triple]:
    """The statistics of every named graph, and of their union."""
    return list(_statistics(store, None))


def refresh(store: ox.Store, changed: frozenset[str]) -> None:
    """Bring the statistics graph up to date in `store` after only the named graphs `changed` changed."""
    stale: list[ox.Quad] = []
    for name in sorted(n for n in changed - _SKIPPED if not n.startswith(SCRATCH)):
        graph = ox.NamedNode(name)
        for q in store.quads_for_pattern(graph, None, None, _GRAPH):
            stale.append(q)
            if q.predicate in (_void("classPartition"), _void("propertyPartition")):
                stale.extend(store.quads_for_pattern(q.object, None, None, _GRAPH))  # type: ignore[arg-type]
        stale.extend(store.quads_for_pattern(STORE, _void("subset"), graph, _GRAPH))
    stale.extend(store.quads_for_pattern(STORE, _void("triples"), None, _GRAPH))
    for q in stale:
        store.remove(q)
    fresh = []
    for name in sorted(n for n in changed - _SKIPPED if not n.startswith(SCRATCH)):
        fresh.extend(_statistics(store, ox.NamedNode(name), store_totals=False))
    store.extend(ox.Quad(s, p, o, _GRAPH) for s, p, o in fresh)
    total = 0
    for q in store.quads_for_pattern(STORE, _void("subset"), None, _GRAPH):
        for t in store.quads_for_pattern(q.object, _void("triples"), None, _GRAPH):  # type: ignore[arg-type]
            total += int(t.object.value)  # type: ignore[union-attr]
    store.add(ox.Quad(STORE, _void("triples"), _int(total), _GRAPH))


def _query(
    store: ox.Store, sparql: str, graph: ox.NamedNode | None, **more: ox.NamedNode
) -> Iterable[ox.QuerySolution]:
    bound: dict[ox.Variable, ox.NamedNode] = {ox.Variable(k): v for k, v in more.items()}
    if graph is not None:
        bound[ox.Variable("g")] = graph
    return store.query(sparql, substitutions=bound)  # type: ignore[return-value]


def _statistics(store: ox.Store, only: ox.NamedNode | None, *, store_totals: bool = True) -> Iterator[Triple]:
    """The statistics triples of one named graph (`only`) or of all, with the union's totals unless told not."""
    properties: dict[str, list[tuple[ox.NamedNode, int, int]]] = {}
    for row in _query(store, _PROPERTIES, only):
        if _described(row["g"]):
            properties.setdefault(row["g"].value, []).append(
                (row["p"], int(row["n"].value), int(row["d"].value))  # type: ignore[union-attr, arg-type]
            )
    classes: dict[str, list[tuple[ox.NamedNode, int]]] = {}
    for row in _query(store, _CLASSES, only):
        if _described(row["g"]) and isinstance(row["c"], ox.NamedNode):
            classes.setdefault(row["g"].value, []).append((row["c"], int(row["n"].value)))  # type: ignore[union-attr, arg-type]
    total = 0
    for name in sorted(properties):
        graph = ox.NamedNode(name)
        triples = sum(n for _, n, _ in properties[name])
        total += triples
        if not _typed_elsewhere(store, graph):  # a triple in two graphs would count twice in the union
            yield graph, _A, _DATASET
        yield graph, _void("triples"), _int(triples)
        yield graph, _void("properties"), _int(len(properties[name]))
        yield graph, _void("classes"), _int(len(classes.get(name, [])))
        yield STORE, _void("subset"), graph
        for cls, entities in classes.get(name, []):
            part = _node("class", name, cls.value)
            yield graph, _void("classPartition"), part
            yield part, _void("class"), cls
            yield part, _void("entities"), _int(entities)
        for prop, n, distinct in properties[name]:
            part = _node("property", name, prop.value)
            yield graph, _void("propertyPartition"), part
            yield part, _void("property"), prop
            yield part, _void("triples"), _int(n)
            yield part, _void("distinctObjects"), _int(distinct)
            if distinct <= MAX_LISTED:
                for row in _query(store, _VALUES, graph, p=prop):
                    o = row["o"]
                    if isinstance(o, ox.NamedNode) and o.value.startswith(str(IFC)):
                        yield part, _REFERENCES, o
    if store_totals:
        yield STORE, _A, _DATASET
        yield STORE, _LABEL, ox.Literal("the store: the union of its named graphs but the provenance graph")
        yield STORE, _void("triples"), _int(total)
