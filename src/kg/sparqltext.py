"""Reading SPARQL text without parsing it: blank out strings and comments, find keywords that matter.

Everything here reads text from anonymous clients in the web process, before any time limit applies, so
every function is linear in the length of the text: the tokenizer's patterns never rescan what they have
read (possessive quantifiers; a string left open ends at the end of its line, or of the text for a long
string), and the other patterns stop at the first character they cannot cross.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import InputError

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
# strings (long and short, both quotes), IRIs and comments, in the order the SPARQL grammar reads them
# (SPARQL 1.1, 19.8: IRIREF excludes the characters #x00-#x20, so no-break spaces are IRI characters)
_TOKEN = re.compile(
    r'"""(?:[^"\\]++|\\.?|"(?!""))*+(?:"""|\Z)'
    r"|'''(?:[^'\\]++|\\.?|'(?!''))*+(?:'''|\Z)"
    r'|"(?:[^"\\\n\r]++|\\[^\n\r]?)*+"?'
    r"|'(?:[^'\\\n\r]++|\\[^\n\r]?)*+'?"
    r"|<(?:[^<>\"{}|^`\\\x00-\x20]++|" + _UCHAR + r")*+>"
    r"|#[^\n\r]*+",
    re.DOTALL,
)
_ESCAPE = re.compile(_UCHAR)
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*+:[^\x00-\x20<>\"{}|\\^`\x7f-\x9f\ud800-\udfff]*+$")
_FROM = re.compile(r"(?<![\w:?$])FROM(?![\w:])", re.IGNORECASE)
_WHERE = re.compile(r"(?<![\w:?$])WHERE(?![\w:])\s*+\{", re.IGNORECASE)
_FORM = re.compile(r"(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])", re.IGNORECASE)


def _unescape(iri: str) -> str:
    """An IRI with its \\u and \\U escapes decoded, as the engine reads it."""
    if "\\" not in iri:
        return iri
    return _ESCAPE.sub(lambda m: chr(min(int(m.group(0)[2:], 16), 0x10FFFF)), iri)


def mask(sparql: str) -> tuple[str, list[str]]:
    """The text with strings and comments blanked (same length) and IRIs replaced by `<N>` (index into the list;
    the IRIs with their escapes decoded).

    Positions of everything else are kept only when no IRI was replaced; use `blank` for positions.
    """
    iris: list[str] = []

    def sub(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith("<"):
            iris.append(_unescape(text[1:-1]))
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


_RDF12 = re.compile(
    r"(?P<term><<|>>|\{\||\|\}|(?<!\\)~)"
    r"|(?P<direction>@[A-Za-z]++(?:-[A-Za-z0-9]++)*+--)"
    r"|(?<![\w:?$-])(?P<function>TRIPLE|STRLANGDIR)\s*+\(",
    re.IGNORECASE,
)


def rdf12_syntax(sparql: str) -> str | None:
    """The first RDF 1.2 construct the text uses, in words (triple terms, reifiers and annotations, base
    directions, the functions making them), or None for SPARQL 1.1."""
    m = _RDF12.search(mask(sparql)[0])
    if m is None:
        return None
    if m.group("term"):
        return f"triple terms, reifiers and annotations ({m.group('term')!r})"
    if m.group("direction"):
        return f"base directions of literals ({m.group('direction')!r})"
    return f"the function {m.group('function').upper()}()"


_PREFIX_DECL = re.compile(r"(?<![\w:?$-])PREFIX\s++([^\s:<>]*+):\s*+<(\d++)>", re.IGNORECASE)
_BASE_DECL = re.compile(r"(?<![\w:?$-])BASE\s*+<(\d++)>", re.IGNORECASE)
_PNAME = re.compile(r"(?<![\w.:?$\\<-])([^\W\d][\w.-]*+)?:((?:[\w.:%-]|\\.)*+)")
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_GRAPH_VARIABLE = re.compile(r"(?<![\w:?$-])GRAPH\s*+[?$]", re.IGNORECASE)
_EVERY_GRAPH = re.compile(r"(?<![\w:?$-])(?:CLEAR|DROP)\s++(?:SILENT\s++)?(?:ALL|NAMED)(?![\w:-])", re.IGNORECASE)


@dataclass(frozen=True)
class Names:
    """What an update's text can name (read lexically, so a superset of what the engine reads)."""

    iris: frozenset[str]  # every IRI and every prefixed name (expanded with each IRI declared for its prefix)
    bases: tuple[str, ...]  # the IRIs its BASE declarations give, as written
    any_graph: bool  # a template writes a graph named by a variable, or CLEAR/DROP ALL/NAMED


def _prefixes(masked: str, iris: list[str]) -> dict[str, set[str]]:
    """Every IRI each prefix is declared with in a masked text (a prefix may be declared more than once)."""
    prefixes: dict[str, set[str]] = {}
    for m in _PREFIX_DECL.finditer(masked):
        prefixes.setdefault(m.group(1), set()).add(iris[int(m.group(2))])
    return prefixes


def _expanded(prefixes: dict[str, set[str]], prefix: str | None, local: str | None) -> set[str]:
    """A prefixed name expanded with each IRI its prefix is declared with (escapes in the local part decoded)."""
    name = _LOCAL_ESCAPE.sub(r"\1", (local or "").rstrip("."))
    return {ns + name for ns in prefixes.get(prefix or "", ())}


def names(sparql: str) -> Names:
    """The IRIs an update names, as written (escapes decoded, prefixed names expanded, not resolved against a
    base), and whether it may write any graph. Linear in the text."""
    masked, iris = mask(sparql)
    prefixes = _prefixes(masked, iris)
    bases = tuple(iris[int(m.group(1))] for m in _BASE_DECL.finditer(masked))
    found = set(iris)
    for m in _PNAME.finditer(masked):
        found.update(_expanded(prefixes, m.group(1), m.group(2)))
    text = blank(sparql)
    for op in update_operations(sparql):  # a WHERE clause only reads: its GRAPH ?g writes nothing
        if op.kind == "MODIFY" and op.group is not None:
            a, b = op.group
            text = text[:a] + " " * (b - a) + text[b:]
    return Names(frozenset(found), bases, bool(_GRAPH_VARIABLE.search(text) or _EVERY_GRAPH.search(text)))


_EMPTIES = re.compile(
    r"(?<![\w:?$-])(?:CLEAR|DROP)\s++(?:SILENT\s++)?(?:(ALL|NAMED)(?![\w:-])"
    r"|GRAPH\s*+(?:<(\d++)>|([^\W\d][\w.-]*+)?:((?:[\w.:%-]|\\.)*+)))",
    re.IGNORECASE,
)


def emptied_graphs(sparql: str) -> tuple[frozenset[str], bool]:
    """(the graphs a CLEAR or DROP operation of the update names, as written with prefixed names expanded;
    whether one empties every named graph: CLEAR/DROP ALL or NAMED). Linear in the text."""
    masked, iris = mask(sparql)
    prefixes = _prefixes(masked, iris)
    found: set[str] = set()
    every = False
    for m in _EMPTIES.finditer(masked):
        if m.group(1):
            every = True
        elif m.group(2) is not None:
            found.add(iris[int(m.group(2))])
        else:
            found.update(_expanded(prefixes, m.group(3), m.group(4)))
    return frozenset(found), every


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
    r"(?<![\w:?$-])(?:PREFIX\s++([A-Za-z][\w.-]*+)?:\s*+|BASE\s*+)<([^<>\"{}|^`\\\x00-\x20]*+)>", re.IGNORECASE
)


def one_prologue(sparql: str) -> str:
    """The update with the PREFIX and BASE declarations of its later operations moved to the front.

    SPARQL 1.1 lets every operation of a request start with its own prologue; some engines read only the
    first. Moving them is exact unless a later operation gives a name another IRI, which is refused.
    """
    top = _top_level(blank(sparql))
    ops = update_operations(sparql)
    if len(ops) < 2:
        return sparql
    first = ops[0].start
    declared: dict[str, str] = {}
    moved: list[tuple[int, int]] = []
    for m in _DECLARATION.finditer(sparql):
        if top[m.start()] == " ":
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
    pieces, at = [], 0
    for a, b in moved:
        pieces += [sparql[at:a], " " * (b - a)]
        at = b
    pieces.append(sparql[at:])
    return f"{head} {''.join(pieces)}"  # on the first line: the engine's line numbers still match the request


_BRACES = re.compile(r"[{}]")


def _top_level(text: str) -> str:
    """The (blanked) text with everything inside braces blanked; the outermost braces kept."""
    out: list[str] = []
    depth, at = 0, 0
    for m in _BRACES.finditer(text):
        i = m.start()
        out.append(text[at:i] if depth == 0 else " " * (i - at))
        if m.group(0) == "{":
            depth += 1
            out.append("{" if depth == 1 else " ")
        else:
            depth -= 1
            out.append("}" if depth == 0 else " ")
        at = i + 1
    out.append(text[at:] if depth <= 0 else " " * (len(text) - at))
    return "".join(out)


def update_operations(sparql: str) -> list[Operation]:
    """The operations of a SPARQL 1.1 update request, read from its top-level keywords (not a parser:
    a request this misreads is refused by the engine's parser)."""
    top = _top_level(blank(sparql))
    ops: list[Operation] = []
    start = 0
    for end in [m.start() for m in re.finditer(";", top)] + [len(top)]:
        words = [
            (m.group(1).upper(), m.start())
            for m in _UPDATE_KEYWORD.finditer(top, start, end)
            if m.group(1).upper() not in ("PREFIX", "BASE")
        ]
        op_end, start = end, end + 1
        if not words:
            continue
        names = [w for w, _ in words]
        first, at = words[0]
        second = names[1] if len(names) > 1 else ""
        if first in ("INSERT", "DELETE") and second == "DATA":
            ops.append(Operation(f"{first} DATA", at))
        elif first == "DELETE" and second == "WHERE" and not top[at + len("DELETE") : words[1][1]].strip():
            ops.append(Operation("DELETE WHERE", at, where=words[1][1], group=_group(top, words[1][1], op_end)))
        elif first in ("WITH", "INSERT", "DELETE"):
            where = next((pos for w, pos in reversed(words) if w == "WHERE"), None)
            ops.append(
                Operation(
                    "MODIFY",
                    at,
                    has_with=first == "WITH",
                    has_using="USING" in names,
                    where=where,
                    group=None if where is None else _group(top, where, op_end),
                )
            )
        else:
            ops.append(Operation(first, at))
    return ops


def _group(top: str, after: int, end: int) -> tuple[int, int] | None:
    opening = top.find("{", after, end)
    closing = top.find("}", opening + 1, end) if opening >= 0 else -1
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


# What the nesting check reads: brackets, names (keywords, prefixed names, variables, numbers) and punctuation.
# Names follow the SPARQL 1.1 terminals closely enough that no separator hides inside one: a variable never holds
# a dot, a prefixed name never starts with a digit or a dot, a number is digits.
_SHAPE = re.compile(
    r"(?P<open>[{(\[])|(?P<close>[})\]])"
    r"|[?$]\w++"
    r"|(?P<name>(?:[^\W\d]|:)(?:[\w.:-]*[\w:-])?)"
    r"|\d++(?:\.\d++)?(?:[eE][+-]?\d++)?"
    r"|@[A-Za-z]++(?:-[A-Za-z0-9]++)*+|\^|(?P<op>[^\s\w])",
)
# keywords that join or nest the patterns or expressions around them (each is a level of the engine's tree)
_CHAINING = {"UNION", "OPTIONAL", "MINUS", "FILTER", "BIND", "GRAPH", "SERVICE", "EXISTS", "NOT", "IN"}
# keywords whose group is data or a template: a flat list of triples, however long
_FLAT_AFTER = {"DATA", "INSERT", "DELETE", "CONSTRUCT"}


def nesting(sparql: str) -> tuple[int, int]:
    """(deepest bracket nesting, longest chain of operators, separators and joining keywords along one path).

    Both bound how deep the engine's parser and evaluator recurse: a chain `a + b + c ...` or `{...} UNION
    {...} ...` is a tree as deep as it is long. Groups that are data or templates (INSERT DATA, VALUES, the
    templates of INSERT, DELETE and CONSTRUCT) are flat lists: their separators do not count.
    """
    depth = max_depth = 0
    chain = max_chain = 0  # the operators counted on the path from the outside to here
    levels: list[tuple[int, bool]] = []  # per open bracket: the count at this level before it, and flatness
    count, flat, flat_next, values = 0, False, False, False
    for m in _SHAPE.finditer(blank(sparql)):
        kind = m.lastgroup
        if kind == "open":
            levels.append((count, flat))
            if m.group(0) == "{":
                flat = flat or flat_next or values
                values = flat_next = False
            count = 0
            depth += 1
            max_depth = max(max_depth, depth)
        elif kind == "close":
            if levels:
                chain -= count
                count, flat = levels.pop()
                depth -= 1
            flat_next = False
        elif kind == "name":
            word = m.group(0).upper()
            flat_next = word in _FLAT_AFTER
            values = values or word == "VALUES"
            if word in _CHAINING and not flat:
                count += 1
                chain += 1
        elif kind == "op" and not flat:
            count += 1
            chain += 1
        if chain > max_chain:
            max_chain = chain
    return max_depth, max_chain


def check_nesting(sparql: str, max_depth: int, max_chain: int, *, what: str = "query") -> None:
    """Raise InputError when the text nests deeper or chains longer than the limits (0: no limit), before the
    engine sees it (its recursive parser and evaluator would exhaust their stack)."""
    depth, chain = nesting(sparql)
    if max_depth and depth > max_depth:
        raise InputError(
            f"the {what} nests brackets {depth} deep; this endpoint allows at most {max_depth}",
            source=what,
            hint="flatten the nested groups, expressions or EXISTS clauses",
        )
    if max_chain and chain > max_chain:
        raise InputError(
            f"the {what} chains {chain} operators, separators or joining keywords (UNION, OPTIONAL, FILTER, ...) "
            f"on one path; this endpoint allows at most {max_chain}",
            source=what,
            hint="split it into several requests, or list alternatives in a VALUES block instead of || or UNION",
        )
