"""What a resource page shows: its values grouped by property with a count per property and pages of values,
blank nodes written out inline, the instances of a class (its subclasses' included), and the RDF description.

Every IRI is bound by the engine (a VALUES block or initBindings), never written into the query text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

from kg.namespaces import PAPER, SYNTHETIC
from kg.results import short
from kg.web.links import href
from kg.web.services import Services

PAGE = 50  # values per property on a page
SORT_ALL = 2000  # up to this many values a property's values are read at once and sorted naturally
BNODE_DEPTH = 8  # levels of nested blank nodes written out (an owl:unionOf of six classes needs eight)

_PREFIXES = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
_COUNT_OUT = "SELECT ?p (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
_COUNT_IN = "SELECT ?p (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x ?p ?s } GROUP BY ?p"
_VALUES_OUT = (
    _PREFIXES
    + """SELECT ?v (MIN(STR(?l)) AS ?label) WHERE { ?s ?p ?v FILTER (!isBlank(?v)) OPTIONAL { ?v rdfs:label ?l } }
GROUP BY ?v ORDER BY ?label ?v"""
)
_VALUES_IN = (
    _PREFIXES
    + """SELECT ?v (MIN(STR(?l)) AS ?label) WHERE { ?v ?p ?s FILTER (!isBlank(?v)) OPTIONAL { ?v rdfs:label ?l } }
GROUP BY ?v ORDER BY ?label ?v"""
)
_INSTANCE_COUNT = _PREFIXES + "SELECT (COUNT(DISTINCT ?v) AS ?n) WHERE { ?c rdfs:subClassOf* ?s . ?v a ?c }"
_INSTANCES = (
    _PREFIXES
    + """SELECT ?v (MIN(STR(?l)) AS ?label) WHERE { ?c rdfs:subClassOf* ?s . ?v a ?c OPTIONAL { ?v rdfs:label ?l } }
GROUP BY ?v ORDER BY ?label ?v"""
)
_IS_CLASS = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX owl: <http://www.w3.org/2002/07/owl#>
ASK { { ?s a owl:Class } UNION { ?s a rdfs:Class } UNION { ?x a ?s } UNION { ?s rdfs:subClassOf ?y } }"""
_LABELS = _PREFIXES + """SELECT ?p ?l WHERE { VALUES ?p { rdfs:label skos:prefLabel } ?s ?p ?l } ORDER BY ?p"""
# what a resource was derived from, and whether that is part of the paper or made up by `kg generate`
_PROVENANCE = f"""PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?v (MIN(STR(?l)) AS ?label) (MAX(?paper) AS ?inPaper) WHERE {{
  ?s prov:wasDerivedFrom ?v OPTIONAL {{ ?v rdfs:label ?l }}
  OPTIONAL {{ ?v dcterms:isPartOf* <{PAPER}> BIND (1 AS ?paper) }}
}} GROUP BY ?v ORDER BY ?v"""
_EXISTS = "ASK { { ?s ?p ?o } UNION { ?x ?q ?s } }"


def _nested(subject: str, depth: int) -> str:
    """Triple patterns that follow blank nodes from `?{subject}0` down `depth` levels (each level optional).

    Each level's filter sits in a group with its own triple pattern, so an engine that filters a group only
    after its OPTIONALs (rdflib) still never follows an IRI.
    """
    out = ""
    for i in range(depth, 0, -1):
        up, here = f"?{subject}{i - 1}", f"?{subject}{i}"
        out = f"OPTIONAL {{ {{ {up} ?{subject}p{i} {here} FILTER (isBlank({up})) }} {out}}} "
    return out


def _template(subject: str, depth: int) -> str:
    return " ".join(f"?{subject}{i - 1} ?{subject}p{i} ?{subject}{i} ." for i in range(1, depth + 1))


# the blank nodes below a resource (its own values, theirs, ...), to write them out inline
_BNODES = (
    f"CONSTRUCT {{ ?s ?p ?b0 . {_template('b', BNODE_DEPTH)} }} "
    f"WHERE {{ {{ ?s ?p ?b0 FILTER (isBlank(?b0)) }} {_nested('b', BNODE_DEPTH)}}}"
)
# the resources that hold this one through blank nodes (a class named in a property's owl:unionOf domain)
_UP_DEPTH = 6
_OWNERS = (
    "SELECT ?p "
    + " ".join(f"?u{i} ?q{i}" for i in range(1, _UP_DEPTH + 1))
    + " WHERE { { ?u0 ?p ?s FILTER (isBlank(?u0)) } "
    + "".join(f"OPTIONAL {{ {{ ?u{i} ?q{i} ?u{i - 1} FILTER (isBlank(?u{i - 1})) }} " for i in range(1, _UP_DEPTH + 1))
    + "}" * _UP_DEPTH
    + " } LIMIT 2000"
)
# the RDF description: outgoing and incoming triples and the blank nodes below the resource
DESCRIBE = (
    f"CONSTRUCT {{ ?s ?p ?o . ?x ?q ?s . {_template('b', BNODE_DEPTH)} }} WHERE {{ {{ ?s ?p ?o }} UNION "
    f"{{ ?x ?q ?s }} UNION {{ {{ ?s ?r ?b0 FILTER (isBlank(?b0)) }} {_nested('b', BNODE_DEPTH)}}} }}"
)


def natural_key(text: str) -> tuple:
    """Sorts numbers inside text as numbers: row 2 before row 10."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text.lower()))


def term_view(binding: dict, label: str | None = None) -> dict:
    """A SPARQL JSON term for a template: text, link, whether it is a literal, its datatype or language."""
    value = binding["value"]
    if binding["type"] == "uri":
        return {"iri": value, "href": href(value), "text": label or short(URIRef(value)), "short": short(URIRef(value))}
    if binding["type"] == "bnode":
        return {"text": "_:" + value, "blank": True}
    out = {"text": value, "literal": True}
    if "xml:lang" in binding:
        out["lang"] = binding["xml:lang"]
    elif binding.get("datatype"):
        out["datatype"] = short(URIRef(binding["datatype"]))
    return out


def rdf_term_view(term: rdflib.term.Identifier, g: rdflib.Graph, depth: int = 0) -> dict:
    """A term of an rdflib graph for a template; blank nodes written out (RDF lists as lists)."""
    if isinstance(term, URIRef):
        label = g.value(term, RDFS.label)
        return {"iri": str(term), "href": href(str(term)), "text": str(label) if label else short(term)}
    if isinstance(term, Literal):
        out: dict = {"text": str(term), "literal": True}
        if term.language:
            out["lang"] = term.language
        elif term.datatype is not None:
            out["datatype"] = short(term.datatype)
        return out
    if depth >= BNODE_DEPTH or not any(g.predicate_objects(term)):
        return {"text": "[ ]", "blank": True}
    if (term, RDF.first, None) in g:
        return {"list": [rdf_term_view(item, g, depth + 1) for item in Collection(g, term)], "blank": True}
    pairs = sorted(g.predicate_objects(term), key=lambda po: (po[0] != RDF.type, str(po[0]), str(po[1])))
    return {
        "props": [{"p": rdf_term_view(p, g, depth + 1), "o": rdf_term_view(o, g, depth + 1)} for p, o in pairs],
        "blank": True,
    }


@dataclass
class Group:
    """The values of one property in one direction, one page of them."""

    direction: str  # "out", "in" or "instances"
    property: dict
    count: int
    values: list[dict] = field(default_factory=list)
    page: int = 1
    pages: int = 1
    natural: bool = True  # sorted naturally (numbers as numbers) rather than in the engine's order


def _origin(row: dict) -> str:
    """Where a source a resource was derived from stands: `paper` (a part of it), `synthetic` (made up by
    `kg generate`) or `other`."""
    if row["v"]["value"].startswith(str(SYNTHETIC)):
        return "synthetic"
    return "paper" if "inPaper" in row else "other"


@dataclass
class Description:
    iri: str
    label: str
    types: list[dict]
    provenance: list[dict]
    outgoing: list[Group]
    incoming: list[Group]
    instances: Group | None
    focus: Group | None = None  # when one property's pages are asked for


def _count_rows(rows: list[dict]) -> dict[str, int]:
    return {r["p"]["value"]: int(r["n"]["value"]) for r in rows}


class Describer:
    """Reads what the page of one IRI shows through the services (each read bound by the engine)."""

    def __init__(self, svc: Services, iri: URIRef) -> None:
        self.svc = svc
        self.iri = iri

    def exists(self) -> bool:
        return b"true" in self.svc.query(_EXISTS, bindings={"s": self.iri}).body

    def _values(self, query: str, count: int, page: int, extra: dict | None = None) -> tuple[list[dict], bool]:
        """One page of values: all read and sorted naturally when there are few, else the engine's page."""
        bindings = {"s": self.iri, **(extra or {})}
        if count <= SORT_ALL:
            rows = self.svc.select(query, bindings)
            rows.sort(key=lambda r: natural_key(r.get("label", r["v"])["value"]))
            return rows[(page - 1) * PAGE : page * PAGE], True
        paged = f"{query} LIMIT {PAGE} OFFSET {(page - 1) * PAGE}"
        return self.svc.select(paged, bindings), False

    def group(self, direction: str, prop: str | None, count: int, page: int = 1) -> Group:
        query = {"out": _VALUES_OUT, "in": _VALUES_IN, "instances": _INSTANCES}[direction]
        extra = {"p": URIRef(prop)} if prop else {}
        pages = max(1, -(-count // PAGE))
        page = min(max(1, page), pages)
        rows, natural = self._values(query, count, page, extra)
        values = [term_view(r["v"], r.get("label", {}).get("value")) for r in rows]
        prop_view = term_view({"type": "uri", "value": prop}) if prop else {"text": "instances"}
        return Group(direction, prop_view, count, values, page, pages, natural)

    def label(self) -> str:
        rows = self.svc.select(_LABELS, {"s": self.iri})
        ordered = sorted(rows, key=lambda r: (r["p"]["value"] != str(RDFS.label), r["l"].get("xml:lang") != "en"))
        return ordered[0]["l"]["value"] if ordered else short(self.iri)

    def is_class(self) -> bool:
        return b"true" in self.svc.query(_IS_CLASS, bindings={"s": self.iri}).body

    def bnode_graph(self) -> rdflib.Graph:
        answer = self.svc.query(_BNODES, bindings={"s": self.iri}, graph_format="nt")
        return rdflib.Graph().parse(data=answer.body.decode("utf-8"), format="nt")

    def owners(self) -> dict[str, list[dict]]:
        """For each property, the resources that point at this one through blank nodes, with the path."""
        out: dict[str, list[dict]] = {}
        seen: set[tuple] = set()
        for row in self.svc.select(_OWNERS, {"s": self.iri}):
            path = [row["p"]]
            owner = None
            for i in range(1, _UP_DEPTH + 1):
                up = row.get(f"u{i}")
                if up is None:
                    break
                path.insert(0, row[f"q{i}"])
                if up["type"] != "bnode":
                    owner = up
                    break
            if owner is None:
                continue
            key = (row["p"]["value"], owner["value"], tuple(p["value"] for p in path))
            if key in seen:
                continue
            seen.add(key)
            out.setdefault(row["p"]["value"], []).append(
                {"owner": term_view(owner), "path": [short(URIRef(p["value"])) for p in path]}
            )
        return out

    def describe(self, focus: tuple[str, str | None, int] | None = None) -> Description:
        """The page; with `focus` = (direction, property, page) only that group, at that page."""
        svc, s = self.svc, self.iri
        out_counts = _count_rows(svc.select(_COUNT_OUT, {"s": s}))
        in_counts = _count_rows(svc.select(_COUNT_IN, {"s": s}))
        is_class = self.is_class()
        instance_count = int(svc.select(_INSTANCE_COUNT, {"s": s})[0]["n"]["value"]) if is_class else 0
        if is_class:
            in_counts.pop(str(RDF.type), None)  # listed as instances, subclasses' included
        label = self.label()
        types = [
            term_view(r["v"], r.get("label", {}).get("value")) for r in svc.select(_VALUES_OUT, {"s": s, "p": RDF.type})
        ]
        provenance = [
            dict(term_view(r["v"], r.get("label", {}).get("value")), origin=_origin(r))
            for r in svc.select(_PROVENANCE, {"s": s})
        ]
        if focus is not None:
            direction, prop, page = focus
            if direction == "instances":
                count = instance_count
            else:
                count = (out_counts if direction == "out" else in_counts).get(prop or "", 0)
            group = self.group(direction, prop, count, page)
            return Description(str(s), label, types, provenance, [], [], None, focus=group)

        bnodes = self.bnode_graph() if out_counts else rdflib.Graph()
        outgoing = []
        for prop in sorted(out_counts, key=lambda p: (p != str(RDF.type), short(URIRef(p)))):
            group = self.group("out", prop, out_counts[prop])
            blanks = [o for o in bnodes.objects(s, URIRef(prop)) if isinstance(o, BNode)]
            group.values += [rdf_term_view(b, bnodes) for b in blanks]
            outgoing.append(group)
        owners = self.owners() if in_counts else {}
        incoming = []
        for prop in sorted(in_counts, key=lambda p: short(URIRef(p))):
            group = self.group("in", prop, in_counts[prop])
            group.values += [dict(o["owner"], via=o["path"]) for o in owners.get(prop, [])]
            incoming.append(group)
        instances = self.group("instances", None, instance_count) if instance_count else None
        return Description(str(s), label, types, provenance, outgoing, incoming, instances)
