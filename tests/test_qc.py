"""Ontology quality checks (tests/qc/*.rq, one SPARQL file per check): none fails on the repository's graph, and
each catches the defect it is for in a small broken ontology."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kg.sources import load_graph, repository_sources
from tests.conftest import make_settings

QC = Path(__file__).resolve().parent / "qc"
CHECKS = sorted(QC.glob("*.rq"))
HEAD = """@prefix ifc: <https://w3id.org/interfirm/ontology#> .
@prefix ifd: <https://w3id.org/interfirm/id/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""
GOOD = """ifc:Thing1 a owl:Class ; rdfs:label "thing one"@en ; skos:definition "A first thing."@en ;
    rdfs:isDefinedBy <https://w3id.org/interfirm/ontology> ; rdfs:subClassOf ifc:Thing2 .
ifc:Thing2 a owl:Class ; rdfs:label "thing two"@en ; skos:definition "A second thing."@en ;
    rdfs:isDefinedBy <https://w3id.org/interfirm/ontology> .
"""
# for each check: a broken ontology it must catch, and the term it must name
BROKEN = {
    "labelled-and-defined.rq": (
        GOOD + 'ifc:Thing3 a owl:Class ; rdfs:label "three"@en ; rdfs:subClassOf ifc:Thing2 .',
        "Thing3",
    ),
    "domains-and-ranges.rq": (GOOD + "ifc:relates a owl:ObjectProperty ; rdfs:domain ifc:Thing1 .", "relates"),
    "no-orphan-classes.rq": (GOOD + 'ifc:Alone a owl:Class ; rdfs:label "alone"@en .', "Alone"),
    "inverse-pairs.rq": (
        GOOD
        + """ifc:has a owl:ObjectProperty ; rdfs:domain ifc:Thing1 ; rdfs:range ifc:Thing2 .
        ifc:isOf a owl:ObjectProperty ; owl:inverseOf ifc:has ; rdfs:domain ifc:Thing1 ; rdfs:range ifc:Thing2 .""",
        "isOf",
    ),
    "naming-conventions.rq": (GOOD + "ifc:bad_Class a owl:Class . ifd:Firm_X a ifc:Thing1 .", "bad_Class"),
}


@pytest.fixture(scope="module")
def repository() -> rdflib.Graph:
    return load_graph(repository_sources(make_settings()))


def rows(graph: rdflib.Graph, check: Path) -> list[tuple]:
    return [tuple(r) for r in graph.query(check.read_text(encoding="utf-8"))]


def test_every_check_has_a_broken_case() -> None:
    assert {c.name for c in CHECKS} == set(BROKEN) and len(CHECKS) >= 5


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_the_repository_passes(repository: rdflib.Graph, check: Path) -> None:
    assert rows(repository, check) == []


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_the_check_catches_its_defect(check: Path) -> None:
    text, name = BROKEN[check.name]
    found = rows(rdflib.Graph().parse(data=HEAD + text, format="turtle"), check)
    assert found and any(str(r[0]).endswith(name) for r in found), found
    assert rows(rdflib.Graph().parse(data=HEAD + GOOD, format="turtle"), check) == []
