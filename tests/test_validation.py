"""The validation core: its verdict and findings are, by construction, those of pySHACL on the whole merged graph.

Differential tests: for every case file, and for cases made by `kg generate` and mutated one triple at a time
(hypothesis), the focused validation (`kg.validation.validate_new` against the built store) reports exactly the
results that pySHACL finds on the whole merged graph (store + case) and did not find on the store alone.
"""

from __future__ import annotations

import tempfile
from dataclasses import astuple, dataclass
from pathlib import Path

import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg import rdfio, shacl
from kg.generate import generate, load_vocabulary
from kg.namespaces import IFC, IFD
from kg.store import Store, open_store
from kg.upload import mark_ill_typed, read_files
from kg.validation import Report, Shapes, _describe, _results, existing_graph, load_shapes, validate_new
from tests.conftest import ROOT, tmp_settings

CASES = sorted((ROOT / "tests" / "cases").glob("*/*.ttl"))
QB = rdflib.Namespace("http://purl.org/linked-data/cube#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")


@dataclass
class Context:
    store: Store
    shapes: Shapes
    existing: rdflib.Graph
    before: set[tuple[object, ...]]  # the results pySHACL finds on the store alone


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Context:
    settings = tmp_settings(tmp_path_factory.mktemp("validation"), "oxigraph")
    store = open_store(settings)
    shapes = load_shapes(settings)
    existing = existing_graph(store)
    before = {r.key for r in _results(shacl.run(existing, shapes.graph))}
    return Context(store, shapes, existing, before)


def reference(ctx: Context, new: rdflib.Graph) -> list[tuple[str, ...]]:
    """pySHACL on the whole merged graph: the results the store alone does not have, as findings."""
    merged = ctx.existing + mark_ill_typed(new)
    for prefix, ns in new.namespaces():
        merged.bind(prefix, ns, override=False)
    fresh = [r for r in _results(shacl.run(merged, ctx.shapes.graph)) if r.key not in ctx.before]
    return sorted(astuple(f) for f in _describe(fresh, merged, ctx.shapes.graph))


def focused(ctx: Context, new: rdflib.Graph) -> Report:
    return validate_new(ctx.store, new, ctx.shapes)


def assert_same(ctx: Context, new: rdflib.Graph) -> Report:
    report = focused(ctx, new)
    expected = reference(ctx, new)
    got = sorted(astuple(f) for f in report.findings)
    assert got == expected, (
        f"only focused: {[x for x in got if x not in expected]}\nonly pySHACL: {[x for x in expected if x not in got]}"
    )
    assert report.conforms == (not any(f[0] == "Violation" for f in expected))
    return report


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_case_file_like_pyshacl_on_the_merged_graph(ctx: Context, path: Path) -> None:
    report = assert_same(ctx, read_files([path]))
    if path.parent.name == "valid":
        assert report.conforms, report.render("text")
    else:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert {f.shape for f in report.violations} == {first.removeprefix("# expect: ").strip()}, report.render("text")
        assert all(f.message for f in report.violations)


# ------------------------------------------------------------------------------------- generated and mutated

VOCABULARY = load_vocabulary(ROOT / "data")
# terms a mutation may bring in: shared nodes of the graph (countries, forms, a firm, the Table 2 data set),
# classes and properties the shapes use, a misspelt term, and literals right and wrong
NODES = [
    IFD["country-de"],
    IFD["country-in"],
    IFD["form-joint-venture"],
    IFD["form-licensing"],
    IFD["form-consortium"],
    IFD["firm-volkswagen"],
    IFD["table-2-dataset"],
    IFD["unctad-ite-eds-2"],
    IFC.Firm,
    IFC.Consortium,
    IFC.EquityShare,
    IFC.Statistic,
    IFC.NorthNorth,
    IFC.SouthSouth,
    IFC.DevelopingEconomy,
    IFC.OneWay,
    IFC.Distribution,
    IFC.Count,
    QB.Observation,
    URIRef("https://example.org/interfirm-case/nowhere"),
]
PREDICATES = [
    RDF.type,
    RDFS.label,
    IFC.hasPartner,
    IFC.basedIn,
    IFC.economyType,
    IFC.orientation,
    IFC.hasForm,
    IFC.direction,
    IFC.valueChainStage,
    IFC.hasEquityShare,
    IFC.holder,
    IFC.percentage,
    IFC.startYear,
    IFC.describes,
    IFC.hasMember,
    IFC.locatedIn,
    IFC.unit,
    IFC.value,
    QB.dataSet,
    IFC.refArea,
    IFC.allianceCount,
    DCT.source,
    IFC.hasPartnr,
]
LITERALS = [
    Literal("2005", datatype=XSD.gYear),
    Literal("19990", datatype=XSD.gYear),
    Literal("49.0", datatype=XSD.decimal),
    Literal("-3.0", datatype=XSD.decimal),
    Literal("150", datatype=XSD.integer),
    Literal("49"),
    Literal("Beispiel", lang="de"),
]


@st.composite
def mutated_case(draw: st.DrawFn) -> rdflib.Graph:
    """A generated case (a few firms, agreements, clusters) with one triple dropped, changed or added."""
    seed = draw(st.integers(min_value=0, max_value=10**6))
    size = draw(st.sampled_from([40, 90, 160]))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "case.ttl"
        generate(out, size, seed, VOCABULARY)
        graph = rdfio.parse_file(out)
    triples = sorted(graph, key=lambda t: tuple(str(x) for x in t))
    s, p, o = draw(st.sampled_from(triples))
    own = sorted({x for t in triples for x in (t[0], t[2]) if isinstance(x, URIRef)}, key=str)
    kind = draw(st.sampled_from(["drop", "subject", "predicate", "object", "add", "none"]))
    if kind == "none":
        return graph
    graph.remove((s, p, o))
    if kind == "subject":
        s = draw(st.sampled_from(NODES + own[:20]))
    elif kind == "predicate":
        p = draw(st.sampled_from(PREDICATES))
    elif kind == "object":
        o = draw(st.sampled_from(NODES + LITERALS + own[:20] + [BNode()]))
    elif kind == "add":
        graph.add((s, p, o))
        s = draw(st.sampled_from(NODES + own[:20]))
        p = draw(st.sampled_from(PREDICATES))
        o = draw(st.sampled_from(NODES + LITERALS + own[:20]))
    if kind != "drop":
        graph.add((s, p, o))
    return graph


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated_case())
def test_generated_and_mutated_cases_like_pyshacl_on_the_merged_graph(ctx: Context, case: rdflib.Graph) -> None:
    assert_same(ctx, case)


@pytest.mark.parametrize(
    "triple",
    [
        # a shared node changes: every agreement with a German partner and a North-North orientation breaks
        (IFD["country-de"], IFC.economyType, IFC.DevelopingEconomy),
        # a new type on a shared node can only remove results: nothing to report
        (IFD["country-de"], RDF.type, URIRef("https://schema.org/Place")),
        # an existing firm gets a second name
        (IFD["firm-volkswagen"], RDFS.label, Literal("VW", lang="en")),
        # a new row in the paper's Table 2 data set: the data set's total no longer adds up
        (URIRef("https://example.org/interfirm-case/row"), QB.dataSet, IFD["table-2-dataset"]),
    ],
    ids=["economy-of-a-country", "type-on-a-country", "second-label", "row-in-table-2"],
)
def test_changes_to_existing_resources_like_pyshacl_on_the_merged_graph(ctx: Context, triple: tuple) -> None:  # type: ignore[type-arg]
    new = rdflib.Graph()
    new.add(triple)
    assert_same(ctx, new)


def test_findings_name_only_what_the_new_data_changed(ctx: Context) -> None:
    """A case about a new firm that partners an existing one: no finding about the existing firm."""
    text = (ROOT / "tests" / "cases" / "valid" / "full-case.ttl").read_text(encoding="utf-8")
    new = rdflib.Graph().parse(data=text, format="turtle")
    report = focused(ctx, new)
    assert all(f.focus.startswith("ex:") for f in report.findings), report.render("text")


# ------------------------------------------------------------------------- ill-typed literals never crash


def datatype_constraints() -> list[tuple[URIRef, URIRef, frozenset[URIRef]]]:
    """(property, datatype, every datatype the shape accepts there) for each sh:datatype in the shapes."""
    from rdflib.collection import Collection
    from rdflib.namespace import SH

    shapes = rdfio.parse_files(sorted((ROOT / "shapes").glob("*.ttl")))
    found = {}
    for node, datatype in shapes.subject_objects(SH.datatype):
        if (None, SH["not"], node) in shapes:
            continue  # a negated datatype requires nothing
        path, accepted = shapes.value(node, SH.path), {datatype}
        if path is None:  # a member of an sh:or list under a property shape
            for owner, members in shapes.subject_objects(SH["or"]):
                listed = list(Collection(shapes, members))
                if node in listed:
                    path = shapes.value(owner, SH.path)
                    accepted = {shapes.value(m, SH.datatype) for m in listed} - {None}
        assert isinstance(path, URIRef), f"a datatype constraint on a path the test cannot build: {node}"
        found[(path, datatype)] = frozenset(accepted)
    return sorted((p, d, a) for (p, d), a in found.items())


DATATYPES = datatype_constraints()
BAD_FORMS = {
    XSD.decimal: ["36,8", "1 4", "12a", "abc", "1e3", "NaN", "Infinity", "sNaN", "", "1.2.3", "--5", "½"],
    XSD.integer: ["2,598", "1 4", "12.5", "12a", "1e3", "", "1_000", "١٢"],
    XSD.gYear: ["19 96", "abcd", "1996-01", "96", "", "2005.0", "１９９６", "1700", "19990", "2101"],
    XSD.date: ["2024-02-30", "2024-13-01", "30.01.2024", "2024/01/30", "", "1700-01-01"],
}
OTHER_DATATYPES = [XSD.string, XSD.integer, XSD.decimal, XSD.date, XSD.gYear, XSD.dateTime]


def carrier(prop: URIRef) -> tuple[rdflib.Graph, tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node]]:
    """A valid case file holding a triple with `prop`, and that triple."""
    for path in sorted((ROOT / "tests" / "cases" / "valid").glob("*.ttl")):
        graph = read_files([path])
        for triple in sorted(graph.triples((None, prop, None)), key=str):
            return graph, triple
    raise AssertionError(f"no valid case file uses {prop.n3()}")


@st.composite
def wrong_literal(draw: st.DrawFn, prop: URIRef, datatype: URIRef, accepted: frozenset[URIRef]) -> Literal:
    """A wrong lexical form for `datatype` (comma, spaces, letters, out of range), or a right one with another
    datatype IRI than the shape accepts."""
    if draw(st.booleans()):
        return Literal(draw(st.sampled_from(BAD_FORMS[datatype])), datatype=datatype, normalize=False)
    other = draw(st.sampled_from([d for d in OTHER_DATATYPES if d not in accepted]))
    return Literal(draw(st.sampled_from(["2005", "49.0", "12", "1996-10-06"])), datatype=other, normalize=False)


def with_literal(prop: URIRef, value: Literal) -> bytes:
    graph, (s, p, _) = carrier(prop)
    graph.remove((s, p, None))
    graph.add((s, p, value))
    return graph.serialize(format="nt", encoding="utf-8")


def reported(results: list[dict[str, str]], prop: URIRef, value: Literal) -> bool:
    """A violation names the property and shows the bad text as written."""
    import json

    text = json.dumps(str(value), ensure_ascii=False)
    short = prop.n3(rdflib.Graph(bind_namespaces="none").namespace_manager)
    names = {f"ifc:{prop.removeprefix(str(IFC))}", f"dcterms:{prop.removeprefix(str(DCT))}", short}
    return any(
        r["severity"] == "Violation" and r["value"].startswith(text) and any(n in r["path"] for n in names)
        for r in results
    )


@pytest.mark.slow
@pytest.mark.parametrize("prop,datatype,accepted", DATATYPES, ids=[f"{p.n3()}-{d.n3()}" for p, d, _ in DATATYPES])
@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_ill_typed_literal_is_a_violation_on_the_command_line(
    tmp_path: Path, prop: URIRef, datatype: URIRef, accepted: frozenset[URIRef], data: st.DataObject
) -> None:
    import json

    from tests.live import run_kg

    value = data.draw(wrong_literal(prop, datatype, accepted))
    case = tmp_path / "case.nt"
    case.write_bytes(with_literal(prop, value))
    proc = run_kg(tmp_path, "validate", "--format", "json", str(case))
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert reported(json.loads(proc.stdout)["results"], prop, value), proc.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> str:  # type: ignore[misc]
    from tests.live import running_server

    with running_server(tmp_path_factory.mktemp("served"), env={"KG_RATE_LIMIT_PER_MINUTE": "0"}) as base:
        yield base


@pytest.mark.slow
@pytest.mark.parametrize("prop,datatype,accepted", DATATYPES, ids=[f"{p.n3()}-{d.n3()}" for p, d, _ in DATATYPES])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_ill_typed_literal_is_a_violation_over_http(
    server: str, prop: URIRef, datatype: URIRef, accepted: frozenset[URIRef], data: st.DataObject
) -> None:
    import json

    from tests.live import http

    value = data.draw(wrong_literal(prop, datatype, accepted))
    status, _, body = http(
        server + "/validate",
        data=with_literal(prop, value),
        headers={"Content-Type": "application/n-triples", "Accept": "application/json"},
    )
    assert status == 200, body[:2000]
    report = json.loads(body)
    assert report["conforms"] is False and reported(report["results"], prop, value), body[:3000]


def test_empty_input_is_nothing_to_validate_on_the_command_line(tmp_path: Path) -> None:
    from tests.live import run_kg

    for name, text in (("empty.ttl", ""), ("comment.ttl", "# only a comment\n"), ("empty.jsonld", "{}")):
        path = tmp_path / name
        path.write_text(text)
        for command in ("validate", "ingest"):
            proc = run_kg(tmp_path, command, str(path))
            assert proc.returncode == 2 and "nothing to validate" in proc.stderr, (name, command, proc.stderr)


@pytest.mark.parametrize("name", ["full-case.ttl", "data-set.ttl"])
def test_the_examples_of_the_guide_are_the_case_files(name: str) -> None:
    """docs/new-case-data.md shows these case files character for character (and they conform, above)."""
    guide = (ROOT / "docs" / "new-case-data.md").read_text(encoding="utf-8")
    assert (ROOT / "tests" / "cases" / "valid" / name).read_text(encoding="utf-8") in guide


def test_batches_and_processes_change_nothing(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches (each on its own neighbourhood), checked here or by two processes, report what one batch does."""
    import kg.validation

    new = read_files([ROOT / "tests" / "cases" / "invalid" / "equity-holder-partner.ttl"])
    whole = sorted(astuple(f) for f in focused(ctx, new).findings)
    monkeypatch.setattr(kg.validation, "BATCH", 4)
    serial = validate_new(ctx.store, new, ctx.shapes)
    parallel = validate_new(ctx.store, new, ctx.shapes, processes=2)
    assert sorted(astuple(f) for f in serial.findings) == whole == sorted(astuple(f) for f in parallel.findings)
    assert whole == reference(ctx, new)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["valid/full-case.ttl", "invalid/agreement-orientation.ttl"])
def test_a_remote_sparql_store_gives_the_same_findings(ctx: Context, server: str, name: str) -> None:
    """The neighbourhood read with SPARQL from a remote store (here `kg serve` on the repository)."""
    from kg.store.remote import RemoteStore

    new = read_files([ROOT / "tests" / "cases" / name])
    remote = validate_new(RemoteStore(server + "/sparql"), new, ctx.shapes)
    assert sorted(astuple(f) for f in remote.findings) == sorted(astuple(f) for f in focused(ctx, new).findings)


def test_a_blank_node_is_named_by_its_path_and_values_are_shown_as_written(ctx: Context, tmp_path: Path) -> None:
    """An equity share written as a blank node with a percentage of "36,8": the finding names the share by the
    agreement that holds it and shows the value as written."""
    text = (ROOT / "tests" / "cases" / "invalid" / "equity-sum.ttl").read_text(encoding="utf-8")
    text = text.replace(
        "ex:equity-example-north, ex:equity-example-south",
        "ex:equity-example-south, [\n"
        "        a ifc:EquityShare ; ifc:holder ex:firm-example-north ; "
        'ifc:percentage "36,8"^^xsd:decimal ]',
    )
    case = tmp_path / "case.ttl"
    case.write_text(text, encoding="utf-8")
    new = read_files([case])
    report = assert_same(ctx, new)
    bad = [f for f in report.violations if f.path == "ifc:percentage"]
    assert bad and all(f.focus == "ex:agreement-example / ifc:hasEquityShare" for f in bad), report.render("text")
    assert all(f.value == '"36,8"^^xsd:decimal' and "not a valid xsd:decimal" in f.message for f in bad)
    assert not any("_:" in f.focus or f.focus.startswith("[") for f in report.findings)
