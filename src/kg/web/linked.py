"""Linked Data: a page for every IRI (`/resource?iri=`, and `/id/...` for our own), and the ontology's documentation."""

from __future__ import annotations

import math

import rdflib
from flask import Blueprint, Response, abort, render_template, request
from rdflib import URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg.errors import InputError, NotFound
from kg.namespaces import IFC, IFD, PAPER, SYNTHETIC
from kg.results import GRAPH_FORMATS, short
from kg.sparqltext import is_absolute_iri
from kg.web import conneg
from kg.web.services import current

bp = Blueprint("linked", __name__)

# The IRI (?s or ?o) is bound by the store: a VALUES block at the start of the WHERE clause
# (`kg.store.base.with_values`; rdflib's initBindings in the memory store). Duplicate rows from several labels
# are dropped in Python (`_first`, the first label in sort order wins), not by GROUP BY.
_OUT = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?p ?o ?label WHERE { ?s ?p ?o OPTIONAL { ?o rdfs:label ?label } } ORDER BY ?p ?o ?label LIMIT 2000"""
_IN = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?s ?p ?label WHERE { ?s ?p ?o OPTIONAL { ?s rdfs:label ?label } } ORDER BY ?p ?s ?label LIMIT 2000"""
_EXISTS = "ASK { { ?s ?p ?o } UNION { ?x ?q ?s } }"
_DESCRIBE = "CONSTRUCT { ?s ?p ?o . ?x ?q ?s } WHERE { { ?s ?p ?o } UNION { ?x ?q ?s } }"
# what a resource was derived from, and whether that is part of the paper or made up by `kg generate`
_PROVENANCE = f"""PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?part ?label ?inPaper ?synthetic WHERE {{
  ?s prov:wasDerivedFrom ?part OPTIONAL {{ ?part rdfs:label ?label }}
  BIND (EXISTS {{ ?part dcterms:isPartOf* <{PAPER}> }} AS ?inPaper)
  BIND (STRSTARTS(STR(?part), "{SYNTHETIC}") AS ?synthetic)
}} ORDER BY ?part ?label"""
_NETWORK = """PREFIX ifc: <https://w3id.org/interfirm/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?a ?agreement ?p ?partner WHERE {
  ?a ifc:hasPartner ?s , ?p . FILTER (?p != ?s)
  OPTIONAL { ?a rdfs:label ?agreement } OPTIONAL { ?p rdfs:label ?partner }
} ORDER BY ?p ?a ?agreement ?partner"""


def _first(rows: list[dict], *keys: str) -> list[dict]:
    """The first row for each combination of `keys` (rows come sorted, so the first label wins)."""
    seen: set[tuple] = set()
    out = []
    for row in rows:
        key = tuple((row[k]["type"], row[k]["value"]) for k in keys)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def _true(row: dict, key: str) -> bool:
    return row.get(key, {}).get("value") in ("true", "1")


def _term(binding: dict) -> dict:
    value = binding["value"]
    if binding["type"] == "uri":
        return {"iri": value, "text": short(URIRef(value))}
    if binding["type"] == "bnode":
        return {"text": "_:" + value}
    extra = f" @{binding['xml:lang']}" if "xml:lang" in binding else ""
    return {"text": value + extra, "literal": True}


def network_svg(name: str, links: list[dict]) -> str:
    """A star picture of a firm's partners: the firm in the centre, one spoke per partner."""
    partners: dict[str, str] = {}
    for row in links:
        partners.setdefault(row["p"]["value"], row.get("partner", {}).get("value", short(URIRef(row["p"]["value"]))))
    n = max(len(partners), 1)
    size, r = 520, 190
    cx = cy = size / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
        'role="img" aria-label="partnership network">'
    ]
    for i, (iri, label) in enumerate(sorted(partners.items(), key=lambda kv: kv[1])):
        angle = 2 * math.pi * i / n - math.pi / 2
        x, y = cx + r * math.cos(angle), cy + r * math.sin(angle)
        parts.append(f'<line x1="{cx:.0f}" y1="{cy:.0f}" x2="{x:.0f}" y2="{y:.0f}" stroke="#888"/>')
        href = f"/resource?iri={_q(iri)}"
        parts.append(
            f'<a href="{href}"><circle cx="{x:.0f}" cy="{y:.0f}" r="7" fill="#2a6"/>'
            f'<text x="{x:.0f}" y="{y - 12:.0f}" text-anchor="middle" font-size="12">{_esc(label)}</text></a>'
        )
    parts.append(
        f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="10" fill="#c33"/>'
        f'<text x="{cx:.0f}" y="{cy + 26:.0f}" text-anchor="middle" font-size="13" font-weight="bold">'
        f"{_esc(name)}</text></svg>"
    )
    return "".join(parts)


def _q(iri: str) -> str:
    from urllib.parse import quote

    return quote(iri, safe="")


def _esc(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def describe(iri: URIRef) -> Response:
    svc = current()
    if not conneg.prefers_html():
        fmt = conneg.graph_format()
        if b"true" not in svc.query(_EXISTS, bindings={"s": iri}).body:
            raise NotFound(f"nothing is known about <{iri}>")
        return conneg.answer_response(svc.query(_DESCRIBE, bindings={"s": iri}, graph_format=fmt))
    out = _first(svc.select(_OUT, {"s": iri}), "p", "o")
    incoming = _first(svc.select(_IN, {"o": iri}), "s", "p")
    if not out and not incoming:
        raise NotFound(f"nothing is known about <{iri}>")
    rows = [{"p": _term(b["p"]), "o": _term(b["o"]), "label": b.get("label", {}).get("value")} for b in out]
    inc = [{"s": _term(b["s"]), "p": _term(b["p"]), "label": b.get("label", {}).get("value")} for b in incoming]
    label = next((r["o"]["text"] for r in rows if r["p"].get("iri") == str(RDFS.label)), short(iri))
    label = label.removesuffix(" @en")
    types = [r for r in rows if r["p"].get("iri") == str(RDF.type)]
    provenance: dict[str, list[dict]] = {"paper": [], "synthetic": [], "other": []}
    for b in _first(svc.select(_PROVENANCE, {"s": iri}), "part"):
        kind = "synthetic" if _true(b, "synthetic") else "paper" if _true(b, "inPaper") else "other"
        provenance[kind].append({"part": _term(b["part"]), "label": b.get("label", {}).get("value")})
    synthetic = str(iri).startswith(str(SYNTHETIC))
    network = _first(svc.select(_NETWORK, {"s": iri}), "a", "p")
    svg = network_svg(label, network) if network else None
    html = render_template(
        "resource.html",
        iri=str(iri),
        label=label,
        types=types,
        rows=rows,
        incoming=inc,
        provenance=provenance,
        synthetic=synthetic,
        svg=svg,
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Vary"] = "Accept"
    return resp


@bp.get("/resource")
def resource() -> Response:
    iri = request.args.get("iri", "").strip()
    if not is_absolute_iri(iri):
        raise InputError("give an absolute IRI as ?iri=", source="iri parameter")
    return describe(URIRef(iri))


@bp.get("/id/<path:rest>")
def own_resource(rest: str) -> Response:
    """Our own IRIs resolve at their own path when this server's public base matches the namespace."""
    base = current().settings.public_base.rstrip("/") + "/"
    if base != request.url_root:
        abort(404)
    return describe(IFD[rest])


@bp.get("/synthetic/<path:rest>")
def synthetic_resource(rest: str) -> Response:
    """What `kg generate` made up resolves at its own path too, under the same condition."""
    base = current().settings.public_base.rstrip("/") + "/"
    if base != request.url_root:
        abort(404)
    return describe(SYNTHETIC[rest])


@bp.get("/ontology")
def ontology() -> Response:
    g = current().ontology_graph()
    if not conneg.prefers_html():
        media, name = GRAPH_FORMATS[conneg.graph_format()]
        resp = Response(g.serialize(format=name, encoding="utf-8"), mimetype=media)
        resp.headers["Vary"] = "Accept"
        return resp

    def terms(kind: URIRef) -> list[dict]:
        out = []
        for t in sorted(set(g.subjects(RDF.type, kind))):
            if not str(t).startswith(str(IFC)):
                continue
            out.append(
                {
                    "id": str(t)[len(str(IFC)) :],
                    "iri": str(t),
                    "label": str(g.value(t, RDFS.label) or ""),
                    "definition": str(g.value(t, SKOS.definition) or ""),
                    "super": [short(s) for s in g.objects(t, RDFS.subClassOf) if isinstance(s, URIRef)]
                    + [short(s) for s in g.objects(t, RDFS.subPropertyOf) if isinstance(s, URIRef)],
                    "domain": [short(s) for s in g.objects(t, RDFS.domain) if isinstance(s, URIRef)],
                    "range": [short(s) for s in g.objects(t, RDFS.range) if isinstance(s, URIRef)],
                    "types": [short(s) for s in g.objects(t, RDF.type) if s != OWL.NamedIndividual],
                }
            )
        return out

    header = URIRef("https://w3id.org/interfirm/ontology")
    html = render_template(
        "ontology.html",
        title=str(g.value(header, rdflib.namespace.DCTERMS.title) or "Ontology"),
        description=str(g.value(header, rdflib.namespace.DCTERMS.description) or ""),
        version=str(g.value(header, OWL.versionInfo) or ""),
        classes=terms(OWL.Class),
        object_properties=terms(OWL.ObjectProperty),
        datatype_properties=terms(OWL.DatatypeProperty),
        individuals=terms(OWL.NamedIndividual),
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Vary"] = "Accept"
    return resp
