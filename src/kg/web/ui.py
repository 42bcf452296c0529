"""`/`: YASGUI on `/sparql`, served from the package's own static files, every saved query as a tab."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for

from kg.namespaces import PREFIXES
from kg.web.services import current

bp = Blueprint("ui", __name__)


def page() -> Response:
    """The YASGUI page: the endpoint, the project's prefixes and the saved queries, rendered into the template."""
    saved = [{"name": q.name, "summary": q.summary, "text": q.text} for q in current().catalog]
    # the endpoint answers at /sparql and /sparql/; url_for picks the latter, the canonical one has no slash
    endpoint = url_for("sparql.endpoint").rstrip("/")
    html = render_template(
        "index.html",
        endpoint=endpoint,
        prefixes=PREFIXES,
        saved=saved,
        limits_url=url_for("meta.limits"),
        dumps_url=url_for("meta.dump", name="interfirm.nq"),
    )
    return Response(html, mimetype="text/html")


@bp.get("/")
def index() -> Response:
    return page()
