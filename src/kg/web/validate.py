"""`/validate`: new case data checked against the server's own shapes and ontology; nothing is stored."""

from __future__ import annotations

import json
from dataclasses import asdict

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


def _uploaded() -> tuple[bytes, str]:
    """The request body and its rdflib format (Turtle, N-Triples, JSON-LD or RDF/XML); parsed in a query worker."""
    fmt = rdfio.PARSE_FORMATS.get(request.mimetype)
    if fmt is None:
        raise UnsupportedMediaType(
            f"unsupported Content-Type {request.mimetype or '(none)'!r}; send text/turtle, application/n-triples, "
            "application/n-quads, application/trig, application/ld+json or application/rdf+xml"
        )
    body = request.get_data()
    if not body.strip():
        raise InputError("nothing to validate: the request body is empty", source="request body")
    return body, fmt


@bp.post("/cases")
def add_case() -> Response:
    """Ingest case data (behind the update token): validated, then added all or nothing with provenance."""
    require_update_token("adding cases")
    body, fmt = _uploaded()
    result = current().ingest(
        body,
        fmt,
        source_name=request.headers.get("X-Source-Name", "POST /cases"),
        agent=client_agent(),
    )
    payload = {
        "graph": str(result.graph),
        "triples": result.triples,
        "added": result.committed,
        "conforms": result.report.conforms,
        "results": [asdict(f) for f in result.report.findings],
    }
    status = 201 if result.committed else (200 if result.report.conforms else 422)
    return Response(json.dumps(payload, indent=2), status=status, mimetype="application/json")


@bp.post("/validate")
def validate() -> Response:
    body, fmt = _uploaded()
    best = request.accept_mimetypes.best_match(list(REPORT_FORMATS), default="application/json")
    report = current().validate(body, fmt, report_graph=REPORT_FORMATS[best] in ("turtle", "jsonld"))
    resp = Response(report.render(REPORT_FORMATS[best]), mimetype=best)
    resp.headers["Vary"] = "Accept"
    return resp
