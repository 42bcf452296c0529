"""The lexical layer (kg.sparqltext, kg.guard) reads client text in the web process before any time limit: it
must be linear in the text, and must read strings, IRIs, escapes and nesting as the engine does."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kg import sparqltext
from kg.errors import InputError
from kg.guard import check_query, service_endpoints

CAP = 100_000  # the default KG_MAX_QUERY_CHARS
CHECKS = (
    sparqltext.blank,
    sparqltext.mask,
    sparqltext.is_update,
    sparqltext.has_dataset_clause,
    sparqltext.pattern_start,
    sparqltext.mentions_load,
    sparqltext.nesting,
    sparqltext.rdf12_syntax,
    sparqltext.update_operations,
    sparqltext.one_prologue,
    sparqltext.names,
    sparqltext.is_absolute_iri,
    service_endpoints,
)


def lexical(text: str) -> None:
    """Every lexical check the server runs on client text (each to its end: a refusal must not hide a slow one)."""
    for check in CHECKS:
        try:
            check(text)
        except InputError:
            pass


def seconds(text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        lexical(text)
        best = min(best, time.perf_counter() - started)
    return best


PIECES = [
    *"\"'\\<>{}()[]#?$:.;,+-*/|^~@ \n\t",
    "PREFIX ",
    "BASE ",
    "SERVICE ",
    "WHERE",
    "INSERT ",
    "DELETE ",
    "DATA",
    "GRAPH ",
    "VALUES ",
    "UNION",
    "a",
    "x1",
    "\\u00",
    '"""',
    "'''",
    "--ltr",
    "<http://e/>",
    "p:",
]


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join))
@example('"\\')  # the attack: each quote rescanned to the end of the text
@example("'''\\")
@example("<a")
@example("PREFIX a.")
@example("{(")
@example("DELETE WHERE ;")
def test_every_lexical_check_is_linear_up_to_the_cap(unit: str) -> None:
    """Ten times the text takes about ten times as long (not a hundred): growth ratios from a hundredth to a
    tenth of the cap, then to the cap, are compared, not absolute times, so a loaded machine does not decide it
    (and a quadratic check fails at the first step instead of running for minutes)."""
    previous = None
    for size in (CAP // 100, CAP // 10, CAP):
        text = (unit * (size // len(unit) + 1))[:size]
        took = seconds(text, 3 if size < CAP else 2)
        if previous is not None:
            ratio = took / max(previous, 1e-3)
            assert ratio < 40, f"{unit!r}: {ratio:.0f} times slower for 10 times the text ({size} characters)"
        previous = took


@pytest.mark.parametrize(
    ("text", "iris"),
    [
        ('SELECT * { ?s ?p "<http://not/an/iri>" } # <http://nor/this>', []),
        ("SELECT * { ?s ?p <http://a/\\u0062> }", ["http://a/b"]),  # escapes decoded, as the engine reads them
        ("SELECT * { GRAPH <http://a/b\u00a0c> { ?s ?p ?o } }", ["http://a/b\u00a0c"]),  # U+00A0 is allowed
        ('SELECT * { ?s ?p "unclosed\nSELECT <http://after/the/line> }', ["http://after/the/line"]),
        ("SELECT * { ?s ?p '''unclosed <http://swallowed> ", []),  # a long string runs to the end
    ],
)
def test_strings_iris_and_comments_are_read_as_the_engine_reads_them(text: str, iris: list[str]) -> None:
    assert sparqltext.mask(text)[1] == iris


def test_service_with_an_escaped_iri_is_still_checked() -> None:
    with pytest.raises(InputError, match=re.escape("SERVICE <http://127.0.0.1:9/>")):
        check_query("SELECT * { SERVICE <http://127.0.0.1:9\\u002F> { ?s ?p ?o } }", [])


@pytest.mark.parametrize(
    ("text", "depth", "chain"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", 1, 1),  # `*` counts: an overestimate is safe
        ("SELECT * WHERE { ?s ?p ?o . ?o ?q ?r FILTER(?r > 1 && ?s != ?o) }", 2, 8),
        ("SELECT * WHERE { ?o.:a :b ?o.:a :b ?c }", 1, 3),  # a separator never hides inside a name
        ("SELECT * WHERE { BIND(1-1-1 AS ?x) }", 2, 4),
        # data and templates are flat lists: their separators do not count
        ("INSERT DATA { GRAPH <g> { <a> <b> 1 . <a> <b> 2 . <a> <b> 3 } }", 2, 0),
        ("INSERT { GRAPH <g> { ?a <b> 1 ; <c> 2 } } WHERE { ?a ?p ?o . ?o ?q ?r }", 2, 1),
        ("SELECT * WHERE { VALUES (?a ?b) { (1 2) (3 4) } }", 3, 1),
    ],
)
def test_nesting_and_chains_are_measured(text: str, depth: int, chain: int) -> None:
    assert sparqltext.nesting(text) == (depth, chain)


def test_the_limits_are_named_in_the_refusal() -> None:
    with pytest.raises(InputError, match="nests brackets 101 deep; this endpoint allows at most 100"):
        check_query("SELECT * WHERE " + "{" * 101 + "}" * 101, [], max_depth=100, max_chain=2000)
    with pytest.raises(InputError, match="allows at most 2000"):
        check_query("SELECT * WHERE { BIND(" + "+".join(["1"] * 2002) + " AS ?x) }", [], max_depth=100, max_chain=2000)
    check_query("SELECT * WHERE " + "{" * 100 + "}" * 100, [], max_depth=100, max_chain=2000)


def test_queries_at_the_limits_do_not_crash_the_engine() -> None:
    """The limits leave a wide margin below the depths at which pyoxigraph's recursion exhausts an 8 MiB stack
    (about 830 nested EXISTS, 2,200 braces, 6,500 chained UNION): the worst shapes at the limits run, in a child
    process so that a crash fails this test instead of killing it."""
    import subprocess
    import sys

    queries = [
        "ASK { " + "FILTER EXISTS { " * 49 + "BIND(" + "+".join(["1"] * 1880) + " AS ?x)" + " }" * 49 + " }",
        "SELECT * WHERE { BIND(" + "CONCAT(" * 98 + '"a"' + ")" * 98 + " AS ?x) }",
        "SELECT * WHERE " + "{ ?s ?p ?o OPTIONAL " * 99 + "{ ?s ?p ?o }" + " }" * 99,
        "SELECT * WHERE { FILTER(" + "(?a || " * 98 + "?b" + ")" * 98 + ") }",
        "SELECT * WHERE { {}" + " UNION {}" * 1990 + " }",
    ]
    for q in queries:
        check_query(q, [], max_depth=100, max_chain=2000)
    code = (
        "import sys, pyoxigraph as ox\n"
        "for q in sys.stdin.read().split(chr(0)):\n"
        "    r = ox.Store().query(q)\n"
        "    bool(r) if isinstance(r, ox.QueryBoolean) else list(r)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], input="\0".join(queries), text=True, capture_output=True)
    assert done.returncode == 0, done.stderr[-500:]
