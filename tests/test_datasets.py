"""N-Quads and TriG, the standard way to hand over named graphs, accepted wherever a data file is: `kg build`
(graph names kept; a file's triples outside any named graph go to the file's graph), `kg validate`, `kg ingest`,
`POST /validate` and `POST /cases`. Also `kg build GRAPH-IRI=FILE`, whose IRI click used to mangle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from rdflib import URIRef

from tests.conftest import ROOT
from tests.live import http, run_kg, running_server

CASES = ROOT / "tests" / "cases"
VALID = CASES / "valid" / "full-case.ttl"
INVALID = CASES / "invalid" / "agreement-direction.ttl"  # expect: ifs:AgreementDirectionShape
G1, G2 = URIRef("https://example.org/graph/one"), URIRef("https://example.org/graph/two")
GRAPHS = """SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }
  FILTER (STRSTARTS(STR(?g), "https://example.org/") || CONTAINS(STR(?g), "/graph/extra/")) } GROUP BY ?g ORDER BY ?g"""
TOKEN = "datasets-token"


def as_dataset(case: Path, out: Path, fmt: str) -> Path:
    """A case file's triples split over two named graphs and the default graph, written as N-Quads or TriG."""
    g = rdflib.Graph().parse(case)
    ds = rdflib.Dataset()
    for i, triple in enumerate(sorted(g)):
        target = ds.graph(G1) if i % 3 == 0 else ds.graph(G2) if i % 3 == 1 else ds.default_graph
        target.add(triple)
    ds.serialize(out, format={"nq": "nquads", "trig": "trig"}[fmt])
    return out


def graph_sizes(tmp: Path) -> dict[str, int]:
    query = tmp / "graphs.rq"
    query.write_text(f"#+ summary: graphs\n{GRAPHS}\n", encoding="utf-8")
    proc = run_kg(tmp, "query", str(query), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return {b["g"]["value"]: int(b["n"]["value"]) for b in json.loads(proc.stdout)["results"]["bindings"]}


@pytest.mark.parametrize("fmt", ["nq", "trig"])
def test_build_keeps_the_graph_names(tmp_path: Path, fmt: str) -> None:
    data = as_dataset(VALID, tmp_path / f"case.{fmt}", fmt)
    triples = len(rdflib.Graph().parse(VALID))
    proc = run_kg(tmp_path, "build", str(data))
    assert proc.returncode == 0, proc.stderr
    sizes = graph_sizes(tmp_path)
    assert sizes[str(G1)] + sizes[str(G2)] == triples - triples // 3
    own = [g for g in sizes if "/graph/extra/case-" in g]
    assert len(own) == 1 and sizes[own[0]] == triples // 3  # the default graph's triples: the file's own graph
    stats = run_kg(tmp_path, "stats").stdout
    assert f"    {G1}  {sizes[str(G1)]}" in stats and f"    {G2}  {sizes[str(G2)]}" in stats


def test_graph_iri_equals_file_keeps_the_iri_whole(tmp_path: Path) -> None:
    data = as_dataset(VALID, tmp_path / "case.trig", "trig")
    mine = "https://example.org/graph/mine?version=2"  # an IRI with '=' in it, too
    proc = run_kg(tmp_path, "build", f"{mine}={data}")
    assert proc.returncode == 0, proc.stderr
    sizes = graph_sizes(tmp_path)
    assert mine in sizes and "https:/example.org" not in " ".join(sizes)
    bad = run_kg(tmp_path, "build", f"https://exa mple.org/g={data}")
    assert bad.returncode == 2 and "not an absolute IRI" in bad.stderr
    meta = run_kg(tmp_path, "build", f"https://w3id.org/interfirm/graph/meta={data}")
    assert meta.returncode == 2 and "provenance graph" in meta.stderr


def test_quads_in_the_provenance_graph_are_not_loaded(tmp_path: Path) -> None:
    data = tmp_path / "meta.nq"
    triple = "<https://example.org/a> <https://example.org/b>"
    data.write_text(
        f"{triple} <https://example.org/c> <https://w3id.org/interfirm/graph/meta> .\n"
        f"{triple} <https://example.org/d> <https://example.org/graph/one> .\n"
    )
    proc = run_kg(tmp_path, "build", str(data))
    assert proc.returncode == 0, proc.stderr
    assert "1 quads in <https://w3id.org/interfirm/graph/meta> were not loaded" in proc.stderr
    assert graph_sizes(tmp_path)[str(G1)] == 1


@pytest.mark.parametrize("fmt", ["nq", "trig"])
def test_validate_reads_every_graph_of_the_file(tmp_path: Path, fmt: str) -> None:
    good = run_kg(tmp_path, "validate", str(as_dataset(VALID, tmp_path / f"ok.{fmt}", fmt)))
    assert good.returncode == 0, good.stdout[-2000:]
    bad = run_kg(tmp_path, "validate", "--format", "json", str(as_dataset(INVALID, tmp_path / f"bad.{fmt}", fmt)))
    assert bad.returncode == 1, bad.stdout[-2000:] + bad.stderr
    assert "ifs:AgreementDirectionShape" in {r["shape"] for r in json.loads(bad.stdout)["results"]}


def test_ingest_takes_trig(tmp_path: Path) -> None:
    proc = run_kg(tmp_path, "ingest", "--format", "json", str(as_dataset(VALID, tmp_path / "case.trig", "trig")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["committed"] and result["triples"] == len(rdflib.Graph().parse(VALID))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("datasets"), env={"KG_UPDATE_TOKEN": TOKEN}) as base:
        yield base


@pytest.mark.parametrize(("fmt", "media"), [("nq", "application/n-quads"), ("trig", "application/trig")])
def test_post_validate_takes_n_quads_and_trig(server: str, tmp_path: Path, fmt: str, media: str) -> None:
    body = as_dataset(INVALID, tmp_path / f"bad.{fmt}", fmt).read_bytes()
    status, _, answer = http(server + "/validate", data=body, headers={"Content-Type": media})
    assert status == 200, answer
    report = json.loads(answer)
    assert report["conforms"] is False
    assert "ifs:AgreementDirectionShape" in {r["shape"] for r in report["results"]}
    broken = b"<https://example.org/a> <https://example.org/b> .\n"
    status, _, answer = http(server + "/validate", data=broken, headers={"Content-Type": media})
    assert status == 400 and b"line 1" in answer


def test_post_cases_takes_trig(server: str, tmp_path: Path) -> None:
    body = as_dataset(VALID, tmp_path / "case.trig", "trig").read_bytes()
    headers = {"Content-Type": "application/trig", "Authorization": f"Bearer {TOKEN}"}
    status, _, answer = http(server + "/cases", data=body, headers=headers)
    assert status == 201, answer
    assert json.loads(answer)["triples"] == len(rdflib.Graph().parse(VALID))
