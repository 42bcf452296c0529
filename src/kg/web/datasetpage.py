"""`/dataset` for a browser: the VoID and service description of the data as a page (sizes, named graphs,
classes, properties, links, dumps), read from the same graph RDF clients get."""

from __future__ import annotations

from flask import Response, render_template
from rdflib import URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from kg.results import short
from kg.web.links import add_link_header, alternates, href
from kg.web.meta import SD, VOID, description_graph
from kg.web.services import current


def _n(value: object) -> int:
    return int(value.toPython()) if value is not None else 0  # type: ignore[attr-defined]


def _here(url: str, base: str) -> str:
    """A public URL of this server as a path on this server, so the page's links work wherever it runs."""
    return url[len(base) :] if url.startswith(base + "/") else url


def page() -> Response:
    g = description_graph()
    base = current().settings.public_base.rstrip("/")  # the description names the public IRIs (see meta)
    dataset = URIRef(base + "/dataset")
    endpoint = URIRef(base + "/sparql")
    classes = sorted(
        (
            {
                "iri": str(g.value(p, VOID["class"])),
                "href": href(str(g.value(p, VOID["class"]))),
                "short": short(g.value(p, VOID["class"])),
                "count": _n(g.value(p, VOID.entities)),
            }
            for p in g.objects(dataset, VOID.classPartition)
        ),
        key=lambda c: (-c["count"], c["short"]),
    )
    properties = sorted(
        (
            {
                "iri": str(g.value(p, VOID.property)),
                "href": href(str(g.value(p, VOID.property))),
                "short": short(g.value(p, VOID.property)),
                "count": _n(g.value(p, VOID.triples)),
            }
            for p in g.objects(dataset, VOID.propertyPartition)
        ),
        key=lambda c: (-c["count"], c["short"]),
    )
    graphs = []
    default_dataset = g.value(endpoint, SD.defaultDataset)
    for ng in g.objects(default_dataset, SD.namedGraph):
        name = g.value(ng, SD.name)
        graphs.append(
            {"iri": str(name), "href": href(str(name)), "count": _n(g.value(g.value(ng, SD.graph), VOID.triples))}
        )
    graphs.sort(key=lambda x: x["iri"])
    dumps = sorted(
        (
            {"url": _here(str(g.value(d, DCAT.downloadURL)), base), "media": str(g.value(d, DCAT.mediaType))}
            for d in g.objects(dataset, DCAT.distribution)
        ),
        key=lambda d: d["url"],
    )
    linksets = [
        {"property": short(g.value(ls, VOID.linkPredicate)), "count": _n(g.value(ls, VOID.triples))}
        for ls in g.objects(dataset, VOID.subset)
        if (ls, RDF.type, VOID.Linkset) in g
    ]
    stats = {
        "title": str(g.value(dataset, DCTERMS.title) or "interfirm-kg"),
        "triples": _n(g.value(dataset, VOID.triples)),
        "subjects": _n(g.value(dataset, VOID.distinctSubjects)),
        "objects": _n(g.value(dataset, VOID.distinctObjects)),
        "properties": _n(g.value(dataset, VOID.properties)),
        "classes": _n(g.value(dataset, VOID.classes)),
        "version": str(g.value(dataset, DCTERMS.hasVersion) or ""),
    }
    html = render_template(
        "dataset.html",
        stats=stats,
        classes=classes,
        properties=properties,
        graphs=graphs,
        dumps=dumps,
        linksets=linksets,
        alternates=alternates("/dataset"),
        endpoint=str(endpoint),
    )
    return add_link_header(Response(html, mimetype="text/html"), "/dataset", html=True)
