"""`/validate`: new case data checked against the server's own shapes and ontology; nothing is stored."""

from __future__ import annotations

import json
from dataclasses import asdict

import rdflib
from flask import Blueprint, Response, request
from werkzeug.exceptions import UnsupportedMediaType

from kg import rdfio
from kg.errors import InputError
from kg.web.auth import client_agent, require_update_token
from kg.web.services import current

bp = Blueprint("validate", __name__)

REPORT_FORMATS = {
    "application/json": "json",
    "text/turtle": "turtle",
    "application/ld+json": "jsonld",
    "text/plain": "text",
}


def _uploaded() -> rdflib.Graph:
    """The request body as a graph (for N-Quads and TriG, the triples of all its graphs), nothing fetched."""
    fmt = rdfio.PARSE_FORMATS.get(request.mimetype)
    if fmt is None:
        raise UnsupportedMediaType(
            f"unsupported Content-Type {request.mimetype or '(none)'!r}; send text/turtle, application/n-triples, "
            "application/n-quads, application/trig, application/ld+json or application/rdf+xml"
        )
    data = rdfio.parse_bytes(request.get_data(), fmt, source="request body")
    if len(data) == 0:
        raise InputError("the request body holds no triples", source="request body")
    return data


@bp.post("/cases")
def add_case() -> Response:
    """Ingest case data (behind the update token): validated, then added all or nothing with provenance."""
    require_update_token("adding cases")
    data = _uploaded()
    result = current().ingest(
        data, source_name=request.headers.get("X-Source-Name", "POST /cases"), agent=client_agent()
    )
    body = {
        "graph": str(result.graph),
        "triples": result.triples,
        "added": result.committed,
        "conforms": result.report.conforms,
        "results": [asdict(f) for f in result.report.findings],
    }
    status = 201 if result.committed else (200 if result.report.conforms else 422)
    return Response(json.dumps(body, indent=2), status=status, mimetype="application/json")


@bp.post("/validate")
def validate() -> Response:
    data = _uploaded()
    report = current().validate(data)
    best = request.accept_mimetypes.best_match(list(REPORT_FORMATS), default="application/json")
    resp = Response(report.render(REPORT_FORMATS[best]), mimetype=best)
    resp.headers["Vary"] = "Accept"
    return resp
