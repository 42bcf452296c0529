"""Every saved query, on every backend, gives its golden result (tests/golden/<name>.csv).

Golden files were written from the paper and checked against it row by row; the paper-based tests in
test_paper.py re-derive Table 1 and Table 2 from the paper's text independently.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from kg import results
from kg.queries import QueryCatalog
from kg.store import Store

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
CATALOG = QueryCatalog(ROOT / "queries")


def rows_of(csv_bytes: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_bytes.decode("utf-8"))))


def normalise_cell(cell: str) -> str:
    """Whitespace collapsed; the values of a GROUP_CONCAT list (separated by " | ") sorted, since SPARQL 1.1
    leaves their order to the engine."""
    cell = " ".join(cell.split())
    return " | ".join(sorted(cell.split(" | "))) if " | " in cell else cell


def normalise(rows: list[list[str]], ordered: bool) -> list[list[str]]:
    out = [[normalise_cell(cell) for cell in row] for row in rows]
    return out if ordered else [out[0], *sorted(out[1:])]


@pytest.mark.parametrize("name", CATALOG.names())
def test_saved_query_golden(name: str, store: Store) -> None:
    saved = CATALOG.get(name)
    golden = GOLDEN / f"{name}.csv"
    assert golden.is_file(), f"no golden result for {name}: write tests/golden/{name}.csv from the paper"
    result = store.query(saved.text, bindings=saved.bind({}))
    ordered = "ORDER BY" in saved.text.upper()
    got = normalise(rows_of(results.serialize(result, "csv")), ordered)
    want = normalise(rows_of(golden.read_bytes()), ordered)
    assert got[0] == want[0], "columns differ"
    assert got[1:] == want[1:]


def test_at_least_twelve_saved_queries_each_with_summary() -> None:
    queries = list(CATALOG)
    assert len(queries) >= 12
    for q in queries:
        assert q.summary and len(q.summary) > 10, q.name


def test_every_golden_file_has_a_query() -> None:
    assert {p.stem for p in GOLDEN.glob("*.csv")} == set(CATALOG.names())
