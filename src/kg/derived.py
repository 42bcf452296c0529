"""Derived graphs: named graphs computed from the others at every build, ingest and update, never edited by hand.

A derivation reads the store (asserted graphs, the ontology) and yields the triples of its own named graph;
the build writes each into its graph after the sources are loaded and the update journal replayed, and
records in the provenance graph what produced it. Queries see derived graphs like any other named graph (so
they are part of the union default graph); updates may neither read nor write them (see `is_derived`), so a
rebuild reproduces them exactly.

A small derivation returns its triples (`compute`); a large one writes its graph itself (`write`, e.g. with
the bulk loader and in rounds, reading what it wrote in earlier rounds) and says how many triples it wrote.
Either may add statements of its own to the provenance graph (`Outcome.provenance`). A derivation may also
know how to bring its graph up to date when only some graphs changed: `write` given the graphs that only
gained triples (`delta`), `refresh` given the graphs that changed in any way (`changed`); an ingest or an
update on a copy of the live store then costs what the change touched, not a full recompute.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Iterable, Sequence
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
    # updates the graph in place when only the named graphs given changed (None: always computed whole)
    refresh: Callable[[ox.Store, frozenset[str]], None] | None = None


def derivations() -> tuple[Derivation, ...]:
    """Every derivation, in the order they run (a later one may read an earlier one's graph; the statistics
    describe every other graph, the inferred one included, so they come last)."""
    from kg import statistics
    from kg.inference import DERIVATION as inferred

    return (inferred, statistics.derivation())


def signature() -> str:
    """A hash of which derivations exist and how each computes: a store built under others is stale."""
    h = hashlib.sha256()
    for d in derivations():
        h.update(f"{d.graph}\0{d.method}\0".encode())
    return h.hexdigest()


def is_derived(graph: URIRef | str) -> bool:
    """Whether `graph` is the name of a derived graph."""
    return any(str(d.graph) == str(graph) for d in derivations())


def derive(
    store: ox.Store, delta: Sequence[str] | None = None, changed: Collection[str] | None = None
) -> dict[URIRef, Outcome]:
    """(Re)compute every derived graph in `store`; returns what each wrote.

    The store's derived graphs are as they were last computed, and since then: `delta`, only the graphs named
    have gained triples (and none lost any); `changed`, only the graphs named changed in any way. A derivation
    that can update its graph from either does so; the others compute it whole (and count as changed for the
    derivations after them). Neither given: anything may have changed.
    """
    outcomes: dict[URIRef, Outcome] = {}
    touched = None if changed is None else set(changed)
    for d in derivations():
        started = time.monotonic()
        outcome = _one(store, d, delta, None if touched is None else frozenset(touched))
        outcomes[d.graph] = replace(outcome, seconds=round(time.monotonic() - started, 3))
        if touched is not None:
            touched.add(str(d.graph))
    return outcomes


def _one(store: ox.Store, d: Derivation, delta: Sequence[str] | None, changed: frozenset[str] | None) -> Outcome:
    name = ox.NamedNode(str(d.graph))
    exists = store.contains_named_graph(name)
    if d.write is not None and delta is not None and exists:
        return d.write(store, name, delta)
    if d.refresh is not None and changed is not None and exists:
        d.refresh(store, changed)
        return Outcome(_size(store, name))
    if exists:
        store.remove_graph(name)
    if d.write is not None:
        return d.write(store, name, None)
    assert d.compute is not None, f"the derivation of {d.graph} has neither compute nor write"
    triples = list(d.compute(store))
    store.extend(ox.Quad(s, p, o, name) for s, p, o in triples)
    return Outcome(len(triples))


def _size(store: ox.Store, name: ox.NamedNode) -> int:
    return sum(1 for _ in store.quads_for_pattern(None, None, None, name))
