"""What the web layer may use: query execution (in stoppable workers), validation, the catalogue of saved queries."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

import rdflib
from flask import current_app
from rdflib.term import Identifier, URIRef

from kg.executor import Answer, QueryExecutor, generation
from kg.guard import check_query
from kg.ingest import IngestResult
from kg.namespaces import ONTOLOGY_GRAPH, PREFIXES
from kg.queries import QueryCatalog
from kg.settings import Settings
from kg.updates import UpdateResult
from kg.validation import Report

T = TypeVar("T")


class Services:
    """The application's services; created once per process by `create_app`, started lazily."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._executor: QueryExecutor | None = None
        self._per_generation: dict[str, tuple[tuple[int, ...], Any]] = {}

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
        check_query(sparql, self.settings.allowed_services)
        return self.executor.run(
            sparql,
            bindings=bindings,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            tabular_format=tabular_format,
            graph_format=graph_format,
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

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()


def current() -> Services:
    """The current application's services (in a request or application context)."""
    return current_app.extensions["kg"]
