"""The abstract store: named graphs whose union is the default graph, queried with SPARQL 1.1."""

from __future__ import annotations

import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, BinaryIO, TypeVar

import rdflib
from rdflib.term import Identifier, URIRef

from kg.errors import InputError
from kg.sparqltext import is_absolute_iri, pattern_start


@dataclass
class QueryResult:
    """The answer to a query: rows for SELECT, a boolean for ASK, a graph for CONSTRUCT/DESCRIBE."""

    kind: str  # "SELECT", "ASK" or "GRAPH"
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Identifier | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    graph: rdflib.Graph | None = None
    truncated: bool = False
    cut_by: str = ""  # who cut a truncated result and how, when another server did (X-Result-Truncated)

    def as_dicts(self) -> list[dict[str, Identifier]]:
        """SELECT rows as dicts of the bound variables."""
        return [{v: t for v, t in zip(self.variables, row, strict=True) if t is not None} for row in self.rows]


Quad = tuple[Identifier, Identifier, Identifier, URIRef]
Triple = tuple[Identifier, Identifier, Identifier]


DUMP_SYNTAXES = ("nt", "nq", "ttl", "trig", "jsonld")


def dump_format(syntax: str) -> Any:
    """The pyoxigraph format of a dump syntax (`nt`, `nq`, `ttl`, `trig`, `jsonld`)."""
    import pyoxigraph as ox

    formats = {
        "nt": ox.RdfFormat.N_TRIPLES,
        "nq": ox.RdfFormat.N_QUADS,
        "ttl": ox.RdfFormat.TURTLE,
        "trig": ox.RdfFormat.TRIG,
        "jsonld": ox.RdfFormat.JSON_LD,
    }
    if syntax not in formats:
        raise InputError(f"no dump syntax {syntax!r}", hint=f"use one of: {', '.join(formats)}")
    return formats[syntax]


def dump_prefixes(syntax: str) -> dict[str, str] | None:
    """The project's prefixes, for the syntaxes that abbreviate with them."""
    if syntax not in ("ttl", "trig"):
        return None
    from kg.namespaces import PREFIXES

    return dict(PREFIXES)


T = TypeVar("T")
EDGE_BATCH = 200  # nodes per lookup query


def capped(items: Iterable[T], max_rows: int | None) -> tuple[list[T], bool]:
    """At most `max_rows` items (all when None), read lazily, and whether there were more."""
    if max_rows is None:
        return list(items), False
    kept = list(islice(items, max_rows + 1))
    return kept[:max_rows], len(kept) > max_rows


_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def with_values(sparql: str, bindings: Mapping[str, Identifier]) -> str:
    """The query with a VALUES block binding each variable to its term, first in the top-level WHERE.

    pyoxigraph's `substitutions` only bind projected variables, and a trailing VALUES clause joins after
    grouping (SPARQL 1.1, 18.2.4), so the block goes at the start of the pattern, where it binds before
    any join or aggregate. Terms are written in N-Triples syntax by the RDF library, never user text.
    """
    for name, value in bindings.items():
        if not _VARNAME.match(name):
            raise InputError(f"not a SPARQL variable name: {name!r}")
        if isinstance(value, URIRef) and not is_absolute_iri(str(value)):
            raise InputError(f"not a valid IRI: {str(value)!r}", hint='IRIs cannot contain spaces or <>"{}|\\^`')
    names = " ".join(f"?{k}" for k in bindings)
    terms = " ".join(v.n3() for v in bindings.values())
    block = f"VALUES ({names}) {{ ({terms}) }}"
    at = pattern_start(sparql)
    if at is None:
        return f"{sparql.rstrip()}\n{block}\n"
    return f"{sparql[:at]}\n  {block}\n{sparql[at:]}"


class Store(ABC):
    """A quad store: the data in named graphs, the default graph their union."""

    kind: str = "abstract"

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Identifier] | None = None,
        default_graphs: Sequence[URIRef] | None = None,
        named_graphs: Sequence[URIRef] | None = None,
        max_rows: int | None = None,
    ) -> QueryResult:
        """Evaluate a SPARQL 1.1 query; `bindings` bind variables by the engine, never by text.

        With `max_rows`, at most that many rows (or triples) are kept and `truncated` says whether more existed.
        """

    @abstractmethod
    def graph_names(self) -> list[URIRef]:
        """The named graphs, sorted."""

    @abstractmethod
    def quads(self) -> Iterator[Quad]:
        """Every quad, for export."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of quads."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op for stores holding nothing to release
        """Release files and memory; the default does nothing."""

    def edges(
        self,
        nodes: Sequence[Identifier] | None,
        predicate: URIRef | None = None,
        *,
        inverse: bool = False,
        skip_graphs: Sequence[URIRef] = (),
    ) -> Iterator[Triple]:
        """The triples whose subject (object when `inverse`) is one of `nodes` (any node when None, then with a
        `predicate`), with `predicate` (any when None), in any named graph but `skip_graphs`; each triple once.

        This default asks the store with SPARQL, `EDGE_BATCH` nodes per query (blank nodes cannot be named in
        a query, so they have no edges here; the sparql backend holds none, `push` skolemises them).
        """
        if nodes is None and predicate is None:
            raise ValueError("edges() needs nodes or a predicate")
        node = "?o" if inverse else "?s"
        skip = " && ".join(f"?g != {g.n3()}" for g in skip_graphs) or "true"
        pred = predicate.n3() if predicate is not None else "?p"
        text = f"SELECT DISTINCT ?s ?p ?o WHERE {{ {{VALUES}} GRAPH ?g {{ ?s {pred} ?o }} FILTER ({skip}) }}"
        batches: list[list[Identifier]] = [[]]
        if nodes is not None:
            named = [n for n in dict.fromkeys(nodes) if not isinstance(n, rdflib.BNode)]
            batches = [named[i : i + EDGE_BATCH] for i in range(0, len(named), EDGE_BATCH)]
        for batch in batches:
            with warnings.catch_warnings():  # rdflib warns when it writes an ill-typed number ("36,8"^^xsd:decimal)
                warnings.simplefilter("ignore")
                terms = " ".join(n.n3() for n in batch)
            values = f"VALUES {node} {{ {terms} }}" if nodes is not None else ""
            result = self.query(text.replace("{VALUES}", values))
            for s, p, o in result.rows:
                yield s, (predicate if predicate is not None else p), o  # type: ignore[misc]

    def dataset(self) -> rdflib.Dataset:
        """The store's content as an rdflib Dataset, for serialisation."""
        ds = rdflib.Dataset()
        for s, p, o, g in self.quads():
            ds.add((s, p, o, g))
        return ds

    def write(self, out: BinaryIO, syntax: str) -> None:
        """The whole content streamed to `out`: `nt`, `ttl` as the union of the named graphs; `nq`, `trig`,
        `jsonld` with them. Backends with a native serializer override this."""
        import pyoxigraph as ox

        from kg.store.oxigraph import to_oxigraph

        fmt = dump_format(syntax)
        if syntax in ("nq", "trig", "jsonld"):
            by_graph = sorted(self.quads(), key=lambda q: str(q[3]))  # one block per graph in TriG and JSON-LD
            items: Iterable[ox.Quad | ox.Triple] = (
                ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), ox.NamedNode(str(g)))  # type: ignore[arg-type]
                for s, p, o, g in by_graph
            )
        else:
            items = (ox.Triple(*(to_oxigraph(t) for t in triple)) for triple in self._union())  # type: ignore[arg-type]
        ox.serialize(items, out, fmt, prefixes=dump_prefixes(syntax))

    def _union(self) -> Iterator[tuple[Identifier, Identifier, Identifier]]:
        """The distinct triples of all named graphs."""
        seen: set[tuple[Identifier, Identifier, Identifier]] = set()
        for s, p, o, _ in self.quads():
            if (s, p, o) not in seen:
                seen.add((s, p, o))
                yield s, p, o

    def triples(self, name: URIRef) -> Iterator[tuple[Identifier, Identifier, Identifier]]:
        """The triples of one named graph, read lazily."""
        for s, p, o, g in self.quads():
            if g == name:
                yield s, p, o

    def graph(self, name: URIRef | None = None) -> rdflib.Graph:
        """One named graph, or the union of all when `name` is None, as a plain rdflib graph."""
        g = rdflib.Graph()
        for s, p, o, gname in self.quads():
            if name is None or gname == name:
                g.add((s, p, o))
        return g
