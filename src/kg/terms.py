"""What the graph already holds for new case data to reuse: countries, regions, sectors, agreement forms, measures,
units and references, each a SELECT over the store (`kg terms KIND`)."""

from __future__ import annotations

from kg.errors import InputError
from kg.store.base import QueryResult, Store

_PREFIXES = """PREFIX ifc: <https://w3id.org/interfirm/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

# kind -> (what it lists, the query)
KINDS: dict[str, tuple[str, str]] = {
    "countries": (
        "countries with their economy type (what orientation checks use) and ISO code",
        """SELECT ?country ?label ?economyType ?iso WHERE {
            ?country a ifc:Country .
            OPTIONAL { ?country rdfs:label ?label FILTER (LANGMATCHES(LANG(?label), "en")) }
            OPTIONAL { ?country ifc:economyType ?economyType }
            OPTIONAL { ?country ifc:isoAlpha2 ?iso }
        } ORDER BY ?label""",
    ),
    "regions": (
        "regions (groups of countries)",
        """SELECT ?region ?label WHERE {
            ?region a ifc:Region .
            OPTIONAL { ?region rdfs:label ?label FILTER (LANGMATCHES(LANG(?label), "en")) }
        } ORDER BY ?label""",
    ),
    "sectors": (
        "sectors (ifc:inSector)",
        """SELECT ?sector ?label WHERE {
            ?sector a ifc:Sector .
            OPTIONAL { ?sector rdfs:label ?label FILTER (LANGMATCHES(LANG(?label), "en")) }
        } ORDER BY ?label""",
    ),
    "forms": (
        "agreement forms (ifc:hasForm) with their broader form; Table 1 cells: kg query table1-agreement-taxonomy",
        """SELECT ?form ?label ?broader WHERE {
            ?form a ifc:AgreementForm .
            OPTIONAL { ?form rdfs:label ?label FILTER (LANGMATCHES(LANG(?label), "en")) }
            OPTIONAL { ?form skos:broader ?broader }
        } ORDER BY ?label""",
    ),
    "measures": (
        "measures of statistics (ifc:measure)",
        """SELECT ?measure ?label WHERE {
            ?measure a ifc:Measure .
            OPTIONAL { ?measure rdfs:label ?label FILTER (LANGMATCHES(LANG(?label), "en")) }
        } ORDER BY ?label""",
    ),
    "units": (
        "units of statistics (ifc:unit)",
        """SELECT ?unit ?label WHERE {
            ?unit a ifc:Unit .
            OPTIONAL { ?unit rdfs:label ?label FILTER (LANGMATCHES(LANG(?label), "en")) }
        } ORDER BY ?label""",
    ),
    "references": (
        "publications cited as sources (dcterms:source), with title and year",
        """SELECT ?reference ?title ?issued WHERE {
            { SELECT DISTINCT ?reference WHERE { ?anything dcterms:source ?reference FILTER (isIRI(?reference)) } }
            OPTIONAL { ?reference dcterms:title ?title }
            OPTIONAL { ?reference dcterms:issued ?issued }
        } ORDER BY ?reference""",
    ),
}


def listing(store: Store, kind: str) -> QueryResult:
    """The terms of one kind in the store."""
    if kind not in KINDS:
        raise InputError(f"unknown kind of term {kind!r}", hint=f"use one of: {', '.join(KINDS)}")
    return store.query(_PREFIXES + KINDS[kind][1])
