"""`/validate`: new case data checked against the server's own shapes and ontology; nothing is stored."""

from __future__ import annotations

import json
from dataclasses import asdict

from flask import Blueprint, Response, current_app, request

from kg import rdfio
from kg.errors import InputError
from kg.web.services import Services

bp = Blueprint("validate", __name__)


def services() -> Services:
    return current_app.extensions["kg"]


REPORT_FORMATS = {
    "application/json": "json",
    "text/turtle": "turtle",
    "application/ld+json": "jsonld",
    "text/plain": "text",
}


@bp.post("/validate")
def validate() -> Response:
    fmt = rdfio.PARSE_FORMATS.get(request.mimetype)
    if fmt is None or fmt in ("trig", "nquads"):
        from kg.web import error_response

        return error_response(
            415,
            f"unsupported Content-Type {request.mimetype or '(none)'!r}; send text/turtle, application/n-triples, "
            "application/ld+json or application/rdf+xml",
        )
    data = rdfio.parse_bytes(request.get_data(), fmt, source="request body")
    if len(data) == 0:
        raise InputError("the request body holds no triples", source="request body")
    report = services().validate(data)
    best = request.accept_mimetypes.best_match(list(REPORT_FORMATS), default="application/json")
    out = REPORT_FORMATS[best or "application/json"]
    if out == "json":
        body = json.dumps({"conforms": report.conforms, "results": [asdict(f) for f in report.findings]}, indent=2)
    else:
        body = report.render(out)
    resp = Response(body, mimetype=best)
    resp.headers["Vary"] = "Accept"
    return resp
