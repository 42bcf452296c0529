"""Service description and VoID/DCAT, health, OpenAPI, the limits document, the paper's text, and complete dumps."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import rdflib
from flask import Blueprint, Response, render_template, request, send_file, url_for
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS, XSD

from kg import __version__
from kg.build import checksum_node
from kg.dumps import SYNTAXES, Dump
from kg.errors import NotFound
from kg.namespaces import DATA_LICENSE, IFD, PREFIXES
from kg.results import GRAPH_FORMATS
from kg.web import conneg, error_response
from kg.web.services import current

bp = Blueprint("meta", __name__)
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
IANA = Namespace("http://www.iana.org/assignments/media-types/")
DUMP_WAIT = 10.0  # seconds a dump request waits for the dumps of a new store generation before 503

_STATS = """SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
(COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }"""
_CLASSES = "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c"
_PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p"
_GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
_LINKS = """SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?o), "http://www.wikidata.org/entity/")) }
GROUP BY ?p ORDER BY ?p"""
_AGGREGATES = {"stats": _STATS, "graphs": _GRAPHS, "classes": _CLASSES, "properties": _PROPERTIES, "links": _LINKS}


def _statistics() -> dict[str, list[dict]]:
    """The VoID statistics (whole-store aggregates): computed once per store generation, not per request."""
    svc = current()
    return svc.per_generation("void", lambda: {key: svc.select(query) for key, query in _AGGREGATES.items()})


def _int(b: dict) -> int:
    return int(b["value"])


def description_graph() -> rdflib.Graph:
    """The SPARQL 1.1 Service Description of this endpoint, with a VoID description computed from the data."""
    svc = current()
    statistics = _statistics()
    base = svc.settings.public_base.rstrip("/")  # the configured public base, never the request's Host header
    endpoint = URIRef(base + "/sparql")
    dataset = URIRef(base + "/dataset")
    g = rdflib.Graph()
    for prefix, ns in {**PREFIXES, "sd": str(SD), "void": str(VOID), "dcat": str(DCAT)}.items():
        g.bind(prefix, ns)
    g.add((endpoint, RDF.type, SD.Service))
    g.add((endpoint, SD.endpoint, endpoint))
    g.add((endpoint, SD.supportedLanguage, SD.SPARQL11Query))
    if svc.settings.update_token:  # updates are accepted, with the token
        g.add((endpoint, SD.supportedLanguage, SD.SPARQL11Update))
    g.add((endpoint, SD.feature, SD.UnionDefaultGraph))
    for fmt in (
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "N-Triples",
        "JSON-LD",
        "RDF_XML",
    ):
        g.add((endpoint, SD.resultFormat, FORMATS[fmt]))
    default_dataset = BNode()
    g.add((endpoint, SD.defaultDataset, default_dataset))
    g.add((default_dataset, RDF.type, SD.Dataset))
    default_graph = BNode()
    g.add((default_dataset, SD.defaultGraph, default_graph))
    g.add((default_graph, RDF.type, SD.Graph))
    g.add((default_graph, RDFS.comment, Literal("the union of all named graphs", lang="en")))
    stats = statistics["stats"][0]
    g.add((default_graph, VOID.triples, Literal(_int(stats["triples"]))))
    for row in statistics["graphs"]:
        ng, graph = BNode(), BNode()
        g.add((default_dataset, SD.namedGraph, ng))
        g.add((ng, SD.name, URIRef(row["g"]["value"])))
        g.add((ng, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, VOID.triples, Literal(_int(row["n"]))))

    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title, Literal("interfirm-kg: inter-firm cooperation (UNCTAD/ITE/EDS/2, 1997)", lang="en")))
    g.add((dataset, DCTERMS.source, IFD["unctad-ite-eds-2"]))
    g.add((dataset, DCTERMS.hasVersion, Literal(__version__)))
    g.add((dataset, VOID.sparqlEndpoint, endpoint))
    g.add((dataset, VOID.uriSpace, Literal(str(IFD))))
    g.add((dataset, VOID.vocabulary, URIRef("https://w3id.org/interfirm/ontology#")))
    g.add((dataset, VOID.triples, Literal(_int(stats["triples"]))))
    g.add((dataset, VOID.distinctSubjects, Literal(_int(stats["subjects"]))))
    g.add((dataset, VOID.distinctObjects, Literal(_int(stats["objects"]))))
    g.add((dataset, VOID.properties, Literal(_int(stats["properties"]))))
    g.add((dataset, DCTERMS.license, DATA_LICENSE))
    _distributions(g, dataset, svc.dumps(), base)
    classes = statistics["classes"]
    g.add((dataset, VOID.classes, Literal(len(classes))))
    for row in classes:
        part = BNode()
        g.add((dataset, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(row["c"]["value"])))
        g.add((part, VOID.entities, Literal(_int(row["n"]))))
    for row in statistics["properties"]:
        part = BNode()
        g.add((dataset, VOID.propertyPartition, part))
        g.add((part, VOID.property, URIRef(row["p"]["value"])))
        g.add((part, VOID.triples, Literal(_int(row["n"]))))
    wikidata = URIRef("http://www.wikidata.org/")
    g.add((wikidata, RDF.type, VOID.Dataset))
    g.add((wikidata, VOID.uriSpace, Literal("http://www.wikidata.org/entity/")))
    for row in statistics["links"]:
        ls = URIRef(f"{dataset}#linkset-wikidata-{row['p']['value'].rsplit('#', 1)[-1].rsplit('/', 1)[-1]}")
        g.add((dataset, VOID.subset, ls))
        g.add((ls, RDF.type, VOID.Linkset))
        g.add((ls, VOID.subjectsTarget, dataset))
        g.add((ls, VOID.objectsTarget, wikidata))
        g.add((ls, VOID.linkPredicate, URIRef(row["p"]["value"])))
        g.add((ls, VOID.triples, Literal(_int(row["n"]), datatype=XSD.integer)))
    return g


def _distributions(g: rdflib.Graph, dataset: URIRef, written: dict[str, Dump] | None, base: str) -> None:
    """Each dump as a VoID data dump and a DCAT distribution (plain and gzip) at the public `base`, with its byte
    size and SHA-256 checksum once the dumps of this store generation are written. A remote store has no dumps
    here."""
    if current().settings.store == "sparql":
        return
    for ext, syntax in SYNTAXES.items():
        for gz in (False, True):
            name = f"interfirm.{ext}" + (".gz" if gz else "")
            url = URIRef(base + url_for("meta.dump", name=name))
            dist = URIRef(f"{dataset}#dump-{ext}" + ("-gz" if gz else ""))
            g.add((dataset, VOID.dataDump, url))
            g.add((dataset, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, Literal(syntax.title + (", gzip" if gz else ""), lang="en")))
            g.add((dist, DCAT.downloadURL, url))
            g.add((dist, DCAT.mediaType, IANA[syntax.media_type]))
            g.add((dist, DCTERMS.license, DATA_LICENSE))
            if gz:
                g.add((dist, DCAT.compressFormat, IANA["application/gzip"]))
            if written is not None:
                d = written[ext]
                size, sha = (d.gzip_bytes, d.gzip_sha256) if gz else (d.bytes, d.sha256)
                g.add((dist, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
                checksum_node(g, dist, sha)


def service_description() -> Response:
    """GET /sparql without a query: the UI for a browser, else the service description by conneg."""
    if conneg.prefers_html():
        from kg.web.ui import page

        return page()
    media, name = GRAPH_FORMATS[conneg.graph_format()]
    resp = Response(description_graph().serialize(format=name, encoding="utf-8"), mimetype=media)
    resp.headers["Vary"] = "Accept"
    return resp


@bp.get("/dataset")
def dataset() -> Response:
    """The dataset's description: a page for a browser, else RDF (VoID, DCAT, service description)."""
    if conneg.prefers_html():
        from kg.web.datasetpage import page

        return page()
    return service_description()


@bp.get("/health")
def health() -> Response:
    answer = current().query("ASK { ?s ?p ?o }")
    ok = b"true" in answer.body
    return Response(
        json.dumps({"status": "ok" if ok else "empty"}) + "\n", status=200 if ok else 503, mimetype="application/json"
    )


@bp.get("/dumps/<name>")
def dump(name: str) -> Response:
    """A complete dump (`interfirm.EXT`, or `interfirm.EXT.gz` for the gzip file), from the files written once
    per store generation: gzip-encoded when the client accepts it, else decompressed on the fly."""
    ext = name.removeprefix("interfirm.").removesuffix(".gz")
    if not name.startswith("interfirm.") or ext not in SYNTAXES:
        names = ", ".join(f"interfirm.{e}[.gz]" for e in SYNTAXES)
        raise NotFound(f"no dump named {name!r}; available: {names}")
    svc = current()
    if svc.settings.store == "sparql":
        raise NotFound("this server answers for a remote SPARQL store and keeps no dump of it; ask that store")
    written = svc.dumps(wait=min(DUMP_WAIT, svc.settings.query_timeout))
    if written is None:
        resp = error_response(503, "the dumps of this version of the data are being written; retry in a few seconds")
        resp.headers["Retry-After"] = "5"
        return resp
    d = written[ext]
    media = f"{d.syntax.media_type}; charset=utf-8"
    if name.endswith(".gz"):
        resp = send_file(
            d.path, mimetype="application/gzip", as_attachment=True, download_name=name, etag=d.gzip_sha256
        )
        return resp
    if request.accept_encodings["gzip"] > 0:  # the same bytes, sent as gzip content-coding (RFC 9110, 8.4)
        resp = send_file(d.path, mimetype=media, etag=d.gzip_sha256)
        resp.headers["Content-Encoding"] = "gzip"
    else:
        resp = Response(_gunzip(d.path), mimetype=media)
        resp.headers["Content-Length"] = str(d.bytes)
        resp.set_etag(d.sha256)
        resp.make_conditional(request)
    resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Content-Disposition"] = f"attachment; filename={name}"
    return resp


def _gunzip(path: Path) -> Iterator[bytes]:
    with gzip.open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            yield chunk


@bp.get("/sources/<name>")
def source_text(name: str) -> Response:
    """The primary source's text (`sources/` of the repository), which the provenance graph names."""
    path = current().paper_text()
    if path is None or name != path.name:
        raise NotFound(f"no source text named {name!r}")
    return send_file(path, mimetype="text/plain", etag=True, max_age=3600)  # werkzeug adds charset=utf-8


@bp.get("/limits")
def limits() -> Response:
    """What this server limits, with the values it runs with: the document a cut result links to."""
    s = current().settings
    items = [
        (
            "result-rows",
            "Rows per result",
            f"{s.max_result_rows:,}",
            "KG_MAX_RESULT_ROWS",
            "A SELECT answers at most this many rows, a CONSTRUCT or DESCRIBE this many triples. A cut result is "
            "answered with 200 and says so: the X-Result-Truncated header (rows=N), a Link header to this "
            "section, a link in the head of SPARQL JSON (head.link) and SPARQL XML (<link href>) results, and a "
            "comment at the top of Turtle and N-Triples. Add LIMIT and OFFSET (with ORDER BY) to page through a "
            "larger result, or download a complete dump.",
        ),
        (
            "result-bytes",
            "Bytes per result",
            f"{s.max_result_bytes:,}",
            "KG_MAX_RESULT_BYTES",
            "A result whose body would be larger is cut by halves until it fits, and says so as above "
            "(X-Result-Truncated: bytes=N).",
        ),
        (
            "query-time",
            "Seconds per query",
            f"{s.query_timeout:g}",
            "KG_QUERY_TIMEOUT",
            "A query still running then is stopped and answered with 503.",
        ),
        (
            "query-length",
            "Characters per query",
            f"{s.max_query_chars:,}",
            "KG_MAX_QUERY_CHARS",
            "A longer query is answered with 400.",
        ),
        (
            "body-size",
            "Bytes per request body",
            f"{s.max_body_bytes:,}",
            "KG_MAX_BODY_BYTES",
            "A larger body is answered with 413.",
        ),
        (
            "rate",
            "Requests per client and minute",
            f"{s.rate_limit_per_minute:,}",
            "KG_RATE_LIMIT_PER_MINUTE",
            "Past it, 429 with Retry-After (0: no limit).",
        ),
    ]
    dumps_url = url_for("meta.dump", name="interfirm.nq", _external=True)
    if not conneg.prefers_html() and request.accept_mimetypes.best_match(["application/json", "text/plain"]) == (
        "application/json"
    ):
        body = {k: {"title": t, "limit": v, "setting": e, "what": w} for k, t, v, e, w in items}
        return Response(json.dumps(body, indent=2) + "\n", mimetype="application/json")
    html = render_template("limits.html", items=items, dumps_url=dumps_url)
    resp = Response(html, mimetype="text/html")
    resp.headers["Vary"] = "Accept"
    return resp


@bp.get("/openapi.json")
def openapi() -> Response:
    from kg.web.openapi import spec

    return Response(json.dumps(spec(), indent=2), mimetype="application/json")
