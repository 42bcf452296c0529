"""A stand-in for Wikidata's SPARQL endpoint, on loopback, for the federated saved queries in the tests.

pyoxigraph in memory holding tests/wikidata/extract.ttl, behind a small WSGI server that speaks the parts of the
SPARQL 1.1 Protocol the engines use for SERVICE: GET with `query=`, POST as a form or as
application/sparql-query; SPARQL JSON (rdflib asks for it) or XML. It records the queries it was sent. The
settings map Wikidata's service IRI to its URL (KG_SERVICE_MAP); nothing leaves the machine.

    python -m tests.wikidata.standin [--port N]     # serve until interrupted (prints the URL)
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pyoxigraph as ox

EXTRACT = Path(__file__).resolve().parent / "extract.ttl"
WIKIDATA = "https://query.wikidata.org/sparql"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Threading(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
        threading.Thread(target=self._handle, args=(request, client_address), daemon=True).start()

    def _handle(self, request, client_address):  # type: ignore[no-untyped-def]
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


def app_for(store: ox.Store, seen: list[str]):  # type: ignore[no-untyped-def]
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        method = environ["REQUEST_METHOD"]
        query = None
        if method == "GET":
            query = parse_qs(environ.get("QUERY_STRING", "")).get("query", [None])[0]
        elif method == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode("utf-8")
            if environ.get("CONTENT_TYPE", "").startswith("application/sparql-query"):
                query = body
            else:
                query = parse_qs(body).get("query", [None])[0]
        if not query:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"no query"]
        seen.append(query)
        try:
            result = store.query(query)
        except SyntaxError as exc:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [str(exc).encode()]
        accept = environ.get("HTTP_ACCEPT", "")
        if "json" in accept or "xml" not in accept:
            fmt, media = ox.QueryResultsFormat.JSON, "application/sparql-results+json"
        else:
            fmt, media = ox.QueryResultsFormat.XML, "application/sparql-results+xml"
        body = result.serialize(format=fmt)  # type: ignore[union-attr]
        start_response("200 OK", [("Content-Type", media), ("Content-Length", str(len(body)))])
        return [body]

    return app


@contextmanager
def standin(port: int = 0) -> Iterator[tuple[str, list[str]]]:
    """Serve the extract on 127.0.0.1; yields (the endpoint URL, the queries received so far)."""
    store = ox.Store()
    store.load(path=str(EXTRACT), format=ox.RdfFormat.TURTLE)
    seen: list[str] = []
    server = make_server("127.0.0.1", port, app_for(store, seen), server_class=_Threading, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/sparql", seen
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    with standin(args.port) as (url, _):
        print(f"serving {EXTRACT.name} at {url}; map it with KG_SERVICE_MAP={WIKIDATA}={url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
