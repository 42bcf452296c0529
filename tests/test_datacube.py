"""W3C Data Cube well-formedness: the normalization algorithm and the integrity constraints IC-1 to IC-21 of the
recommendation (SPARQL files under tests/datacube/) on the repository's graph, and on broken cubes they catch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib

from kg.settings import Settings
from kg.sources import load_graph, repository_sources

DATACUBE = Path(__file__).resolve().parent / "datacube"
CONSTRAINTS = sorted(DATACUBE.glob("ic-*.rq"))
# in the comment of a template constraint (IC-20, IC-21): the query whose ?p values replace <$p>
_TEMPLATE = re.compile(r"^# A template:.*\n((?:#   .*\n)+)", re.MULTILINE)


def normalized(graph: rdflib.Graph) -> rdflib.Graph:
    """A copy of the graph after the two phases of the recommendation's normalization algorithm."""
    out = rdflib.Graph()
    out += graph
    for phase in ("normalize-phase-1.ru", "normalize-phase-2.ru"):
        out.update((DATACUBE / phase).read_text(encoding="utf-8"))
    return out


def violated(graph: rdflib.Graph, path: Path) -> bool:
    """Whether the (normalized) graph violates the constraint of one file, instantiating a template for each ?p."""
    text = path.read_text(encoding="utf-8")
    template = _TEMPLATE.search(text)
    if template is None:
        return bool(graph.query(text).askAnswer)
    select = " ".join(line.removeprefix("#").strip() for line in template.group(1).splitlines())
    prefixes = "".join(line + "\n" for line in text.splitlines() if line.startswith("PREFIX"))
    parents = [row[0] for row in graph.query(prefixes + select)]
    return any(bool(graph.query(text.replace("<$p>", f"<{p}>")).askAnswer) for p in parents)


@pytest.fixture(scope="module")
def repository(settings: Settings) -> rdflib.Graph:
    return normalized(load_graph(repository_sources(settings)))


def test_every_constraint_has_a_file() -> None:
    numbers = {int(re.match(r"ic-(\d+)-", p.name).group(1)) for p in CONSTRAINTS}  # type: ignore[union-attr]
    assert numbers == set(range(1, 22))
    for path in CONSTRAINTS:
        text = path.read_text(encoding="utf-8")
        assert "REC-vocab-data-cube-20140116" in text and "ASK" in text, path.name


@pytest.mark.parametrize("path", CONSTRAINTS, ids=[p.stem for p in CONSTRAINTS])
def test_repository_cubes_violate_no_constraint(repository: rdflib.Graph, path: Path) -> None:
    assert not violated(repository, path), f"the repository's data violates {path.stem}"


def test_the_repository_has_cubes_to_check(repository: rdflib.Graph) -> None:
    qb = rdflib.Namespace("http://purl.org/linked-data/cube#")
    datasets = set(repository.subjects(rdflib.RDF.type, qb.DataSet))
    assert len(datasets) >= 2
    assert len(set(repository.subjects(qb.dataSet, None))) > 70


CUBE = """
@prefix qb: <http://purl.org/linked-data/cube#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/cube/> .
ex:dsd a qb:DataStructureDefinition ;
    qb:component [ qb:dimension ex:area ] , [ qb:dimension ex:indicator ] , [ qb:measure ex:value ] ,
                 [ qb:attribute ex:unit ; qb:componentRequired "true"^^xsd:boolean ] .
ex:area rdfs:range ex:Area .
ex:indicator rdfs:range skos:Concept ; qb:codeList ex:indicators .
ex:indicators a skos:ConceptScheme .
ex:count a skos:Concept ; skos:inScheme ex:indicators .
ex:share a skos:Concept ; skos:inScheme ex:indicators .
ex:ds a qb:DataSet ; qb:structure ex:dsd .
ex:o1 qb:dataSet ex:ds ; ex:area ex:a ; ex:indicator ex:count ; ex:value 1 ; ex:unit ex:u .
ex:o2 qb:dataSet ex:ds ; ex:area ex:b ; ex:indicator ex:count ; ex:value 2 ; ex:unit ex:u .
"""

BROKEN = {
    "ic-01-unique-dataset": "ex:o3 a qb:Observation .",
    "ic-02-unique-dsd": "ex:ds qb:structure ex:other .",
    "ic-04-dimensions-have-range": "ex:year a qb:DimensionProperty .",
    "ic-11-all-dimensions-required": "ex:o3 qb:dataSet ex:ds ; ex:indicator ex:share ; ex:value 3 ; ex:unit ex:u .",
    "ic-12-no-duplicate-observations": (
        "ex:o3 qb:dataSet ex:ds ; ex:area ex:a ; ex:indicator ex:count ; ex:value 3 ; ex:unit ex:u ."
    ),
    "ic-13-required-attributes": "ex:o3 qb:dataSet ex:ds ; ex:area ex:c ; ex:indicator ex:count ; ex:value 3 .",
    "ic-14-all-measures-present": "ex:o3 qb:dataSet ex:ds ; ex:area ex:c ; ex:indicator ex:count ; ex:unit ex:u .",
    "ic-19-codes-from-code-list-concept-scheme": (
        "ex:o3 qb:dataSet ex:ds ; ex:area ex:c ; ex:indicator ex:other ; ex:value 3 ; ex:unit ex:u ."
    ),
}


def test_a_well_formed_cube_passes() -> None:
    graph = normalized(rdflib.Graph().parse(data=CUBE, format="turtle"))
    assert [p.stem for p in CONSTRAINTS if violated(graph, p)] == []


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_check_catches_the_cube_it_breaks(name: str) -> None:
    graph = normalized(rdflib.Graph().parse(data=CUBE + BROKEN[name], format="turtle"))
    assert [p.stem for p in CONSTRAINTS if violated(graph, p)] == [name]
