"""The `memory` backend: an rdflib Dataset in this process, for tests and tiny graphs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import rdflib
import rdflib.plugins.sparql
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Identifier, URIRef, Variable

from kg.errors import QuerySyntaxError
from kg.queryerrors import explain
from kg.store.base import Quad, QueryResult, Store, Triple, capped


class MemoryStore(Store):
    """Named graphs in an rdflib Dataset whose default graph is the union of them."""

    kind = "memory"

    def __init__(self) -> None:
        # FROM/FROM NAMED must select graphs we hold, never load documents from the web or disk.
        rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False
        self._ds = rdflib.Dataset(default_union=True)

    def replace(self, graphs: Mapping[URIRef, Iterable[tuple[Identifier, Identifier, Identifier]]]) -> None:
        """Replace the whole content with these graphs, all or nothing."""
        fresh = rdflib.Dataset(default_union=True)
        for name, triples in graphs.items():
            g = fresh.graph(name)
            for t in triples:
                g.add(t)
        self._ds = fresh

    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Identifier] | None = None,
        default_graphs: Sequence[URIRef] | None = None,
        named_graphs: Sequence[URIRef] | None = None,
        max_rows: int | None = None,
    ) -> QueryResult:
        try:
            prepared = prepareQuery(sparql)
        except Exception as exc:
            raise QuerySyntaxError(explain(sparql, _message(exc))) from exc
        target: rdflib.Graph = self._ds
        if default_graphs is not None or named_graphs is not None:
            target = self._restricted(default_graphs or [], named_graphs or [])
            # the protocol's dataset overrides FROM / FROM NAMED (SPARQL 1.1 Protocol, 2.1.4)
            prepared.algebra["datasetClause"] = None
        init = {Variable(k): v for k, v in (bindings or {}).items()}
        result = target.query(prepared, initBindings=init)
        if result.type == "ASK":
            return QueryResult("ASK", boolean=bool(result.askAnswer))
        if result.type == "SELECT":
            variables = [str(v) for v in result.vars or []]
            rows, truncated = capped(
                (tuple(row[v] if v in row.labels else None for v in variables) for row in result),  # type: ignore[union-attr]
                max_rows,
            )
            return QueryResult("SELECT", variables=variables, rows=rows, truncated=truncated)
        triples, truncated = capped(result.graph or [], max_rows)
        g = rdflib.Graph()
        for t in triples:
            g.add(t)
        return QueryResult("GRAPH", graph=g, truncated=truncated)

    def _restricted(self, default_graphs: Sequence[URIRef], named_graphs: Sequence[URIRef]) -> rdflib.Dataset:
        ds = rdflib.Dataset(default_union=False)
        for name in default_graphs:
            for t in self._ds.graph(name):
                ds.default_graph.add(t)
        for name in named_graphs:
            g = ds.graph(name)
            for t in self._ds.graph(name):
                g.add(t)
        return ds

    def graph_names(self) -> list[URIRef]:
        default = str(rdflib.graph.DATASET_DEFAULT_GRAPH_ID)
        return sorted(URIRef(str(g.identifier)) for g in self._ds.graphs() if str(g.identifier) != default and len(g))

    def quads(self) -> Iterator[Quad]:
        for s, p, o, g in self._ds.quads((None, None, None, None)):
            if g is not None and str(g) != str(rdflib.graph.DATASET_DEFAULT_GRAPH_ID):
                yield s, p, o, URIRef(str(g.identifier if isinstance(g, rdflib.Graph) else g))

    def edges(
        self,
        nodes: Sequence[Identifier] | None,
        predicate: URIRef | None = None,
        *,
        inverse: bool = False,
        skip_graphs: Sequence[URIRef] = (),
    ) -> Iterator[Triple]:
        """Pattern lookups on the dataset, one per node."""
        skip = {str(g) for g in skip_graphs} | {str(rdflib.graph.DATASET_DEFAULT_GRAPH_ID)}
        seen: set[Triple] = set()
        for node in dict.fromkeys(nodes) if nodes is not None else [None]:
            pattern = (None, predicate, node) if inverse else (node, predicate, None)
            for s, p, o, g in self._ds.quads((*pattern, None)):  # type: ignore[arg-type]
                name = str(g.identifier if isinstance(g, rdflib.Graph) else g)
                if g is None or name in skip or (s, p, o) in seen:
                    continue
                seen.add((s, p, o))
                yield s, p, o

    def triples(self, name: URIRef) -> Iterator[tuple[Identifier, Identifier, Identifier]]:
        yield from self._ds.graph(name)

    def __len__(self) -> int:
        return sum(1 for _ in self.quads())


def _message(exc: Exception) -> str:
    return " ".join(str(exc).split())[:500]
