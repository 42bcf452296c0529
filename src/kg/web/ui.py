"""`/`: YASGUI on `/sparql`, served from the package's own static files, every saved query as a tab."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from kg.namespaces import PREFIXES
from kg.web.services import Services

bp = Blueprint("ui", __name__)


def page() -> Response:
    svc: Services = current_app.extensions["kg"]
    saved = [{"name": q.name, "summary": q.summary, "text": q.text} for q in svc.catalog]
    return Response(render_template("index.html", prefixes=PREFIXES, saved=saved), mimetype="text/html")


@bp.get("/")
def index() -> Response:
    return page()
