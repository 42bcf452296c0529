"""Query evaluation in worker processes that can be stopped: a runaway query never blocks the server.

Each worker process opens the store itself and answers one query at a time over a pipe. When a query
runs past its time limit the worker is killed (freeing its memory and file handles) and replaced,
and the caller gets QueryTimeout. Results are serialised in the worker, so only bytes cross the pipe.

The pool starts one worker and grows on demand up to its size, always starting one spare beside the busy
ones so that the next request finds a worker ready. A worker that holds more than `worker_max_rss_mb` after a
job (a large result, a validation) is replaced: the memory a query took goes back to the system.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

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
    truncated: str = ""  # why the result was cut (empty when complete)


@dataclass(frozen=True)
class Request:
    sparql: str
    bindings: Mapping[str, Identifier] | None
    default_graphs: Sequence[URIRef] | None
    named_graphs: Sequence[URIRef] | None
    tabular_format: str
    graph_format: str
    limits_url: str = ""  # the document that explains the limits; a cut result links to it


@dataclass(frozen=True)
class ValidateRequest:
    data: bytes  # the request body, parsed in the worker (under the time limit and the triple cap)
    fmt: str  # its rdflib format
    report_graph: bool = False  # whether the caller needs the report as RDF


@dataclass(frozen=True)
class UpdateRequest:
    text: str
    using: tuple[str, ...]
    using_named: tuple[str, ...]
    base: str | None
    agent: str
    request_id: str


@dataclass(frozen=True)
class IngestRequest:
    data: bytes  # the request body, parsed in the worker (under the time limit and the triple cap)
    fmt: str  # its rdflib format
    source_name: str
    agent: str


def _ingest(settings: Settings, req: IngestRequest, store: Any) -> tuple:  # type: ignore[type-arg]
    """Parse, validate and add case data in the worker, so the time limit can stop a slow upload."""
    import rdflib

    from kg.ingest import ingest
    from kg.upload import read_bytes

    data = read_bytes(req.data, req.fmt, max_triples=settings.max_upload_triples)
    result = ingest(settings, data, source_name=req.source_name, agent=req.agent)
    result.report.graph = rdflib.Graph()  # the caller needs the findings, not the report graph
    return ("ok", result)


def _update(settings: Settings, req: UpdateRequest, store: Any) -> tuple:  # type: ignore[type-arg]
    """Apply an update in the worker, so the time limit can stop a runaway WHERE clause."""
    from kg.updates import commit

    result = commit(
        settings,
        req.text,
        using=req.using,
        using_named=req.using_named,
        base=req.base,
        agent=req.agent,
        request_id=req.request_id,
    )
    return ("ok", result)


def _validate(settings: Settings, req: ValidateRequest, store: Any) -> tuple:  # type: ignore[type-arg]
    """Parse and validate an upload in the worker (so the time limit can stop both) against its open store."""
    import rdflib

    from kg.upload import read_bytes
    from kg.validation import load_shapes, validate_new

    data = read_bytes(req.data, req.fmt, max_triples=settings.max_upload_triples)
    report = validate_new(store, data, load_shapes(settings))
    if not req.report_graph:
        report.graph = rdflib.Graph()
    return ("ok", report)


Job = Request | ValidateRequest | UpdateRequest | IngestRequest
_JOBS: dict[type, Callable[[Settings, Any, Any], tuple]] = {  # type: ignore[type-arg]
    ValidateRequest: _validate,
    UpdateRequest: _update,
    IngestRequest: _ingest,
}
# what each kind of job is called in messages, and what to do when the time limit stops it
_KINDS: dict[type, tuple[str, str]] = {
    Request: ("query", "make the query more selective (LIMIT, fewer joins) or ask the operator for a longer limit"),
    ValidateRequest: ("validation", "send smaller case files, or ask the operator for a longer limit"),
    UpdateRequest: (
        "update",
        "nothing was changed; make the WHERE clause more selective, or ask the operator for a longer limit",
    ),
    IngestRequest: (
        "ingest",
        "nothing was added (unless the same data was committed just before the limit: POST it again to see); "
        "send smaller case files, or ask the operator for a longer limit",
    ),
}


def resident_mb() -> float:
    """This process's resident memory in MB (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _trim() -> None:
    """Hand freed heap memory back to the system (glibc's malloc_trim; nothing elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def limit_memory(megabytes: int) -> None:
    """Cap this process's data segment (heap and private mappings; the store's mapped files do not count).

    Past it, allocations fail: Python raises MemoryError, the engine aborts the process.
    """
    import resource

    if megabytes > 0:
        cap = megabytes * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))


def _memory_message(settings: Settings, what: str) -> str:
    return (
        f"the {what} needed more memory than the {settings.query_memory_mb} MB a query worker may use on this "
        "endpoint, and was stopped"
    )


_MEMORY_HINT = (
    "make it more selective (LIMIT, fewer joins, no ORDER BY over a huge result), or ask the operator for a "
    "larger limit (KG_QUERY_MEMORY_MB)"
)


def _serve(settings: Settings, conn: Connection) -> None:
    """The worker loop: open the store once, then answer requests until the pipe closes (or memory ran out:
    a process that hit its memory limit is replaced rather than trusted with the next request). Each answer
    ends with the worker's resident memory (MB) after the job, for the pool to replace a worker grown too
    large."""
    from kg import results
    from kg.store import open_store

    limit_memory(settings.query_memory_mb)
    try:
        store = open_store(settings)
    except errors.KgError as exc:
        conn.send(("error", type(exc).__name__, exc.message, exc.hint))
        return
    except MemoryError:
        conn.send(("error", "MemoryLimit", _memory_message(settings, "opening of the store")))
        return
    conn.send(("ready",))

    def reply(msg: tuple) -> None:  # type: ignore[type-arg]
        rss = resident_mb()
        if rss > settings.worker_max_rss_mb:
            _trim()
            rss = resident_mb()
        conn.send((*msg, rss))

    while True:
        try:
            req: Job = conn.recv()
        except (EOFError, OSError):
            return
        if not isinstance(req, Request):
            try:
                reply(_JOBS[type(req)](settings, req, store))
            except errors.KgError as exc:  # with its hint: an upload's client needs to know how to fix it
                reply(("error", type(exc).__name__, exc.message, exc.hint))
            except MemoryError:
                reply(("error", "MemoryLimit", _memory_message(settings, _KINDS[type(req)][0])))
                return
            except Exception as exc:  # pySHACL or engine failures are answered, not fatal
                what = _KINDS[type(req)][0]
                reply(("error", "StoreError", f"the {what} failed: {type(exc).__name__}: {exc}"))
            continue
        try:
            result = store.query(
                req.sparql,
                bindings=req.bindings,
                default_graphs=req.default_graphs,
                named_graphs=req.named_graphs,
                max_rows=settings.max_result_rows,
            )
            fmt = req.graph_format if result.kind == "GRAPH" else req.tabular_format
            truncated = f"rows={settings.max_result_rows}" if result.truncated else ""
            body = results.serialize(result, fmt, links=_links(req, truncated))
            while len(body) > settings.max_result_bytes and _shrink(result):
                truncated = f"bytes={settings.max_result_bytes}"
                body = results.serialize(result, fmt, links=_links(req, truncated))
            rows = len(result.rows) if result.kind == "SELECT" else None
            answer = Answer(result.kind, results.media_type(result, fmt), body, rows, truncated)
            del result, body
            reply(("ok", answer))
        except errors.KgError as exc:
            reply(("error", type(exc).__name__, exc.message, exc.hint))
        except MemoryError:
            reply(("error", "MemoryLimit", _memory_message(settings, "query")))
            return
        except Exception as exc:  # an engine failure must not kill the worker silently
            reply(("error", "StoreError", f"the query failed: {type(exc).__name__}: {exc}"))


def limit_link(limits_url: str, truncated: str) -> str:
    """The part of the limits document that explains a cut (`rows=N` or `bytes=N`)."""
    return f"{limits_url}#result-{truncated.split('=', 1)[0]}"


def _links(req: Request, truncated: str) -> list[str]:
    return [limit_link(req.limits_url, truncated)] if truncated and req.limits_url else []


def _shrink(result: object) -> bool:
    """Halve a result's rows (or triples); False when there is nothing left to cut."""
    import rdflib

    if getattr(result, "kind", "") == "SELECT" and result.rows:  # type: ignore[attr-defined]
        result.rows = result.rows[: len(result.rows) // 2]  # type: ignore[attr-defined]
        return True
    graph = getattr(result, "graph", None)
    if graph is not None and len(graph):
        kept = rdflib.Graph()
        for i, t in enumerate(graph):
            if i >= len(graph) // 2:
                break
            kept.add(t)
        result.graph = kept  # type: ignore[attr-defined]
        return True
    return False


def generation(settings: Settings) -> tuple[int, int, int]:
    """Changes whenever the store is rebuilt, an ingest lands or an update is committed: workers opened
    before must reopen."""

    def mtime(path: Path) -> int:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return 0

    return mtime(settings.store_path / "manifest.json"), mtime(settings.ingest_path), mtime(settings.updates_path)


class _Worker:
    def __init__(self, settings: Settings, ctx: mp.context.BaseContext) -> None:
        self.generation = generation(settings)
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
            raise _rebuild(*msg[1:])
        self.ready = True

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def exit_code(self) -> int | None:
        """How a worker that closed its pipe ended (a negative number: the signal), once it is gone."""
        self.process.join(timeout=2)
        code = self.process.exitcode
        self.kill()
        return code


def _rebuild(name: str, message: str, hint: str | None = None) -> errors.KgError:
    """The error a worker reported, as its class (with its hint)."""
    cls = getattr(errors, name, errors.StoreError)
    if not (isinstance(cls, type) and issubclass(cls, errors.KgError)):
        cls = errors.StoreError
    return cls(message, hint=hint)


class QueryExecutor:
    """A pool of up to `workers` worker processes that evaluate queries under a time limit."""

    def __init__(self, settings: Settings, *, workers: int = 1, start_timeout: float = 120.0) -> None:
        self.settings = settings
        self.start_timeout = start_timeout
        self._ctx = mp.get_context("spawn")
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._size = max(1, workers)
        self._count = 0  # workers started and not retired (idle or busy)
        self._closed = False
        self._spare()

    @property
    def started(self) -> int:
        """How many worker processes the pool has now."""
        return self._count

    def _spare(self) -> None:
        """Start one more worker, not waited for, unless the pool is at its size."""
        with self._lock:
            if self._closed or self._count >= self._size:
                return
            self._count += 1
        try:
            self._idle.put(_Worker(self.settings, self._ctx))
        except BaseException:
            with self._lock:
                self._count -= 1
            raise

    def _take(self) -> _Worker:
        """An idle worker (a new one while the pool is below its size), keeping one spare started; TooBusy when
        none is free within `queue_wait`."""
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            self._spare()
            try:
                worker = self._idle.get(timeout=self.settings.queue_wait)
            except queue.Empty:
                raise errors.TooBusy(
                    "every query worker is busy; try again shortly",
                    retry_after=max(1, round(self.settings.queue_wait)),
                ) from None
        if self._idle.empty():
            self._spare()
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._count -= 1

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
        limits_url: str = "",
    ) -> Answer:
        """Evaluate and serialise a query; QueryTimeout when it runs past `timeout` seconds. A cut result links
        to `limits_url` (see `kg.results.serialize`)."""
        request = Request(sparql, bindings, default_graphs, named_graphs, tabular_format, graph_format, limits_url)
        return self._call(request, timeout)

    def validate(self, request: ValidateRequest, *, timeout: float | None = None) -> Any:
        """Parse and validate an upload in a worker under the time limit; the `kg.validation.Report`."""
        return self._call(request, timeout)

    def update(self, request: UpdateRequest, *, timeout: float | None = None) -> Any:
        """Apply a SPARQL Update in a worker under the time limit (see `kg.updates.commit`).

        When the limit stops it, the journal says whether it was committed before that: a committed update
        is reported as applied (the next build includes it), anything else as stopped with nothing changed.
        """
        from kg.updates import UpdateResult, committed

        try:
            return self._call(request, timeout)
        except (errors.QueryTimeout, errors.MemoryLimit, errors.StoreError):
            entry = committed(self.settings, request.request_id)
            if entry is None:
                raise
            from kg.build import rebuild

            rebuild(self.settings)  # it was stopped between its commit point and the swap
            return UpdateResult(entry.seq, entry.graph, None, 0.0)

    def ingest(self, request: IngestRequest, *, timeout: float | None = None) -> Any:
        """Validate and add case data in a worker under the time limit (see `kg.ingest.ingest`)."""
        return self._call(request, timeout)

    def _call(self, request: Job, timeout: float | None) -> Any:
        limit = self.settings.query_timeout if timeout is None else timeout
        what, hint = _KINDS[type(request)]
        worker = self._take()
        if worker.generation != generation(self.settings):
            worker.kill()
            worker = _Worker(self.settings, self._ctx)
        keep = False  # a worker that failed, was stopped or grew too large is replaced
        try:
            worker.wait_ready(self.start_timeout)
            worker.conn.send(request)
            if not worker.conn.poll(limit):
                raise errors.QueryTimeout(
                    f"the {what} was stopped after {limit:g} s, the time limit of this endpoint", hint=hint
                )
            *msg, rss = worker.conn.recv()
            # else its memory goes back to the system; a worker that hit the memory limit has exited
            keep = rss <= self.settings.worker_max_rss_mb and not (msg[0] == "error" and msg[1] == "MemoryLimit")
        except (EOFError, OSError, BrokenPipeError) as exc:
            code = worker.exit_code()
            if code == -signal.SIGABRT and self.settings.query_memory_mb > 0:  # the engine's allocation failed
                raise errors.MemoryLimit(_memory_message(self.settings, what), hint=_MEMORY_HINT) from exc
            raise errors.StoreError(f"the query worker stopped unexpectedly while running the {what}") from exc
        finally:
            if self._closed or not keep:
                self._retire(worker)
                self._spare()
            else:
                self._idle.put(worker)
        if msg[0] == "ok":
            return msg[1]
        if msg[1] == "MemoryLimit":
            raise errors.MemoryLimit(msg[2], hint=_MEMORY_HINT)
        raise _rebuild(*msg[1:])

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        while True:
            try:
                self._retire(self._idle.get_nowait())
            except queue.Empty:
                return
