"""Reading new case data (files, request bodies) for validation and ingest: parsed, capped, and checked with the
store's own parser, so that data that conforms can always be stored.

rdflib accepts terms Oxigraph refuses (an IRI with `%zz` or a port `:abc`, a language tag of nine letters...);
an ingest of such data would be committed and then fail to load, every time the store is built. Every term is
therefore written as N-Triples (what an ingest file holds) and read back with Oxigraph's parser first.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import rdflib

from kg import rdfio
from kg.errors import InputError


def read_files(paths: Sequence[Path]) -> rdflib.Graph:
    """The union of the files, its terms checked; InputError when they hold no triple."""
    from kg.shacl import quiet

    quiet()
    graph = rdflib.Graph()
    for path in paths:
        rdfio.parse_file(path, graph, as_written=True)
    names = ", ".join(str(p) for p in paths)
    if len(graph) == 0:
        raise InputError(
            "nothing to validate: the input holds no triples", source=names, hint="give a file with RDF data"
        )
    check_terms(graph, names)
    return graph


def read_bytes(data: bytes, fmt: str, *, source: str = "request body", max_triples: int | None = None) -> rdflib.Graph:
    """Request data in rdflib format `fmt`, at most `max_triples` triples, its terms checked."""
    from kg.shacl import quiet

    quiet()
    graph = rdfio.parse_bytes(data, fmt, source=source, max_triples=max_triples, as_written=True)
    if len(graph) == 0:
        raise InputError(
            "nothing to validate: the request body holds no triples", source=source, hint="send RDF data in the body"
        )
    check_terms(graph, source)
    return graph


def ntriples(graph: rdflib.Graph, source: str) -> bytes:
    """The graph as N-Triples (as an ingest file holds it); InputError for a term that cannot be written."""
    try:
        return graph.serialize(format="nt", encoding="utf-8")
    except (UnicodeEncodeError, ValueError) as exc:
        raise InputError(f"the data holds a term that cannot be written as N-Triples: {exc}", source=source) from exc


def check_terms(graph: rdflib.Graph, source: str) -> None:
    """InputError naming the first term Oxigraph's N-Triples parser refuses, and why."""
    data = ntriples(graph, source)
    try:
        for _ in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
            pass
    except SyntaxError as exc:
        raise InputError(
            f"{_offending(data, exc)} cannot be stored: {_reason(exc)}",
            source=source,
            hint="fix the term: IRIs need valid %-escapes, a numeric port and no spaces, [ ] or second #; "
            "language tags are subtags of at most 8 letters or digits (en, en-GB)",
        ) from None


def _offending(data: bytes, exc: SyntaxError) -> str:
    """The term the parser stopped at (the N-Triples line's subject, predicate or object holding the error's
    first column), or the whole triple."""
    line_no = exc.lineno or 0
    lines = data.split(b"\n")
    if not 1 <= line_no <= len(lines):
        return "a term"
    line = lines[line_no - 1].decode("utf-8", "replace").rstrip()
    first = line.find(" ")
    second = line.find(" ", first + 1)
    spans = [(0, first), (first + 1, second), (second + 1, len(line) - 2)]  # "<s> <p> o ."
    args = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], tuple) else ()
    column = int(args[2]) - 1 if len(args) >= 3 and args[2] else -1
    for start, end in spans:
        if 0 < first < second and start <= column < end:
            return f"the term {_printable(line[start:end].strip())}"
    return f"the triple {_printable(line)}"


def _printable(text: str) -> str:
    """Control characters as \\uXXXX escapes."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04X}" for c in text)


def _reason(exc: SyntaxError) -> str:
    text = str(exc.msg if hasattr(exc, "msg") else exc)
    return _printable(text.split(": ", 1)[1] if text.startswith("Parser error") and ": " in text else text)


_XSD = "http://www.w3.org/2001/XMLSchema#"
# the datatypes whose lexical forms Oxigraph's casts check (XSD 1.1 lexical spaces)
_CASTS = tuple(
    _XSD + name
    for name in (
        "boolean decimal integer double float date dateTime time gYear gYearMonth gMonth gMonthDay gDay "
        "duration yearMonthDuration dayTimeDuration"
    ).split()
)


def mark_ill_typed(graph: rdflib.Graph) -> rdflib.Graph:
    """The graph with each literal whose lexical form is not in its XSD datatype's lexical space marked ill-typed.

    rdflib decides with Python's converters, which accept "1e3", "NaN" or "1_000" as decimals and anything as a
    gYear; Oxigraph's casts follow XSD. A marked literal fails pySHACL's sh:datatype, as an ill-typed literal
    must (SHACL 1.0, 4.2.2). Literals are compared by their text, so the marked copy is the same term.
    """
    candidates: dict[str, set[rdflib.Literal]] = {}
    for _, _, o in graph:
        if isinstance(o, rdflib.Literal) and o.datatype is not None and str(o.datatype) in _CASTS:
            candidates.setdefault(str(o.datatype), set()).add(o)
    if not candidates:
        return graph
    bad = set()
    engine = _engine()
    for datatype, literals in candidates.items():
        items = sorted(literals, key=str)
        for i in range(0, len(items), 500):
            chunk = items[i : i + 500]
            values = " ".join(f'"{_escape(str(lit))}"' for lit in chunk)
            query = f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }} BIND (<{datatype}>(?s) AS ?v) FILTER (!BOUND(?v)) }}"
            for row in engine.query(query):
                bad.add((row["s"].value, datatype))  # type: ignore[index]
    if not bad:
        return graph
    out = rdflib.Graph()
    for prefix, ns in graph.namespaces():
        out.bind(prefix, ns, override=False)
    for s, p, o in graph:
        if isinstance(o, rdflib.Literal) and (str(o), str(o.datatype)) in bad and not o.ill_typed:
            marked = rdflib.Literal(str(o), datatype=o.datatype, normalize=False)
            marked._ill_typed = True  # rdflib keeps the flag in a slot it sets itself; no public way to set it
            o = marked
        out.add((s, p, o))
    return out


@lru_cache(maxsize=1)
def _engine() -> ox.Store:
    """An empty in-memory Oxigraph store, to evaluate casts (one per process)."""
    return ox.Store()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
