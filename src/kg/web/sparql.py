"""`/sparql`: the SPARQL 1.1 Protocol, read-only (queries by GET, form POST and direct POST)."""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qs

from flask import Blueprint, Response, current_app, request
from rdflib import URIRef

from kg.errors import Forbidden, InputError, QuerySyntaxError
from kg.sparqltext import is_absolute_iri, mask
from kg.web import conneg
from kg.web.services import Services

bp = Blueprint("sparql", __name__)

_UPDATE = re.compile(
    r"^\s*(?:(?:PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*"
    r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b",
    re.IGNORECASE,
)


def services() -> Services:
    return current_app.extensions["kg"]


def _iris(values: list[str], name: str) -> list[URIRef] | None:
    if not values:
        return None
    out = []
    for v in values:
        if not is_absolute_iri(v):
            raise InputError(f"{name} {v!r} is not an absolute IRI", source=name)
        out.append(URIRef(v))
    return out


def _form_fields() -> dict[str, list[str]]:
    try:
        text = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the request body is not valid UTF-8", source="request body") from None
    return parse_qs(text, keep_blank_values=True)


def _with_base(text: str) -> str:
    """The query with this endpoint's IRI as its base when it holds relative IRIs (RFC 3986: the base of a
    request is its own URI); the engines differ without one (one refuses to parse, one leaves them relative)."""
    if all(is_absolute_iri(iri) for iri in mask(text)[1]):
        return text
    base = request.base_url
    if not is_absolute_iri(base):
        base = services().settings.public_base.rstrip("/") + "/sparql"
    return f"BASE <{base}> {text}"


def _refuse_update() -> None:
    raise Forbidden(
        "this endpoint is read-only: SPARQL Update is refused",
        hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only",
    )


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"], strict_slashes=False)
@bp.route("/sparql/", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    if request.method == "OPTIONS":
        return Response(status=204)
    args = request.args.to_dict(flat=False)
    if request.method in ("GET", "HEAD"):
        if "update" in args:
            _refuse_update()
        queries = args.get("query", [])
        if not queries:
            from kg.web.meta import service_description

            return service_description()
        fields = args
    else:
        mimetype = request.mimetype
        if mimetype == "application/x-www-form-urlencoded":
            fields = _form_fields()
            if "update" in fields:
                _refuse_update()
            queries = fields.get("query", [])
            for key in ("default-graph-uri", "named-graph-uri"):
                fields[key] = fields.get(key, []) + args.get(key, [])
        elif mimetype == "application/sparql-query":
            try:
                queries = [request.get_data().decode("utf-8")]
            except UnicodeDecodeError:
                raise InputError("the query is not valid UTF-8", source="request body") from None
            fields = args
        elif mimetype == "application/sparql-update":
            _refuse_update()
        elif not mimetype:
            raise InputError(
                "a POST to /sparql needs a Content-Type",
                hint="use application/sparql-query or application/x-www-form-urlencoded",
            )
        else:
            return _unsupported(mimetype)
    if len(queries) != 1:
        raise InputError(
            "exactly one 'query' parameter is required" if queries else "the 'query' parameter is missing",
            source="query parameter",
        )
    text = queries[0]
    if len(text) > services().settings.max_query_chars:
        raise InputError(
            f"the query is longer than {services().settings.max_query_chars} characters", source="query parameter"
        )
    if _UPDATE.match(text):
        _refuse_update()
    tabular, graph = conneg.result_formats()
    run = functools.partial(
        services().query,
        default_graphs=_iris(fields.get("default-graph-uri", []), "default-graph-uri"),
        named_graphs=_iris(fields.get("named-graph-uri", []), "named-graph-uri"),
        tabular_format=tabular,
        graph_format=graph,
    )
    based = _with_base(text)
    try:
        answer = run(based)
    except QuerySyntaxError:
        if based == text:
            raise
        answer = run(text)  # for the parser's message at the user's own line and column
    return conneg.answer_response(answer)


def _unsupported(mimetype: str) -> Response:
    from kg.web import error_response

    return error_response(
        415,
        f"unsupported Content-Type {mimetype!r} for a query; "
        "use application/sparql-query or application/x-www-form-urlencoded",
    )
