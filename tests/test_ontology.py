"""The ontology: header, labels and definitions, domains and ranges, declared terms, HermiT consistency."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg import reasoning
from kg.namespaces import IFC, ONTOLOGY_IRI
from kg.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
VANN = rdflib.Namespace("http://purl.org/vocab/vann/")


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontology" / "interfirm.ttl")


def own_terms(g: rdflib.Graph) -> set[rdflib.URIRef]:
    return {s for s in g.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(str(IFC))}


def test_header(ontology: rdflib.Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    for p in (
        OWL.versionIRI,
        OWL.versionInfo,
        DCTERMS.title,
        DCTERMS.description,
        DCTERMS.license,
        DCTERMS.created,
        DCTERMS.source,
        VANN.preferredNamespacePrefix,
        VANN.preferredNamespaceUri,
    ):
        assert ontology.value(ONTOLOGY_IRI, p) is not None, p
    assert str(ontology.value(ONTOLOGY_IRI, VANN.preferredNamespaceUri)) == str(IFC)


def test_the_header_states_the_licence_of_ontology_and_data(ontology: rdflib.Graph) -> None:
    """CC BY 4.0 for the ontology and the data, as LICENSE-DATA says."""
    cc_by = rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert ontology.value(ONTOLOGY_IRI, DCTERMS.license) == cc_by
    assert "https://creativecommons.org/licenses/by/4.0/" in (ROOT / "LICENSE-DATA").read_text()
    rights = str(ontology.value(ONTOLOGY_IRI, DCTERMS.rights))
    assert "the data" in rights and "CC BY 4.0" in rights and "LICENSE-DATA" in rights


def test_every_term_has_one_english_label_a_definition_and_is_defined_by(ontology: rdflib.Graph) -> None:
    problems = []
    for term in sorted(own_terms(ontology)):
        labels = list(ontology.objects(term, RDFS.label))
        if len(labels) != 1 or getattr(labels[0], "language", None) != "en":
            problems.append(f"{term}: needs exactly one rdfs:label@en, has {labels}")
        defs = [d for d in ontology.objects(term, SKOS.definition) if getattr(d, "language", None) == "en"]
        if not defs:
            problems.append(f"{term}: no skos:definition@en")
        if (term, RDFS.isDefinedBy, ONTOLOGY_IRI) not in ontology:
            problems.append(f"{term}: no rdfs:isDefinedBy")
        if not list(ontology.objects(term, RDF.type)):
            problems.append(f"{term}: no rdf:type")
    assert not problems, "\n".join(problems)


def test_every_property_states_domain_and_range(ontology: rdflib.Graph) -> None:
    missing = []
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for p in ontology.subjects(RDF.type, kind):
            if not str(p).startswith(str(IFC)):
                continue
            inherited = list(ontology.transitive_objects(p, RDFS.subPropertyOf))
            if not any(ontology.value(q, RDFS.domain) for q in inherited):
                missing.append(f"{p}: no domain")
            if not any(ontology.value(q, RDFS.range) for q in inherited):
                missing.append(f"{p}: no range")
    assert not missing, "\n".join(missing)


def _used_terms(text: str) -> set[str]:
    return set(re.findall(r"ifc:([A-Za-z][A-Za-z0-9_]*)", text)) | set(
        re.findall(r"<https://w3id\.org/interfirm/ontology#([A-Za-z0-9_]+)>", text)
    )


@pytest.mark.parametrize("folder", ["data", "shapes", "queries", "tests/cases/valid", "tests/cases/invalid", "docs"])
def test_every_namespace_term_used_is_declared(ontology: rdflib.Graph, folder: str) -> None:
    declared = {str(t)[len(str(IFC)) :] for t in own_terms(ontology)}
    undeclared = {}
    for path in sorted((ROOT / folder).glob("*")):
        if path.suffix not in (".ttl", ".rq", ".md"):
            continue
        text = path.read_text(encoding="utf-8")
        if folder == "tests/cases/invalid" and "ifs:UndeclaredTermShape" in text.splitlines()[0]:
            continue  # these files misspell terms on purpose
        bad = _used_terms(text) - declared
        if bad:
            undeclared[path.name] = sorted(bad)
    assert not undeclared, undeclared


@pytest.mark.slow
def test_hermit_consistent_and_no_unsatisfiable_class(settings: Settings) -> None:
    verdict = reasoning.check(settings)
    assert verdict.consistent, verdict.explanation
    assert verdict.unsatisfiable == []


@pytest.mark.slow
def test_hermit_detects_an_inconsistency(settings: Settings) -> None:
    """The check can fail: a firm that is also a government contradicts a disjointness axiom."""
    bad = rdflib.Graph()
    x = rdflib.URIRef("https://w3id.org/interfirm/id/firm-test-contradiction")
    bad.add((x, RDF.type, IFC.Firm))
    bad.add((x, RDF.type, IFC.Government))
    verdict = reasoning.check(settings, extra=bad)
    assert not verdict.consistent
