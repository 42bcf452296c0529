"""What a query may do on the public endpoint: no outbound traffic (SERVICE) unless allow-listed, no nesting
deeper than the engine can take, no RDF 1.2 terms (the rest of the stack is RDF 1.1).

The checks are lexical, linear and conservative: comments and string literals are blanked out first, then every
SERVICE keyword must be followed by an IRI on the allow-list. `SERVICE ?var` is always refused, as is
anything the check cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kg.errors import InputError
from kg.sparqltext import check_nesting, mask, rdf12_syntax

_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:])\s*+(?:SILENT(?![\w:])\s*+)?(\S++)?", re.IGNORECASE)
_PREFIX = re.compile(r"(?<![\w:?$])PREFIX\s++([A-Za-z][\w.-]*+)?:\s*+<(\d++)>", re.IGNORECASE)


def service_endpoints(sparql: str) -> list[str]:
    """The endpoints a query's SERVICE clauses name (a variable is returned as '?name')."""
    masked, iris = mask(sparql)
    prefixes = {(m.group(1) or ""): iris[int(m.group(2))] for m in _PREFIX.finditer(masked)}
    out = []
    for m in _SERVICE.finditer(masked):
        target = (m.group(1) or "").rstrip("{")
        if target.startswith("<") and target.endswith(">") and target[1:-1].isdigit():
            out.append(iris[int(target[1:-1])])
        elif ":" in target and not target.startswith(("?", "$")):
            prefix, _, local = target.partition(":")
            out.append(prefixes.get(prefix, target) + local if prefix in prefixes else target)
        else:
            out.append(target or "?")
    return out


def check_query(
    sparql: str, allowed_services: Iterable[str], *, max_depth: int = 0, max_chain: int = 0, what: str = "query"
) -> None:
    """Raise InputError if the query (or update) nests deeper or chains longer than the limits (0: none), uses
    RDF 1.2 terms, or would call a SERVICE that is not allow-listed."""
    check_nesting(sparql, max_depth, max_chain, what=what)
    feature = rdf12_syntax(sparql)
    if feature is not None:
        raise InputError(
            f"RDF 1.2 {feature} are not supported by this endpoint"
            if not feature.startswith("the function")
            else f"RDF 1.2 terms ({feature}) are not supported by this endpoint",
            source=what,
            hint="this endpoint stores and returns RDF 1.1: state the triple with its own subject, or a plain "
            "language-tagged literal",
        )
    allowed = set(allowed_services)
    for endpoint in service_endpoints(sparql):
        if endpoint not in allowed:
            raise InputError(
                f"SERVICE <{endpoint}> is refused: this endpoint makes no outbound requests"
                if not endpoint.startswith("?")
                else "SERVICE with a variable endpoint is refused: this endpoint makes no outbound requests",
                source="query",
                hint="remove the SERVICE clause, or ask the operator to allow-list that endpoint",
            )
