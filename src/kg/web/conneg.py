"""Content negotiation: Accept (with q-values) or a `format` parameter picks the result formats."""

from __future__ import annotations

from flask import Response, request

from kg.errors import InputError
from kg.executor import Answer

# media type -> kg.results format name
TABULAR = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
GRAPH = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "xml",
    "application/x-turtle": "turtle",
    "text/plain": "nt",
    "application/json": "jsonld",
    "application/xml": "xml",
}
FORMAT_PARAM = {
    "json": ("json", "jsonld"),
    "srj": ("json", "jsonld"),
    "xml": ("xml", "xml"),
    "srx": ("xml", "xml"),
    "csv": ("csv", "turtle"),
    "tsv": ("tsv", "turtle"),
    "turtle": ("json", "turtle"),
    "ttl": ("json", "turtle"),
    "nt": ("json", "nt"),
    "ntriples": ("json", "nt"),
    "jsonld": ("json", "jsonld"),
    "json-ld": ("json", "jsonld"),
    "rdfxml": ("xml", "xml"),
}
DEFAULT = ("json", "turtle")


def result_formats() -> tuple[str, str]:
    """(tabular format, graph format) for this request."""
    fmt = request.args.get("format")
    if not fmt and request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        fmt = request.form.get("format")
    if fmt:
        try:
            return FORMAT_PARAM[fmt.lower()]
        except KeyError:
            raise InputError(
                f"unknown format {fmt!r}",
                source="format parameter",
                hint=f"use one of: {', '.join(sorted(FORMAT_PARAM))}",
            ) from None
    accept = request.accept_mimetypes
    if not accept:
        return DEFAULT
    tab = accept.best_match(list(TABULAR))
    gra = accept.best_match(list(GRAPH))
    return (TABULAR[tab] if tab else DEFAULT[0], GRAPH[gra] if gra else DEFAULT[1])


def prefers_html() -> bool:
    """Whether a browser is asking (text/html preferred over every RDF type, and no `format` parameter)."""
    if request.args.get("format"):
        return False
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", *GRAPH, *TABULAR])
    return best == "text/html" and accept["text/html"] > 0


def graph_format() -> str:
    """The RDF syntax for a graph response (format parameter, then Accept, else Turtle)."""
    if request.args.get("format"):
        return result_formats()[1]
    best = request.accept_mimetypes.best_match(list(GRAPH))
    return GRAPH[best] if best else DEFAULT[1]


def answer_response(answer: Answer) -> Response:
    """A query answer as an HTTP response: its media type (UTF-8), `Vary: Accept`, row count, truncation."""
    resp = Response(answer.body, mimetype=answer.media_type)
    if answer.media_type.startswith("text/") or "json" in answer.media_type or "xml" in answer.media_type:
        resp.headers["Content-Type"] = f"{answer.media_type}; charset=utf-8"
    resp.headers["Vary"] = "Accept"
    if answer.rows is not None:
        resp.headers["X-Result-Rows"] = str(answer.rows)
    if answer.truncated:
        from kg.executor import limit_link
        from kg.web.services import limits_url

        resp.headers["X-Result-Truncated"] = answer.truncated
        resp.headers["Link"] = f'<{limit_link(limits_url(), answer.truncated)}>; rel="describedby"'
    return resp
