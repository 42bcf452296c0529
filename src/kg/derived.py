"""Derived graphs: named graphs computed from the others at every build, ingest and update, never edited by hand.

A derivation reads the store (asserted graphs, the ontology) and yields the triples of its own named graph;
the build writes each into its graph after the sources are loaded and the update journal replayed, and
records in the provenance graph what produced it. Queries see derived graphs like any other named graph (so
they are part of the union default graph); updates may neither read nor write them (see `is_derived`), so a
rebuild reproduces them exactly.

A small derivation returns its triples (`compute`); a large one writes its graph itself (`write`, e.g. with
the bulk loader and in rounds, reading what it wrote in earlier rounds) and says how many triples it wrote.
Either may add statements of its own to the provenance graph (`Outcome.provenance`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.term import Node

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]


@dataclass(frozen=True)
class Outcome:
    """What a derivation wrote: its size and what the provenance graph should say about how (rdflib triples)."""

    triples: int
    provenance: Sequence[tuple[Node, Node, Node]] = field(default_factory=tuple)
    seconds: float = 0.0


@dataclass(frozen=True)
class Derivation:
    """One derived graph: its IRI, what it is (for people and PROV), and how to compute it from a store."""

    graph: URIRef
    label: str
    method: str  # what produced it: a rule set, a reasoner, a query (recorded in the provenance graph)
    compute: Callable[[ox.Store], Iterable[Triple]] | None = None
    # fills the graph itself: write(store, graph, None) on an emptied graph, or write(store, graph, delta) on the
    # graph as last computed when only the graphs named in `delta` gained triples since (an incremental run)
    write: Callable[[ox.Store, ox.NamedNode, Sequence[str] | None], Outcome] | None = None


def derivations() -> tuple[Derivation, ...]:
    """Every derivation, in the order they run (a later one may read an earlier one's graph)."""
    from kg.inference import DERIVATION as inferred

    return (inferred,)


def is_derived(graph: URIRef | str) -> bool:
    """Whether `graph` is the name of a derived graph."""
    return any(str(d.graph) == str(graph) for d in derivations())


def derive(store: ox.Store, delta: Sequence[str] | None = None) -> dict[URIRef, Outcome]:
    """(Re)compute every derived graph in `store`; returns what each wrote.

    `delta`: the store's derived graphs are as the last build left them and only the graphs named here have
    gained triples since (new ingests); a derivation that writes its graph itself may then update it instead
    of computing it again. None: anything may have changed.
    """
    outcomes: dict[URIRef, Outcome] = {}
    for d in derivations():
        started = time.monotonic()
        outcomes[d.graph] = _one(store, d, delta)
        outcomes[d.graph] = replace(outcomes[d.graph], seconds=round(time.monotonic() - started, 3))
    return outcomes


def _one(store: ox.Store, d: Derivation, delta: Sequence[str] | None) -> Outcome:
    name = ox.NamedNode(str(d.graph))
    if d.write is not None and delta is not None and store.contains_named_graph(name):
        return d.write(store, name, delta)
    if store.contains_named_graph(name):
        store.remove_graph(name)
    if d.write is not None:
        return d.write(store, name, None)
    assert d.compute is not None, f"the derivation of {d.graph} has neither compute nor write"
    triples = list(d.compute(store))
    store.extend(ox.Quad(s, p, o, name) for s, p, o in triples)
    return Outcome(len(triples))
