"""SHACL shapes: the repository's data conforms, and each shape that can report a violation has an invalid case
file (whose verdict, and that its named shape alone rejects it, `tests/test_validation.py` checks)."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kg.store import open_store
from kg.validation import Shapes, existing_graph, load_shapes, validate_graph
from tests.conftest import tmp_settings

CASES = Path(__file__).resolve().parent / "cases"
VALID = sorted((CASES / "valid").glob("*.ttl"))
INVALID = sorted((CASES / "invalid").glob("*.ttl"))


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> tuple[rdflib.Graph, Shapes]:
    """(the repository's data with the ontology, the shapes): no extra files, and an empty ingest folder."""
    settings = tmp_settings(tmp_path_factory.mktemp("shapes"), "memory")
    store = open_store(settings)
    try:
        return existing_graph(store), load_shapes(settings)
    finally:
        store.close()


def expected_shape(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: ifs:<Shape>'"
    return first.removeprefix("# expect: ").strip()


def test_repository_data_conforms(context: tuple[rdflib.Graph, Shapes]) -> None:
    data, shapes = context
    report = validate_graph(data, shapes)
    assert report.conforms, report.render("text")


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_case_names_a_shape(path: Path, context: tuple[rdflib.Graph, Shapes]) -> None:
    """Each invalid case names the shape that rejects it alone (checked in tests/test_validation.py)."""
    shape = expected_shape(path)
    assert (rdflib.URIRef("https://w3id.org/interfirm/shapes#" + shape.removeprefix("ifs:")), None, None) in context[
        1
    ].graph


def test_every_violation_shape_has_an_invalid_case(context: tuple[rdflib.Graph, Shapes]) -> None:
    """Each shape that can report a violation is exercised by some invalid case file."""
    shapes = context[1].graph
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
