"""Content negotiation: Accept (with q-values) or a `format` parameter picks the result formats."""

from __future__ import annotations

from flask import Response, request

from kg.errors import InputError
from kg.executor import Answer

DEFAULT_TABULAR, DEFAULT_GRAPH = "json", "turtle"
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
    "application/turtle": "turtle",
    # N3 clients (SPARQLWrapper's N3) read Turtle, which is N3
    "text/n3": "turtle",
    "text/rdf+n3": "turtle",
    "application/n3": "turtle",
    "text/plain": "nt",
    "application/json": "jsonld",
    "application/xml": "xml",
}
# `format` values (also SPARQLWrapper's `output`/`results` names and media types) -> (tabular, graph) format
FORMAT_PARAM = {
    "json": ("json", "jsonld"),
    "srj": ("json", "jsonld"),
    "xml": ("xml", "xml"),
    "srx": ("xml", "xml"),
    "csv": ("csv", "turtle"),
    "tsv": ("tsv", "turtle"),
    "turtle": ("json", "turtle"),
    "ttl": ("json", "turtle"),
    "n3": ("json", "turtle"),
    "nt": ("json", "nt"),
    "ntriples": ("json", "nt"),
    "n-triples": ("json", "nt"),
    "jsonld": ("json", "jsonld"),
    "json-ld": ("json", "jsonld"),
    "rdfxml": ("xml", "xml"),
    "rdf+xml": ("xml", "xml"),
    "rdf": ("xml", "xml"),
}
# a media type given as a format value (SPARQLWrapper sends `format=rdf+xml&format=application/rdf+xml`)
FORMAT_MEDIA = {
    **{media: (fmt, DEFAULT_GRAPH) for media, fmt in TABULAR.items()},
    **{media: (DEFAULT_TABULAR, fmt) for media, fmt in GRAPH.items()},
    "application/json": ("json", "jsonld"),
    "application/xml": ("xml", "xml"),
    "text/xml": ("xml", "xml"),
}
DEFAULT = (DEFAULT_TABULAR, DEFAULT_GRAPH)


def _format_values() -> list[str]:
    """The `format` values of this request (query string, then a form body)."""
    values = request.args.getlist("format")
    if not values and request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        values = request.form.getlist("format")
    return [v for v in values if v]


def _named_format(values: list[str]) -> tuple[str, str] | None:
    """(tabular, graph) for the first `format` value this server knows, by name or media type."""
    for value in values:
        key = value.strip().lower()
        if key in FORMAT_PARAM:
            return FORMAT_PARAM[key]
        media = key.split(";", 1)[0].strip()
        if media in FORMAT_MEDIA:
            return FORMAT_MEDIA[media]
    return None


def _accept_is_specific() -> bool:
    """Whether Accept names a result type this server writes (not only wildcards)."""
    return any(
        value in TABULAR or value in GRAPH for value, q in request.accept_mimetypes if q > 0 and "*" not in value
    )


def result_formats() -> tuple[str, str]:
    """(tabular format, graph format) for this request: a known `format` value, else Accept, else the defaults.

    An unknown `format` value is an error unless the Accept header names a type this server writes: then the
    header decides (clients send `format` for other servers' sake).
    """
    values = _format_values()
    if values:
        named = _named_format(values)
        if named is not None:
            return named
        if not _accept_is_specific():
            raise InputError(
                f"unknown format {values[0]!r}",
                source="format parameter",
                hint=f"use one of: {', '.join(sorted(FORMAT_PARAM))} (or a media type, or an Accept header)",
            )
    accept = request.accept_mimetypes
    if not accept:
        return DEFAULT
    tab = accept.best_match(list(TABULAR))
    gra = accept.best_match(list(GRAPH))
    return (TABULAR[tab] if tab else DEFAULT[0], GRAPH[gra] if gra else DEFAULT[1])


HTML_TYPES = ("text/html", "application/xhtml+xml")


def prefers_html() -> bool:
    """Whether a browser is asking: text/html named in Accept (not only through a wildcard) with a quality at
    least that of every RDF and result type, and no `format` parameter. `*/*` alone (curl) is not a browser."""
    if _format_values():
        return False
    accept = request.accept_mimetypes
    html = max((q for value, q in accept if value in HTML_TYPES), default=0)
    if html <= 0:
        return False
    return all(accept[media] <= html for media in (*GRAPH, *TABULAR))


def graph_format() -> str:
    """The RDF syntax for a graph response (format parameter, then Accept, else Turtle)."""
    if _format_values():
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
