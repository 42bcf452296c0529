"""Building the store from the repository's sources: one named graph per file, plus a provenance graph."""

from __future__ import annotations

import fcntl
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from kg import __version__, rdfio
from kg.errors import InputError, StoreError
from kg.namespaces import IFD, META_GRAPH
from kg.settings import Settings
from kg.sources import Source, all_sources, fingerprint
from kg.store.base import Store
from kg.store.memory import MemoryStore
from kg.store.oxigraph import OxigraphStore
from kg.store.remote import RemoteStore

MANIFEST = "manifest.json"
PAPER = IFD["unctad-ite-eds-2"]


def provenance_graph(sources: list[Source], root: Path) -> rdflib.Graph:
    """PROV-O statements about each named graph: which file it was read from, its checksum, its origin."""
    g = rdflib.Graph()
    for s in sources:
        g.add((s.graph, RDF.type, PROV.Entity))
        g.add((s.graph, RDFS.label, Literal(_relative(s.path, root))))
        g.add((s.graph, DCTERMS.identifier, Literal("sha256:" + s.sha256())))
        g.add((s.graph, PROV.hadPrimarySource, PAPER))
        g.add((s.graph, DCTERMS.hasVersion, Literal(__version__)))
    g.add((META_GRAPH, RDF.type, PROV.Entity))
    g.add((META_GRAPH, RDFS.label, Literal("provenance of the named graphs")))
    g.add((META_GRAPH, DCTERMS.created, Literal(time.strftime("%Y-%m-%d"), datatype=XSD.date)))
    return g


def ensure_built(settings: Settings, *, read_only: bool = True, extra: list[Source] | None = None) -> Store:
    """Open the configured store, building it first when it is missing or its sources changed."""
    if settings.store == "sparql":
        return remote_store(settings)
    sources = all_sources(settings) + list(extra or [])
    if settings.store == "memory":
        store = MemoryStore()
        graphs: dict[URIRef, rdflib.Graph] = {s.graph: s.parse() for s in sources}
        graphs[META_GRAPH] = provenance_graph(sources, settings.root)
        store.replace(graphs)
        return store
    build_oxigraph(settings.store_path, sources, settings.root)
    return OxigraphStore(settings.store_path / "db", read_only=read_only)


def remote_store(settings: Settings) -> RemoteStore:
    """The remote SPARQL store the settings name."""
    return RemoteStore(
        settings.endpoint,
        update_endpoint=settings.update_endpoint or None,
        user=settings.endpoint_user or None,
        password=settings.endpoint_password or None,
        timeout=settings.query_timeout,
    )


def push(settings: Settings, progress: object = None) -> dict[str, int]:
    """Load the repository's graphs (and the provenance graph) into the remote store, one named graph each."""
    store = remote_store(settings)
    sources = all_sources(settings)
    counts: dict[str, int] = {}
    for s in sources:
        counts[str(s.graph)] = store.load_graph(s.graph, s.parse())
        if callable(progress):
            progress(s)
    counts[str(META_GRAPH)] = store.load_graph(META_GRAPH, provenance_graph(sources, settings.root))
    return counts


def is_current(path: Path, sources: list[Source]) -> bool:
    """Whether the store at `path` was built from exactly these sources."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("fingerprint") == fingerprint(sources) and (path / "db").is_dir()


def build_oxigraph(path: Path, sources: list[Source], root: Path, *, force: bool = False) -> bool:
    """Build an on-disk store at `path` unless it is current; returns True when it built.

    The new store is written beside the old one and swapped in by renames, so a failed or killed
    build leaves the previous store as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.parent / f".{path.name}.lock"):
        if not force and is_current(path, sources):
            return False
        tmp = path.parent / f".{path.name}.building"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "db").mkdir(parents=True)
        store = ox.Store(str(tmp / "db"))
        started = time.monotonic()
        for s in sources:
            _bulk_load(store, s)
        meta = provenance_graph(sources, root)
        store.bulk_load(
            meta.serialize(format="nt").encode(), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(META_GRAPH))
        )
        store.flush()
        count = len(store)
        del store
        manifest = {
            "fingerprint": fingerprint(sources),
            "quads": count,
            "seconds": round(time.monotonic() - started, 3),
            "sources": [{"file": _relative(s.path, root), "graph": str(s.graph)} for s in sources],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        old = path.parent / f".{path.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
        return True


def _bulk_load(store: ox.Store, source: Source) -> None:
    fmt = {
        "turtle": ox.RdfFormat.TURTLE,
        "nt": ox.RdfFormat.N_TRIPLES,
        "xml": ox.RdfFormat.RDF_XML,
        "json-ld": ox.RdfFormat.JSON_LD,
    }.get(rdfio.format_for_path(source.path))
    if fmt is None:
        rdfio.parse_file(source.path)  # raises a clear error for formats we do not bulk-load
        raise InputError("unsupported format for the store", source=str(source.path))
    try:
        store.bulk_load(
            path=str(source.path),
            format=fmt,
            to_graph=ox.NamedNode(str(source.graph)),
            base_iri=source.path.resolve().as_uri(),
        )
    except SyntaxError as exc:
        raise InputError(f"syntax error: {exc}", source=str(source.path)) from exc
    except OSError as exc:
        raise StoreError(f"cannot load {source.path}: {exc}") from exc


@contextmanager
def file_lock(lock_path: Path) -> Iterator[None]:
    """An exclusive lock between processes, held for the `with` block (released if the process dies)."""
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return path.name
