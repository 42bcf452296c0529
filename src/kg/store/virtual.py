"""Graph names that stand for a set of named graphs (as GraphDB's onto:explicit / onto:implicit): usable as the
default graph of a query (`FROM <...>`, `default-graph-uri=...`), expanded here into the named graphs they cover.

- `graph/asserted`: every named graph but the derived ones (what was loaded, ingested and updated);
- `graph/union`: every named graph, asserted and derived (the same as the default graph without FROM);
- `graph/inferred` is a real named graph (the reasoner's), so it needs no expansion.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rdflib import URIRef

from kg.errors import InputError
from kg.namespaces import ASSERTED_GRAPH, UNION_GRAPH
from kg.sparqltext import mask

VIRTUAL: dict[URIRef, str] = {
    ASSERTED_GRAPH: "every named graph but the derived ones: what was asserted (loaded, ingested, updated)",
    UNION_GRAPH: "every named graph, asserted and derived (what a query sees without FROM)",
}

_PREFIX = re.compile(r"(?<![\w:?$])PREFIX\s+([A-Za-z][\w.-]*)?:\s*<(\d+)>", re.IGNORECASE)
_FROM = re.compile(r"(?<![\w:?$])FROM(?![\w:])\s+(NAMED(?![\w:])\s+)?(<\d+>|[A-Za-z]?[\w.-]*:[^\s{]*)", re.IGNORECASE)


def dataset_clause(sparql: str) -> tuple[list[URIRef], list[URIRef]]:
    """The IRIs of a query's FROM and FROM NAMED clauses (read lexically; prefixed names expanded)."""
    masked, iris = mask(sparql)
    prefixes = {(m.group(1) or ""): iris[int(m.group(2))] for m in _PREFIX.finditer(masked)}
    default: list[URIRef] = []
    named: list[URIRef] = []
    for m in _FROM.finditer(masked):
        target = m.group(2)
        if target.startswith("<"):
            iri = iris[int(target[1:-1])]
        else:
            prefix, _, local = target.partition(":")
            if prefix not in prefixes:
                continue  # the engine reports the undeclared prefix
            iri = prefixes[prefix] + local
        (named if m.group(1) else default).append(URIRef(iri))
    return default, named


def expand(graphs: Sequence[URIRef], names: Callable[[], list[URIRef]]) -> list[URIRef]:
    """`graphs` with each virtual name replaced by the named graphs it stands for."""
    if not any(g in VIRTUAL for g in graphs):
        return list(graphs)
    from kg.derived import is_derived

    all_names = names()
    out: list[URIRef] = []
    for g in graphs:
        if g == ASSERTED_GRAPH:
            out += [n for n in all_names if not is_derived(n)]
        elif g == UNION_GRAPH:
            out += all_names
        else:
            out.append(g)
    return list(dict.fromkeys(out))


def resolve(
    sparql: str,
    default_graphs: Sequence[URIRef] | None,
    named_graphs: Sequence[URIRef] | None,
    names: Callable[[], list[URIRef]],
) -> tuple[list[URIRef] | None, list[URIRef] | None]:
    """The dataset to give the engine: the protocol's graphs, else the query's own FROM clauses when one
    names a virtual graph (None, None: the engine reads the query's own dataset, or the union)."""
    if default_graphs is None and named_graphs is None:
        from_default, from_named = dataset_clause(sparql)
        if not any(g in VIRTUAL for g in (*from_default, *from_named)):
            return None, None
        default_graphs, named_graphs = from_default, from_named
    for g in named_graphs or []:
        if g in VIRTUAL:
            raise InputError(
                f"<{g}> stands for several named graphs: it can be the default graph (FROM, default-graph-uri), "
                "not a named graph (FROM NAMED, named-graph-uri, GRAPH)",
                source="query",
                hint=f"write FROM <{g}> and leave out GRAPH",
            )
    return expand(default_graphs or [], names), list(named_graphs or [])
