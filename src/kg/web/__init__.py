"""The web application: SPARQL 1.1 Protocol endpoint, saved-query API, validation service, Linked Data pages, UI.

`create_app(settings)` builds a Flask app; nothing is created at import time. The web layer reaches the
data only through `app.extensions["kg"]` (a `Services` object: the query executor and the validator).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from flask import Flask, Response, g, request

from kg.errors import KgError, TooBusy
from kg.settings import Settings
from kg.web.limits import Admission
from kg.web.services import Services

# the routes that never use the query workers (static files, documents built from the code and settings): every
# other route counts against its client's rate and concurrency limits, so a new route is limited unless listed here
FREE_ROUTES = frozenset(
    {
        "static",
        "apidoc.api",
        "meta.openapi",
        "meta.limits",
        "meta.source_text",
        "saved.index",
        "saved.text",
    }
)


def create_app(
    settings: Settings | None = None, *, services: Services | None = None, limits: Path | None = None
) -> Flask:
    """The Flask application for `settings` (defaults and KG_* environment when None).

    `limits` is the database of per-client counts the server's processes share (None: this app's own).
    """
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["kg"] = services or Services(settings)

    from kg.web import apidoc, linked, meta, network, saved, search, sparql, ui, validate

    for bp in (sparql.bp, saved.bp, validate.bp, linked.bp, network.bp, search.bp, meta.bp, apidoc.bp, ui.bp):
        app.register_blueprint(bp)

    log = logging.getLogger("kg.web")

    admission = Admission(limits, settings.rate_limit_per_minute, settings.client_concurrency)
    app.extensions["kg.admission"] = admission

    @app.before_request
    def _start_timer() -> None:
        g.started = time.monotonic()
        if request.method != "OPTIONS" and request.endpoint is not None and request.endpoint not in FREE_ROUTES:
            g.ticket = admission.enter(request.remote_addr or "unknown")

    @app.teardown_request
    def _leave(exc: BaseException | None) -> None:
        admission.leave(g.pop("ticket", None))

    @app.after_request
    def _cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Authorization, Content-Type"
        response.headers["Access-Control-Expose-Headers"] = (
            "Content-Type, Content-Length, Link, Vary, X-Result-Rows, X-Result-Truncated, X-Result-Preview, "
            "X-Result-Total-Rows"
        )
        return response

    @app.errorhandler(KgError)
    def _kg_error(exc: KgError) -> Response:
        resp = error_response(exc.http_status, str(exc))
        if isinstance(exc, TooBusy):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.errorhandler(404)
    def _not_found(exc: Exception) -> Response:
        return error_response(404, f"no such resource: {request.path}")

    @app.errorhandler(405)
    def _method(exc: Exception) -> Response:
        resp = error_response(405, f"method {request.method} is not allowed on {request.path}")
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            resp.headers["Allow"] = ", ".join(allowed)
        return resp

    @app.errorhandler(413)
    def _too_large(exc: Exception) -> Response:
        return error_response(413, f"the request body is larger than {settings.max_body_bytes} bytes")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return error_response(exc.code or 500, exc.description or exc.name)
        log.exception("unexpected error")
        return error_response(500, f"internal error ({type(exc).__name__}); the request was not completed")

    return app


# an absolute file path (not the path of an IRI: that follows a host name or a scheme's slashes)
_PATH = re.compile(r"(?<![\w.:/%@-])/(?:[^\s/<>\"'`]++/)++([^\s/<>\"'`]*+)")


def public(message: str) -> str:
    """The message without the server's absolute file paths (each shortened to its last part): clients learn
    nothing about the server's layout."""
    return _PATH.sub(lambda m: m.group(1) or "(a folder)", message)


def error_response(status: int, message: str) -> Response:
    """A plain-text error body (or JSON when the client asks only for JSON): never a traceback, never a file
    path of the server."""
    message = public(message)
    best = request.accept_mimetypes.best_match(["text/plain", "application/json"], default="text/plain")
    if best == "application/json" and request.accept_mimetypes["text/plain"] < request.accept_mimetypes[best]:
        import json

        body = json.dumps({"status": status, "error": message})
        return Response(body + "\n", status=status, mimetype="application/json")
    return Response(message.rstrip() + "\n", status=status, mimetype="text/plain")
