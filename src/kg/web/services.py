"""What the web layer may use: query execution (in stoppable workers), validation, the catalogue of saved queries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import rdflib
from flask import current_app, has_request_context, request
from rdflib.term import Identifier, URIRef

from kg import dumps
from kg.dumps import Dump
from kg.executor import Answer, QueryExecutor, generation
from kg.guard import check_query, route_services
from kg.ingest import IngestResult
from kg.namespaces import ONTOLOGY_GRAPH, PREFIXES
from kg.queries import QueryCatalog
from kg.settings import Settings
from kg.sources import paper_text
from kg.updates import UpdateResult
from kg.validation import Report

T = TypeVar("T")
DUMP_RETRY = 2.0  # seconds between two dump writers started by one process


class Services:
    """The application's services; created once per process by `create_app`, started lazily."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._executor: QueryExecutor | None = None
        self._per_generation: dict[str, tuple[tuple[int, ...], Any]] = {}
        self._dump_writer: Any = None  # the process writing the dumps of this generation, if one runs
        self._dump_started = -DUMP_RETRY

    @property
    def executor(self) -> QueryExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = QueryExecutor(self.settings, workers=self.settings.threads)
            return self._executor

    def start(self) -> None:
        """Start the query workers (otherwise they start on the first query)."""
        _ = self.executor

    @cached_property
    def catalog(self) -> QueryCatalog:
        return QueryCatalog(self.settings.queries_dir)

    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Identifier] | None = None,
        default_graphs: Sequence[URIRef] | None = None,
        named_graphs: Sequence[URIRef] | None = None,
        tabular_format: str = "json",
        graph_format: str = "turtle",
    ) -> Answer:
        s = self.settings
        check_query(sparql, s.allowed_services, max_depth=s.max_query_depth, max_chain=s.max_query_chain)
        return self.executor.run(
            route_services(sparql, self.settings.service_map),
            bindings=bindings,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            tabular_format=tabular_format,
            graph_format=graph_format,
            limits_url=limits_url(),
        )

    def select(self, sparql: str, bindings: Mapping[str, Identifier] | None = None) -> list[dict[str, dict]]:
        """A SELECT query's bindings as SPARQL JSON objects (for pages the server renders itself)."""
        answer = self.query(sparql, bindings=bindings, tabular_format="json")
        return json.loads(answer.body)["results"]["bindings"]

    def validate(self, data: bytes, fmt: str, *, report_graph: bool = False) -> Report:
        """Validate an upload (rdflib format `fmt`) exactly as `kg validate FILE` does; parsed and validated in a
        worker process under the same time limit as queries, at most `max_upload_triples` triples."""
        from kg.executor import ValidateRequest

        return self.executor.validate(ValidateRequest(data, fmt, report_graph))  # type: ignore[no-any-return]

    def ingest(self, data: bytes, fmt: str, *, source_name: str, agent: str) -> IngestResult:
        """Parse, validate and add case data (all or nothing) in a worker under the time limit; the query workers
        then reopen the rebuilt store."""
        from kg.executor import IngestRequest

        return self.executor.ingest(IngestRequest(data, fmt, source_name, agent))  # type: ignore[no-any-return]

    def update(
        self,
        text: str,
        *,
        using: Sequence[str] = (),
        using_named: Sequence[str] = (),
        base: str | None = None,
        agent: str = "unknown",
    ) -> UpdateResult:
        """Apply a SPARQL Update all or nothing, in a worker under the time limit; the workers then reopen."""
        import uuid

        from kg.executor import UpdateRequest

        return self.executor.update(
            UpdateRequest(text, tuple(using), tuple(using_named), base, agent, uuid.uuid4().hex)
        )

    def per_generation(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()`, remembered under `key` until the store's generation changes (a rebuild, an ingest or an
        update). Computed outside the lock (it may run queries); the generation is read before, so a change
        during the computation makes the next call compute again."""
        now = generation(self.settings)
        with self._lock:
            cached = self._per_generation.get(key)
        if cached is not None and cached[0] == now:
            return cached[1]
        value = compute()
        with self._lock:
            self._per_generation[key] = (now, value)
        return value

    def ontology_graph(self) -> rdflib.Graph:
        """The ontology's named graph, fetched from the store once per store generation (an update may change it),
        with the project's prefixes bound."""

        def fetch() -> rdflib.Graph:
            answer = self.query(
                "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
                bindings={"g": ONTOLOGY_GRAPH},
                graph_format="nt",
            )
            graph = rdflib.Graph().parse(data=answer.body.decode("utf-8"), format="nt")
            for prefix, ns in PREFIXES.items():
                graph.bind(prefix, ns, override=True)
            return graph

        return self.per_generation("ontology", fetch)

    def dumps(self, wait: float = 0.0) -> dict[str, Dump] | None:
        """The complete dumps of the store as it is now (`kg.dumps`); None when they are not written yet (a
        background process is then writing them; this waits up to `wait` seconds) or when the store is remote."""
        if self.settings.store == "sparql":
            return None
        done = dumps.ready(self.settings)
        deadline = time.monotonic() + wait
        while done is None:
            self._start_dump_writer()
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)
            done = dumps.ready(self.settings)
        return done

    def _start_dump_writer(self) -> None:
        """Start a process that writes the dumps (one at a time; across processes, a lock file decides)."""
        import multiprocessing as mp

        with self._lock:
            if self._dump_writer is not None and self._dump_writer.is_alive():
                return
            if time.monotonic() - self._dump_started < DUMP_RETRY or dumps.writing(self.settings):
                return  # one just ended (it failed, or the data changed under it), or another process writes
            writer = mp.get_context("spawn").Process(target=dumps.produce_quietly, args=(self.settings,), daemon=True)
            writer.start()
            self._dump_writer = writer
            self._dump_started = time.monotonic()

    def paper_text(self) -> Path | None:
        """The paper's text the graph was built from (`sources/`), when the repository holds it."""
        return paper_text(self.settings)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
        if self._dump_writer is not None and self._dump_writer.is_alive():
            self._dump_writer.terminate()
            self._dump_writer.join(timeout=5)


def limits_url() -> str:
    """This server's document about its limits (a cut result links to it); empty outside a request."""
    return request.url_root + "limits" if has_request_context() else ""


def current() -> Services:
    """The current application's services (in a request or application context)."""
    return current_app.extensions["kg"]
