"""Writing query results in the SPARQL result formats and RDF syntaxes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

import rdflib
from rdflib.query import Result
from rdflib.term import Identifier, Literal, URIRef, Variable

from kg.errors import InputError
from kg.namespaces import PREFIXES
from kg.store.base import QueryResult

# format name -> (media type, rdflib serializer name or None when written here)
TABULAR_FORMATS: dict[str, tuple[str, str | None]] = {
    "json": ("application/sparql-results+json", "json"),
    "xml": ("application/sparql-results+xml", None),
    "csv": ("text/csv", "csv"),
    "tsv": ("text/tab-separated-values", None),
    "table": ("text/plain", None),
}
GRAPH_FORMATS: dict[str, tuple[str, str]] = {
    "turtle": ("text/turtle", "turtle"),
    "nt": ("application/n-triples", "nt"),
    "jsonld": ("application/ld+json", "json-ld"),
    "xml": ("application/rdf+xml", "xml"),
    "table": ("text/turtle", "turtle"),
}
ALIASES = {"ttl": "turtle", "json-ld": "jsonld", "ntriples": "nt", "rdfxml": "xml", "srj": "json", "srx": "xml"}


def normalise_format(name: str) -> str:
    return ALIASES.get(name.lower(), name.lower())


def media_type(result: QueryResult, fmt: str) -> str:
    fmt = normalise_format(fmt)
    table = GRAPH_FORMATS if result.kind == "GRAPH" else TABULAR_FORMATS
    if fmt not in table:
        raise InputError(
            f"format {fmt!r} does not apply to a {result.kind} result", hint=f"use one of: {', '.join(sorted(table))}"
        )
    return table[fmt][0]


def serialize(result: QueryResult, fmt: str, *, links: Sequence[str] = ()) -> bytes:
    """The result in format `fmt` (see TABULAR_FORMATS and GRAPH_FORMATS).

    `links` point at documents about the result (a cut result: the limit that cut it). They go where the format
    has a place for them: SPARQL JSON `head.link`, SPARQL XML `<link href>` (SPARQL 1.1 Query Results JSON and
    XML Formats), a comment at the top of Turtle and N-Triples; CSV, TSV, JSON-LD and RDF/XML have none.
    """
    fmt = normalise_format(fmt)
    media_type(result, fmt)  # validates
    if result.kind == "GRAPH":
        graph = result.graph if result.graph is not None else rdflib.Graph()
        for prefix, ns in PREFIXES.items():
            graph.bind(prefix, ns, override=True)
        body = graph.serialize(format=GRAPH_FORMATS[fmt][1], encoding="utf-8")
        if links and fmt in ("turtle", "nt", "table"):
            body = "".join(f"# this result is incomplete: see <{link}>\n" for link in links).encode() + body
        return body
    if fmt == "table":
        return _table(result).encode("utf-8")
    if fmt == "tsv":
        return _tsv(result).encode("utf-8")
    if fmt == "xml":
        return _xml(result, links).encode("utf-8")
    if fmt == "csv" and result.kind == "ASK":
        # CSV has no boolean form in the standard; answer like Jena and Oxigraph do.
        return ("_askResult\r\n" + ("true" if result.boolean else "false") + "\r\n").encode("utf-8")
    out = to_rdflib_result(result).serialize(format=TABULAR_FORMATS[fmt][1], encoding="utf-8")
    out = out if isinstance(out, bytes) else b""
    if links and fmt == "json":
        doc = json.loads(out)
        doc.setdefault("head", {})["link"] = list(links)
        out = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return out


def to_rdflib_result(result: QueryResult) -> Result:
    """The result as an rdflib Result (for its serializers)."""
    r = Result(result.kind if result.kind != "GRAPH" else "CONSTRUCT")
    if result.kind == "ASK":
        r.askAnswer = bool(result.boolean)
    elif result.kind == "SELECT":
        r.vars = [Variable(v) for v in result.variables]
        r.bindings = [
            {Variable(v): t for v, t in zip(result.variables, row, strict=True) if t is not None} for row in result.rows
        ]
    else:
        r.graph = result.graph
    return r


def _xml_term(term: Identifier) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{escape(term)}</uri>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term)}</literal>"
        if term.datatype is not None:
            return f"<literal datatype={quoteattr(term.datatype)}>{escape(term)}</literal>"
        return f"<literal>{escape(term)}</literal>"
    return f"<bnode>{escape(term)}</bnode>"


def _xml(result: QueryResult, links: Sequence[str] = ()) -> str:
    # SPARQL 1.1 Query Results XML Format. Written here: rdflib's writer (through xml.sax) drops the text of
    # any literal whose Python value is false, so 0, 0.0 and false came out as empty literals.
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
        "<head>",
        *(f"<variable name={quoteattr(v)}/>" for v in result.variables),
        *(f"<link href={quoteattr(link)}/>" for link in links),
        "</head>",
    ]
    if result.kind == "ASK":
        lines.append(f"<boolean>{'true' if result.boolean else 'false'}</boolean>")
    else:
        lines.append("<results>")
        for row in result.rows:
            cells = "".join(
                f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(result.variables, row, strict=True)
                if t is not None
            )
            lines.append(f"<result>{cells}</result>")
        lines.append("</results>")
    lines.append("</sparql>")
    return "\n".join(lines) + "\n"


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _tsv_term(term: Identifier | None) -> str:
    # A literal is always written "..." with escapes: rdflib's n3() uses """...""" with raw newlines and tabs,
    # which would break a TSV row.
    if term is None:
        return ""
    if isinstance(term, Literal):
        text = '"' + str(term).translate(_TSV_ESCAPES) + '"'
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype is not None:
            return f"{text}^^<{term.datatype}>"
        return text
    return term.n3()


def _tsv(result: QueryResult) -> str:
    # SPARQL 1.1 Query Results CSV and TSV Formats, section 3: terms in Turtle syntax.
    if result.kind == "ASK":
        return "?_askResult\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join("?" + v for v in result.variables)]
    lines += ["\t".join(_tsv_term(t) for t in row) for row in result.rows]
    return "\n".join(lines) + "\n"


def short(term: Identifier | None) -> str:
    """A term for people: prefixed name, literal text."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        for prefix, ns in PREFIXES.items():
            if str(term).startswith(ns) and len(str(term)) > len(ns):
                local = str(term)[len(ns) :]
                if all(c.isalnum() or c in "-_." for c in local):
                    return f"{prefix}:{local}"
        return f"<{term}>"
    if isinstance(term, Literal):
        return str(term)
    return term.n3()


def _table(result: QueryResult) -> str:
    if result.kind == "ASK":
        return ("yes" if result.boolean else "no") + "\n"
    header = result.variables
    body = [[short(t) for t in row] for row in result.rows]
    widths = [min(60, max([len(h)] + [len(r[i]) for r in body])) for i, h in enumerate(header)]

    def fmt_row(cells: list[str]) -> str:
        return " | ".join(c[: widths[i]].ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    lines = [fmt_row(header), "-+-".join("-" * w for w in widths)]
    lines += [fmt_row(r) for r in body]
    lines.append(f"({len(body)} row{'s' if len(body) != 1 else ''})")
    return "\n".join(lines) + "\n"
