"""Parser errors people can act on: the line and column, the token found there, the text around it, and for a
prefix that is not declared, the declaration to add (no endpoint of this project predeclares prefixes)."""

from __future__ import annotations

import re

from kg.namespaces import PREFIXES
from kg.sparqltext import blank

# "error at 3:2: expected ..." (Oxigraph), "(line:2, col:2)" or "at char 18" (rdflib's pyparsing)
_OXIGRAPH = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)
_PYPARSING = re.compile(r"line:(\d+), col:(\d+)")
_DECLARED = re.compile(r"(?<![\w:])PREFIX\s+([A-Za-z][\w.-]*)?:", re.IGNORECASE)
# a prefixed name: not part of a variable, an IRI or another name; `_:` is a blank node label
_USED = re.compile(r"(?<![\w?$:.\-\\])([A-Za-z][\w.-]*)?:(?=[\w%\\\u00c0-\uffff])", re.UNICODE)
_TOKEN = re.compile(r"[A-Za-z_][\w:.-]*|\?\w+|\$\w+|<[^>\s]*>?|\"[^\"\n]*\"?|'[^'\n]*'?|\d[\w.]*|\S")
_NOISE = re.compile(r"\[[^\]]*\\u\{[^\]]*\]")  # Oxigraph's lists of Unicode ranges


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _excerpt(text: str, line: int, column: int) -> str:
    lines = text.splitlines() or [""]
    if not 1 <= line <= len(lines):
        return ""
    shown = lines[line - 1].expandtabs(1)
    return f"\n  {line:>4} | {shown}\n       | {' ' * max(0, column - 1)}^"


def _token(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return "the end of the query"
    rest = lines[line - 1][max(0, column - 1) :]
    match = _TOKEN.search(rest)
    if not match or (match.start() > 0 and not rest[: match.start()].isspace()):
        return "the end of the line" if not rest.strip() else repr(rest.strip()[:30])
    return repr(match.group(0)[:40])


def undeclared_prefixes(text: str) -> list[tuple[str, int]]:
    """The prefixes a query uses without declaring them, each with the position of its first use."""
    masked = blank(text)
    declared = {m.group(1) or "" for m in _DECLARED.finditer(masked)}
    seen: dict[str, int] = {}
    for m in _USED.finditer(masked):
        prefix = m.group(1) or ""
        if prefix == "_" or prefix in declared or prefix in seen:
            continue
        before = masked[: m.start()].rstrip()
        if before.upper().endswith("PREFIX"):
            continue
        seen[prefix] = m.start()
    return sorted(seen.items(), key=lambda kv: kv[1])


def prefix_hint(prefixes: list[str]) -> str:
    known = [p for p in prefixes if p in PREFIXES]
    lines = [f"PREFIX {p}: <{PREFIXES[p]}>" for p in known]
    unknown = [p for p in prefixes if p not in PREFIXES]
    hint = "add " + "; ".join(lines) if lines else ""
    if unknown:
        hint += ("; " if hint else "") + "declare " + ", ".join(f"{p}:" for p in unknown) + " with PREFIX name: <IRI>"
    return (
        f"{hint} (no prefix is predeclared, so a query runs the same on any endpoint; the project's are "
        f"{', '.join(p + ':' for p in PREFIXES)}; the editor at / declares them for you)"
    )


def explain(text: str, message: str) -> str:
    """A parser's message about `text`, made readable: position, token, excerpt, and missing prefixes."""
    missing = undeclared_prefixes(text)
    if missing:
        names = [p for p, _ in missing]
        line, column = _position(text, missing[0][1])
        listed = ", ".join(f"{p}:" for p in names)
        verb = "is" if len(names) == 1 else "are"
        return (
            f"the query does not parse: line {line}, column {column}: prefix {listed} {verb} not declared"
            f"{_excerpt(text, line, column)}\n  fix: {prefix_hint(names)}"
        )
    detail = " ".join(message.split())
    match = _OXIGRAPH.search(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        detail = " ".join(_NOISE.sub("…", match.group(3)).split())
    else:
        found = _PYPARSING.search(message)
        if not found:
            return f"the query does not parse: {detail[:500]}"
        line, column = int(found.group(1)), int(found.group(2))
        detail = detail.split("(at char")[0].strip()
    if len(detail) > 300:
        detail = detail[:300] + "…"
    return (
        f"the query does not parse: line {line}, column {column}, at {_token(text, line, column)}: {detail}"
        f"{_excerpt(text, line, column)}"
    )
