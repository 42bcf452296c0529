"""Derived graphs: named graphs computed from the others at every build, ingest and update, never edited by hand.

A derivation reads the store (asserted graphs, the ontology) and yields the triples of its own named graph;
the build writes each into its graph after the sources are loaded and the update journal replayed, and
records in the provenance graph what produced it. Queries see derived graphs like any other named graph (so
they are part of the union default graph); updates may neither read nor write them (see `is_derived`), so a
rebuild reproduces them exactly.

A derivation may also know how to bring its graph up to date when only some named graphs changed (`refresh`):
an ingest or an update on a copy of the live store then costs what the change touched, not a full recompute.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable
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
    # updates the graph in place when only the named graphs given changed (None: always computed whole)
    refresh: Callable[[ox.Store, frozenset[str]], None] | None = None


def derivations() -> tuple[Derivation, ...]:
    """Every derivation, in the order they run (a later one may read an earlier one's graph; the statistics
    describe every other graph, so they come last)."""
    from kg import statistics

    return (statistics.derivation(),)


def signature() -> str:
    """A hash of which derivations exist and how each computes: a store built under others is stale."""
    h = hashlib.sha256()
    for d in derivations():
        h.update(f"{d.graph}\0{d.method}\0".encode())
    return h.hexdigest()


def is_derived(graph: URIRef | str) -> bool:
    """Whether `graph` is the name of a derived graph."""
    return any(str(d.graph) == str(graph) for d in derivations())


def derive(store: ox.Store, changed: Collection[str] | None = None) -> int:
    """(Re)compute every derived graph in `store`; returns how many quads the store gained (or lost, negative).

    With `changed`, the names of the only graphs that changed since the derived graphs were last computed in
    this store: a derivation that can refresh its graph does so; the others compute it whole (and count as
    changed for the derivations after them).
    """
    shift = 0
    touched = None if changed is None else set(changed)
    for d in derivations():
        name = ox.NamedNode(str(d.graph))
        before = sum(1 for _ in store.quads_for_pattern(None, None, None, name))
        if touched is not None and d.refresh is not None and store.contains_named_graph(name):
            d.refresh(store, frozenset(touched))
        else:
            if store.contains_named_graph(name):
                store.remove_graph(name)
            store.extend(ox.Quad(s, p, o, name) for s, p, o in d.compute(store))
        shift += sum(1 for _ in store.quads_for_pattern(None, None, None, name)) - before
        if touched is not None:
            touched.add(str(d.graph))
    return shift
