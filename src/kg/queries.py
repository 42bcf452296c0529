"""Saved queries: `queries/*.rq` files with grlc-style `#+` YAML decorators and typed parameters.

A header looks like::

    #+ summary: The partners of a firm
    #+ description: Every agreement the firm is a partner in, with its partners.
    #+ tags: [firms, agreements]
    #+ params:
    #+   - name: firm
    #+     type: iri
    #+     description: the firm's IRI
    #+     default: https://w3id.org/interfirm/id/firm-samsung

Each parameter names a query variable (`?firm`) that the engine binds; the text is never edited. An `iri`
parameter may name the class of its values (`class: ifc:Firm`, a prefixed name or an IRI) for the pick-list of
forms; without one, the class of the default value is used.

A listing pages with two parameters of types `limit` (how many per page, 1 to MAX_PAGE) and `offset` (how many
to skip), which name no variable: they set the query's one `LIMIT n OFFSET m` clause, written in the text with
their defaults (so the file alone runs the first page). That clause belongs in the sub-SELECT that picks the
page's rows (firms, agreements...), so that only those are joined, grouped and sorted::

    #+ params:
    #+   - name: limit
    #+     type: limit
    #+     description: how many firms a page lists
    #+     default: 100
    #+   - name: offset
    #+     type: offset
    #+     description: how many firms to skip
    #+     default: 0
    ...
    { SELECT DISTINCT ?f WHERE { ?f a ifc:Firm } LIMIT 100 OFFSET 0 }
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from kg.errors import InputError, NotFound, ParameterError
from kg.sparqltext import is_absolute_iri, limit_clauses, with_slice

PARAM_TYPES = ("iri", "string", "integer", "decimal", "language", "year", "limit", "offset")
PAGING_TYPES = ("limit", "offset")
MAX_PAGE = 10_000  # the largest page a listing serves (the whole result is for /sparql or the dumps)
MAX_OFFSET = 10**9
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LANG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")


@dataclass(frozen=True)
class Parameter:
    """A declared parameter of a saved query."""

    name: str
    type: str
    description: str = ""
    default: str | None = None
    cls: str | None = None  # the class of an iri parameter's values (an absolute IRI), for pick-lists

    @property
    def required(self) -> bool:
        return self.default is None

    @property
    def paging(self) -> bool:
        """Whether it pages the result (limit, offset) rather than binding a variable."""
        return self.type in PAGING_TYPES

    def convert(self, raw: str) -> Identifier:
        """The RDF term for a raw request or command-line value, or ParameterError."""
        value = raw.strip()
        problem = f"parameter {self.name!r} must be"
        if self.type in PAGING_TYPES:
            low, high = (1, MAX_PAGE) if self.type == "limit" else (0, MAX_OFFSET)
            if not re.fullmatch(r"\+?\d+", value) or not low <= int(value) <= high:
                raise ParameterError(
                    f"{problem} a whole number from {low:,} to {high:,}, got {raw!r}",
                    hint="limit is the page size, offset how many to skip: ?limit=100&offset=200 is the third page "
                    "of 100",
                )
            return Literal(int(value), datatype=XSD.integer)
        if self.type == "iri":
            if not is_absolute_iri(value):
                raise ParameterError(
                    f"{problem} an absolute IRI, got {raw!r}",
                    hint="give a full IRI such as https://w3id.org/interfirm/id/firm-samsung",
                )
            return URIRef(value)
        if self.type == "integer":
            if not re.fullmatch(r"[+-]?\d+", value):
                raise ParameterError(f"{problem} an integer, got {raw!r}")
            return Literal(int(value), datatype=XSD.integer)
        if self.type == "decimal":
            if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value):
                raise ParameterError(f"{problem} a decimal number, got {raw!r}")
            return Literal(value, datatype=XSD.decimal)
        if self.type == "year":
            # years are xsd:integer in the graph (xsd:gYear is outside the OWL 2 datatype map)
            if not re.fullmatch(r"\d{4}", value):
                raise ParameterError(f"{problem} a four-digit year, got {raw!r}")
            return Literal(int(value), datatype=XSD.integer)
        if self.type == "language":
            if not _LANG.match(value):
                raise ParameterError(f"{problem} a language tag such as en, got {raw!r}")
            return Literal(value.lower())
        return Literal(raw)


@dataclass(frozen=True)
class SavedQuery:
    """A saved query: its name (the file stem), decorators and text."""

    name: str
    path: Path
    text: str
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[Parameter, ...] = field(default_factory=tuple)

    def bind(self, values: dict[str, str]) -> dict[str, Identifier]:
        """Typed bindings of the query's variables for the given raw values, with defaults (paging values are
        checked too, but bind nothing: see `prepare`); ParameterError names what is wrong."""
        return {k: v for k, v in self._values(values).items() if not self._param(k).paging}

    def page(self, values: dict[str, str]) -> tuple[int, int] | None:
        """(limit, offset) for the given raw values, with defaults; None when the query does not page."""
        typed = self._values(values)
        by_type = {p.type: int(str(typed[p.name])) for p in self.params if p.paging}
        if "limit" not in by_type:
            return None
        return by_type["limit"], by_type.get("offset", 0)

    def prepare(self, values: dict[str, str]) -> tuple[str, dict[str, Identifier]]:
        """The text to run (the page asked for set in its LIMIT clause) and the bindings of its variables."""
        bindings = self.bind(values)
        page = self.page(values)
        if page is None:
            return self.text, bindings
        return with_slice(self.text, *page), bindings

    def _param(self, name: str) -> Parameter:
        return next(p for p in self.params if p.name == name)

    def _values(self, values: dict[str, str]) -> dict[str, Identifier]:
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ParameterError(
                f"query {self.name!r} has no parameter {', '.join(map(repr, unknown))}",
                hint=f"its parameters are: {', '.join(known) or 'none'}",
            )
        bindings: dict[str, Identifier] = {}
        for p in self.params:
            raw = values.get(p.name, p.default)
            if raw is None:
                raise ParameterError(
                    f"query {self.name!r} needs parameter {p.name!r} ({p.type})", hint=f"pass {p.name}=VALUE"
                )
            bindings[p.name] = p.convert(str(raw))
        return bindings

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "summary": self.summary,
            "description": self.description,
            "tags": list(self.tags),
            "parameters": [
                {
                    "name": p.name,
                    "type": p.type,
                    "description": p.description,
                    "default": p.default,
                    "required": p.required,
                    **({"class": p.cls} if p.cls else {}),
                    **({"maximum": MAX_PAGE} if p.type == "limit" else {}),
                }
                for p in self.params
            ],
        }


def parse_saved_query(path: Path) -> SavedQuery:
    """Read one `.rq` file of the catalogue and its decorators (a `#+ summary:` is required)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the query: {exc}", source=str(path)) from exc
    return parse_query_text(text, name=path.stem, source=str(path), path=path)


def parse_query_text(
    text: str, *, name: str, source: str, path: Path | None = None, require_summary: bool = True
) -> SavedQuery:
    """A query and its `#+` decorators, if any; without `require_summary` any SPARQL text will do."""
    header = []
    for line in text.splitlines():
        if line.startswith("#+"):
            header.append(line[2:].removeprefix(" "))
        elif line.strip() and not line.startswith("#"):
            break
    try:
        meta = yaml.safe_load("\n".join(header)) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"the #+ header is not valid YAML: {exc}", source=source) from exc
    if not isinstance(meta, dict):
        raise InputError("the #+ header must be YAML keys (summary:, params:, ...)", source=source, line=1)
    if require_summary and not meta.get("summary"):
        raise InputError("a saved query needs a '#+ summary:' line", source=source, line=1)
    path = path or Path(source)
    params = []
    for raw in meta.get("params") or []:
        if not isinstance(raw, dict) or "name" not in raw:
            raise InputError("each '#+ params:' entry needs a name", source=source)
        ptype = str(raw.get("type", "string"))
        if ptype not in PARAM_TYPES:
            raise InputError(
                f"parameter {raw['name']!r} has unknown type {ptype!r}",
                source=source,
                hint=f"use one of {', '.join(PARAM_TYPES)}",
            )
        pname = str(raw["name"])
        if not _VAR.match(pname):
            raise InputError(f"parameter name {pname!r} is not a SPARQL variable name", source=source)
        if ptype not in PAGING_TYPES and not re.search(r"[?$]" + re.escape(pname) + r"\b", text):
            raise InputError(f"parameter {pname!r} is not a variable of the query", source=source)
        default = raw.get("default")
        cls = _class_iri(raw.get("class"), source, pname)
        params.append(
            Parameter(pname, ptype, str(raw.get("description", "")), None if default is None else str(default), cls)
        )
    _check_paging(params, text, source)
    tags = meta.get("tags") or []
    return SavedQuery(
        name=name,
        path=path,
        text=text,
        summary=str(meta.get("summary") or "").strip(),
        description=str(meta.get("description", "")).strip(),
        tags=tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])),
        params=tuple(params),
    )


def _check_paging(params: list[Parameter], text: str, source: str) -> None:
    """A paged query declares one limit (and at most one offset), with defaults its one LIMIT clause repeats."""
    kinds = [p.type for p in params if p.paging]
    if not kinds:
        return
    if kinds.count("limit") != 1 or kinds.count("offset") > 1:
        raise InputError(
            "a paged query declares one parameter of type limit and at most one of type offset", source=source
        )
    clauses = limit_clauses(text)
    if len(clauses) != 1:
        raise InputError(
            f"a paged query has exactly one LIMIT clause (it has {len(clauses)}): the one its limit and offset set",
            source=source,
            hint="write LIMIT with the default page size in the sub-SELECT that picks the page's rows",
        )
    for p in params:
        if not p.paging:
            continue
        if p.default is None:
            raise InputError(f"paging parameter {p.name!r} needs a default", source=source)
        p.convert(p.default)
        written = clauses[0].limit if p.type == "limit" else (clauses[0].offset or 0)
        if int(p.default) != written:
            raise InputError(
                f"the default of {p.name!r} ({p.default}) differs from the query's {p.type.upper()} ({written})",
                source=source,
                hint="write the defaults in the LIMIT/OFFSET clause, so that the file alone runs the first page",
            )


def _class_iri(value: object, source: str, name: str) -> str | None:
    """A parameter's `class:` as an absolute IRI (prefixed names use the project's prefixes)."""
    if value is None:
        return None
    from kg.namespaces import PREFIXES

    text = str(value).strip()
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        text = PREFIXES[prefix] + local
    if not is_absolute_iri(text):
        raise InputError(f"parameter {name!r}: class {value!r} is not an IRI or a known prefixed name", source=source)
    return text


class QueryCatalog:
    """The saved queries of a folder, by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._queries = {q.name: q for q in (parse_saved_query(p) for p in sorted(folder.glob("*.rq")))}

    def names(self) -> list[str]:
        return sorted(self._queries)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._queries[n] for n in self.names())

    def get(self, name: str) -> SavedQuery:
        if not _NAME.match(name) or name not in self._queries:
            raise NotFound(f"no saved query named {name!r}", hint="kg queries lists them")
        return self._queries[name]
