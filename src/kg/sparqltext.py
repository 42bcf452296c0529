"""Reading SPARQL text without parsing it: blank out strings and comments, find keywords that matter."""

from __future__ import annotations

import re

# strings (long and short, both quotes), IRIs and comments, in the order the SPARQL grammar reads them
_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n]*",
    re.DOTALL,
)
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
_FROM = re.compile(r"(?<![\w:?$])FROM(?![\w:])", re.IGNORECASE)
_WHERE = re.compile(r"(?<![\w:?$])WHERE(?![\w:])\s*\{", re.IGNORECASE)
_FORM = re.compile(r"(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])", re.IGNORECASE)


def mask(sparql: str) -> tuple[str, list[str]]:
    """The text with strings and comments blanked (same length) and IRIs replaced by `<N>` (index into the list).

    Positions of everything else are kept only when no IRI was replaced; use `blank` for positions.
    """
    iris: list[str] = []

    def sub(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith("<"):
            iris.append(text[1:-1])
            return f"<{len(iris) - 1}>"
        return " " * len(text)

    return _TOKEN.sub(sub, sparql), iris


def blank(sparql: str) -> str:
    """The text with strings, IRIs and comments replaced by spaces of the same length (positions kept)."""
    return _TOKEN.sub(lambda m: " " * len(m.group(0)), sparql)


def has_dataset_clause(sparql: str) -> bool:
    """Whether the query names its own dataset (FROM or FROM NAMED)."""
    return _FROM.search(blank(sparql)) is not None


def pattern_start(sparql: str) -> int | None:
    """The position just after the `{` that opens the query's top-level WHERE clause, if any."""
    text = blank(sparql)
    match = _WHERE.search(text)
    if match:
        return match.end()
    form = _FORM.search(text)
    if form and form.group(1).upper() in ("SELECT", "ASK"):
        brace = text.find("{", form.end())
        return brace + 1 if brace >= 0 else None
    return None


def is_absolute_iri(text: str) -> bool:
    """Whether `text` is an absolute IRI (a scheme, then no character IRIs forbid): safe to write as `<text>`."""
    return _ABSOLUTE_IRI.match(text) is not None
