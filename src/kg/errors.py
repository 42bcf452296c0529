"""The exceptions of interfirm-kg, mapped once to CLI exit codes and HTTP statuses.

    KgError                      base class; exit 3, HTTP 500
    ├── InputError               unreadable or malformed input (file, line, what, fix); exit 2, HTTP 400
    │   ├── QuerySyntaxError     a SPARQL query that does not parse; exit 2, HTTP 400
    │   ├── ParameterError       a saved-query parameter missing or of the wrong type; exit 2, HTTP 400
    │   └── TooLarge             an upload over a configured size (triples); exit 2, HTTP 413
    ├── NotFound                 an unknown saved query, resource or file; exit 2, HTTP 404
    ├── Forbidden                an operation the server refuses (updates without a token); exit 4, HTTP 403
    ├── QueryTimeout             a query that exceeded its time limit and was stopped; exit 5, HTTP 503
    ├── MemoryLimit              a query that needed more memory than a query worker may use; exit 5, HTTP 503
    ├── TooBusy                  every query worker busy, or a client over its rate; exit 6, HTTP 429
    ├── ServiceError             a SERVICE endpoint a query calls could not be reached or failed; exit 3, HTTP 502
    └── StoreError               the store cannot be opened, built or read; exit 3, HTTP 500

Validation that finds violations is not an error: `kg validate` exits 1 with the report.
"""

from __future__ import annotations

__all__ = [
    "Forbidden",
    "InputError",
    "KgError",
    "MemoryLimit",
    "NotFound",
    "ParameterError",
    "QuerySyntaxError",
    "QueryTimeout",
    "StoreError",
    "TooBusy",
    "TooLarge",
]


class KgError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 3
    http_status = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message


class InputError(KgError):
    """Input that cannot be read: a file, a request body, a parameter."""

    exit_code = 2
    http_status = 400

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = source or ""
        if line is not None:
            where = f"{where}, line {line}" if where else f"line {line}"
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.source = source
        self.line = line


class QuerySyntaxError(InputError):
    """A SPARQL query that does not parse."""


class ParameterError(InputError):
    """A saved-query parameter that is missing, unknown or ill-typed."""


class TooLarge(InputError):
    """An upload over a configured limit (triples per upload)."""

    http_status = 413


class NotFound(KgError):
    """A saved query, resource or file that does not exist."""

    exit_code = 2
    http_status = 404


class Forbidden(KgError):
    """An operation that this server or command refuses."""

    exit_code = 4
    http_status = 403


class QueryTimeout(KgError):
    """A query that ran past its time limit and was stopped."""

    exit_code = 5
    http_status = 503


class MemoryLimit(KgError):
    """A query (or validation, update, ingest) that needed more memory than a query worker may use."""

    exit_code = 5
    http_status = 503


class TooBusy(KgError):
    """Too many queries at once (server-wide) or from one client; retry after `retry_after` seconds."""

    exit_code = 6
    http_status = 429

    def __init__(self, message: str, *, retry_after: int = 1, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class ServiceError(KgError):
    """A SERVICE endpoint (another SPARQL endpoint a federated query calls) could not be reached or failed."""

    exit_code = 3
    http_status = 502


class StoreError(KgError):
    """The store cannot be opened, built or read."""
