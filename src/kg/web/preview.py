"""Results for people: a bounded preview of a large result (the UI shows it, the whole result is a download),
HTML tables of SPARQL results with this dataset's IRIs linked to their local pages, and the `$name` parameters
that bind a query's variables by the engine (as RDF4J's protocol does)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask import Response
from rdflib import Literal, URIRef
from rdflib.plugins.parsers.ntriples import unquote
from rdflib.term import Identifier

from kg.errors import InputError
from kg.executor import Answer
from kg.sparqltext import is_absolute_iri
from kg.web.describe import term_view

PREVIEW_ROWS = 1000  # rows the UI and the HTML pages show; the whole result is a download
MAX_PREVIEW = 10_000  # the largest preview a client may ask for
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IRI = re.compile(r"^<([^<>\"{}|^`\\\x00-\x20]*)>$")
_LITERAL = re.compile(r'^"((?:[^"\\\n\r]|\\.)*)"(?:@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)|\^\^<([^<>"{}|^`\\\x00-\x20]*)>)?$')


def parse_term(name: str, text: str) -> Identifier:
    """One RDF term in N-Triples syntax (`<iri>`, `"text"`, `"text"@en`, `"5"^^<datatype>`); InputError else."""
    value = text.strip()
    match = _IRI.match(value)
    if match and is_absolute_iri(match.group(1)):
        return URIRef(match.group(1))
    match = _LITERAL.match(value)
    if match:
        lexical, lang, datatype = match.groups()
        if datatype is not None and not is_absolute_iri(datatype):
            raise InputError(f"${name}: the datatype <{datatype}> is not an absolute IRI", source=f"${name}")
        return Literal(unquote(lexical), lang=lang, datatype=URIRef(datatype) if datatype else None)
    raise InputError(
        f"${name} is not an RDF term in N-Triples syntax: {text[:80]!r}",
        source=f"${name} parameter",
        hint='write <https://...> for an IRI, "text", "text"@en or "1997"^^<http://www.w3.org/2001/XMLSchema#gYear>',
    )


def bindings_from(fields: dict[str, list[str]]) -> dict[str, Identifier]:
    """The `$name=TERM` parameters of a request: each binds ?name by the engine."""
    out: dict[str, Identifier] = {}
    for key, values in fields.items():
        if not key.startswith("$"):
            continue
        name = key[1:]
        if not _VAR.match(name):
            raise InputError(f"{key!r} does not name a SPARQL variable", source=f"{key} parameter")
        if len(values) != 1:
            raise InputError(f"{key} is given {len(values)} times; bind each variable once", source=f"{key} parameter")
        out[name] = parse_term(name, values[0])
    return out


def preview_size(fields: dict[str, list[str]]) -> int | None:
    """The `preview` parameter: how many rows of a SELECT result to send (None: all)."""
    values = fields.get("preview", [])
    if not values:
        return None
    raw = values[-1]
    if not raw.isdigit() or not 0 < int(raw) <= MAX_PREVIEW:
        raise InputError(f"preview must be a number of rows from 1 to {MAX_PREVIEW}, got {raw!r}", source="preview")
    return int(raw)


def cut(answer: Answer, rows: int) -> tuple[Answer, int | None]:
    """A SELECT answer in SPARQL JSON cut to its first `rows` rows, and how many it had (None: not cut)."""
    if answer.kind != "SELECT" or answer.rows is None or answer.rows <= rows or "json" not in answer.media_type:
        return answer, None
    doc = json.loads(answer.body)
    doc["results"]["bindings"] = doc["results"]["bindings"][:rows]
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return Answer(answer.kind, answer.media_type, body, rows, answer.truncated), answer.rows


_EXTENSIONS = {
    "application/sparql-results+json": "srj",
    "application/sparql-results+xml": "srx",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/turtle": "ttl",
    "application/n-triples": "nt",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdf",
}


def filename(media_type: str) -> str:
    """The file name a downloaded result is saved under (the `download` parameter asks for a file)."""
    return f"result.{_EXTENSIONS.get(media_type, 'txt')}"


def mark_preview(resp: Response, shown: int, total: int | None) -> Response:
    """Say in headers that the body holds the first `shown` rows of `total`."""
    if total is not None:
        resp.headers["X-Result-Preview"] = str(shown)
        resp.headers["X-Result-Total-Rows"] = str(total)
    return resp


@dataclass
class Table:
    """A result for an HTML page: SELECT rows, an ASK answer or triples, at most `limit` of them."""

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[list[dict | None]] = field(default_factory=list)
    boolean: bool | None = None
    total: int = 0
    limit: int = PREVIEW_ROWS
    truncated: str = ""

    @property
    def cut(self) -> bool:
        return self.total > len(self.rows)


def table(answer: Answer, limit: int = PREVIEW_ROWS) -> Table:
    """The answer (SELECT/ASK in SPARQL JSON, graphs in N-Triples) as rows of term views for a template."""
    if answer.kind == "GRAPH":
        import rdflib

        g = rdflib.Graph().parse(data=answer.body.decode("utf-8"), format="nt")
        triples = sorted(g, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
        rows = [[_view(term) for term in t] for t in triples[:limit]]
        return Table(
            "GRAPH",
            ["subject", "predicate", "object"],
            rows,
            total=len(triples),
            limit=limit,
            truncated=answer.truncated,
        )
    doc = json.loads(answer.body)
    if "boolean" in doc:
        return Table("ASK", boolean=bool(doc["boolean"]), truncated=answer.truncated)
    variables = doc["head"]["vars"]
    bindings = doc["results"]["bindings"]
    rows = [[term_view(b[v]) if v in b else None for v in variables] for b in bindings[:limit]]
    return Table("SELECT", variables, rows, total=len(bindings), limit=limit, truncated=answer.truncated)


def _view(term: Identifier) -> dict:
    if isinstance(term, URIRef):
        return term_view({"type": "uri", "value": str(term)})
    if isinstance(term, Literal):
        binding: dict = {"type": "literal", "value": str(term)}
        if term.language:
            binding["xml:lang"] = term.language
        elif term.datatype is not None:
            binding["datatype"] = str(term.datatype)
        return term_view(binding)
    return term_view({"type": "bnode", "value": str(term)})
