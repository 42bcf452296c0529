"""Building the store from the repository's sources: one named graph per file, plus a provenance graph."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from kg import __version__, derived, rdfio, updates
from kg.errors import Forbidden, InputError, KgError, StoreError
from kg.namespaces import GRAPH, IFD, META_GRAPH
from kg.settings import Settings
from kg.sources import Source, all_sources, checksum_record, fingerprint, remember_checksums
from kg.store.base import Store
from kg.store.memory import MemoryStore
from kg.store.oxigraph import OxigraphStore, to_oxigraph, to_rdflib
from kg.store.remote import RemoteStore
from kg.updates import Entry, journal

MANIFEST = "manifest.json"
PAPER = IFD["unctad-ite-eds-2"]
INGEST_PREFIX = str(GRAPH["ingest/"])


def provenance_graph(sources: list[Source], root: Path, entries: Sequence[Entry] = ()) -> rdflib.Graph:
    """PROV-O statements about each named graph (which file it was read from, its checksum, its origin) and
    about each accepted SPARQL Update."""
    g = rdflib.Graph()
    for s in sources:
        g.add((s.graph, RDF.type, PROV.Entity))
        g.add((s.graph, RDFS.label, Literal(_relative(s.path, root))))
        g.add((s.graph, DCTERMS.identifier, Literal("sha256:" + s.sha256())))
        g.add((s.graph, PROV.hadPrimarySource, PAPER))
        g.add((s.graph, DCTERMS.hasVersion, Literal(__version__)))
    for e in entries:
        activity = URIRef(e.graph)
        g.add((activity, RDF.type, PROV.Activity))
        g.add((activity, RDFS.label, Literal(f"SPARQL Update {e.seq}")))
        g.add((activity, DCTERMS.description, Literal(e.text)))
        g.add((activity, DCTERMS.identifier, Literal("sha256:" + e.sha256)))
        g.add((activity, DCTERMS.creator, Literal(e.agent)))
        g.add((activity, PROV.endedAtTime, Literal(e.time, datatype=XSD.dateTime)))
    for d in derived.derivations():
        g.add((d.graph, RDF.type, PROV.Entity))
        g.add((d.graph, RDFS.label, Literal(d.label)))
        g.add((d.graph, PROV.wasGeneratedBy, URIRef(f"{d.graph}#derivation")))
        g.add((URIRef(f"{d.graph}#derivation"), RDF.type, PROV.Activity))
        g.add((URIRef(f"{d.graph}#derivation"), DCTERMS.description, Literal(d.method)))
        for s in sources:
            g.add((d.graph, PROV.wasDerivedFrom, s.graph))
    g.add((META_GRAPH, RDF.type, PROV.Entity))
    g.add((META_GRAPH, RDFS.label, Literal("provenance of the named graphs")))
    g.add((META_GRAPH, DCTERMS.created, Literal(time.strftime("%Y-%m-%d"), datatype=XSD.date)))
    return g


def ensure_built(settings: Settings) -> Store:
    """Open the configured store (read-only on disk), building it first when it is missing or its files changed."""
    if settings.store == "sparql":
        return remote_store(settings)
    if settings.store == "memory":
        sources, entries = all_sources(settings), journal(settings)
        graphs: dict[URIRef, rdflib.Graph]
        if entries or derived.derivations():
            graphs = _graphs(_filled(sources, settings.root, entries))
        else:
            graphs = {s.graph: s.parse() for s in sources}
            graphs[META_GRAPH] = provenance_graph(sources, settings.root)
        store = MemoryStore()
        store.replace(graphs)
        return store
    rebuild(settings)
    return OxigraphStore(settings.store_path / "db", read_only=True)


def rebuild(settings: Settings, *, force: bool = False, extra: Sequence[Source] = ()) -> bool:
    """Build the on-disk store from the files (and `extra` ones) and the update journal unless it is current;
    True when it built. The memory and remote stores have nothing on disk: they are built when opened."""
    if settings.store != "oxigraph":
        return False
    _remember_checksums(settings.store_path)
    sources = all_sources(settings) + list(extra)
    return build_oxigraph(settings.store_path, sources, settings.root, entries=journal(settings), force=force)


def extend(settings: Settings, entries: Sequence[Entry], new: Entry, on_built: Callable[[], None]) -> int:
    """The local store with one more update; returns its quads.

    `on_built` runs once the new content is complete and before it replaces the old: the commit point of
    the update. On disk, a current store is copied (hard links, so in milliseconds) and only the new update
    runs on the copy; a stale one is rebuilt with the whole journal. The memory backend has nothing on disk
    to swap, so there the build only checks that the update applies.
    """
    _remember_checksums(settings.store_path)
    sources = all_sources(settings)
    if settings.store == "memory":
        count = len(_filled(sources, settings.root, [*entries, new]))
        on_built()
        return count
    path = settings.store_path
    with _store_lock(path):
        copy = is_current(path, sources, entries)
        _build_beside(
            path,
            sources,
            root=settings.root,
            entries=[*entries, new],
            on_built=on_built,
            last_step=(lambda store: updates.apply(store, new)) if copy else None,
            changed=updates.written_graphs(new),
        )
    return int(json.loads((path / MANIFEST).read_text())["quads"])


def _store_lock(path: Path) -> AbstractContextManager[None]:
    """The lock of the on-disk store at `path`: one build or swap at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return file_lock(path.parent / f".{path.name}.lock")


def _remember_checksums(path: Path) -> None:
    """Take the checksums of the files the store at `path` was built from, as its manifest recorded them with
    their size, time and inode (a new process would otherwise read every file again to find them unchanged)."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return
    remember_checksums(s["checksum"] for s in manifest.get("sources", []) if isinstance(s.get("checksum"), dict))


def writer_lock(settings: Settings) -> AbstractContextManager[None]:
    """The lock every change (ingest, update) holds: one writer at a time, across processes."""
    settings.ingest_path.mkdir(parents=True, exist_ok=True)
    return file_lock(settings.ingest_path / ".lock")


def remote_store(settings: Settings) -> RemoteStore:
    """The remote SPARQL store the settings name."""
    return RemoteStore(
        settings.endpoint,
        update_endpoint=settings.update_endpoint or None,
        user=settings.endpoint_user or None,
        password=settings.endpoint_password or None,
        token=settings.endpoint_token or None,
        timeout=settings.query_timeout,
    )


def push(settings: Settings, progress: object = None, skipped: object = None) -> dict[str, int]:
    """Load the repository's graphs, the graphs derived from them and the provenance graph into the remote store,
    one named graph each.

    A remote that refuses only the graphs a server keeps itself (another kg server derives its own and keeps
    its own provenance) gets the data graphs; `skipped(graph, why)` is told. `progress(graph)` after each graph.
    """
    store = remote_store(settings)
    sources = all_sources(settings)
    counts: dict[str, int] = {}
    for s in sources:
        counts[str(s.graph)] = store.load_graph(s.graph, s.parse())
        if callable(progress):
            progress(s.graph)
    kept_by_server = dict(derived_graphs(sources, settings.root))
    kept_by_server[META_GRAPH] = provenance_graph(sources, settings.root)
    for name, graph in kept_by_server.items():
        try:
            counts[str(name)] = store.load_graph(name, graph)
        except Forbidden as exc:
            if not callable(skipped):
                raise
            skipped(name, exc.message)
            continue
        if callable(progress):
            progress(name)
    return counts


def derived_graphs(sources: list[Source], root: Path) -> dict[URIRef, rdflib.Graph]:
    """The derived graphs of these sources alone, computed in a temporary on-disk store."""
    import tempfile

    names = [ox.NamedNode(str(d.graph)) for d in derived.derivations()]
    if not names:
        return {}
    with tempfile.TemporaryDirectory(prefix="kg-derive-") as tmp:
        store = _filled(sources, root, (), ox.Store(tmp))
        graphs = {}
        for name in names:
            g = rdflib.Graph()
            for q in store.quads_for_pattern(None, None, None, name):
                g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
            graphs[URIRef(name.value)] = g
        del store
    return graphs


def content_fingerprint(sources: list[Source], entries: Sequence[Entry] = ()) -> str:
    """One hash over the sources, the update journal and the derivations: equal means the store would not
    change."""
    h = hashlib.sha256(fingerprint(sources).encode())
    for e in entries:
        h.update(b"\0" + e.sha256.encode())
    h.update(b"\0derived:" + derived.signature().encode())
    return h.hexdigest()


def is_current(path: Path, sources: list[Source], entries: Sequence[Entry] = ()) -> bool:
    """Whether the store at `path` was built from exactly these sources and updates."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("fingerprint") == content_fingerprint(sources, entries) and (path / "db").is_dir()


def build_oxigraph(
    path: Path, sources: list[Source], root: Path, *, entries: Sequence[Entry] = (), force: bool = False
) -> bool:
    """Build an on-disk store at `path` unless it is current; returns True when it built.

    The new store is written beside the old one and swapped in by renames, so a failed or killed
    build leaves the previous store as it was. When the only change is new ingests, they are added to a
    copy of the live store instead of building everything again.
    """
    with _store_lock(path):
        if not force and is_current(path, sources, entries):
            return False
        added = [] if force else _new_ingests(path, sources, entries)

        def add(store: ox.Store) -> None:
            for s in added:
                _bulk_load(store, s)

        _build_beside(
            path,
            sources,
            root=root,
            entries=entries,
            last_step=add if added else None,
            changed=[str(s.graph) for s in added],
        )
        return True


def _new_ingests(path: Path, sources: list[Source], entries: Sequence[Entry]) -> list[Source]:
    """The ingests that are all the store at `path` lacks (nothing else changed), or [] when more changed.

    A build loads an ingest no update came after last of all, so adding it to the live store gives the same.
    """
    after_updates = {name for e in entries for name in e.after_ingests}
    added = [s for s in sources if str(s.graph).startswith(INGEST_PREFIX) and str(s.graph) not in after_updates]
    try:
        built = {src["graph"] for src in json.loads((path / MANIFEST).read_text()).get("sources", [])}
    except (OSError, ValueError):
        return []
    added = [s for s in added if str(s.graph) not in built]
    if not added or not is_current(path, [s for s in sources if s not in added], entries):
        return []
    return added


def _build_beside(
    path: Path,
    sources: list[Source],
    *,
    root: Path,
    entries: Sequence[Entry],
    on_built: Callable[[], None] | None = None,
    last_step: Callable[[ox.Store], None] | None = None,
    changed: Sequence[str] | None = None,
) -> None:
    """Write the store beside `path`, run `on_built`, swap it in (the caller holds the store's lock).

    With `last_step`, the live store is copied and only that step runs on the copy (the live store must
    hold everything else), and the derived graphs are brought up to date for the named graphs `changed` (all
    recomputed when None); without, everything is loaded and replayed.
    """
    tmp = path.parent / f".{path.name}.building"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.monotonic()
    if last_step is not None:
        live = ox.Store.read_only(str(path / "db"))
        live.backup(str(tmp / "db"))  # a checkpoint: hard links to the immutable table files
        del live
        store = ox.Store(str(tmp / "db"))
        last_step(store)
        derived.derive(store, changed)
        _provenance(store, sources, root, entries)
    else:
        (tmp / "db").mkdir()
        store = _filled(sources, root, entries, ox.Store(str(tmp / "db")))
    store.flush()
    count = len(store)
    del store
    manifest = {
        "fingerprint": content_fingerprint(sources, entries),
        "quads": count,
        "seconds": round(time.monotonic() - started, 3),
        "sources": [
            {"file": _relative(s.path, root), "graph": str(s.graph), "checksum": checksum_record(s.path)}
            for s in sources
        ],
        "updates": [e.seq for e in entries],
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
    if on_built is not None:
        on_built()
    old = path.parent / f".{path.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)


def _filled(sources: list[Source], root: Path, entries: Sequence[Entry], store: ox.Store | None = None) -> ox.Store:
    """A store (in memory unless given) holding the sources, with the journal replayed where each update
    was accepted (after the ingests that existed then), and the provenance graph."""
    store = ox.Store() if store is None else store
    ingests = {s.graph: s for s in sources if str(s.graph).startswith(INGEST_PREFIX)}
    for s in sources:
        if s.graph not in ingests:
            _bulk_load(store, s)
    for e in entries:
        for name in e.after_ingests:
            pending = ingests.pop(URIRef(name), None)
            if pending is not None:
                _bulk_load(store, pending)
        try:
            updates.apply(store, e)
        except KgError as exc:
            if e.pending:
                raise
            raise StoreError(
                f"the journal's update {e.path} no longer applies to the sources: {exc.message}",
                hint="the data files changed under it; edit or remove that journal file, then build again",
            ) from exc
    for s in ingests.values():
        _bulk_load(store, s)
    derived.derive(store)
    _provenance(store, sources, root, entries)
    return store


def _provenance(store: ox.Store, sources: list[Source], root: Path, entries: Sequence[Entry]) -> None:
    """(Re)write the provenance graph: the server keeps it, whatever an update wrote there."""
    meta_name = ox.NamedNode(str(META_GRAPH))
    if store.contains_named_graph(meta_name):
        store.remove_graph(meta_name)
    meta = provenance_graph(sources, root, entries)  # small: a transaction, not a bulk load (no table files)
    store.extend(ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), meta_name) for s, p, o in meta)


def _graphs(store: ox.Store) -> dict[URIRef, rdflib.Graph]:
    graphs: dict[URIRef, rdflib.Graph] = {}
    for q in store.quads_for_pattern(None, None, None, None):
        if isinstance(q.graph_name, ox.NamedNode):
            name = URIRef(q.graph_name.value)
            graphs.setdefault(name, rdflib.Graph()).add(
                (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object))
            )
    return graphs


def _bulk_load(store: ox.Store, source: Source) -> None:
    fmt = {
        "turtle": ox.RdfFormat.TURTLE,
        "nt": ox.RdfFormat.N_TRIPLES,
        "xml": ox.RdfFormat.RDF_XML,
        "json-ld": ox.RdfFormat.JSON_LD,
    }.get(rdfio.format_for_path(source.path))
    if fmt is None:
        raise InputError(
            "this format holds named graphs of its own; the store keeps one named graph per file",
            source=str(source.path),
            hint="give the data as Turtle (.ttl), N-Triples (.nt), RDF/XML (.rdf, .owl) or JSON-LD (.jsonld)",
        )
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


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
