"""Links to other datasets (data/links/): one file and named graph per target, each described as VoID linksets
whose counts are right; every identifier well formed and confirmed by the source the linkset names."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import rdflib
from rdflib import URIRef
from rdflib.namespace import RDF, SKOS

from kg.namespaces import GRAPH, IFC, IFD
from kg.sources import repository_sources
from tests.conftest import ROOT, make_settings

LINKS = ROOT / "data" / "links"
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
BIBO = rdflib.Namespace("http://purl.org/ontology/bibo/")
QB = rdflib.Namespace("http://purl.org/linked-data/cube#")
WIKIDATA = re.compile(r"^http://www\.wikidata\.org/entity/Q[1-9][0-9]*$")
STW = re.compile(r"^http://zbw\.eu/stw/descriptor/[0-9]+-[0-9]$")
DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")
FORMS = {
    str(IFC.isoAlpha2): re.compile(r"^[A-Z]{2}$"),
    str(IFC.isoAlpha3): re.compile(r"^[A-Z]{3}$"),
    str(IFC.m49Code): re.compile(r"^[0-9]{3}$"),
}


def link_files() -> list[Path]:
    return sorted(LINKS.glob("*.ttl"))


@pytest.fixture(scope="module")
def data() -> rdflib.Graph:
    """Ontology, data and links together."""
    g = rdflib.Graph()
    for s in repository_sources(make_settings()):
        g += s.parse()
    return g


@pytest.fixture(scope="module")
def unsd() -> dict[str, dict[str, str]]:
    with open(ROOT / "sources" / "reference" / "unsd-m49.csv", encoding="utf-8") as fh:
        return {r["ISO-alpha2 Code"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def reference() -> dict[str, str]:
    """Wikidata item -> where the project's reference table says it was confirmed."""
    with open(ROOT / "sources" / "reference" / "wikidata-ids.tsv", encoding="utf-8") as fh:
        return {
            r["wikidata"]: r["where it was confirmed (public repositories and files)"]
            for r in csv.DictReader(fh, delimiter="\t")
        }


def test_each_links_file_is_its_own_named_graph_described_by_void() -> None:
    names = {s.path.resolve(): s.graph for s in repository_sources(make_settings())}
    assert {p.stem for p in link_files()} >= {"wikidata", "stw", "iso3166", "m49"}
    for path in link_files():
        graph = GRAPH[f"links/{path.stem}"]
        assert names[path.resolve()] == graph
        g = rdflib.Graph().parse(path)
        kinds = set(g.objects(graph, RDF.type))
        assert kinds & {VOID.Linkset, VOID.Dataset}, f"{path.name} does not describe <{graph}> with VoID"


@pytest.mark.parametrize("path", link_files(), ids=lambda p: p.name)
def test_linkset_counts_match_the_links(path: Path) -> None:
    g = rdflib.Graph().parse(path)
    graph = GRAPH[f"links/{path.stem}"]
    linksets = [graph] if (graph, RDF.type, VOID.Linkset) in g else list(g.objects(graph, VOID.subset))
    assert linksets
    for ls in linksets:
        assert (ls, RDF.type, VOID.Linkset) in g
        predicate = g.value(ls, VOID.linkPredicate)
        target = g.value(ls, VOID.objectsTarget)
        assert predicate is not None and target is not None and g.value(ls, VOID.subjectsTarget) is not None
        described = {ls, graph, target, *g.objects(graph, VOID.subset)}
        links = [t for t in g.triples((None, predicate, None)) if t[0] not in described]
        assert len(links) == g.value(ls, VOID.triples).toPython() > 0, f"{ls}: void:triples is not the count"


def test_every_link_is_well_formed(data: rdflib.Graph) -> None:
    bad = []
    for s, p, o in data:
        if str(p).startswith(str(VOID)):
            continue  # the linksets' own descriptions (targets, URI spaces)
        if str(o).startswith("http://www.wikidata.org/") and not WIKIDATA.match(str(o)):
            bad.append((s, p, o))
        if str(o).startswith("http://zbw.eu/stw/descriptor/") and not STW.match(str(o)):
            bad.append((s, p, o))
        if str(p) in FORMS and not FORMS[str(p)].match(str(o)):
            bad.append((s, p, o))
        if p == BIBO.doi and not DOI.match(str(o)):
            bad.append((s, p, o))
        if p in (BIBO.isbn, BIBO.isbn10, BIBO.isbn13) and not _isbn_ok(str(o)):
            bad.append((s, p, o))
    assert not bad


def _isbn_ok(text: str) -> bool:
    digits = text.replace("-", "").replace(" ", "").upper()
    if re.fullmatch(r"[0-9]{9}[0-9X]", digits):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
        return total % 11 == 0
    if re.fullmatch(r"97[89][0-9]{10}", digits):
        return sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(digits)) % 10 == 0
    return False


def test_isbn_check_digits_are_checked() -> None:
    assert _isbn_ok("0-306-40615-2") and _isbn_ok("978-0-306-40615-7")
    assert not _isbn_ok("0-306-40615-3") and not _isbn_ok("978-0-306-40615-8")


def test_only_links_files_link_to_wikidata_stw_iso_and_m49() -> None:
    """The links live in data/links/ (moved there from the data files), not scattered in the data."""
    for path in sorted((ROOT / "data").glob("*.ttl")):
        g = rdflib.Graph().parse(path)
        for s, p, o in g:
            assert not str(o).startswith(("http://www.wikidata.org/", "http://zbw.eu/stw/")), (path.name, s)
            assert str(p) not in FORMS, (path.name, s, p)


def test_every_wikidata_item_is_in_the_reference_table(reference: dict[str, str]) -> None:
    g = rdflib.Graph().parse(LINKS / "wikidata.ttl")
    linked = [(s, p, str(o).rsplit("/", 1)[1]) for s, p, o in g if WIKIDATA.match(str(o))]
    assert len(linked) > 30
    for s, p, q in linked:
        assert q in reference, f"{s} links {q}, which sources/reference/wikidata-ids.tsv does not confirm"
        if "GND" in reference[q] and "stw-mappings" not in reference[q]:
            assert p == SKOS.closeMatch, f"{s}: a GND candidate mapping gives skos:closeMatch only"


def test_every_stw_descriptor_is_recorded_in_the_reference_table() -> None:
    table = (ROOT / "sources" / "reference" / "wikidata-ids.tsv").read_text(encoding="utf-8")
    g = rdflib.Graph().parse(LINKS / "stw.ttl")
    linked = [str(o).rsplit("/", 1)[1] for o in g.objects() if STW.match(str(o))]
    assert len(linked) == 6
    for descriptor in linked:
        assert f"STW {descriptor}" in table


def test_iso_and_m49_codes_are_those_of_the_un_table(data: rdflib.Graph, unsd: dict[str, dict[str, str]]) -> None:
    countries = sorted(data.subjects(RDF.type, IFC.Country), key=str)
    assert len(countries) >= 45
    for c in countries:
        row = unsd[str(c).rsplit("-", 1)[1].upper()]  # our country IRIs end in the alpha-2 code
        assert str(data.value(c, IFC.isoAlpha2)) == row["ISO-alpha2 Code"]
        assert str(data.value(c, IFC.isoAlpha3)) == row["ISO-alpha3 Code"]
        assert str(data.value(c, IFC.m49Code)) == row["M49 Code"]
        region = IFD[f"m49-{row['Region Code']}"]
        assert (region, IFC.m49Code, rdflib.Literal(row["Region Code"])) in data
        assert (region, IFC.includes, IFD[f"m49-{row['Sub-region Code']}"]) in data


def test_all_of_table2s_areas_are_coded_or_placed(data: rdflib.Graph) -> None:
    """Every country of Table 2 has its ISO and M49 codes; every region of it is placed in an M49 region or
    says why it cannot be."""
    m49 = rdflib.Graph().parse(LINKS / "m49.ttl")
    dataset = IFD["table-2-dataset"]
    areas = {data.value(obs, IFC.refArea) for obs in data.subjects(QB.dataSet, dataset)}
    assert len(areas) == 38
    for area in areas:
        if (area, RDF.type, IFC.Country) in data:
            assert all(data.value(area, p) is not None for p in (IFC.isoAlpha2, IFC.isoAlpha3, IFC.m49Code)), area
        else:
            placed = any(str(s).startswith(str(IFD["m49-"])) for s in m49.subjects(IFC.includes, area))
            assert placed or m49.value(area, SKOS.editorialNote) is not None, area


def test_m49_placement_follows_the_un_table_for_asia(data: rdflib.Graph) -> None:
    """China is in Eastern Asia (030), which is in Asia (142); Turkey in Western Asia (145)."""
    assert (IFD["m49-142"], IFC.includes, IFD["m49-030"]) in data
    assert (IFD["m49-030"], IFC.includes, IFD["country-cn"]) in data
    assert (IFD["m49-145"], IFC.includes, IFD["country-tr"]) in data
    assert URIRef(IFD["m49-142"]) in set(data.subjects(IFC.m49Code, rdflib.Literal("142")))
