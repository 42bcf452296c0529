"""The `kg` command line: exit codes, formats and error messages, run as a user would."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.live import run_kg

BUILD_SECONDS = 600


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store `kg build` makes under a module temporary folder (its ingests and updates beside it)."""
    d = tmp_path_factory.mktemp("cli") / "store"
    proc = run_kg(d.parent, "build", timeout=BUILD_SECONDS)
    assert proc.returncode == 0, proc.stderr
    return d


def test_build_skips_when_nothing_changed(store_dir: Path) -> None:
    proc = run_kg(store_dir.parent, "build", timeout=BUILD_SECONDS)
    assert proc.returncode == 0
    assert proc.stdout.startswith("up to date")


def test_table2_csv_has_the_38_printed_counts_and_the_total(store_dir: Path) -> None:
    proc = run_kg(store_dir.parent, "query", "table2-it-alliances-by-country", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["row", "country", "alliances", "statedTotal"]
    assert len(rows) == 1 + 38 + 1
    assert rows[-1][1:] == ["Total", "2598", "2598"]
    assert sum(int(r[2]) for r in rows[1:-1]) == 2598


def test_table1_csv_lists_every_form(store_dir: Path) -> None:
    proc = run_kg(store_dir.parent, "query", "table1-agreement-taxonomy", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0][:3] == ["direction", "stage", "form"]
    assert len(rows) == 21
    assert ["one-way relationship", "R and D", "licensing"] == rows[1][:3]
    assert ["two-way partnership", "distribution", "standardization of interfaces"] == rows[-1][:3]


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json", "xml"])
def test_query_formats(store_dir: Path, fmt: str) -> None:
    proc = run_kg(
        store_dir.parent,
        "query",
        "partners-of-firm",
        "--param",
        "firm=https://w3id.org/interfirm/id/firm-samsung",
        "--format",
        fmt,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Toshiba" in proc.stdout
    if fmt == "json":
        assert json.loads(proc.stdout)["head"]["vars"][0] == "partner"


def test_query_bad_parameter_exits_2_naming_it(store_dir: Path) -> None:
    proc = run_kg(store_dir.parent, "query", "partners-of-firm", "--param", "firm=not an iri")
    assert proc.returncode == 2
    assert "firm" in proc.stderr and "IRI" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_query_exits_2(store_dir: Path) -> None:
    proc = run_kg(store_dir.parent, "query", "no-such-query")
    assert proc.returncode == 2
    assert "no saved query named 'no-such-query'" in proc.stderr


def test_validate_repository_exits_0(tmp_path: Path) -> None:
    proc = run_kg(tmp_path, "validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "conforms" in proc.stdout


def test_validate_unreadable_file_exits_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b "open\n', encoding="utf-8")
    proc = run_kg(tmp_path, "validate", str(bad))
    assert proc.returncode == 2
    assert f"{bad}, line 3" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    proc = run_kg(tmp_path, "validate", str(tmp_path / "nope.ttl"))
    assert proc.returncode == 2
    assert "no such file" in proc.stderr


def test_validate_invalid_case_exits_1_json(tmp_path: Path) -> None:
    case = sorted((ROOT / "tests" / "cases" / "invalid").glob("*.ttl"))[0]
    proc = run_kg(tmp_path, "validate", str(case), "--format", "json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["conforms"] is False
    assert report["results"][0]["message"]


@pytest.mark.parametrize("fmt", ["ttl", "nt", "nq", "trig", "jsonld"])
def test_export_parses_back(store_dir: Path, tmp_path: Path, fmt: str) -> None:
    import rdflib

    out = tmp_path / f"all.{fmt}"
    proc = run_kg(store_dir.parent, "export", "--format", fmt, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    parser = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "jsonld": "json-ld"}[fmt]
    if fmt in ("nq", "trig", "jsonld"):
        ds = rdflib.Dataset()
        ds.parse(out, format=parser)
        names = {str(g.identifier) for g in ds.graphs()}
        assert "https://w3id.org/interfirm/graph/ontology" in names
        assert "https://w3id.org/interfirm/graph/table2" in names
    else:
        g = rdflib.Graph().parse(out, format=parser)
        assert len(g) > 3000


def test_stats(store_dir: Path) -> None:
    proc = run_kg(store_dir.parent, "stats")
    assert proc.returncode == 0, proc.stderr
    assert "named graphs:" in proc.stdout
    # every statistic is a Data Cube observation: the 38 numbered rows of Table 2, 34 figures of the text and boxes
    assert "qb:Observation  72" in proc.stdout


# ------------------------------------------------------------------- any query, from a file, stdin or -e


COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/interfirm/ontology#InterFirmAgreement> }"


def _count(stdout: str) -> int:
    rows = list(csv.reader(io.StringIO(stdout)))
    assert rows[0] == ["n"]
    return int(rows[1][0])


def test_query_runs_a_plain_sparql_file_stdin_and_inline_text(store_dir: Path, tmp_path: Path) -> None:
    plain = tmp_path / "agreements.sparql"
    plain.write_text(COUNT_QUERY + "\n", encoding="utf-8")  # no `#+ summary:` header
    by_file = run_kg(store_dir.parent, "query", str(plain), "--format", "csv")
    by_stdin = run_kg(store_dir.parent, "query", "-", "--format", "csv", stdin=COUNT_QUERY)
    inline = run_kg(store_dir.parent, "query", "-e", COUNT_QUERY, "--format", "csv")
    for proc in (by_file, by_stdin, inline):
        assert proc.returncode == 0, proc.stderr
    assert _count(by_file.stdout) == _count(by_stdin.stdout) == _count(inline.stdout) >= 12


def test_query_file_declares_parameters_bound_by_the_engine(store_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "partners.rq"
    path.write_text(
        "#+ params:\n#+   - name: firm\n#+     type: iri\n"
        "SELECT ?name WHERE { ?a <https://w3id.org/interfirm/ontology#hasPartner> ?firm , ?p . FILTER (?p != ?firm)\n"
        "  ?p <http://www.w3.org/2000/01/rdf-schema#label> ?name }\n",
        encoding="utf-8",
    )
    proc = run_kg(
        store_dir.parent,
        "query",
        str(path),
        "--param",
        "firm=https://w3id.org/interfirm/id/firm-ibm",
        "--format",
        "csv",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1:] == ["Samsung"]


def test_query_missing_file_says_it_is_missing(store_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "q.rq"
    proc = run_kg(store_dir.parent, "query", str(missing))
    assert proc.returncode == 2
    assert f"the query file {missing} does not exist" in proc.stderr and "saved query named" not in proc.stderr
    proc = run_kg(store_dir.parent, "query")
    assert proc.returncode == 2 and "-e TEXT" in proc.stderr


def test_query_syntax_error_names_line_column_and_prefix(store_dir: Path) -> None:
    proc = run_kg(store_dir.parent, "query", "-e", "SELECT * WHERE {\n  ?s a ifc:Firm }")
    assert proc.returncode == 2
    assert "line 2, column 8: prefix ifc: is not declared" in proc.stderr
    assert "PREFIX ifc: <https://w3id.org/interfirm/ontology#>" in proc.stderr


def test_fmt_check_and_update_list_say_when_all_is_well(tmp_path: Path) -> None:
    proc = run_kg(tmp_path, "fmt", "--check")
    assert proc.returncode == 0 and proc.stdout.startswith("all ") and "canonical layout" in proc.stdout
    assert len(proc.stdout.splitlines()) == 1
    proc = run_kg(tmp_path, "update", "--list")
    assert proc.returncode == 0 and proc.stdout.startswith("no updates in the journal")
    assert len(proc.stdout.splitlines()) == 1


def test_push_documents_its_credentials() -> None:
    proc = run_kg(Path("/nonexistent"), "push", "--help")
    assert proc.returncode == 0
    for option in ("--user", "--password", "--token", "KG_ENDPOINT_USER", "KG_ENDPOINT_PASSWORD", "KG_ENDPOINT_TOKEN"):
        assert option in proc.stdout
