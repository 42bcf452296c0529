"""`/sparql`: the SPARQL 1.1 Protocol: queries by GET, form POST and direct POST; updates by form or direct POST,
only with the server's update token."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from urllib.parse import parse_qs

from flask import Blueprint, Response, request
from rdflib import URIRef
from werkzeug.exceptions import UnsupportedMediaType

from kg.errors import InputError, QuerySyntaxError
from kg.executor import Answer
from kg.sparqltext import is_absolute_iri, is_update, mask
from kg.web import conneg, preview
from kg.web.auth import client_agent, require_update_token
from kg.web.services import current

bp = Blueprint("sparql", __name__)


def _iris(fields: dict[str, list[str]], name: str) -> list[URIRef] | None:
    """The IRIs given as parameter `name` (None when there are none); InputError unless each is absolute."""
    values = fields.get(name, [])
    if not values:
        return None
    out = []
    for v in values:
        if not is_absolute_iri(v):
            raise InputError(f"{name} {v!r} is not an absolute IRI", source=name)
        out.append(URIRef(v))
    return out


def _body_text(what: str) -> str:
    """The request body decoded as UTF-8; an InputError naming `what` when it is not UTF-8."""
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} is not valid UTF-8", source="request body") from None


def _form_fields() -> dict[str, list[str]]:
    return parse_qs(_body_text("the request body"), keep_blank_values=True)


def _base() -> str:
    """This endpoint's IRI: the base of relative IRIs in a request (RFC 3986: a request's base is its URI)."""
    base = request.base_url
    if not is_absolute_iri(base):
        base = current().settings.public_base.rstrip("/") + "/sparql"
    return base


def _with_base(text: str) -> str:
    """The query with this endpoint's IRI as its base when it holds relative IRIs; the engines differ
    without one (one refuses to parse, one leaves them relative)."""
    if all(is_absolute_iri(iri) for iri in mask(text)[1]):
        return text
    return f"BASE <{_base()}> {text}"


def _update(texts: list[str], fields: dict[str, list[str]]) -> Response:
    """Apply one SPARQL Update (the token was checked) and say what it did."""
    if len(texts) != 1:
        raise InputError("exactly one 'update' parameter is required", source="update parameter")
    if fields.get("query"):
        raise InputError("a request holds either 'query' or 'update', not both", source="request")
    for key in ("default-graph-uri", "named-graph-uri"):
        if fields.get(key):
            raise InputError(
                f"{key} applies to queries; an update names its dataset with using-graph-uri / using-named-graph-uri",
                source=key,
            )
    result = current().update(
        texts[0],
        using=_iris(fields, "using-graph-uri") or (),
        using_named=_iris(fields, "using-named-graph-uri") or (),
        base=_base(),
        agent=client_agent(),
    )
    body = {"applied": True, "update": result.graph, "quads": result.quads, "seconds": result.seconds}
    return Response(json.dumps(body, indent=2) + "\n", status=200, mimetype="application/json")


def _not_a_query() -> InputError:
    return InputError(
        "this is a SPARQL Update, sent as a query",
        source="query parameter",
        hint="send updates as the 'update' form parameter or with Content-Type application/sparql-update, "
        "with the server's update token",
    )


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"], strict_slashes=False)
@bp.route("/sparql/", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    if request.method == "OPTIONS":
        return Response(status=204)
    args = request.args.to_dict(flat=False)
    if request.method in ("GET", "HEAD"):
        if "update" in args:
            require_update_token("SPARQL Update")
            raise InputError(
                "SPARQL Update is not accepted by GET", source="update parameter", hint="POST the update instead"
            )
        queries = args.get("query", [])
        if not queries:
            from kg.web.meta import service_description

            return service_description()
        fields = args
    else:
        mimetype = request.mimetype
        if mimetype == "application/x-www-form-urlencoded":
            fields = _form_fields()
            for key in ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri"):
                fields[key] = fields.get(key, []) + args.get(key, [])
            if "update" in fields:
                require_update_token("SPARQL Update")
                return _update(fields["update"], fields)
            queries = fields.get("query", [])
        elif mimetype == "application/sparql-query":
            queries = [_body_text("the query")]
            fields = args
        elif mimetype == "application/sparql-update":
            require_update_token("SPARQL Update")
            return _update([_body_text("the update")], args)
        elif not mimetype:
            raise InputError(
                "a POST to /sparql needs a Content-Type",
                hint="use application/sparql-query or application/x-www-form-urlencoded",
            )
        else:
            raise UnsupportedMediaType(
                f"unsupported Content-Type {mimetype!r} for a query; "
                "use application/sparql-query or application/x-www-form-urlencoded"
            )
    if len(queries) != 1:
        raise InputError(
            "exactly one 'query' parameter is required" if queries else "the 'query' parameter is missing",
            source="query parameter",
        )
    text = queries[0]
    if len(text) > current().settings.max_query_chars:
        raise InputError(
            f"the query is longer than {current().settings.max_query_chars} characters", source="query parameter"
        )
    if is_update(text):
        raise _not_a_query()
    bindings = preview.bindings_from(fields) or None
    if conneg.prefers_html():
        from kg.web.ui import results_page

        return results_page(text, bindings, _iris(fields, "default-graph-uri"), _iris(fields, "named-graph-uri"))
    tabular, graph = conneg.result_formats()
    run = functools.partial(
        current().query,
        bindings=bindings,
        default_graphs=_iris(fields, "default-graph-uri"),
        named_graphs=_iris(fields, "named-graph-uri"),
        tabular_format=tabular,
        graph_format=graph,
    )
    answer = run_with_base(run, text)
    rows = preview.preview_size(fields)
    total = None
    if rows is not None:
        answer, total = preview.cut(answer, rows)
    resp = preview.mark_preview(conneg.answer_response(answer), rows or 0, total)
    if fields.get("download"):
        resp.headers["Content-Disposition"] = f"attachment; filename={preview.filename(answer.media_type)}"
    return resp


def run_with_base(run: Callable[[str], Answer], text: str) -> Answer:
    """`run(text)` with this endpoint's IRI as the base of relative IRIs; a parser error is reported against
    the text as sent (its own line and column)."""
    based = _with_base(text)
    try:
        return run(based)
    except QuerySyntaxError:
        if based == text:
            raise
        return run(text)
