"""`/api`: the OpenAPI description rendered by the vendored Swagger UI (nothing fetched from outside)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

bp = Blueprint("apidoc", __name__)


@bp.get("/api")
def api() -> Response:
    return Response(render_template("api.html"), mimetype="text/html")
