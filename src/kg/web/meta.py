"""Service description and VoID, health, OpenAPI, and downloadable dumps."""

from __future__ import annotations

import json

import rdflib
from flask import Blueprint, Response, url_for
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS, XSD

from kg import __version__
from kg.errors import NotFound
from kg.namespaces import IFD, PREFIXES
from kg.results import GRAPH_FORMATS
from kg.web import conneg
from kg.web.services import current

bp = Blueprint("meta", __name__)
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
DUMPS = {"ttl": "turtle", "nt": "nt", "jsonld": "jsonld"}  # file extension -> format (media type: GRAPH_FORMATS)

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
    for ext, fmt in DUMPS.items():
        dump = URIRef(base + url_for("meta.dump", ext=ext))
        dist = BNode()
        g.add((dataset, VOID.dataDump, dump))
        g.add((dataset, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCAT.downloadURL, dump))
        g.add((dist, DCAT.mediaType, Literal(GRAPH_FORMATS[fmt][0])))
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
    return service_description()


@bp.get("/health")
def health() -> Response:
    answer = current().query("ASK { ?s ?p ?o }")
    ok = b"true" in answer.body
    return Response(
        json.dumps({"status": "ok" if ok else "empty"}) + "\n", status=200 if ok else 503, mimetype="application/json"
    )


@bp.get("/dumps/interfirm.<ext>")
def dump(ext: str) -> Response:
    if ext not in DUMPS:
        raise NotFound(f"no dump in format {ext!r}; available: {', '.join(DUMPS)}")
    answer = current().query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", graph_format=DUMPS[ext])
    resp = conneg.answer_response(answer)
    del resp.headers["Vary"]  # a dump does not depend on Accept
    resp.headers["Content-Disposition"] = f"attachment; filename=interfirm.{ext}"
    return resp


@bp.get("/openapi.json")
def openapi() -> Response:
    from kg.web.openapi import spec

    return Response(json.dumps(spec(), indent=2), mimetype="application/json")
