"""`kg generate`: deterministic synthetic data that parses, conforms to the shapes and can be built and queried."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, XSD

from kg.generate import generate, load_vocabulary, parse_count
from kg.namespaces import IFC, IFD, SYNTHETIC
from kg.validation import validate
from tests.conftest import make_settings
from tests.live import run_kg

ROOT = Path(__file__).resolve().parent.parent
GEN = SYNTHETIC


@pytest.fixture(scope="module")
def vocabulary() -> object:
    return load_vocabulary(ROOT / "data")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-triple file written by the command line."""
    path = tmp_path_factory.mktemp("gen") / "small.nt"
    proc = run_kg(path.parent, "generate", "--triples", "2000", "--seed", "11", "-o", str(path))
    assert proc.returncode == 0, proc.stderr
    assert re.match(r"wrote (\d+) triples to ", proc.stdout), proc.stdout
    return path


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, vocabulary: object) -> None:
    a, b, c = tmp_path / "a.nt", tmp_path / "b.nt", tmp_path / "c.nt"
    generate(a, 5000, 42, vocabulary)  # type: ignore[arg-type]
    generate(b, 5000, 42, vocabulary)  # type: ignore[arg-type]
    generate(c, 5000, 43, vocabulary)  # type: ignore[arg-type]
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert "/synthetic/42/" in a.read_text() and "/synthetic/42/" not in c.read_text()


@pytest.mark.parametrize("n", [1, 137, 2000, 30000])
def test_count_is_at_least_n_and_close_to_it_and_exact(tmp_path: Path, vocabulary: object, n: int) -> None:
    path = tmp_path / "g.nt"
    summary = generate(path, n, 5, vocabulary)  # type: ignore[arg-type]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert summary.triples == len(lines)
    assert n <= summary.triples <= n + 80  # stops after the entity that reaches n
    g = rdflib.Graph().parse(path, format="nt")
    assert len(g) == summary.triples  # no duplicate statements


def test_turtle_and_ntriples_hold_the_same_triples(tmp_path: Path, vocabulary: object) -> None:
    nt, ttl = tmp_path / "g.nt", tmp_path / "g.ttl"
    generate(nt, 3000, 9, vocabulary)  # type: ignore[arg-type]
    generate(ttl, 3000, 9, vocabulary)  # type: ignore[arg-type]
    assert ttl.read_text().startswith("@prefix ")  # the OWL API reads only Turtle @prefix
    assert set(rdflib.Graph().parse(nt)) == set(rdflib.Graph().parse(ttl))


def test_content_is_realistic_and_consistent(small: Path, vocabulary: object) -> None:
    g = rdflib.Graph().parse(small, format="nt")
    repo = rdflib.Graph()
    for name in ("places.ttl", "concepts.ttl", "table1.ttl"):
        repo.parse(ROOT / "data" / name)
    assert all(str(s).startswith(str(GEN) + "11/") for s in set(g.subjects()))
    assert not any(str(s).startswith(str(IFD)) for s in set(g.subjects()))  # never in the paper's namespace
    firms = {
        s
        for k in ("Firm", "SmallAndMediumEnterprise", "TransnationalCorporation")
        for s in g.subjects(RDF.type, IFC[k])
    }
    assert len(firms) > 30
    for f in firms:
        country = g.value(f, IFC.basedIn)
        assert (country, RDF.type, IFC.Country) in repo and repo.value(country, IFC.economyType) is not None
        assert all((s, RDF.type, IFC.Sector) in repo for s in g.objects(f, IFC.inSector))
        assert g.value(f, rdflib.RDFS.label).language == "en"
    entries = {
        (repo.value(e, IFC.entryForm), repo.value(e, IFC.direction), repo.value(e, IFC.valueChainStage))
        for e in repo.subjects(RDF.type, IFC.TaxonomyEntry)
    }
    agreements = set(g.subjects(IFC.hasForm, None))
    assert len(agreements) > 30
    for a in agreements:
        partners = set(g.objects(a, IFC.hasPartner))
        assert 2 <= len(partners) <= 5 and partners <= firms
        form = g.value(a, IFC.hasForm)
        assert (form, g.value(a, IFC.direction), g.value(a, IFC.valueChainStage)) in entries
        if (a, RDF.type, IFC.Consortium) in g:
            assert len(partners) >= 3
        year = g.value(a, IFC.startYear)
        assert year.datatype == XSD.integer and 1980 <= int(str(year)) <= 2024
        assert g.value(a, rdflib.URIRef("http://purl.org/dc/terms/source")) is not None
        assert g.value(a, rdflib.URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")) is not None
        economies = {repo.value(g.value(p, IFC.basedIn), IFC.economyType) for p in partners}
        countries = {g.value(p, IFC.basedIn) for p in partners}
        orientation = g.value(a, IFC.orientation)
        assert (orientation is None) == (len(countries) == 1)
        if orientation == IFC.NorthNorth:
            assert economies == {IFC.DevelopedEconomy}
        elif orientation == IFC.SouthSouth:
            assert IFC.DevelopedEconomy not in economies
        elif orientation is not None:
            assert IFC.DevelopedEconomy in economies and len(economies) > 1
        shares = list(g.objects(a, IFC.hasEquityShare))
        assert sum(float(g.value(s, IFC.percentage)) for s in shares) <= 100
        assert {g.value(s, IFC.holder) for s in shares} <= partners


def test_generated_file_conforms_to_the_shapes_with_the_repository_data(small: Path) -> None:
    report = validate(make_settings(store="memory"), [small])
    assert report.violations == [], report.render("text")
    assert report.conforms


def test_build_with_generated_file_then_saved_query_sees_the_new_firms(small: Path, tmp_path: Path) -> None:
    store = {"KG_STORE_DIR": str(tmp_path / "store")}
    served = {**store, "KG_EXTRA_FILES": str(small)}
    count = tmp_path / "count-firms.rq"
    count.write_text(
        "#+ summary: firms\nPREFIX ifc: <https://w3id.org/interfirm/ontology#>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f a/rdfs:subClassOf* ifc:Firm }\n"
    )
    before = run_kg(tmp_path, "query", str(count), "--format", "csv", env=store)
    assert before.returncode == 0, before.stderr
    rows_before = run_kg(tmp_path, "query", "firms-by-country", "--format", "csv", env=store)
    proc = run_kg(tmp_path, "build", str(small), env=store)
    assert proc.returncode == 0 and proc.stdout.startswith("built"), proc.stderr
    after = run_kg(tmp_path, "query", str(count), "--format", "csv", env=served)
    assert after.returncode == 0, after.stderr
    generated = len(set(rdflib.Graph().parse(small).subjects(IFC.basedIn, None)))
    assert int(after.stdout.split()[-1]) == int(before.stdout.split()[-1]) + generated
    rows_after = run_kg(tmp_path, "query", "firms-by-country", "--format", "csv", env=served)
    assert rows_after.returncode == 0, rows_after.stderr
    n_before = len(list(csv.reader(io.StringIO(rows_before.stdout))))
    n_after = len(list(csv.reader(io.StringIO(rows_after.stdout))))
    assert n_after > n_before + generated // 2


def test_parse_count_and_bad_output(tmp_path: Path) -> None:
    assert parse_count("1e5") == 100_000 and parse_count("2_000") == 2000
    proc = run_kg(tmp_path, "generate", "-n", "10", "-o", str(tmp_path / "x.csv"))
    assert proc.returncode == 2 and ".nt" in proc.stderr
    proc = run_kg(tmp_path, "generate", "-n", "lots", "-o", str(tmp_path / "x.nt"))
    assert proc.returncode == 2 and "not a number" in proc.stderr
