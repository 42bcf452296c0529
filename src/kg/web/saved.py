"""`/queries`: the saved queries as an API, parameters bound by the engine."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from kg.errors import InputError
from kg.web import conneg
from kg.web.services import current

bp = Blueprint("saved", __name__)


@bp.get("/queries")
def index() -> Response:
    queries = [q.to_json() for q in current().catalog]
    if conneg.prefers_html():
        return Response(render_template("queries.html", queries=queries), mimetype="text/html")
    resp = jsonify({"queries": [dict(q, url=f"/queries/{q['name']}") for q in queries]})
    resp.headers["Vary"] = "Accept"
    return resp


@bp.route("/queries/<name>", methods=["GET", "POST"])
def run(name: str) -> Response:
    saved = current().catalog.get(name)
    values = {k: v for k, v in request.args.items() if k != "format"}
    if request.method == "POST":
        if request.mimetype == "application/json":
            try:
                body = request.get_json(silent=True)
            except RecursionError:
                body = None  # nested deeper than the JSON reader goes: not an object of values anyway
            if not isinstance(body, dict) or not all(isinstance(v, str | int | float | bool) for v in body.values()):
                raise InputError(
                    "the JSON body must be an object of parameter values (strings, numbers or booleans)",
                    source="request body",
                )
            values.update({str(k): str(v) for k, v in body.items()})
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
            values.update({k: v for k, v in request.form.items() if k != "format"})
        else:
            raise InputError(
                f"unsupported Content-Type {request.mimetype!r}",
                hint="send parameters as a form, JSON object or query string",
            )
    for key in list(values):
        if len(request.args.getlist(key)) > 1:
            raise InputError(f"parameter {key!r} is given more than once", source=key)
    bindings = saved.bind(values)
    tabular, graph = conneg.result_formats()
    answer = current().query(saved.text, bindings=bindings, tabular_format=tabular, graph_format=graph)
    return conneg.answer_response(answer)


@bp.get("/queries/<name>.rq")
def text(name: str) -> Response:
    return Response(current().catalog.get(name).text, mimetype="application/sparql-query")
