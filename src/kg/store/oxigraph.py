"""The `oxigraph` backend (the default): pyoxigraph, on disk or in memory."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
import rdflib
from rdflib.term import BNode, Identifier, Literal, URIRef

from kg.errors import InputError, QuerySyntaxError, StoreError
from kg.queryerrors import explain
from kg.sparqltext import has_dataset_clause
from kg.store.base import Quad, QueryResult, Store, Triple, capped, dump_format, dump_prefixes, with_values

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_DAMAGED = re.compile(r"Corruption|IO error|checksum mismatch", re.IGNORECASE)
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


_RDF12_HINT = "this endpoint stores and returns RDF 1.1; ask for the parts of the statement instead"


def to_rdflib(term: object) -> Identifier:
    """A pyoxigraph term as the equal rdflib term; InputError for the RDF 1.2 terms rdflib cannot hold (triple
    terms, literals with a base direction) rather than a wrong term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Triple):
        raise InputError(
            "the answer would hold an RDF 1.2 triple term, which this endpoint does not support", hint=_RDF12_HINT
        )
    if isinstance(term, ox.Literal):
        if getattr(term, "direction", None) is not None:
            raise InputError(
                f"the answer would hold a literal with a base direction ({term}), which this endpoint does not support",
                hint=_RDF12_HINT,
            )
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        if dt in (_XSD_STRING, _RDF_LANGSTRING):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(dt))
    raise StoreError(f"unsupported term {term!r}")


def to_oxigraph(term: Identifier) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as the equal pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise StoreError(f"unsupported term {term!r}")


class OxigraphStore(Store):
    """A pyoxigraph store on disk (the build writes it; this class reads it)."""

    kind = "oxigraph"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        try:
            if read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                self._store = ox.Store(str(path))
        except (OSError, RuntimeError) as exc:  # RocksDB reports a damaged store as a RuntimeError
            raise StoreError(f"cannot open the Oxigraph store at {path}: {exc}") from exc

    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Identifier] | None = None,
        default_graphs: Sequence[URIRef] | None = None,
        named_graphs: Sequence[URIRef] | None = None,
        max_rows: int | None = None,
    ) -> QueryResult:
        kwargs: dict[str, object] = {}
        if default_graphs is not None or named_graphs is not None:
            kwargs["default_graph"] = [ox.NamedNode(str(g)) for g in default_graphs or []]
            kwargs["named_graphs"] = [ox.NamedNode(str(g)) for g in named_graphs or []]
        elif not has_dataset_clause(sparql):
            # the union default graph, unless the query names its own dataset with FROM / FROM NAMED
            kwargs["use_default_graph_as_union"] = True
        text = sparql
        if bindings:
            sparql = with_values(sparql, bindings)
        try:
            return _collect(self._store.query(sparql, **kwargs), max_rows)  # type: ignore[arg-type]
        except SyntaxError as exc:
            raise QuerySyntaxError(_syntax_message(text, sparql, exc)) from exc
        except RuntimeError as exc:  # evaluation refused, e.g. a function the engine does not provide
            if _DAMAGED.search(str(exc)):
                raise StoreError(
                    f"the store on disk is damaged: {exc}", hint="the operator should rebuild it: kg build --force"
                ) from exc
            raise InputError(f"the query cannot be evaluated: {exc}", source="query") from exc
        except OSError as exc:
            raise StoreError(f"the store failed while answering: {exc}") from exc

    def graph_names(self) -> list[URIRef]:
        return sorted(URIRef(g.value) for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def quads(self) -> Iterator[Quad]:
        for q in self._store.quads_for_pattern(None, None, None, None):
            if isinstance(q.graph_name, ox.NamedNode):
                yield (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), URIRef(q.graph_name.value))

    def edges(
        self,
        nodes: Sequence[Identifier] | None,
        predicate: URIRef | None = None,
        *,
        inverse: bool = False,
        skip_graphs: Sequence[URIRef] = (),
    ) -> Iterator[Triple]:
        """Pattern lookups on the store's indexes (blank nodes included), one per node."""
        skip = {ox.NamedNode(str(g)) for g in skip_graphs}
        pred = ox.NamedNode(str(predicate)) if predicate is not None else None
        seen: set[tuple[object, object, object]] = set()
        for node in dict.fromkeys(nodes) if nodes is not None else [None]:
            try:
                term = to_oxigraph(node) if node is not None else None  # type: ignore[arg-type]
            except ValueError:
                continue  # a term Oxigraph refuses is not in the store
            if term is not None and not inverse and isinstance(term, ox.Literal):
                continue  # a literal is never a subject
            pattern = (None, pred, term) if inverse else (term, pred, None)
            for q in self._store.quads_for_pattern(*pattern, None):
                if not isinstance(q.graph_name, ox.NamedNode) or q.graph_name in skip:
                    continue
                key = (q.subject, q.predicate, q.object)
                if key in seen:
                    continue
                seen.add(key)
                yield to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)

    def write(self, out: BinaryIO, syntax: str) -> None:
        fmt = dump_format(syntax)
        try:
            if syntax in ("nq", "trig", "jsonld"):
                self._store.dump(out, fmt, prefixes=dump_prefixes(syntax))
            else:
                # the union default graph, each triple once (Oxigraph's CONSTRUCT drops the duplicates, which
                # the index it scans keeps side by side)
                union = self._store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
                ox.serialize(union, out, fmt, prefixes=dump_prefixes(syntax))  # type: ignore[arg-type]
        except OSError as exc:
            raise StoreError(f"the store failed while writing it out: {exc}") from exc

    def triples(self, name: URIRef) -> Iterator[tuple[Identifier, Identifier, Identifier]]:
        for q in self._store.quads_for_pattern(None, None, None, ox.NamedNode(str(name))):
            yield to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)

    def graph(self, name: URIRef | None = None) -> rdflib.Graph:
        if name is None:
            return super().graph()
        g = rdflib.Graph()
        for t in self.triples(name):
            g.add(t)
        return g

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        self._store = None  # type: ignore[assignment]


def _syntax_message(text: str, sent: str, exc: SyntaxError) -> str:
    """The parser's message against the text as the user wrote it (bindings add lines to the text sent)."""
    if sent != text:
        try:
            ox.Store().query(text)  # an empty store: only parsing matters
        except SyntaxError as original:
            exc = original
        except Exception:  # the text alone parses: report the error as it came
            return explain(sent, str(exc))
    return explain(text, str(exc))


def _collect(result: object, max_rows: int | None) -> QueryResult:
    """A pyoxigraph result read into a QueryResult (evaluation happens while reading it)."""
    if isinstance(result, ox.QueryBoolean):
        return QueryResult("ASK", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows, truncated = capped(
            (tuple(None if sol[v] is None else to_rdflib(sol[v]) for v in variables) for sol in result),  # type: ignore[index]
            max_rows,
        )
        return QueryResult("SELECT", variables=variables, rows=rows, truncated=truncated)
    triples, truncated = capped(result, max_rows)  # type: ignore[call-overload]
    g = rdflib.Graph()
    for t in triples:
        g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return QueryResult("GRAPH", graph=g, truncated=truncated)
