"""Which focus nodes new data can affect, and the part of the store their validation reads.

Runs the automaton of `kg.reach` over the store and the new data together (the merged graph), reading it with
pattern lookups (`Store.edges`), never loading the store: backwards from each new triple to the focus nodes
whose validation reads it, then forwards from those nodes, collecting every triple their validation reads.
Validating those nodes on that neighbourhood gives the same results as validating them on the merged graph.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import rdflib
from rdflib import BNode, Literal
from rdflib.namespace import RDF, RDFS

from kg.reach import Node, Reach, Step
from kg.store.base import Store, Triple

Progress = Callable[[str, int], None]  # (stage, count) as the work goes on


@dataclass
class View:
    """The store (without `skip_graphs`) and the new data as one graph, read by the steps of the automaton."""

    store: Store
    new: rdflib.Graph
    skip_graphs: tuple[rdflib.URIRef, ...] = ()

    def __post_init__(self) -> None:
        # the new data indexed by (node, predicate or None) from each end, and by predicate
        self.by_subject: dict[tuple[Node, Node | None], list[Triple]] = defaultdict(list)
        self.by_object: dict[tuple[Node, Node | None], list[Triple]] = defaultdict(list)
        self.by_predicate: dict[Node, list[Triple]] = defaultdict(list)
        for t in self.new:
            for index, node in ((self.by_subject, t[0]), (self.by_object, t[2])):
                index[(node, t[1])].append(t)
                index[(node, None)].append(t)
            self.by_predicate[t[1]].append(t)
        self.mentioned = {t for triple in self.new for t in triple}
        self.fresh = {t for t in self.mentioned if isinstance(t, BNode)}  # a new blank node is never in the store
        self.stored: dict[Node, bool] = {}
        self.cache: dict[tuple[Node, rdflib.URIRef | None, bool], list[Triple]] = {}
        self.lookups = 0

    def in_store(self, node: Node) -> bool:
        """Whether the store holds a triple with this node (a node only the new data mentions has none)."""
        if node in self.fresh:
            return False
        if node not in self.mentioned:
            return True  # found in the store
        if node not in self.stored:
            self.lookups += 1
            found = next(self.store.edges([node], skip_graphs=self.skip_graphs), None) is not None
            found = (
                found or next(self.store.edges([node], inverse=True, skip_graphs=self.skip_graphs), None) is not None
            )
            self.stored[node] = found
        return self.stored[node]

    def _store(self, nodes: list[Node] | None, predicate: rdflib.URIRef | None, inverse: bool) -> Iterator[Triple]:
        """The store's triples at `nodes`; each (node, predicate, direction) asked of the store once per
        validation (batches of focus nodes share countries, forms, sectors)."""
        if nodes is None:
            self.lookups += 1
            yield from self.store.edges(None, predicate, inverse=inverse, skip_graphs=self.skip_graphs)
            return
        wanted = [n for n in nodes if not (isinstance(n, Literal) and not inverse) and self.in_store(n)]
        missing = [n for n in wanted if (n, predicate, inverse) not in self.cache]
        if missing:
            self.lookups += 1
            found: dict[Node, list[Triple]] = {n: [] for n in missing}
            for t in self.store.edges(missing, predicate, inverse=inverse, skip_graphs=self.skip_graphs):
                found[t[2] if inverse else t[0]].append(t)
            for n, triples in found.items():
                self.cache[(n, predicate, inverse)] = triples
        for n in wanted:
            yield from self.cache[(n, predicate, inverse)]

    def triples(self, nodes: list[Node], step: Step, *, backwards: bool) -> Iterator[tuple[Node, Node, Triple]]:
        """(node, the node one step away, the triple between) for each triple the step crosses from (or, walking
        backwards, to) one of `nodes`."""
        if step.kind == "predicate":
            if not backwards:  # from a node to the predicates of its triples
                for t in self._both(nodes, None, by_object=step.inverse):
                    yield (t[2] if step.inverse else t[0]), t[1], t
            else:  # from a predicate to the nodes that use it
                for n in nodes:
                    if not isinstance(n, rdflib.URIRef):
                        continue
                    for t in self._both(None, n, by_object=False):
                        yield n, (t[2] if step.inverse else t[0]), t
            return
        by_object = step.inverse != backwards
        for t in self._both(nodes, step.predicate, by_object=by_object):
            yield (t[2], t[0], t) if by_object else (t[0], t[2], t)

    def _both(self, nodes: list[Node] | None, predicate: rdflib.URIRef | None, *, by_object: bool) -> Iterator[Triple]:
        seen: set[Triple] = set()
        for t in self._store(nodes, predicate, by_object):
            seen.add(t)
            yield t
        if nodes is None:
            found = self.by_predicate.get(predicate, [])  # type: ignore[arg-type]
        else:
            index = self.by_object if by_object else self.by_subject
            found = [t for n in nodes for t in index.get((n, predicate), ())]
        for t in found:
            if t not in seen:
                seen.add(t)
                yield t


def added_triples(view: View) -> list[Triple]:
    """The triples of the new data that the store does not already hold (only they can change a verdict)."""
    added: list[Triple] = []
    by_subject: dict[Node, dict[Node, list[Triple]]] = defaultdict(lambda: defaultdict(list))
    for t in view.new:
        if view.in_store(t[0]):
            by_subject[t[0]][t[1]].append(t)
        else:
            added.append(t)  # a subject the store does not mention: every triple about it is new
    by_predicate: dict[Node, list[Node]] = defaultdict(list)
    for subject, predicates in by_subject.items():
        for p in predicates:
            by_predicate[p].append(subject)
    for p, subjects in by_predicate.items():
        present = set(view._store(subjects, p, False))  # type: ignore[arg-type]
        added.extend(t for s in subjects for t in by_subject[s][p] if t not in present)
    return added


def affected(
    reach: Reach, view: View, added: Iterable[Triple], progress: Progress | None = None
) -> dict[Node, set[Node]]:
    """For each top-level shape, the focus nodes whose validation reads one of the `added` triples at a step
    where it can add a result: walking the automaton backwards from each such read to a root state."""
    start: set[tuple[Node, int]] = set()
    for s, p, o in added:
        for t in reach.reading(p):  # type: ignore[arg-type]
            if t.grows and (t.step.kind == "predicate" or t.step.predicate in (None, p)):
                start.add((o if t.step.inverse else s, t.source))
    roots: dict[Node, set[Node]] = defaultdict(set)

    def visit(node: Node, state: int) -> None:
        for shape in reach.roots_behind[state]:
            roots[shape].add(node)

    _walk(view, start, reach.back_moves, backwards=True, visit=visit, progress=progress, stage="affected")
    return roots


def neighbourhood(
    reach: Reach, view: View, roots: dict[Node, set[Node]], progress: Progress | None = None
) -> rdflib.Graph:
    """Every triple the validation of `roots` (shape -> focus nodes) reads in the merged graph, walking the
    automaton forwards from each focus node."""
    read: set[Triple] = set()
    start = {(node, reach.roots[shape]) for shape, nodes in roots.items() for node in nodes}
    _walk(
        view,
        start,
        reach.moves,
        backwards=False,
        read=read.add,
        progress=progress,
        stage="neighbourhood",
        count=lambda _seen: len(read),
    )
    graph = rdflib.Graph()
    for t in read:
        graph.add(t)
    return graph


def _walk(
    view: View,
    start: set[tuple[Node, int]],
    moves: Any,
    *,
    backwards: bool,
    visit: Callable[[Node, int], None] | None = None,
    read: Callable[[Triple], None] | None = None,
    progress: Progress | None = None,
    stage: str,
    count: Callable[[set[tuple[Node, int]]], int] = len,
) -> None:
    """Breadth first through the automaton's `moves` (state -> [(step, next states)]) and the merged graph, from
    the (node, state) pairs `start`, each pair once: `visit` sees every pair reached, `read` every triple read."""
    seen = set(start)
    frontier = list(start)
    while frontier:
        if progress:
            progress(stage, count(seen))
        pending: dict[Step, dict[Node, list[int]]] = defaultdict(lambda: defaultdict(list))
        for node, state in frontier:
            if visit:
                visit(node, state)
            for step, states in moves[state]:
                pending[step][node].extend(states)
        nxt: list[tuple[Node, int]] = []
        for step, states_of in pending.items():
            for node, other, triple in view.triples(list(states_of), step, backwards=backwards):
                if read:
                    read(triple)
                for state in states_of[node]:
                    if (other, state) not in seen:
                        seen.add((other, state))
                        nxt.append((other, state))
        frontier = nxt


def _select(graph: rdflib.Graph, text: str, var: str) -> set[Node]:
    """The values of `var` in the solutions of a SELECT query on `graph`, evaluated by Oxigraph in memory."""
    import pyoxigraph as ox

    from kg.store.oxigraph import to_oxigraph, to_rdflib

    store = ox.Store()
    store.extend(ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in graph)  # type: ignore[arg-type]
    return {to_rdflib(row[var]) for row in store.query(text) if row[var] is not None}  # type: ignore[index,misc]


def targets_in(reach: Reach, graph: rdflib.Graph, roots: dict[Node, set[Node]]) -> dict[Node, list[Node]]:
    """The candidates that are focus nodes of their shape in `graph` (which holds everything that decides it).

    A SHACL-AF SPARQL target is evaluated with Oxigraph on `graph` (rdflib takes a second for a query that
    groups every triple); the differential tests compare the outcome with pySHACL's own evaluation.
    """
    out: dict[Node, list[Node]] = {}
    selected: dict[str, set[Node]] = {}
    for shape, nodes in roots.items():
        targets = reach.targets[shape]
        kept = []
        for node in sorted(nodes, key=lambda n: (type(n).__name__, str(n))):
            if node in targets.nodes:
                kept.append(node)
            elif targets.classes and any(
                c in targets.classes
                for t in graph.objects(node, RDF.type)
                for c in graph.transitive_objects(t, RDFS.subClassOf)
            ):
                kept.append(node)
            elif any((node, p, None) in graph for p in targets.subjects_of):
                kept.append(node)
            elif any((None, p, node) in graph for p in targets.objects_of):
                kept.append(node)
            else:
                for text in targets.selects:
                    if text not in selected:
                        selected[text] = _select(graph, text, "this")
                    if node in selected[text]:
                        kept.append(node)
                        break
        if kept:
            out[shape] = kept
    return out
