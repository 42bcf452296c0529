"""Query evaluation in worker processes that can be stopped: a runaway query never blocks the server.

Each worker process opens the store itself and answers one query at a time over a pipe. When a query
runs past its time limit the worker is killed (freeing its memory and file handles) and replaced,
and the caller gets QueryTimeout. Results are serialised in the worker, so only bytes cross the pipe.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

from rdflib.term import Identifier, URIRef

from kg import errors
from kg.settings import Settings


@dataclass(frozen=True)
class Answer:
    """A serialised query result."""

    kind: str  # SELECT, ASK or GRAPH
    media_type: str
    body: bytes
    rows: int | None


@dataclass(frozen=True)
class Request:
    sparql: str
    bindings: Mapping[str, Identifier] | None
    default_graphs: Sequence[URIRef] | None
    named_graphs: Sequence[URIRef] | None
    tabular_format: str
    graph_format: str


def _serve(settings: Settings, conn: Connection) -> None:
    """The worker loop: open the store once, then answer requests until the pipe closes."""
    from kg import results
    from kg.store import open_store

    try:
        store = open_store(settings)
    except errors.KgError as exc:
        conn.send(("error", type(exc).__name__, str(exc)))
        return
    conn.send(("ready",))
    while True:
        try:
            req: Request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = store.query(
                req.sparql, bindings=req.bindings, default_graphs=req.default_graphs, named_graphs=req.named_graphs
            )
            fmt = req.graph_format if result.kind == "GRAPH" else req.tabular_format
            body = results.serialize(result, fmt)
            rows = len(result.rows) if result.kind == "SELECT" else None
            conn.send(("ok", Answer(result.kind, results.media_type(result, fmt), body, rows)))
        except errors.KgError as exc:
            conn.send(("error", type(exc).__name__, exc.message))
        except Exception as exc:  # an engine failure must not kill the worker silently
            conn.send(("error", "StoreError", f"the query failed: {type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self, settings: Settings, ctx: mp.context.BaseContext) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(settings, child), daemon=True)  # type: ignore[attr-defined]
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        if not self.conn.poll(timeout):
            self.kill()
            raise errors.StoreError("the query worker did not start in time")
        msg = self.conn.recv()
        if msg[0] != "ready":
            self.kill()
            raise _rebuild(msg[1], msg[2])
        self.ready = True

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


def _rebuild(name: str, message: str) -> errors.KgError:
    cls = getattr(errors, name, errors.StoreError)
    if not (isinstance(cls, type) and issubclass(cls, errors.KgError)):
        cls = errors.StoreError
    return cls(message)


class QueryExecutor:
    """A pool of worker processes that evaluate queries under a time limit."""

    def __init__(self, settings: Settings, *, workers: int = 1, start_timeout: float = 120.0) -> None:
        self.settings = settings
        self.start_timeout = start_timeout
        self._ctx = mp.get_context("spawn")
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(max(1, workers)):
            self._idle.put(_Worker(settings, self._ctx))

    def run(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Identifier] | None = None,
        default_graphs: Sequence[URIRef] | None = None,
        named_graphs: Sequence[URIRef] | None = None,
        tabular_format: str = "json",
        graph_format: str = "turtle",
        timeout: float | None = None,
    ) -> Answer:
        """Evaluate and serialise a query; QueryTimeout when it runs past `timeout` seconds."""
        limit = self.settings.query_timeout if timeout is None else timeout
        worker = self._idle.get()
        try:
            worker.wait_ready(self.start_timeout)
            worker.conn.send(Request(sparql, bindings, default_graphs, named_graphs, tabular_format, graph_format))
            if not worker.conn.poll(limit):
                worker.kill()
                worker = _Worker(self.settings, self._ctx)
                raise errors.QueryTimeout(
                    f"the query was stopped after {limit:g} s, the time limit of this endpoint",
                    hint="make the query more selective (LIMIT, fewer joins) or ask the operator for a longer limit",
                )
            msg = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            worker.kill()
            worker = _Worker(self.settings, self._ctx)
            raise errors.StoreError("the query worker stopped unexpectedly") from exc
        finally:
            if self._closed:
                worker.kill()
            else:
                self._idle.put(worker)
        if msg[0] == "ok":
            return msg[1]
        raise _rebuild(msg[1], msg[2])

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return
