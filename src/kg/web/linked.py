"""Linked Data: a page for every IRI (`/resource?iri=`), our own IRIs at their own paths (`/id/...`, `/graph/...`,
`/ontology`) whatever the server's public base, by content negotiation: HTML for browsers, RDF for the rest."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from rdflib import URIRef
from rdflib.namespace import OWL

from kg.errors import InputError, NotFound, QuerySyntaxError
from kg.namespaces import GRAPH, IFD, ONTOLOGY_IRI, SYNTHETIC
from kg.results import GRAPH_FORMATS
from kg.sparqltext import is_absolute_iri
from kg.web import conneg
from kg.web.describe import DESCRIBE, PAGE, SORT_ALL, Describer, Group
from kg.web.links import add_link_header, alternates, href, local_path
from kg.web.services import current

bp = Blueprint("linked", __name__)
bp.add_app_template_filter(href, "href")

_GRAPH_EXISTS = "ASK { GRAPH ?g { ?s ?p ?o } }"
_GRAPH_CONTENT = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
_GRAPH_SIZE = "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?m) WHERE { GRAPH ?g { ?s ?p ?o } }"


def _page_url(view_url: str):  # type: ignore[no-untyped-def]
    """A function for the template: the URL of one group's page (or of the whole page when the group is None)."""
    from urllib.parse import urlencode

    def url(group: Group | None, page: int) -> str:
        base = view_url
        if group is None:
            return base
        args = {"dir": group.direction, "page": page}
        if group.property.get("iri"):
            args["p"] = group.property["iri"]
        return f"{base}{'&' if '?' in base else '?'}{urlencode(args)}"

    return url


def _focus() -> tuple[str, str | None, int] | None:
    """The group a request asks for (`dir`, `p`, `page`), if any."""
    direction = request.args.get("dir")
    if not direction:
        return None
    if direction not in ("out", "in", "instances"):
        raise InputError(f"dir must be out, in or instances, not {direction!r}", source="dir parameter")
    prop = request.args.get("p")
    if direction != "instances" and (not prop or not is_absolute_iri(prop)):
        raise InputError("give the property as an absolute IRI in p=", source="p parameter")
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        raise InputError("page must be a number", source="page parameter") from None
    return direction, prop, page


def describe(iri: URIRef, *, view_url: str, graph: dict | None = None) -> Response:
    """The page of `iri` (HTML for a browser), or its description in the RDF syntax the client asks for."""
    svc = current()
    describer = Describer(svc, iri)
    try:
        known = describer.exists()
    except QuerySyntaxError:  # not an IRI the store accepts (a control character in a path, say)
        raise NotFound(f"no resource <{iri}>") from None
    if not conneg.prefers_html():
        if not known:
            raise NotFound(f"nothing is known about <{iri}>")
        resp = conneg.answer_response(svc.query(DESCRIBE, bindings={"s": iri}, graph_format=conneg.graph_format()))
        return add_link_header(resp, view_url, html=False)
    if not known and graph is None:
        raise NotFound(f"nothing is known about <{iri}>")
    from kg.web.network import network_context

    d = describer.describe(_focus())
    extra = network_context(iri) if d.focus is None and graph is None else {}
    html = render_template(
        "resource.html",
        d=d,
        focus=d.focus is not None,
        graph=graph,
        alternates=alternates(view_url),
        page_url=_page_url(view_url),
        page_size=PAGE,
        sort_all=SORT_ALL,
        **extra,
    )
    return add_link_header(Response(html, mimetype="text/html"), view_url, html=True)


@bp.get("/resource")
def resource() -> Response:
    iri = request.args.get("iri", "").strip()
    if not is_absolute_iri(iri):
        raise InputError("give an absolute IRI as ?iri=", source="iri parameter")
    from urllib.parse import quote

    return describe(URIRef(iri), view_url="/resource?iri=" + quote(iri, safe=""))


@bp.get("/id/<path:rest>")
def own_resource(rest: str) -> Response:
    """This dataset's IRIs (`https://w3id.org/interfirm/id/...`) at their own path, whatever the public base."""
    iri = IFD[rest]
    if not is_absolute_iri(str(iri)):
        raise NotFound(f"no such resource: {request.path}")
    return describe(iri, view_url=local_path(str(iri)) or request.path)


@bp.get("/synthetic/<path:rest>")
def synthetic_resource(rest: str) -> Response:
    """What `kg generate` made up (`https://w3id.org/interfirm/synthetic/...`) resolves at its own path too."""
    iri = SYNTHETIC[rest]
    if not is_absolute_iri(str(iri)):
        raise NotFound(f"no such resource: {request.path}")
    return describe(iri, view_url=local_path(str(iri)) or request.path)


@bp.get("/graph/<path:rest>")
def named_graph(rest: str) -> Response:
    """A named graph's IRI: its triples for an RDF client, a page about it (size, provenance) for a browser."""
    iri = GRAPH[rest]
    svc = current()
    try:
        exists = is_absolute_iri(str(iri)) and b"true" in svc.query(_GRAPH_EXISTS, bindings={"g": iri}).body
    except QuerySyntaxError:  # not an IRI the store accepts
        exists = False
    if not exists:
        raise NotFound(f"no named graph <{iri}>")
    view_url = local_path(str(iri)) or request.path
    if not conneg.prefers_html():
        answer = svc.query(_GRAPH_CONTENT, bindings={"g": iri}, graph_format=conneg.graph_format())
        return add_link_header(conneg.answer_response(answer), view_url, html=False)
    size = svc.select(_GRAPH_SIZE, {"g": iri})[0]
    graph = {
        "triples": int(size["n"]["value"]),
        "subjects": int(size["m"]["value"]),
        "downloads": alternates(view_url),
    }
    return describe(iri, view_url=view_url, graph=graph)


@bp.get("/ontology")
@bp.get("/ontology/<version>")
def ontology(version: str | None = None) -> Response:
    """The ontology (its IRI, and its version IRI): documentation for a browser, else RDF."""
    from kg.web.ontology_doc import document

    svc = current()
    g = svc.ontology_graph()
    if version is not None and str(g.value(ONTOLOGY_IRI, OWL.versionIRI) or "") != f"{ONTOLOGY_IRI}/{version}":
        raise NotFound(f"no ontology version {version!r}", hint="/ontology is the current version")
    view_url = request.path
    if not conneg.prefers_html():
        media, name = GRAPH_FORMATS[conneg.graph_format()]
        resp = Response(g.serialize(format=name, encoding="utf-8"), mimetype=media)
        return add_link_header(resp, view_url, html=False)
    doc = svc.per_generation("ontology-doc", lambda: document(g))
    html = render_template("ontology.html", doc=doc, alternates=alternates(view_url))
    return add_link_header(Response(html, mimetype="text/html"), view_url, html=True)
