"""Where an IRI is shown on this server: our own IRIs at their own path, any other at `/resource?iri=`;
and the `Link: rel=alternate` headers of pages that exist in several syntaxes."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Response

from kg.namespaces import BASE
from kg.results import GRAPH_FORMATS

# the RDF syntaxes a described resource is offered in (format parameter value, media type)
ALTERNATES = [(fmt, GRAPH_FORMATS[fmt][0]) for fmt in ("turtle", "jsonld", "nt", "xml")]
FORMAT_NAMES = {"turtle": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples", "xml": "RDF/XML"}


def local_path(iri: str) -> str | None:
    """The path of one of this dataset's IRIs on this server (`https://w3id.org/interfirm/id/x` -> `/id/x`),
    whatever the server's public base; None for any other IRI."""
    if iri.startswith(BASE) and len(iri) > len(BASE):
        return "/" + iri[len(BASE) :]
    return None


def href(iri: str) -> str:
    """The local page of any IRI: its own path for ours, `/resource?iri=` for the rest."""
    return local_path(iri) or "/resource?iri=" + quote(iri, safe="")


def with_format(url: str, fmt: str) -> str:
    """`url` with `format=fmt` added to its query string (before any fragment)."""
    path, _, fragment = url.partition("#")
    joined = f"{path}{'&' if '?' in path else '?'}{urlencode({'format': fmt})}"
    return f"{joined}#{fragment}" if fragment else joined


def alternates(url: str) -> list[dict[str, str]]:
    """The RDF versions of the page at `url`: format, media type, name and URL."""
    return [
        {"format": fmt, "media": media, "name": FORMAT_NAMES[fmt], "url": with_format(url, fmt)}
        for fmt, media in ALTERNATES
    ]


def add_link_header(resp: Response, url: str, *, html: bool) -> Response:
    """`Link: rel=alternate` to the other representations of `url` (the RDF syntaxes, and the HTML page when
    `resp` is not it), and `Vary: Accept`."""
    links = [f'<{a["url"]}>; rel="alternate"; type="{a["media"]}"' for a in alternates(url)]
    if not html:
        links.insert(0, f'<{url}>; rel="alternate"; type="text/html"')
    resp.headers["Link"] = ", ".join(links)
    resp.headers["Vary"] = "Accept"
    return resp
