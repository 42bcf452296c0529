"""Settings: a dataclass with defaults, overridden by KG_* environment variables, then by arguments."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import InputError

STORE_KINDS = ("oxigraph", "memory", "sparql")
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"


def _default_root() -> Path:
    """The repository root: the folder holding ontology/, data/, shapes/ and queries/."""
    env = os.environ.get("KG_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "ontology" / "interfirm.ttl").is_file():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build one with `Settings.from_env(**overrides)`."""

    root: Path = field(default_factory=_default_root)
    store: str = "oxigraph"
    store_dir: Path | None = None
    ingest_dir: Path | None = None
    updates_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    query_timeout: float = 30.0
    workers: int = 2
    threads: int = 4
    public_base: str = "https://w3id.org/interfirm/"
    extra_files: tuple[str, ...] = ()  # [GRAPH-IRI=]FILE: added to the store's recorded extra files, as kg build FILE
    max_body_bytes: int = 10 * 1024 * 1024
    max_upload_triples: int = 200_000
    max_query_chars: int = 100_000
    max_query_depth: int = 100  # brackets nested in a query or update (0: no limit)
    max_query_chain: int = 2000  # operators, separators and joining keywords on one path (0: no limit)
    update_token: str = ""
    max_result_rows: int = 100_000
    max_result_bytes: int = 64 * 1024 * 1024
    worker_max_rss_mb: int = 256  # a query worker holding more after a job is replaced
    queue_wait: float = 2.0
    rate_limit_per_minute: int = 600
    client_concurrency: int = 3  # requests one client may have in the query workers at once, server-wide (0: any)
    http_threads: int = 32  # threads per server process that read requests and answer them (or refuse them)
    max_requests: int = 2000  # a server process is replaced after about this many requests (0: never)
    max_requests_jitter: int = 200
    query_memory_mb: int = 2048  # memory (data segment) of each query worker process (0: no limit)
    # SERVICE endpoints a query may call (Wikidata's by default; KG_ALLOWED_SERVICES= empty allows none)
    allowed_services: tuple[str, ...] = (WIKIDATA_SPARQL,)
    # SERVICE IRIs answered by another URL: "IRI=URL,..." (a mirror, or a stand-in in tests)
    service_map: tuple[str, ...] = ()
    endpoint: str = ""
    update_endpoint: str = ""
    endpoint_user: str = ""
    endpoint_password: str = ""
    endpoint_token: str = ""  # a Bearer token for the remote store (another kg server's update token)

    @property
    def ontology_file(self) -> Path:
        return self.root / "ontology" / "interfirm.ttl"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def links_dir(self) -> Path:
        """Links to other datasets, one file (and named graph) per target."""
        return self.root / "data" / "links"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def ingest_path(self) -> Path:
        """Where accepted ingests are kept (one N-Triples file each); the store is rebuilt from them."""
        return self.ingest_dir or (self.root / ".kg" / "ingest")

    @property
    def updates_path(self) -> Path:
        """The journal of accepted SPARQL Updates (one JSON file each); every build replays it."""
        return self.updates_dir or (self.root / ".kg" / "updates")

    @property
    def store_path(self) -> Path:
        return self.store_dir or (self.root / ".kg" / "store")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then KG_<FIELD> variables, then non-None keyword overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"KG_{f.name.upper()}")
            if raw is not None and (raw != "" or f.name == "allowed_services"):  # empty: allow no SERVICE
                values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("extra_files", "allowed_services", "service_map"):
            if isinstance(values.get(key), str):
                values[key] = tuple(x for x in str(values[key]).split(",") if x)
        for key in ("root", "store_dir", "ingest_dir", "updates_dir"):
            if isinstance(values.get(key), str):
                values[key] = Path(values[key])  # type: ignore[arg-type]
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.store not in STORE_KINDS:
            raise InputError(
                f"unknown store {settings.store!r}",
                source="KG_STORE/--store",
                hint=f"use one of: {', '.join(STORE_KINDS)}",
            )
        if settings.store == "sparql" and not settings.endpoint:
            raise InputError(
                "the sparql store needs an endpoint",
                source="KG_ENDPOINT/--endpoint",
                hint="give the SPARQL 1.1 query endpoint URL of the remote store",
            )
        for entry in settings.service_map:
            iri, sep, url = entry.partition("=")
            if not sep or not iri.startswith(("http://", "https://")) or not url.startswith(("http://", "https://")):
                raise InputError(
                    f"KG_SERVICE_MAP entry {entry!r} is not IRI=URL",
                    source="KG_SERVICE_MAP",
                    hint="write https://query.wikidata.org/sparql=http://127.0.0.1:9000/sparql",
                )
        if settings.query_timeout <= 0:
            raise InputError(
                "the query timeout must be a positive number of seconds", source="KG_QUERY_TIMEOUT/--query-timeout"
            )
        return settings


def _convert(name: str, type_: object, raw: str) -> object:
    kind = str(type_)
    try:
        if "int" in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
    except ValueError as exc:
        raise InputError(f"KG_{name.upper()}={raw!r} is not a number", source="environment") from exc
    if "Path" in kind:
        return Path(raw)
    return raw
