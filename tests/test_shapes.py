"""SHACL shapes: the repository's data conforms, and each shape that can report a violation has an invalid case
file (whose verdict, and that its named shape alone rejects it, `tests/test_validation.py` checks)."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kg.namespaces import IFC, IFS
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


ECONOMIES = {
    "developed": IFC.DevelopedEconomy,
    "developing": IFC.DevelopingEconomy,
    "transition": IFC.TransitionEconomy,
}


def orientation_contradicted(orientation: str, partners: tuple[str | None, ...]) -> bool:
    """The orientation rule that ifs:AgreementOrientationShape states, in Python: North-North admits no partner
    from a developing or transition economy, South-South none from a developed one; North-South and South-North
    need a partner from each, and are judged only when every partner's economy is known."""
    if not partners:
        return False
    north = "developed" in partners
    south = any(p in ("developing", "transition") for p in partners)
    if orientation == "NorthNorth":
        return south
    if orientation == "SouthSouth":
        return north
    return None not in partners and not (north and south)


def test_orientation_query_follows_the_rule(context: tuple[rdflib.Graph, Shapes]) -> None:
    """The SPARQL constraint of ifs:AgreementOrientationShape against the rule, for every orientation and every
    mix of up to three partners (developed, developing, transition or unknown economy): only one of its branches
    has an invalid case file."""
    import itertools

    from kg import shacl
    from kg.validation import _results

    graph = rdflib.Graph()
    expected: dict[rdflib.URIRef, bool] = {}
    kinds = (*ECONOMIES, None)
    mixes = [m for k in range(4) for m in itertools.combinations_with_replacement(kinds, k)]
    for i, (orientation, mix) in enumerate(
        itertools.product(("NorthNorth", "SouthSouth", "NorthSouth", "SouthNorth"), mixes)
    ):
        agreement = rdflib.URIRef(f"https://example.org/test/agreement-{i}")
        graph.add((agreement, IFC.orientation, IFC[orientation]))
        for j, economy in enumerate(mix):
            partner = rdflib.URIRef(f"https://example.org/test/agreement-{i}-partner-{j}")
            place = rdflib.URIRef(f"https://example.org/test/agreement-{i}-place-{j}")
            graph.add((agreement, IFC.hasPartner, partner))
            graph.add((partner, IFC.basedIn, place))
            if economy is not None:
                graph.add((place, IFC.economyType, ECONOMIES[economy]))
        expected[agreement] = orientation_contradicted(orientation, mix)
    shape = IFS.AgreementOrientationShape
    report = shacl.run(graph, shacl.restricted(context[1].graph, {shape: list(expected)}))
    reported = {r.focus for r in _results(report) if r.shape == shape}
    assert sum(expected.values()) > 50  # every branch is exercised, with and without a contradiction
    assert reported == {a for a, bad in expected.items() if bad}


def test_a_refused_sparql_constraint_is_refused_every_time() -> None:
    """pySHACL refuses a SPARQL constraint with MINUS; `kg.shacl` remembers only the texts that passed its check."""
    from pyshacl.errors import ValidationFailure

    from kg import shacl

    shapes = rdflib.Graph().parse(
        format="turtle",
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <https://example.org/test/> .
        ex:Shape a sh:NodeShape ; sh:targetSubjectsOf ex:p ;
            sh:sparql [ sh:select "SELECT $this WHERE { $this ex:p ?o . MINUS { $this ex:q ?o } }" ;
                        sh:prefixes ex:prefixes ] .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        ex:prefixes sh:declare [ sh:prefix "ex" ; sh:namespace "https://example.org/test/"^^xsd:anyURI ] .
        """,
    )
    data = rdflib.Graph().parse(format="turtle", data="<https://example.org/test/a> <https://example.org/test/p> 1 .")
    for _ in range(2):  # pySHACL hands the failure back in place of a report
        outcome = shacl.run(data, shapes)
        assert isinstance(outcome, ValidationFailure) and "MINUS" in str(outcome)
