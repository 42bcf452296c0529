"""The cooperation network: firms joined by their agreements (one edge per agreement and pair of partners,
labelled with the agreement's form and year), clusters and networks joined to their members.

`/network` draws the whole network (filters by form, sector and country), a firm's, cluster's or agreement's
page draws its neighbourhood to a chosen depth; both with the vendored Cytoscape.js, fed by `/network.json`.
Every IRI in a query is bound by the engine; only fixed pattern text is chosen by the request.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from rdflib import URIRef

from kg.errors import InputError
from kg.results import short
from kg.sparqltext import is_absolute_iri
from kg.web.links import href
from kg.web.services import Services, current

bp = Blueprint("network", __name__)

MAX_EDGES = 500  # agreements drawn at most (the page says when there are more): a browser lays out a few hundred
MAX_MEMBERS = 500  # membership edges drawn at most
DEPTHS = (1, 2, 3)

_PREFIXES = """PREFIX ifc: <https://w3id.org/interfirm/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
# the firms within the neighbourhood: the focus itself (or a cluster's members, an agreement's partners), then
# partners of partners, one optional step per extra level of depth
_START = "?focus (ifc:hasMember|ifc:hasPartner)?"
_STEP = "/(^ifc:hasPartner/ifc:hasPartner)?"
_FILTERS = {
    "form": "?a ifc:hasForm ?fform .",
    "sector": "?a ifc:inSector ?fsector .",
    "country": "?a ifc:hasPartner ?fcp . ?fcp ifc:basedIn ?fcountry .",
}
_GROUP_FILTERS = {"sector": "?c ifc:inSector ?fsector .", "country": "?c ifc:locatedIn ?fcountry ."}
_CHOICES = {
    "form": "SELECT ?v (MIN(STR(?l)) AS ?label) (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a ifc:hasPartner ?x ; "
    "ifc:hasForm ?v OPTIONAL { ?v rdfs:label ?l } } GROUP BY ?v ORDER BY ?label",
    "sector": "SELECT ?v (MIN(STR(?l)) AS ?label) (COUNT(DISTINCT ?a) AS ?n) WHERE { { ?a ifc:hasPartner ?x } UNION "
    "{ ?a ifc:hasMember ?x } ?a ifc:inSector ?v OPTIONAL { ?v rdfs:label ?l } } GROUP BY ?v ORDER BY ?label",
    # counted apart, then added: one join over partners and members together is slow on large stores
    "country": "SELECT ?v (MIN(STR(?l)) AS ?label) (SUM(?k) AS ?n) WHERE { "
    "{ SELECT ?v (COUNT(DISTINCT ?a) AS ?k) WHERE { ?a ifc:hasPartner ?x . ?x ifc:basedIn ?v } GROUP BY ?v } UNION "
    "{ SELECT ?v (COUNT(DISTINCT ?a) AS ?k) WHERE { ?a ifc:hasMember ?x ; ifc:locatedIn ?v } GROUP BY ?v } "
    "?v a ifc:Country OPTIONAL { ?v rdfs:label ?l } } GROUP BY ?v ORDER BY ?label",
}
_IN_NETWORK = _PREFIXES + "ASK { { ?focus ifc:hasPartner|^ifc:hasPartner|ifc:hasMember|^ifc:hasMember ?x } }"


def _agreements_query(depth: int | None, filters: list[str]) -> str:
    # no subquery: the engine binds ?focus and the filters in the top-level pattern only; no ORDER BY, so the
    # engine stops after the first rows of a large network
    scope = f"{_START}{_STEP * (depth - 1)} ?m . ?a ifc:hasPartner ?m ." if depth else ""
    patterns = " ".join(_FILTERS[f] for f in filters)
    return (
        _PREFIXES
        + f"""SELECT DISTINCT ?a ?alabel ?x ?xl ?y ?yl ?formLabel ?year WHERE {{
  {scope} ?a ifc:hasPartner ?x , ?y . FILTER (STR(?x) < STR(?y)) {patterns}
  OPTIONAL {{ ?a rdfs:label ?alabel }}
  OPTIONAL {{ ?x rdfs:label ?xl }}
  OPTIONAL {{ ?y rdfs:label ?yl }}
  OPTIONAL {{ ?a ifc:hasForm ?form . ?form rdfs:label ?formLabel }}
  OPTIONAL {{ ?a ifc:startYear ?year }}
}} LIMIT {MAX_EDGES * 4}"""
    )


def _groups_query(depth: int | None, filters: list[str]) -> str:
    """Clusters and networks (any subclass) with their members; in a neighbourhood, those holding one of its
    firms (or the focus itself)."""
    scope = f"{_START}{_STEP * (depth - 1)} ?m . ?c ifc:hasMember? ?m ." if depth else ""
    patterns = " ".join(_GROUP_FILTERS[f] for f in filters if f in _GROUP_FILTERS)
    return (
        _PREFIXES
        + f"""SELECT DISTINCT ?c ?cl ?kind ?member ?ml WHERE {{
  {scope} VALUES ?kind {{ ifc:Cluster ifc:Network }} ?c a/rdfs:subClassOf* ?kind . {patterns}
  OPTIONAL {{ ?c rdfs:label ?cl }}
  OPTIONAL {{ ?c ifc:hasMember ?member OPTIONAL {{ ?member rdfs:label ?ml }} }}
}} LIMIT {MAX_MEMBERS * 2}"""
    )


def _iri_arg(name: str) -> URIRef | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if not is_absolute_iri(value):
        raise InputError(f"{name} must be an absolute IRI, got {value!r}", source=f"{name} parameter")
    return URIRef(value)


def network(svc: Services, *, focus: URIRef | None, depth: int, filters: dict[str, URIRef]) -> dict:
    """Nodes and edges (Cytoscape.js elements) of the whole network or of `focus`'s neighbourhood."""
    bindings: dict = {f"f{k}": v for k, v in filters.items()}
    if focus is not None:
        bindings["focus"] = focus
    scope_depth = depth if focus is not None else None
    names = sorted(filters)
    rows = svc.select(_agreements_query(scope_depth, names), bindings)
    nodes: dict[str, dict] = {}
    edges: dict[tuple[str, str, str], dict] = {}

    def node(binding: dict, label: dict | None, kind: str) -> str:
        iri = binding["value"]
        if iri not in nodes:
            text = label["value"] if label else short(URIRef(iri))
            nodes[iri] = {"id": iri, "label": text, "kind": kind, "href": href(iri)}
        elif label and nodes[iri]["label"] == short(URIRef(iri)):
            nodes[iri]["label"] = label["value"]
        return iri

    for r in rows:
        x = node(r["x"], r.get("xl"), "firm")
        y = node(r["y"], r.get("yl"), "firm")
        key = (r["a"]["value"], x, y)
        edge = edges.setdefault(
            key,
            {
                "id": f"{key[0]} {x} {y}",
                "source": x,
                "target": y,
                "agreement": key[0],
                "href": href(key[0]),
                "title": r["alabel"]["value"] if "alabel" in r else short(URIRef(key[0])),
                "forms": [],
                "year": r["year"]["value"] if "year" in r else "",
                "kind": "agreement",
            },
        )
        form = r.get("formLabel", {}).get("value")
        if form and form not in edge["forms"]:
            edge["forms"].append(form)
    agreements = sorted({k[0] for k in edges})
    truncated = len(rows) >= MAX_EDGES * 4 or len(agreements) > MAX_EDGES
    if len(agreements) > MAX_EDGES:
        agreements = agreements[:MAX_EDGES]
        kept = set(agreements)
        edges = {k: e for k, e in edges.items() if k[0] in kept}
        drawn = {e["source"] for e in edges.values()} | {e["target"] for e in edges.values()}
        nodes = {k: n for k, n in nodes.items() if k in drawn}
    for edge in edges.values():
        edge["forms"].sort()
        edge["label"] = " ".join(x for x in (", ".join(edge["forms"]) or "agreement", edge["year"]) if x)

    members: list[dict] = []
    group_filters = [f for f in names if f in _GROUP_FILTERS]
    if focus is not None or not filters or group_filters:
        group_bindings = {k: v for k, v in bindings.items() if k == "focus" or k[1:] in group_filters}
        if focus is None and "form" in filters:
            group_rows: list[dict] = []  # a form filter is about agreements: no clusters
        else:
            group_rows = svc.select(_groups_query(scope_depth, group_filters), group_bindings)
        for r in group_rows:
            kind = "cluster" if r["kind"]["value"].endswith("#Cluster") else "network"
            c = node(r["c"], r.get("cl"), kind)
            if "member" in r and (focus is None or r["member"]["value"] in nodes or r["c"]["value"] == str(focus)):
                m = node(r["member"], r.get("ml"), "firm")
                members.append({"id": f"{c} member {m}", "source": c, "target": m, "label": "member", "kind": "member"})
    for e in [*edges.values(), *members]:
        e["source_label"], e["target_label"] = nodes[e["source"]]["label"], nodes[e["target"]]["label"]
    if focus is not None and str(focus) in nodes:
        nodes[str(focus)]["focus"] = True
    unique_members = {m["id"]: m for m in members}
    return {
        "nodes": sorted(nodes.values(), key=lambda n: n["label"].lower()),
        "edges": sorted(edges.values(), key=lambda e: (e["title"].lower(), e["id"])) + list(unique_members.values()),
        "agreements": len(agreements),
        "truncated": truncated,
        "limit": MAX_EDGES,
    }


def _filters() -> dict[str, URIRef]:
    out = {}
    for name in ("form", "sector", "country"):
        value = _iri_arg(name)
        if value is not None:
            out[name] = value
    return out


def _depth() -> int:
    raw = request.args.get("depth", "1")
    if not raw.isdigit() or int(raw) not in DEPTHS:
        raise InputError(f"depth must be one of {', '.join(map(str, DEPTHS))}, got {raw!r}", source="depth parameter")
    return int(raw)


def choices(svc: Services) -> dict[str, list[dict]]:
    """The forms, sectors and countries the filters offer (those in use), once per store generation."""

    def compute() -> dict[str, list[dict]]:
        return {
            name: [
                {
                    "iri": r["v"]["value"],
                    "label": r.get("label", {}).get("value") or short(URIRef(r["v"]["value"])),
                    "count": int(r["n"]["value"]),
                }
                for r in svc.select(_PREFIXES + query)
            ]
            for name, query in _CHOICES.items()
        }

    return svc.per_generation("network-choices", compute)


def in_network(svc: Services, iri: URIRef) -> bool:
    return b"true" in svc.query(_IN_NETWORK, bindings={"focus": iri}).body


def network_context(iri: URIRef) -> dict:
    """What a resource page needs to draw its neighbourhood (nothing when it has no place in the network)."""
    svc = current()
    if not in_network(svc, iri):
        return {}
    depth = _depth()
    data = network(svc, focus=iri, depth=depth, filters={})
    hidden = {k: v for k, v in request.args.items() if k == "iri"}
    return {"network": {"focus": str(iri), "depth": depth, "data": data, "depths": DEPTHS, "hidden": hidden}}


@bp.get("/network.json")
def network_json() -> Response:
    focus = _iri_arg("focus")
    data = network(current(), focus=focus, depth=_depth(), filters=_filters())
    return jsonify(data)


@bp.get("/network")
def network_page() -> Response:
    svc = current()
    filters = _filters()
    data = network(svc, focus=None, depth=1, filters=filters)
    html = render_template(
        "network.html",
        data=data,
        choices=choices(svc),
        selected={k: str(v) for k, v in filters.items()},
    )
    return Response(html, mimetype="text/html")
