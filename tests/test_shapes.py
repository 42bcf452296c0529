"""SHACL shapes against the case files: valid files conform, each invalid file is rejected by its named shape alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kg import rdfio, validation
from kg.validation import validate_graph, validate_new
from tests.conftest import tmp_settings

CASES = Path(__file__).resolve().parent / "cases"
VALID = sorted((CASES / "valid").glob("*.ttl"))
INVALID = sorted((CASES / "invalid").glob("*.ttl"))


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> tuple[rdflib.Graph, rdflib.Graph, rdflib.Graph]:
    """(the repository's data, the ontology, the shapes): no extra files, and an empty ingest folder."""
    return validation.context(tmp_settings(tmp_path_factory.mktemp("shapes"), "memory"))


def expected_shape(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: ifs:<Shape>'"
    return first.removeprefix("# expect: ").strip()


def check(path: Path, context: tuple[rdflib.Graph, rdflib.Graph, rdflib.Graph]):  # type: ignore[no-untyped-def]
    data, ontology, shapes = context
    return validate_new(rdfio.parse_file(path), data, ontology, shapes)


def test_repository_data_conforms(context: tuple[rdflib.Graph, rdflib.Graph, rdflib.Graph]) -> None:
    data, ontology, shapes = context
    report = validate_graph(data, ontology, shapes)
    assert report.conforms, report.render("text")


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_case_conforms(path: Path, context: tuple[rdflib.Graph, rdflib.Graph, rdflib.Graph]) -> None:
    report = check(path, context)
    assert report.conforms, report.render("text")


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_case_rejected_by_its_shape_alone(
    path: Path, context: tuple[rdflib.Graph, rdflib.Graph, rdflib.Graph]
) -> None:
    shape = expected_shape(path)
    report = check(path, context)
    assert not report.conforms, f"{path.name} should not conform"
    shapes_hit = {v.shape for v in report.violations}
    assert shapes_hit == {shape}, report.render("text")
    assert all(v.message for v in report.violations), "every violation needs a message"


@pytest.mark.parametrize("path", INVALID[::5] + VALID[:2], ids=[p.stem for p in INVALID[::5] + VALID[:2]])
def test_focused_validation_gives_the_same_verdict_as_validating_everything(
    path: Path, context: tuple[rdflib.Graph, rdflib.Graph, rdflib.Graph]
) -> None:
    data, ontology, shapes = context
    graph = rdflib.Graph()
    graph += data
    rdfio.parse_file(path, graph)
    full = validate_graph(graph, ontology, shapes)
    focused = check(path, context)
    assert full.conforms == focused.conforms
    assert {(v.focus, v.shape) for v in full.violations} == {(v.focus, v.shape) for v in focused.violations}


def test_every_violation_shape_has_an_invalid_case(context: tuple[rdflib.Graph, rdflib.Graph, rdflib.Graph]) -> None:
    """Each shape that can report a violation is exercised by some invalid case file."""
    _, _, shapes = context
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    ifs = "https://w3id.org/interfirm/shapes#"
    covered = {expected_shape(p) for p in INVALID}
    severities = {}
    for s in set(shapes.subjects(rdflib.RDF.type, sh.NodeShape)) | set(
        shapes.subjects(rdflib.RDF.type, sh.PropertyShape)
    ):
        if isinstance(s, rdflib.URIRef) and str(s).startswith(ifs):
            severities[s] = shapes.value(s, sh.severity, default=sh.Violation)
    violating = {"ifs:" + str(s)[len(ifs) :] for s, sev in severities.items() if sev == sh.Violation}
    # node shapes whose only role is to group property shapes cannot fire on their own
    grouping = {
        "ifs:" + str(s)[len(ifs) :]
        for s in severities
        if (s, rdflib.RDF.type, sh.NodeShape) in shapes
        and not any(
            next(shapes.objects(s, p), None) is not None
            for p in (
                sh.sparql,
                sh.closed,
                sh.node,
                sh["or"],
                sh["and"],
                sh["not"],
                sh.xone,
                sh["class"],
                sh.nodeKind,
                sh.datatype,
                sh["in"],
                sh.minInclusive,
                sh.maxInclusive,
                sh.pattern,
            )
        )
    }
    assert violating - grouping <= covered, sorted(violating - grouping - covered)
