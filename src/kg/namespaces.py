"""The project's namespaces and the named graphs the data lives in."""

from __future__ import annotations

from rdflib import Namespace, URIRef

BASE = "https://w3id.org/interfirm/"
IFC = Namespace(BASE + "ontology#")
IFD = Namespace(BASE + "id/")
IFS = Namespace(BASE + "shapes#")
GRAPH = Namespace(BASE + "graph/")
SOURCES = Namespace(BASE + "sources/")  # the primary sources' files, served at /sources/<file>
SYNTHETIC = Namespace(BASE + "synthetic/")  # what `kg generate` makes up: never data about the real world
ONTOLOGY_IRI = URIRef(BASE + "ontology")
ONTOLOGY_GRAPH = GRAPH["ontology"]
META_GRAPH = GRAPH["meta"]
INFERRED_GRAPH = GRAPH["inferred"]  # the reasoner's (kg.inference)
ASSERTED_GRAPH = GRAPH["asserted"]  # not stored: every named graph but the derived ones (kg.store.virtual)
UNION_GRAPH = GRAPH["union"]  # not stored: every named graph
STATISTICS_GRAPH = GRAPH["store-statistics"]  # derived: VoID statistics of every named graph (kg.statistics)
SCRATCH = str(GRAPH["scratch/"])  # graphs a build step uses for a moment and removes (never described)
PAPER = URIRef(BASE + "id/unctad-ite-eds-2")
PAPER_TEXT = SOURCES["unctad-ite-eds-2.txt"]
DATA_LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")  # ontology and data (LICENSE-DATA)

PREFIXES: dict[str, str] = {
    "bibo": "http://purl.org/ontology/bibo/",
    "cito": "http://purl.org/spar/cito/",
    "dcterms": "http://purl.org/dc/terms/",
    "fabio": "http://purl.org/spar/fabio/",
    "fibo-be-oac-cown": "https://spec.edmcouncil.org/fibo/ontology/BE/OwnershipAndControl/CorporateOwnership/",
    "fibo-fnd-rel-rel": "https://spec.edmcouncil.org/fibo/ontology/FND/Relations/Relations/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "ifc": str(IFC),
    "ifd": str(IFD),
    "ifs": str(IFS),
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "qb": "http://purl.org/linked-data/cube#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "sdmx-attribute": "http://purl.org/linked-data/sdmx/2009/attribute#",
    "sdmx-code": "http://purl.org/linked-data/sdmx/2009/code#",
    "sdmx-dimension": "http://purl.org/linked-data/sdmx/2009/dimension#",
    "sdmx-measure": "http://purl.org/linked-data/sdmx/2009/measure#",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "void": "http://rdfs.org/ns/void#",
    "spdx": "http://spdx.org/rdf/terms#",
    "stw": "http://zbw.eu/stw/descriptor/",
    "wd": "http://www.wikidata.org/entity/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
