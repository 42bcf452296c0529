"""Who may change data: the holder of the server's update token (`Authorization: Bearer <token>`)."""

from __future__ import annotations

import hmac

from flask import request

from kg.errors import Forbidden
from kg.web.services import current


def require_update_token(what: str) -> None:
    """Raise Forbidden unless the server has an update token and the request carries it."""
    token = current().settings.update_token
    if not token:
        raise Forbidden(
            f"this endpoint is read-only: {what} is refused",
            hint="the server accepts changes only when started with an update token (KG_UPDATE_TOKEN)",
        )
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Forbidden(
            f"{what} needs the server's update token",
            hint="send the header Authorization: Bearer <token>",
        )


def client_agent() -> str:
    """Who made a change, as the provenance graph publishes it: the request's `From` header (RFC 9110: the
    address of the person responsible) when given, else a pseudonym of the client's address (keyed with the
    update token, so the address cannot be found from it), never the address itself."""
    given = request.headers.get("From", "").strip()
    if given and len(given) <= 200 and given.isprintable():
        return given
    key = current().settings.update_token.encode("utf-8")
    address = (request.remote_addr or "unknown").encode("utf-8")
    return "client " + hmac.new(key, address, "sha256").hexdigest()[:16]
