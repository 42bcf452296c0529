"""The ontology's documentation, in the manner of pyLODE and Widoco: metadata, table of contents, and for each
term its definition, super- and subterms, domains and ranges (unions and restrictions written out in Manchester
syntax), "in domain of" / "in range of", characteristics, and a class diagram."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import rdflib
from markupsafe import Markup, escape
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg.namespaces import IFC, ONTOLOGY_IRI
from kg.results import short
from kg.web.links import href

VANN = rdflib.Namespace("http://purl.org/vocab/vann/")
CHARACTERISTICS = {
    OWL.FunctionalProperty: "functional",
    OWL.InverseFunctionalProperty: "inverse functional",
    OWL.TransitiveProperty: "transitive",
    OWL.SymmetricProperty: "symmetric",
    OWL.AsymmetricProperty: "asymmetric",
    OWL.ReflexiveProperty: "reflexive",
    OWL.IrreflexiveProperty: "irreflexive",
}
_CARDINALITIES = {
    OWL.minCardinality: "min",
    OWL.maxCardinality: "max",
    OWL.cardinality: "exactly",
    OWL.minQualifiedCardinality: "min",
    OWL.maxQualifiedCardinality: "max",
    OWL.qualifiedCardinality: "exactly",
}


def _link(g: rdflib.Graph, term: URIRef) -> Markup:
    return Markup('<a href="{}" title="{}">{}</a>').format(href(str(term)), str(term), short(term))


def expression(g: rdflib.Graph, node: rdflib.term.Node, depth: int = 0) -> Markup:
    """A class expression in Manchester syntax with links: `A or B`, `hasPartner min 2 Firm`, `direction value x`."""
    if isinstance(node, URIRef):
        return _link(g, node)
    if isinstance(node, Literal):
        return Markup("<span class='literal'>{}</span>").format(str(node))
    if depth > 8:
        return Markup("…")

    def sub(n: rdflib.term.Node) -> Markup:
        inner = expression(g, n, depth + 1)
        return Markup("({})").format(inner) if isinstance(n, BNode) and depth < 8 and _compound(g, n) else inner

    for op, word in ((OWL.unionOf, "or"), (OWL.intersectionOf, "and")):
        members = g.value(node, op)
        if members is not None:
            return Markup(f" <b>{word}</b> ").join(sub(m) for m in Collection(g, members))
    complement = g.value(node, OWL.complementOf)
    if complement is not None:
        return Markup("<b>not</b> {}").format(sub(complement))
    one_of = g.value(node, OWL.oneOf)
    if one_of is not None:
        return Markup("{{{}}}").format(Markup(", ").join(expression(g, m, depth + 1) for m in Collection(g, one_of)))
    prop = g.value(node, OWL.onProperty)
    if prop is not None:
        p = expression(g, prop, depth + 1)
        target = g.value(node, OWL.onClass) or g.value(node, OWL.onDataRange)
        for pred, word in _CARDINALITIES.items():
            n = g.value(node, pred)
            if n is not None:
                tail = Markup(" {}").format(sub(target)) if target is not None else Markup("")
                return Markup("{} <b>{}</b> {}{}").format(p, word, str(n), tail)
        for pred, word in ((OWL.someValuesFrom, "some"), (OWL.allValuesFrom, "only"), (OWL.hasValue, "value")):
            v = g.value(node, pred)
            if v is not None:
                return Markup("{} <b>{}</b> {}").format(p, word, sub(v))
        if g.value(node, OWL.hasSelf) is not None:
            return Markup("{} <b>Self</b>").format(p)
    inverse = g.value(node, OWL.inverseOf)
    if inverse is not None:
        return Markup("<b>inverse</b> {}").format(sub(inverse))
    return Markup("[ ]")


def _compound(g: rdflib.Graph, node: BNode) -> bool:
    return any(g.value(node, p) is not None for p in (OWL.unionOf, OWL.intersectionOf))


def _members(g: rdflib.Graph, node: rdflib.term.Node) -> list[URIRef]:
    """The named classes a domain or range stands for (a union's members, or the class itself)."""
    if isinstance(node, URIRef):
        return [node]
    union = g.value(node, OWL.unionOf)
    if union is not None:
        return [m for m in Collection(g, union) if isinstance(m, URIRef)]
    return []


@dataclass
class Term:
    iri: str
    id: str
    label: str
    definition: str
    kind: str
    types: list[str] = field(default_factory=list)
    supers: list[Markup] = field(default_factory=list)
    subs: list[Markup] = field(default_factory=list)
    equivalents: list[Markup] = field(default_factory=list)
    disjoint: list[Markup] = field(default_factory=list)
    domains: list[Markup] = field(default_factory=list)
    ranges: list[Markup] = field(default_factory=list)
    inverse: list[Markup] = field(default_factory=list)
    characteristics: list[str] = field(default_factory=list)
    in_domain_of: list[Markup] = field(default_factory=list)
    in_range_of: list[Markup] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    matches: list[Markup] = field(default_factory=list)
    page: str = ""


SECTIONS = [
    ("classes", "Classes", OWL.Class),
    ("object-properties", "Object properties", OWL.ObjectProperty),
    ("datatype-properties", "Datatype properties", OWL.DatatypeProperty),
    ("annotation-properties", "Annotation properties", OWL.AnnotationProperty),
    ("individuals", "Named individuals", OWL.NamedIndividual),
]


def _text(g: rdflib.Graph, s: rdflib.term.Node, p: URIRef) -> str:
    values = list(g.objects(s, p))
    english = [v for v in values if isinstance(v, Literal) and v.language in ("en", None)]
    return str((english or values or [""])[0])


def document(g: rdflib.Graph) -> dict:
    """Everything the ontology page shows, from the ontology graph."""
    ns = str(IFC)
    in_domain: dict[URIRef, list[URIRef]] = defaultdict(list)
    in_range: dict[URIRef, list[URIRef]] = defaultdict(list)
    for p, d in g.subject_objects(RDFS.domain):
        for c in _members(g, d):
            in_domain[c].append(p)
    for p, r in g.subject_objects(RDFS.range):
        for c in _members(g, r):
            in_range[c].append(p)

    def sort_links(terms: list[URIRef]) -> list[Markup]:
        return [_link(g, t) for t in sorted(set(terms), key=short)]

    def term(t: URIRef, kind: str) -> Term:
        local = str(t)[len(ns) :]
        supers = list(g.objects(t, RDFS.subClassOf)) + list(g.objects(t, RDFS.subPropertyOf))
        subs = [s for s in g.subjects(RDFS.subClassOf, t)] + [s for s in g.subjects(RDFS.subPropertyOf, t)]
        return Term(
            iri=str(t),
            id=local,
            label=_text(g, t, RDFS.label),
            definition=_text(g, t, SKOS.definition),
            kind=kind,
            types=sorted(
                short(x)
                for x in g.objects(t, RDF.type)
                if x not in (OWL.NamedIndividual, OWL.Class)
                and x not in CHARACTERISTICS
                and x not in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
            ),
            supers=[expression(g, x) for x in sorted(supers, key=lambda x: (isinstance(x, BNode), str(x)))],
            subs=sort_links([s for s in subs if isinstance(s, URIRef)]),
            equivalents=[expression(g, x) for x in g.objects(t, OWL.equivalentClass)]
            + [expression(g, x) for x in g.objects(t, OWL.equivalentProperty)],
            disjoint=[expression(g, x) for x in g.objects(t, OWL.disjointWith)]
            + [expression(g, x) for x in g.subjects(OWL.disjointWith, t)],
            domains=[expression(g, x) for x in g.objects(t, RDFS.domain)],
            ranges=[expression(g, x) for x in g.objects(t, RDFS.range)],
            inverse=[expression(g, x) for x in g.objects(t, OWL.inverseOf)]
            + [expression(g, x) for x in g.subjects(OWL.inverseOf, t)],
            characteristics=sorted(CHARACTERISTICS[x] for x in g.objects(t, RDF.type) if x in CHARACTERISTICS),
            in_domain_of=sort_links(in_domain.get(t, [])),
            in_range_of=sort_links(in_range.get(t, [])),
            notes=[str(x) for x in g.objects(t, SKOS.scopeNote)] + [str(x) for x in g.objects(t, SKOS.editorialNote)],
            examples=[str(x) for x in g.objects(t, SKOS.example)],
            matches=sort_links(
                [x for p in (SKOS.exactMatch, SKOS.closeMatch) for x in g.objects(t, p) if isinstance(x, URIRef)]
            ),
            page="/resource?iri=" + str(t).replace("#", "%23"),
        )

    sections = []
    placed: set[URIRef] = set()
    for key, title, kind in SECTIONS:
        terms = [
            term(t, key)
            for t in sorted(set(g.subjects(RDF.type, kind)), key=lambda x: str(x).lower())
            if isinstance(t, URIRef) and str(t).startswith(ns) and t not in placed
        ]
        placed.update(URIRef(t.iri) for t in terms)
        sections.append({"key": key, "title": title, "terms": terms})

    header = ONTOLOGY_IRI
    people = [
        {"role": role, "value": expression(g, v) if isinstance(v, URIRef) else Markup(escape(str(v)))}
        for pred, role in (
            (DCTERMS.creator, "creator"),
            (DCTERMS.contributor, "contributor"),
            (DCTERMS.publisher, "publisher"),
        )
        for v in g.objects(header, pred)
    ]
    meta = {
        "iri": str(header),
        "title": _text(g, header, DCTERMS.title) or _text(g, header, RDFS.label) or "Ontology",
        "description": _text(g, header, DCTERMS.description),
        "version": _text(g, header, OWL.versionInfo),
        "version_iri": str(g.value(header, OWL.versionIRI) or ""),
        "created": _text(g, header, DCTERMS.created),
        "modified": _text(g, header, DCTERMS.modified),
        "licence": [str(v) for v in g.objects(header, DCTERMS.license)],
        "source": [expression(g, v) for v in g.objects(header, DCTERMS.source)],
        "people": people,
        "prefix": _text(g, header, VANN.preferredNamespacePrefix) or "ifc",
        "namespace": _text(g, header, VANN.preferredNamespaceUri) or ns,
        "imports": [str(v) for v in g.objects(header, OWL.imports)],
    }
    return {"meta": meta, "sections": sections, "diagram": diagram(g, ns)}


def diagram(g: rdflib.Graph, ns: str) -> dict:
    """The classes of the namespace with their subclass links and the object properties between them
    (a union domain or range drawn to each member), as Cytoscape.js elements."""
    classes = {c for c in g.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef) and str(c).startswith(ns)}
    nodes = {str(c): {"id": str(c), "label": short(c), "kind": "class", "href": href(str(c))} for c in classes}
    edges = []
    for c in classes:
        for sup in g.objects(c, RDFS.subClassOf):
            if isinstance(sup, URIRef) and str(sup) in nodes:
                edges.append(
                    {"id": f"{c} sub {sup}", "source": str(c), "target": str(sup), "label": "", "kind": "subclass"}
                )
    for p in g.subjects(RDF.type, OWL.ObjectProperty):
        if not (isinstance(p, URIRef) and str(p).startswith(ns)):
            continue
        for d in g.objects(p, RDFS.domain):
            for r in g.objects(p, RDFS.range):
                for dc in _members(g, d):
                    for rc in _members(g, r):
                        if str(dc) in nodes and str(rc) in nodes:
                            edges.append(
                                {
                                    "id": f"{p} {dc} {rc}",
                                    "source": str(dc),
                                    "target": str(rc),
                                    "label": short(p),
                                    "kind": "property",
                                    "href": href(str(p)),
                                    "title": short(p),
                                }
                            )
    used = {e["source"] for e in edges} | {e["target"] for e in edges}
    return {
        "nodes": sorted((n for k, n in nodes.items() if k in used), key=lambda n: n["label"]),
        "edges": sorted(edges, key=lambda e: e["id"]),
        "summary": f"{len(used)} classes, {sum(e['kind'] == 'subclass' for e in edges)} subclass links, "
        f"{sum(e['kind'] == 'property' for e in edges)} object property links",
    }
