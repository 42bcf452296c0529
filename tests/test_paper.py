"""The graph against the paper: Tables 1 and 2 re-read from the paper's own text and compared with the queries."""

from __future__ import annotations

import re

import pytest
from rdflib import Literal

from kg.queries import QueryCatalog
from kg.store import Store
from tests.test_queries import CATALOG

STAGES = ["R and D", "production", "distribution"]


def paper_table1(text: str) -> list[tuple[str, str, str]]:
    """(direction, stage, form) for every form printed in Table 1, in printed order."""
    out = []
    for line in text.splitlines():
        for direction in ("One-way relationships", "Two-way partnerships"):
            if line.startswith(direction + "\t"):
                cells = line.split("\t")[1:]
                assert len(cells) == 3, line
                for stage, cell in zip(STAGES, cells, strict=True):
                    for form in cell.strip().rstrip(".").split(";"):
                        out.append((direction, stage, re.sub(r"-\s+", "-", form.strip())))
    return out


def paper_table2(text: str) -> tuple[list[tuple[str, int | None]], int]:
    """The printed rows (name or "", number or None) of Table 2, and its printed total."""
    block = text.split("<i>Country</i>\t<i>Number</i>", 1)[1].split("<b>Total</b>", 1)
    rows = []
    for line in block[0].strip("\n").splitlines():
        name, _, number = line.partition("\t")
        rows.append((name.strip(), int(number) if number.strip() else None))
    total = int(re.search(r"<b>([\d,]+)</b>", block[1]).group(1).replace(",", ""))  # type: ignore[union-attr]
    return rows, total


def test_table1_regenerated(store: Store, paper_text: str) -> None:
    expected = paper_table1(paper_text)
    assert len(expected) == 20
    got = store.query(CATALOG.get("table1-agreement-taxonomy").text).rows
    got_rows = [(str(d), str(s), re.sub(r"-\s+", "-", str(f))) for d, s, f, _ in got]
    label = {"one-way relationship": "One-way relationships", "two-way partnership": "Two-way partnerships"}
    assert [(label[d], s, f) for d, s, f in got_rows] == expected


def test_table2_regenerated(store: Store, paper_text: str) -> None:
    printed, total = paper_table2(paper_text)
    assert len(printed) == 40 and total == 2598
    with_number = [(name or "(no name printed)", n) for name, n in printed if n is not None]
    assert len(with_number) == 38
    got = store.query(CATALOG.get("table2-it-alliances-by-country").text).rows
    body = [(str(c), int(n)) for _, c, n, _ in got[:-1]]  # type: ignore[arg-type]
    assert body == with_number
    assert got[-1][1] == Literal("Total")
    assert int(got[-1][2]) == total == int(got[-1][3])  # type: ignore[arg-type]


def test_table2_rows_without_number_or_name_are_kept_and_flagged(store: Store, paper_text: str) -> None:
    printed, _ = paper_table2(paper_text)
    q = """
    PREFIX ifc: <https://w3id.org/interfirm/ontology#>
    PREFIX qb: <http://purl.org/linked-data/cube#>
    SELECT ?row ?name ?n ?status WHERE {
      ?o qb:dataSet <https://w3id.org/interfirm/id/table-2-dataset> ; ifc:printedRow ?row .
      OPTIONAL { ?o ifc:printedAreaName ?name } OPTIONAL { ?o ifc:allianceCount ?n }
      OPTIONAL { ?o ifc:obsStatus ?status }
    } ORDER BY ?row"""
    rows = store.query(q).rows
    assert len(rows) == len(printed) == 40
    for (row, name, n, status), (pname, pn) in zip(rows, printed, strict=True):
        assert (str(name) if name is not None else "") == pname, row
        assert (int(n) if n is not None else None) == pn, row  # type: ignore[arg-type]
        if not pname:
            assert str(status).endswith("AreaNameMissing"), row
        elif pn is None:
            assert str(status).endswith("ValueMissing"), row
        else:
            assert status is None, row


@pytest.mark.parametrize(
    ("letter", "opening"),
    [
        ("a", "How are clusters formed"),
        ("b", "In what ways do formal and informal institutions"),
        ("c", "Do these clusters have within their confines"),
        ("d", "What are the characteristics and effects of networks"),
        ("e", "Has process specialization developed"),
        ("f", "Under which general and specific conditions"),
        ("g", "Why and how does clustering increase"),
        ("h", "Assuming that more extensive research"),
        ("i", "What are the driving forces and motivating factors"),
        ("j", "What are the implications of partnering and networking"),
        ("k", "What types of technical cooperation and assistance"),
    ],
)
def test_research_question_full_text(store: Store, paper_text: str, letter: str, opening: str) -> None:
    rows = store.query(CATALOG.get("research-questions-by-theme").text).rows
    by_letter = {str(r[1]): (str(r[0]), str(r[2])) for r in rows}
    assert len(by_letter) == 11
    theme, question = by_letter[letter]
    assert question.startswith(opening)
    # the last match: "(i)" and "(ii)" also number the two themes
    printed = re.findall(rf"^\s*- \({letter}\) (.+)$", paper_text, re.MULTILINE)[-1].strip()
    assert " ".join(question.split()) == " ".join(printed.split())
    assert theme == (
        "Formation and development of clusters and networks" if letter <= "g" else "Sustaining partnership"
    )


def test_catalog_is_the_queries_folder() -> None:
    assert isinstance(CATALOG, QueryCatalog)
