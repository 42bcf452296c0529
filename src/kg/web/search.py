"""`/search?q=`: the resources whose label or alternative label holds the words searched for, ranked (exact
label, label starting with them, a word starting with them, anywhere; preferred labels before alternative
ones, shorter before longer), each with its classes; HTML for browsers, JSON for the rest.

The words are bound by the engine as literals (`?w1`...), never written into the query text.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from kg.errors import InputError
from kg.results import short
from kg.web import conneg
from kg.web.links import href
from kg.web.services import Services, current

bp = Blueprint("search", __name__)

MAX_WORDS = 6
MAX_CHARS = 200
HITS = 50  # resources listed
ROWS = 1000  # matching labels read, best ranked first
_LABELS = (RDFS.label, SKOS.prefLabel, SKOS.altLabel)


def _query(words: int) -> str:
    conditions = " && ".join(f"CONTAINS(?l, ?w{i})" for i in range(1, words + 1))
    return f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?s ?label ?p ?rank ?class ?main WHERE {{
  VALUES ?p {{ rdfs:label skos:prefLabel skos:altLabel }}
  ?s ?p ?label .
  BIND (LCASE(STR(?label)) AS ?l)
  FILTER ({conditions})
  BIND (IF(?l = ?phrase, 0, IF(STRSTARTS(?l, ?phrase), 1,
        IF(CONTAINS(CONCAT(" ", ?l), CONCAT(" ", ?phrase)), 2, IF(CONTAINS(?l, ?phrase), 3, 4)))) AS ?rank)
  OPTIONAL {{ ?s a ?class }}
  OPTIONAL {{ ?s rdfs:label ?main FILTER (LANGMATCHES(LANG(?main), "en") || LANG(?main) = "") }}
}} ORDER BY ?rank STRLEN(?l) ?l ?s LIMIT {ROWS}"""


def search(svc: Services, text: str) -> dict:
    """The ranked hits for `text` (case-insensitive; every word must occur in the label)."""
    phrase = " ".join(text.lower().split())
    words = phrase.split()[:MAX_WORDS]
    if not words:
        return {"query": text, "results": [], "more": False}
    bindings = {"phrase": Literal(phrase), **{f"w{i}": Literal(w) for i, w in enumerate(words, start=1)}}
    rows = svc.select(_query(len(words)), bindings)
    ontology = svc.ontology_graph()
    hits: dict[str, dict] = {}
    for r in rows:
        if r["s"]["type"] != "uri":
            continue
        iri = r["s"]["value"]
        alt = r["p"]["value"] == str(SKOS.altLabel)
        key = (int(r["rank"]["value"]), alt, len(r["label"]["value"]))
        hit = hits.get(iri)
        if hit is None:
            hit = hits[iri] = {
                "iri": iri,
                "url": href(iri),
                "label": r["label"]["value"],
                "matched": r["label"]["value"],
                "property": short(URIRef(r["p"]["value"])),
                "classes": [],
                "_key": key,
            }
        elif key < hit["_key"]:
            hit.update(matched=r["label"]["value"], property=short(URIRef(r["p"]["value"])), _key=key)
        if "main" in r and not hit.get("_main"):
            hit.update(label=r["main"]["value"], _main=True)  # shown by its label, whichever label matched
        cls = r.get("class")
        if cls and cls["type"] == "uri" and all(c["iri"] != cls["value"] for c in hit["classes"]):
            label = ontology.value(URIRef(cls["value"]), RDFS.label)
            hit["classes"].append(
                {
                    "iri": cls["value"],
                    "url": href(cls["value"]),
                    "label": str(label) if label else short(URIRef(cls["value"])),
                }
            )
    ranked = sorted(hits.values(), key=lambda h: (h["_key"], h["label"].lower(), h["iri"]))
    for h in ranked:
        h["rank"] = h.pop("_key")[0]
        h.pop("_main", None)
    return {"query": text, "results": ranked[:HITS], "more": len(ranked) > HITS or len(rows) >= ROWS}


@bp.get("/search")
def search_page() -> Response:
    text = request.args.get("q", "").strip()
    if len(text) > MAX_CHARS:
        raise InputError(f"the search text is longer than {MAX_CHARS} characters", source="q parameter")
    found = search(current(), text) if text else {"query": "", "results": [], "more": False}
    if conneg.prefers_html():
        html = render_template("search.html", found=found, search_text=text)
        resp = Response(html, mimetype="text/html")
    else:
        if not text:
            raise InputError("give the words to search for as ?q=", source="q parameter")
        resp = jsonify(found)
    resp.headers["Vary"] = "Accept"
    return resp
