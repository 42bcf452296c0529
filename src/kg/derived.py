"""Derived graphs: named graphs computed from the others at every build, ingest and update, never edited by hand.

A derivation reads the store (asserted graphs, the ontology) and yields the triples of its own named graph;
the build writes each into its graph after the sources are loaded and the update journal replayed, and
records in the provenance graph what produced it. Queries see derived graphs like any other named graph (so
they are part of the union default graph); updates may neither read nor write them (see `is_derived`), so a
rebuild reproduces them exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import URIRef

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]


@dataclass(frozen=True)
class Derivation:
    """One derived graph: its IRI, what it is (for people and PROV), and how to compute it from a store."""

    graph: URIRef
    label: str
    method: str  # what produced it: a rule set, a reasoner, a query (recorded in the provenance graph)
    compute: Callable[[ox.Store], Iterable[Triple]]


def derivations() -> tuple[Derivation, ...]:
    """Every derivation, in the order they run (a later one may read an earlier one's graph)."""
    return ()


def is_derived(graph: URIRef | str) -> bool:
    """Whether `graph` is the name of a derived graph."""
    return any(str(d.graph) == str(graph) for d in derivations())


def derive(store: ox.Store) -> int:
    """(Re)compute every derived graph in `store`; returns how many quads the store gained (or lost, negative)."""
    shift = 0
    for d in derivations():
        name = ox.NamedNode(str(d.graph))
        if store.contains_named_graph(name):
            shift -= sum(1 for _ in store.quads_for_pattern(None, None, None, name))
            store.remove_graph(name)
        triples = list(d.compute(store))
        store.extend(ox.Quad(s, p, o, name) for s, p, o in triples)
        shift += len(triples)
    return shift
