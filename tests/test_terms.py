"""`kg terms KIND` lists what the graph holds for new case data to reuse, as the data files declare it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF

from kg.namespaces import IFC
from kg.store import Store
from kg.terms import KINDS, listing
from tests.conftest import ROOT
from tests.live import run_kg

CLASSES = {
    "countries": IFC.Country,
    "regions": IFC.Region,
    "sectors": IFC.Sector,
    "forms": IFC.AgreementForm,
    "measures": IFC.Measure,
    "units": IFC.Unit,
}


@pytest.fixture(scope="module")
def files() -> rdflib.Graph:
    graph = rdflib.Graph().parse(ROOT / "ontology" / "interfirm.ttl")
    for path in sorted((ROOT / "data").glob("**/*.ttl")):  # the links files declare the UN M49 regions
        graph.parse(path)
    return graph


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_each_kind_lists_every_instance_the_files_declare(store: Store, files: rdflib.Graph, kind: str) -> None:
    listed = {row[0] for row in listing(store, kind).rows}
    assert listed == set(files.subjects(RDF.type, CLASSES[kind]))


def test_countries_come_with_their_economy_type(store: Store, files: rdflib.Graph) -> None:
    rows = listing(store, "countries").as_dicts()
    assert rows and all(r["economyType"] == files.value(r["country"], IFC.economyType) for r in rows)


def test_the_command_line_lists_csv_and_refuses_an_unknown_kind(tmp_path: Path) -> None:
    proc = run_kg(tmp_path, "terms", "sectors", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert len(list(csv.reader(io.StringIO(proc.stdout)))) > 10
    assert run_kg(tmp_path, "terms", "planets").returncode == 2
    assert set(KINDS) >= set(CLASSES)
