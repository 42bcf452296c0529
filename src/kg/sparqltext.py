"""Reading SPARQL text without parsing it: blank out strings and comments, find keywords that matter."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import InputError

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


def blank(sparql: str, *, iris: bool = True) -> str:
    """The text with strings, IRIs (unless `iris` is False) and comments replaced by spaces of the same length
    (positions kept)."""
    if iris:
        return _TOKEN.sub(lambda m: " " * len(m.group(0)), sparql)
    return _TOKEN.sub(lambda m: m.group(0) if m.group(0).startswith("<") else " " * len(m.group(0)), sparql)


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


_UPDATE_KEYWORD = re.compile(
    r"(?<![\w:?$-])(PREFIX|BASE|WITH|INSERT|DELETE|DATA|USING|WHERE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY)(?![\w:-])",
    re.IGNORECASE,
)
_LOAD = re.compile(r"(?<![\w:?$-])LOAD(?![\w:-])", re.IGNORECASE)


@dataclass(frozen=True)
class Operation:
    """One operation of an update request, found by its top-level keywords (positions index the text)."""

    kind: str  # INSERT DATA, DELETE DATA, DELETE WHERE, MODIFY, LOAD, CLEAR, DROP, CREATE, ADD, MOVE or COPY
    start: int  # where the operation's first keyword starts
    has_with: bool = False
    has_using: bool = False
    where: int | None = None  # where the top-level WHERE keyword starts
    group: tuple[int, int] | None = None  # the WHERE group, from its `{` to just after its `}`


def mentions_load(sparql: str) -> bool:
    """Whether the word LOAD appears outside strings, IRIs and comments (conservative: anywhere, any depth)."""
    return _LOAD.search(blank(sparql)) is not None


_WORD = re.compile(r"(?<![\w:?$-])([A-Za-z]+)(?![\w:-])")
_UPDATE_FORMS = {"WITH", "INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD"}


def is_update(sparql: str) -> bool:
    """Whether the text is a SPARQL Update request (its first keyword after the prologue is an update form)."""
    for m in _WORD.finditer(blank(sparql)):
        word = m.group(1).upper()
        if word not in ("PREFIX", "BASE"):
            return word in _UPDATE_FORMS
    return False


_DECLARATION = re.compile(
    r"(?<![\w:?$-])(?:PREFIX\s+([A-Za-z][\w.-]*)?:\s*|BASE\s*)<([^<>\"{}|^`\\\s]*)>", re.IGNORECASE
)


def one_prologue(sparql: str) -> str:
    """The update with the PREFIX and BASE declarations of its later operations moved to the front.

    SPARQL 1.1 lets every operation of a request start with its own prologue; some engines read only the
    first. Moving them is exact unless a later operation gives a name another IRI, which is refused.
    """
    text = blank(sparql)
    ops = update_operations(sparql)
    if len(ops) < 2:
        return sparql
    first = ops[0].start
    declared: dict[str, str] = {}
    moved: list[tuple[int, int]] = []
    for m in _DECLARATION.finditer(sparql):
        if text[m.start()] == " " or _depth(text, m.start()) != 0:
            continue  # inside a string, comment or group
        name = "BASE" if m.group(0)[:4].upper() == "BASE" else (m.group(1) or "") + ":"
        if declared.get(name, m.group(2)) != m.group(2):
            raise InputError(
                f"{'BASE' if name == 'BASE' else 'the prefix ' + name} is declared twice with different IRIs",
                source="update",
                hint="use a different prefix name in each operation, or send the operations as separate requests",
            )
        declared[name] = m.group(2)
        if m.start() > first:
            moved.append((m.start(), m.end()))
    if not moved:
        return sparql
    head = " ".join(sparql[a:b] for a, b in moved)
    for a, b in reversed(moved):
        sparql = sparql[:a] + " " * (b - a) + sparql[b:]
    return f"{head} {sparql}"  # on the first line: the engine's line numbers still match the request


def _depth(text: str, at: int) -> int:
    return text.count("{", 0, at) - text.count("}", 0, at)


def update_operations(sparql: str) -> list[Operation]:
    """The operations of a SPARQL 1.1 update request, read from its top-level keywords (not a parser:
    a request this misreads is refused by the engine's parser)."""
    text = blank(sparql)
    flat = []  # the text with everything inside braces blanked; the outermost braces kept
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
            flat.append("{" if depth == 1 else " ")
        elif ch == "}":
            depth -= 1
            flat.append("}" if depth == 0 else " ")
        else:
            flat.append(ch if depth == 0 else " ")
    top = "".join(flat)
    ops: list[Operation] = []
    start = 0
    for end in [i for i, ch in enumerate(top) if ch == ";"] + [len(top)]:
        words = [
            (m.group(1).upper(), m.start())
            for m in _UPDATE_KEYWORD.finditer(top, start, end)
            if m.group(1).upper() not in ("PREFIX", "BASE")
        ]
        start = end + 1
        if not words:
            continue
        names = [w for w, _ in words]
        first, at = words[0]
        second = names[1] if len(names) > 1 else ""
        if first in ("INSERT", "DELETE") and second == "DATA":
            ops.append(Operation(f"{first} DATA", at))
        elif first == "DELETE" and second == "WHERE" and not top[at + len("DELETE") : words[1][1]].strip():
            ops.append(Operation("DELETE WHERE", at, where=words[1][1], group=_group(top, words[1][1])))
        elif first in ("WITH", "INSERT", "DELETE"):
            where = next((pos for w, pos in reversed(words) if w == "WHERE"), None)
            ops.append(
                Operation(
                    "MODIFY",
                    at,
                    has_with=first == "WITH",
                    has_using="USING" in names,
                    where=where,
                    group=None if where is None else _group(top, where),
                )
            )
        else:
            ops.append(Operation(first, at))
    return ops


def _group(top: str, after: int) -> tuple[int, int] | None:
    opening = top.find("{", after)
    closing = top.find("}", opening + 1) if opening >= 0 else -1
    return (opening, closing + 1) if opening >= 0 and closing >= 0 else None


_SLICE = re.compile(r"(?<![\w:?$-])(LIMIT|OFFSET)(\s+)(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Slice:
    """A query's one `LIMIT n` clause with the `OFFSET m` beside it, if any (positions index the text)."""

    start: int
    end: int
    limit: int
    offset: int | None


def limit_clauses(sparql: str) -> list[Slice]:
    """Each LIMIT clause of the query (at any depth), joined with the OFFSET clause written next to it."""
    text = blank(sparql)
    found = list(_SLICE.finditer(text))
    out: list[Slice] = []
    for i, m in enumerate(found):
        if m.group(1).upper() != "LIMIT":
            continue
        start, end, offset = m.start(), m.end(), None
        for j in (i - 1, i + 1):  # LimitOffsetClauses: LIMIT n OFFSET m, or OFFSET m LIMIT n
            if 0 <= j < len(found) and found[j].group(1).upper() == "OFFSET":
                other = found[j]
                gap = text[other.end() : m.start()] if j < i else text[m.end() : other.start()]
                if not gap.strip():
                    start, end, offset = min(start, other.start()), max(end, other.end()), int(other.group(3))
        out.append(Slice(start, end, int(m.group(3)), offset))
    return out


def with_slice(sparql: str, limit: int, offset: int) -> str:
    """The query with its one LIMIT clause (and the OFFSET beside it) set to these numbers.

    SPARQL cannot bind LIMIT or OFFSET to a variable, so the numbers are written into the text: integers the
    caller has checked, never text from a request.
    """
    clauses = limit_clauses(sparql)
    if len(clauses) != 1:
        raise InputError(f"the query must have exactly one LIMIT clause to page, not {len(clauses)}")
    c = clauses[0]
    return f"{sparql[: c.start]}LIMIT {int(limit)} OFFSET {int(offset)}{sparql[c.end :]}"
