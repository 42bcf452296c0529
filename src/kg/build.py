"""Building the store from the repository's sources: one named graph per file, plus a provenance graph.

The on-disk store remembers what it was built from in its manifest (`<store>/manifest.json`): the files with
their checksums, the extra files given to `kg build` (kept by every later command until `kg build --remove FILE`
or `--only-repository`), the updates replayed. A command that finds a source changed rebuilds the store and says
so, and why, on standard error (the logger `kg.build`).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, RDFS, XSD

from kg import __version__, derived, progress, rdfio, statistics, updates
from kg.errors import Forbidden, InputError, KgError, StoreError
from kg.namespaces import DATA_LICENSE, GRAPH, META_GRAPH, ONTOLOGY_GRAPH, PAPER, PAPER_TEXT, SCRATCH
from kg.settings import Settings
from kg.sources import (
    PAPER_TEXT as PAPER_TEXT_FILE,
)
from kg.sources import (
    ExtraFile,
    Source,
    all_sources,
    checksum_record,
    extra_sources,
    file_sha256,
    fingerprint,
    parse_extra,
    remember_checksums,
)
from kg.store.base import Store
from kg.store.memory import MemoryStore
from kg.store.oxigraph import OxigraphStore, to_oxigraph, to_rdflib
from kg.store.remote import RemoteStore
from kg.updates import Entry, journal

MANIFEST = "manifest.json"
INGEST_PREFIX = str(GRAPH["ingest/"])
SPDX = Namespace("http://spdx.org/rdf/terms#")
IANA = Namespace("http://www.iana.org/assignments/media-types/")
VOID = Namespace("http://rdfs.org/ns/void#")
log = logging.getLogger("kg.build")


def checksum_node(g: rdflib.Graph, subject: URIRef | BNode, sha256: str) -> None:
    """`subject spdx:checksum [ SHA-256 ]`, the checksum DCAT 3 recommends for a distribution."""
    node = BNode()
    g.add((subject, SPDX.checksum, node))
    g.add((node, RDF.type, SPDX.Checksum))
    g.add((node, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    g.add((node, SPDX.checksumValue, Literal(sha256, datatype=XSD.hexBinary)))


def provenance_graph(
    sources: list[Source],
    root: Path,
    entries: Sequence[Entry] = (),
    outcomes: Mapping[URIRef, derived.Outcome] | None = None,
) -> rdflib.Graph:
    """PROV-O statements about each named graph (which file it was read from, its checksum, its origin), about
    the paper's text it was derived from, about each accepted SPARQL Update and about each derived graph (with
    what its derivation reported)."""
    g = rdflib.Graph()
    text = root / PAPER_TEXT_FILE
    if text.is_file():
        # the text of the paper: the same intellectual content as the report, in another format (DCMI)
        g.add((PAPER_TEXT, RDF.type, PROV.Entity))
        g.add((PAPER_TEXT, RDFS.label, Literal(str(PAPER_TEXT_FILE))))
        g.add(
            (
                PAPER_TEXT,
                DCTERMS.title,
                Literal("The text of UNCTAD/ITE/EDS/2 (1997), with its boxes, tables and footnotes", lang="en"),
            )
        )
        g.add((PAPER_TEXT, DCTERMS.isFormatOf, PAPER))
        g.add((PAPER, DCTERMS.hasFormat, PAPER_TEXT))
        g.add((PAPER_TEXT, DCTERMS.format, IANA["text/plain"]))
        g.add((PAPER_TEXT, DCTERMS.identifier, Literal("sha256:" + file_sha256(text))))
        g.add((PAPER_TEXT, DCAT.byteSize, Literal(text.stat().st_size, datatype=XSD.nonNegativeInteger)))
        checksum_node(g, PAPER_TEXT, file_sha256(text))
    for s in sources:
        g.add((s.graph, RDF.type, PROV.Entity))
        g.add((s.graph, RDFS.label, Literal(_relative(s.path, root))))
        g.add((s.graph, DCTERMS.identifier, Literal("sha256:" + s.sha256())))
        g.add((s.graph, DCTERMS.hasVersion, Literal(__version__)))
        if s.origin == "repository":
            g.add((s.graph, PROV.hadPrimarySource, PAPER))
            g.add((s.graph, DCTERMS.license, DATA_LICENSE))
            if text.is_file():
                g.add((s.graph, PROV.wasDerivedFrom, PAPER_TEXT))
        else:
            g.add((s.graph, DCTERMS.source, Literal(_relative(s.path, root))))
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
        outcome = (outcomes or {}).get(d.graph)
        if outcome is not None:
            if not statistics.describes(d.graph):  # else the statistics graph states its size (once in the union)
                g.add((d.graph, VOID.triples, Literal(outcome.triples, datatype=XSD.integer)))
            for t in outcome.provenance:
                g.add(t)
    g.add((META_GRAPH, RDF.type, PROV.Entity))
    g.add((META_GRAPH, RDFS.label, Literal("provenance of the named graphs")))
    g.add((META_GRAPH, DCTERMS.created, Literal(time.strftime("%Y-%m-%d"), datatype=XSD.date)))
    return g


@dataclass
class BuildSummary:
    """What a build did (or found): true when it built."""

    built: bool
    path: Path
    quads: int = 0
    graphs: int = 0
    files: int = 0
    extras: list[str] = field(default_factory=list)
    seconds: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.built


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the on-disk store at `path` ({} when there is none)."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def recorded_extras(manifest: dict[str, Any]) -> list[ExtraFile]:
    """The extra files a store was built with, as its manifest records them."""
    out = []
    for spec in manifest.get("extras", []):
        if isinstance(spec, str):
            out.append(parse_extra(spec))
    return out


def _same(a: ExtraFile, b: ExtraFile) -> bool:
    return a.path == b.path


def store_extras(
    settings: Settings,
    manifest: dict[str, Any],
    *,
    add: Sequence[str | Path] = (),
    remove: Sequence[str | Path] = (),
    only_repository: bool = False,
) -> list[ExtraFile]:
    """The extra files of the next build: those recorded in the store, plus KG_EXTRA_FILES / `kg serve --extra`,
    minus `remove` (by path or graph IRI), plus `add`; with `only_repository`, only `add`."""
    extras: list[ExtraFile] = [] if only_repository else recorded_extras(manifest)
    if not only_repository:
        for spec in settings.extra_files:
            extra = parse_extra(spec)
            extras = [e for e in extras if not _same(e, extra)] + [extra]
    graph_of = {  # the graph each recorded extra file went to (named by the user or after its content)
        str(s.get("file")): str(s.get("graph"))
        for s in manifest.get("sources", [])
        if isinstance(s, dict) and s.get("origin") == "extra"
    }
    for spec in remove:
        target = str(spec)
        by_path = parse_extra(spec).path if "://" not in target else None
        kept = [
            e
            for e in extras
            if e.path != by_path and target not in (str(e.graph or ""), graph_of.get(str(e.path)), str(e.path))
        ]
        if len(kept) == len(extras):
            known = ", ".join(e.spec for e in extras) or "none"
            raise InputError(
                f"{target!r} is not an extra file of this store",
                source="kg build --remove",
                hint=f"give the file's path or its graph IRI; the store has: {known}",
            )
        extras = kept
    for spec in add:
        extra = parse_extra(spec)
        extras = [e for e in extras if not _same(e, extra)] + [extra]
    return extras


def _extra_sources(extras: Sequence[ExtraFile], manifest: dict[str, Any], path: Path) -> list[Source]:
    """The sources of the extra files; one that is gone keeps the graphs the store holds from it."""
    recorded = {
        s.get("file"): s for s in manifest.get("sources", []) if isinstance(s, dict) and s.get("origin") == "extra"
    }
    out = []
    for extra in extras:
        if extra.path.is_file():
            out += extra_sources([extra])
            continue
        record = recorded.get(str(extra.path))
        sha = (record or {}).get("checksum", {}).get("sha256") if isinstance(record, dict) else None
        if not sha or not (path / "db").is_dir():
            raise InputError(
                "no such file",
                source=str(extra.path),
                hint="check the path; a file the store was built with is dropped by kg build --remove FILE",
            )
        graphs = tuple(str(g) for g in record.get("graphs", []))  # type: ignore[union-attr]
        out.append(Source(extra.path, URIRef(record["graph"]), "extra", kept=str(sha), kept_graphs=graphs))  # type: ignore[index]
    return out


def current_sources(
    settings: Settings,
    *,
    add: Sequence[str | Path] = (),
    remove: Sequence[str | Path] = (),
    only_repository: bool = False,
) -> tuple[list[Source], list[ExtraFile]]:
    """The sources the store is (to be) built from, and its extra files."""
    if settings.store != "oxigraph":
        extras = store_extras(settings, {}, add=add)
        return all_sources(settings, extras), extras
    manifest = read_manifest(settings.store_path)
    extras = store_extras(settings, manifest, add=add, remove=remove, only_repository=only_repository)
    sources = all_sources(settings)
    kept = _extra_sources(extras, manifest, settings.store_path)
    ingests = [s for s in sources if s.origin == "ingest"]
    return [s for s in sources if s.origin == "repository"] + kept + ingests, extras


def extra_files_held(settings: Settings) -> list[tuple[str, list[str]]]:
    """The extra files of the store, each with the named graphs it fills (for `kg stats`)."""
    if settings.store == "oxigraph":
        out = []
        for s in read_manifest(settings.store_path).get("sources", []):
            if isinstance(s, dict) and s.get("origin") == "extra":
                gone = s.get("kept") or not Path(str(s.get("file"))).is_file()
                name = str(s.get("file")) + (" (the file is gone; its graphs are kept)" if gone else "")
                out.append((name, [str(s.get("graph")), *s.get("graphs", [])]))
        return out
    if settings.store == "memory":
        return [(str(s.path), [str(s.graph)]) for s in current_sources(settings)[0] if s.origin == "extra"]
    return []


def ensure_built(settings: Settings) -> Store:
    """Open the configured store (read-only on disk), building it first when it is missing or its files changed."""
    if settings.store == "sparql":
        return remote_store(settings)
    if settings.store == "memory":
        sources, _ = current_sources(settings)
        entries = journal(settings)
        graphs: dict[URIRef, rdflib.Graph]
        if entries or derived.derivations():
            graphs = _graphs(_filled(sources, settings.root, entries)[0])
        else:
            graphs = {}
            for s in sources:
                for name, triples in s.parse_graphs().items():
                    if name != META_GRAPH:  # the server's own graph, written below
                        graph = graphs.setdefault(name, rdflib.Graph())
                        graph += triples
            graphs[META_GRAPH] = provenance_graph(sources, settings.root)
        store = MemoryStore()
        store.replace(graphs)
        return store
    rebuild(settings)
    try:
        return OxigraphStore(settings.store_path / "db", read_only=True)
    except StoreError as exc:
        log.warning("%s; building the store again from the sources, the ingests and the journal", exc.message)
        repair(settings)
        return OxigraphStore(settings.store_path / "db", read_only=True)


def repair(settings: Settings) -> None:
    """Build the on-disk store again from its sources unless it opens (another process may have repaired it):
    the store holds nothing the files, the ingests and the journal do not."""
    path = settings.store_path
    with _store_lock(path):
        try:
            OxigraphStore(path / "db", read_only=True).close()
            return
        except StoreError:
            pass
        sources, extras = current_sources(settings)
        _build(path, sources, settings.root, entries=journal(settings), force=True, extras=[e.spec for e in extras])


def rebuild(
    settings: Settings,
    *,
    force: bool = False,
    add: Sequence[str | Path] = (),
    remove: Sequence[str | Path] = (),
    only_repository: bool = False,
) -> BuildSummary:
    """Build the on-disk store from the files, its extra files (changed by `add`, `remove`, `only_repository`)
    and the update journal unless it is current. The memory and remote stores have nothing on disk: they are
    built when opened."""
    path = settings.store_path
    if settings.store != "oxigraph":
        return BuildSummary(False, path)
    _remember_checksums(path)
    with _store_lock(path):  # the journal read under the lock: a commit swaps its store under it
        sources, extras = current_sources(settings, add=add, remove=remove, only_repository=only_repository)
        entries = journal(settings)
        return _build(path, sources, settings.root, entries=entries, force=force, extras=[e.spec for e in extras])


def extend(
    settings: Settings, entries: Sequence[Entry], new: Entry, on_built: Callable[[Entry], None]
) -> tuple[int, Entry]:
    """The local store with one more update: (its quads, the update's journal entry with its effect).

    `on_built` gets that entry once the new content is complete and before it replaces the old: the commit
    point of the update. On disk, a current store is copied (hard links, so in milliseconds) and only the new
    update runs on the copy; a stale one is rebuilt with the whole journal. The memory backend has nothing on
    disk to swap, so there the build only checks that the update applies.
    """
    _remember_checksums(settings.store_path)
    sources, extras = current_sources(settings)
    if settings.store == "memory":
        store, applied = _filled(sources, settings.root, [*entries, new])
        on_built(applied[-1])
        return len(store), applied[-1]
    path = settings.store_path
    with _store_lock(path):
        copy = is_current(path, sources, entries, settings.root)
        live = int(read_manifest(path)["quads"]) if copy else None
        applied = _build_beside(
            path,
            sources,
            root=settings.root,
            entries=[*entries, new],
            extras=[e.spec for e in extras],
            on_built=lambda done: on_built(done[-1]),
            last_step=(lambda store: _apply_update(store, new, entries, live)) if copy else None,
            changed=lambda done: updates.changed_graphs(done[-1]),
        )
    return int(read_manifest(path)["quads"]), applied[-1]


def _apply_update(
    store: ox.Store, new: Entry, entries: Sequence[Entry], count: int | None
) -> tuple[list[Entry], list[str] | None]:
    """Run one new update on the copy of the live store: the entries as applied, and what changed for the
    derived graphs. When its effect only adds statements (none removed, no graph cleared or dropped, no
    axiom added), they are put in a scratch graph too and named as the change, so the derived graphs are
    updated from them alone (the scratch graph is removed after); otherwise None: compute them again."""
    meta = ox.NamedNode(str(META_GRAPH))
    kept_meta = list(store.quads_for_pattern(None, None, None, meta))  # the update runs without it
    applied = updates.apply(store, new, entries, count=count)
    if kept_meta and not store.contains_named_graph(meta):
        store.extend(kept_meta)  # what the derived graphs last reported; written again after them
    if applied.removed is None or applied.removed.strip() or applied.cleared or applied.dropped:
        return [*entries, applied], None
    added = updates.effect_quads(applied.added or "")
    if any(q.graph_name == ox.NamedNode(str(ONTOLOGY_GRAPH)) for q in added):
        return [*entries, applied], None  # new axioms bear on the old data too
    scratch = ox.NamedNode(SCRATCH + "update-delta")
    store.extend(ox.Quad(q.subject, q.predicate, q.object, scratch) for q in added)
    return [*entries, applied], [scratch.value]


def _store_lock(path: Path) -> AbstractContextManager[None]:
    """The lock of the on-disk store at `path`: one build or swap at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return file_lock(path.parent / f".{path.name}.lock")


def _remember_checksums(path: Path) -> None:
    """Take the checksums of the files the store at `path` was built from, as its manifest recorded them with
    their size, time and inode (a new process would otherwise read every file again to find them unchanged)."""
    manifest = read_manifest(path)
    records = [s["checksum"] for s in manifest.get("sources", []) if isinstance(s.get("checksum"), dict)]
    if isinstance(manifest.get("paper_text"), dict):
        records.append(manifest["paper_text"])
    remember_checksums(records)


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


def push(
    target: Settings,
    *,
    source: Settings,
    progress_to: Callable[[int], None] | None = None,
    skipped: Callable[[URIRef, str], None] | None = None,
) -> dict[str, int]:
    """Load every named graph of the local store `source` names (built first if need be: files, extra files,
    ingests, updates and the provenance graph) into the remote store `target` names, replacing each graph.

    A remote that refuses only the graphs a server keeps itself (another kg server derives its own and keeps
    its own provenance) gets the data graphs; `skipped(graph, why)` is told.
    """
    remote = remote_store(target)
    local = ensure_built(source)
    counts: dict[str, int] = {}
    try:
        for name in local.graph_names():
            try:
                counts[str(name)] = remote.load_graph(name, local.triples(name), progress=progress_to)
            except Forbidden as exc:
                if not (name == META_GRAPH or derived.is_derived(name)) or skipped is None:
                    raise
                skipped(name, exc.message)
    finally:
        local.close()
    return counts


def content_fingerprint(sources: list[Source], entries: Sequence[Entry] = (), root: Path | None = None) -> str:
    """One hash over the sources, the paper's text (its checksum is in the provenance graph), the update
    journal and the derivations: equal means the store would not change."""
    text = None if root is None else root / PAPER_TEXT_FILE
    h = hashlib.sha256(fingerprint(sources).encode())
    if text is not None and text.is_file():
        h.update(b"\0text\0" + file_sha256(text).encode())
    for e in entries:
        h.update(b"\0" + e.sha256.encode())
    h.update(b"\0derived:" + derived.signature().encode())
    return h.hexdigest()


def is_current(path: Path, sources: list[Source], entries: Sequence[Entry] = (), root: Path | None = None) -> bool:
    """Whether the store at `path` was built from exactly these sources and updates."""
    manifest = read_manifest(path)
    return manifest.get("fingerprint") == content_fingerprint(sources, entries, root) and (path / "db").is_dir()


def reasons(path: Path, sources: list[Source], entries: Sequence[Entry], root: Path) -> list[str]:
    """Why the store at `path` is not current, in words (what was added, changed or dropped)."""
    manifest = read_manifest(path)
    if not manifest or not (path / "db").is_dir():
        return [f"there is no store at {path} yet"]
    out = []
    before = {s.get("file"): s for s in manifest.get("sources", []) if isinstance(s, dict)}
    now = {_recorded_name(s, root): s for s in sources}
    for name, s in now.items():
        old = before.get(name)
        what = {"ingest": "ingest", "extra": "extra file"}.get(s.origin, "file")
        if old is None:
            out.append(f"{what} {name} is new")
        elif (old.get("checksum") or {}).get("sha256") != s.sha256() or old.get("graph") != str(s.graph):
            out.append(f"{what} {name} changed")
    for name, old in before.items():
        if name not in now:
            what = {"ingest": "ingest", "extra": "extra file"}.get(str(old.get("origin")), "file")
            out.append(f"{what} {name} is no longer included")
    done = manifest.get("updates", [])
    if [e.seq for e in entries] != done:
        added = [e.seq for e in entries if e.seq not in done]
        out.append(f"{len(added)} new update(s) in the journal" if added else "the update journal changed")
    text = root / PAPER_TEXT_FILE
    recorded_text = (manifest.get("paper_text") or {}).get("sha256")
    if text.is_file() and recorded_text != file_sha256(text):
        out.append(f"{PAPER_TEXT_FILE} changed")
    return out or ["it was built by another version or its manifest is incomplete"]


def build_oxigraph(
    path: Path,
    sources: list[Source],
    root: Path,
    *,
    entries: Sequence[Entry] = (),
    force: bool = False,
    extras: Sequence[str] = (),
) -> BuildSummary:
    """Build an on-disk store at `path` unless it is current (true when it built). `extras` are the specs of
    the extra files, recorded in the manifest for later commands.

    The new store is written beside the old one and swapped in by renames, so a failed or killed
    build leaves the previous store as it was. When the only change is new ingests, they are added to a
    copy of the live store instead of building everything again. Unless `force`, a journal that lost or
    changed an update the store holds is refused.
    """
    started = progress.Timer()
    with _store_lock(path):
        return _build(path, sources, root, entries=entries, force=force, extras=extras, started=started)


def _build(
    path: Path,
    sources: list[Source],
    root: Path,
    *,
    entries: Sequence[Entry],
    force: bool,
    extras: Sequence[str] = (),
    started: progress.Timer | None = None,
) -> BuildSummary:
    """`build_oxigraph`, the caller holding the store's lock."""
    started = started or progress.Timer()
    recorded = read_manifest(path).get("extras", [])
    if not force and is_current(path, sources, entries, root) and recorded == list(extras):
        return BuildSummary(False, path, reasons=[])
    if not force:
        _check_journal_head(path, entries)
    why = ["forced"] if force else reasons(path, sources, entries, root)
    if list(recorded) != list(extras) and why == ["it was built by another version or its manifest is incomplete"]:
        why = ["the extra files changed"]
    log.info("building the store %s: %s", path, "; ".join(why))
    added = [] if force else _new_ingests(path, sources, entries, root)

    def add(store: ox.Store) -> tuple[list[Entry], list[str]]:
        with progress.bar(sum(_size(s) for s in added), "loading", unit="B", scale=True) as bar:
            graphs = []
            for s in added:
                graphs += [str(s.graph), *_load(store, s, bar.update)]
        return list(entries), graphs  # only these graphs gained triples

    try:
        _build_beside(
            path,
            sources,
            root=root,
            entries=entries,
            extras=extras,
            last_step=add if added else None,
            changed=lambda _: {str(s.graph) for s in added},
        )
    except (OSError, RuntimeError):
        if not added:
            raise
        _build_beside(path, sources, root=root, entries=entries, extras=extras)  # the live store could not be copied
    manifest = read_manifest(path)
    return BuildSummary(
        True,
        path,
        quads=int(manifest.get("quads", 0)),
        graphs=int(manifest.get("graphs", 0)),
        files=len(sources),
        extras=list(extras),
        seconds=started.seconds,
        reasons=why,
    )


def _check_journal_head(path: Path, entries: Sequence[Entry]) -> None:
    """Refuse to build when the store at `path` holds an update the journal no longer has as it was."""
    head = read_manifest(path).get("journal_head")
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int):
        return
    seq = head["seq"]
    if seq > len(entries) or entries[seq - 1].checksum != head.get("checksum"):
        raise StoreError(
            f"the store holds update {seq}, which the update journal no longer has as it was (its file was removed "
            "or changed)",
            hint="restore the journal from a backup, or run `kg build --force` to build from the journal as it is",
        )


def _size(source: Source) -> int:
    try:
        return source.path.stat().st_size
    except OSError:
        return 0


def _new_ingests(path: Path, sources: list[Source], entries: Sequence[Entry], root: Path) -> list[Source]:
    """The ingests that are all the store at `path` lacks (nothing else changed), or [] when more changed.

    A build loads an ingest no update came after last of all, so adding it to the live store gives the same.
    """
    after_updates = {name for e in entries for name in e.after_ingests}
    added = [s for s in sources if s.origin == "ingest" and str(s.graph) not in after_updates]
    manifest = read_manifest(path)
    if not manifest:
        return []
    built = {src.get("graph") for src in manifest.get("sources", [])}
    added = [s for s in added if str(s.graph) not in built]
    if not added or not is_current(path, [s for s in sources if s not in added], entries, root):
        return []
    return added


def _build_beside(
    path: Path,
    sources: list[Source],
    *,
    root: Path,
    entries: Sequence[Entry],
    extras: Sequence[str] = (),
    on_built: Callable[[list[Entry]], None] | None = None,
    last_step: Callable[[ox.Store], tuple[list[Entry], Sequence[str] | None]] | None = None,
    changed: Callable[[list[Entry]], Collection[str] | None] | None = None,
) -> list[Entry]:
    """Write the store beside `path`, run `on_built`, swap it in (the caller holds the store's lock); returns
    the entries as applied (a pending one with its effect).

    With `last_step`, the live store is copied and only that step runs on the copy (the live store must
    hold everything else); without, everything is loaded and replayed. The step returns the entries as
    applied and, when it only added triples, the graphs it added to; `changed` names the graphs the applied
    entries changed in any way (None: any). The derived graphs are then brought up to date rather than
    computed again.
    """
    tmp = path.parent / f".{path.name}.building"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.monotonic()
    graphs_of: dict[Source, list[str]] = {}
    report: dict[URIRef, derived.Outcome] = {}
    if last_step is not None:
        live = ox.Store.read_only(str(path / "db"))
        live.backup(str(tmp / "db"))  # a checkpoint: hard links to the immutable table files
        del live
        store = ox.Store(str(tmp / "db"))
        applied, delta = last_step(store)
        shift = -_derived_quads(store)
        touched = None if changed is None else changed(applied)
        if touched is not None and delta is not None:  # an extra file's N-Quads may name more graphs
            touched = {*touched, *(name for name in delta if not name.startswith(SCRATCH))}
        report.update(derived.derive(store, delta=delta, changed=touched))
        for name in delta or ():
            if name.startswith(SCRATCH):
                store.remove_graph(ox.NamedNode(name))
        shift += _derived_quads(store)
        written = _provenance(store, sources, root, applied, report)
        before = {s.get("graph"): s.get("graphs", []) for s in read_manifest(path).get("sources", [])}
        graphs_of = {s: list(before.get(str(s.graph), [])) for s in sources}
    else:
        (tmp / "db").mkdir()
        store, applied = _filled(
            sources, root, entries, ox.Store(str(tmp / "db")), keep_from=path / "db", graphs_of=graphs_of, report=report
        )
    store.flush()
    count = len(store)
    if last_step is not None and applied and applied[-1].expected_quads is not None:
        updates.check_count(count, applied[-1].expected_quads + shift + written)
    named = sum(1 for g in store.named_graphs() if isinstance(g, ox.NamedNode))
    del store
    text = root / PAPER_TEXT_FILE
    manifest = {
        "fingerprint": content_fingerprint(sources, applied, root),
        "quads": count,
        "graphs": named,
        "seconds": round(time.monotonic() - started, 3),
        "built": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "extras": list(extras),
        "sources": [_source_record(s, root, graphs_of.get(s, [])) for s in sources],
        "updates": [e.seq for e in applied],
        "journal_head": {"seq": applied[-1].seq, "checksum": applied[-1].checksum} if applied else None,
        "derived": {str(g): {"triples": o.triples, "seconds": o.seconds} for g, o in report.items()},
    }
    if text.is_file():
        manifest["paper_text"] = checksum_record(text)
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
    if on_built is not None:
        on_built(applied)
    old = path.parent / f".{path.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    return applied


def _source_record(s: Source, root: Path, graphs: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {"file": _recorded_name(s, root), "graph": str(s.graph), "origin": s.origin}
    if s.kept:
        record["checksum"] = {"path": str(s.path), "sha256": s.kept}
        record["kept"] = True
    else:
        record["checksum"] = checksum_record(s.path)
    if graphs:
        record["graphs"] = sorted(set(graphs))
    return record


def _filled(
    sources: list[Source],
    root: Path,
    entries: Sequence[Entry],
    store: ox.Store | None = None,
    *,
    keep_from: Path | None = None,
    graphs_of: dict[Source, list[str]] | None = None,
    report: dict[URIRef, derived.Outcome] | None = None,
) -> tuple[ox.Store, list[Entry]]:
    """A store (in memory unless given) holding the sources, with the journal replayed where each update
    was accepted (after the ingests that existed then), the derived graphs and the provenance graph; and the
    entries as applied. A kept extra file's graphs come from the store at `keep_from`; `graphs_of` collects the
    named graphs each N-Quads or TriG file wrote; `report` what each derivation wrote."""
    store = ox.Store() if store is None else store
    graphs_of = {} if graphs_of is None else graphs_of
    ingests = {s.graph: s for s in sources if s.origin == "ingest"}
    live = None
    if any(s.kept for s in sources) and keep_from is not None and keep_from.is_dir():
        live = ox.Store.read_only(str(keep_from))
    with progress.bar(sum(_size(s) for s in sources if not s.kept), "loading", unit="B", scale=True) as bar:

        def load(s: Source) -> None:
            if s.kept:
                graphs_of[s] = _keep(store, s, live)
            else:
                graphs_of[s] = _load(store, s, bar.update)

        for s in sources:
            if s.graph not in ingests:
                load(s)
        applied: list[Entry] = []
        for e in entries:
            for name in e.after_ingests:
                pending = ingests.pop(URIRef(name), None)
                if pending is not None:
                    load(pending)
            try:
                applied.append(updates.apply(store, e, applied))
            except KgError as exc:
                if e.pending:
                    raise
                raise StoreError(
                    f"the journal's update {e.path} no longer applies to the sources: {exc.message}",
                    hint="the data files changed under it; edit or remove that journal file, then build again",
                ) from exc
        for s in ingests.values():
            load(s)
    outcomes = derived.derive(store)
    if report is not None:
        report.update(outcomes)
    _provenance(store, sources, root, applied, outcomes)
    return store, applied


def _keep(store: ox.Store, source: Source, live: ox.Store | None) -> list[str]:
    """Copy the graphs of an extra file that is gone from the live store (which holds them as last built)."""
    if live is None:
        raise InputError("no such file", source=str(source.path), hint="put the file back, or kg build --remove it")
    log.info("%s is gone: keeping its graph <%s> as the store holds it", source.path, source.graph)
    for name in (str(source.graph), *source.kept_graphs):
        store.bulk_extend(live.quads_for_pattern(None, None, None, ox.NamedNode(name)))
    return list(source.kept_graphs)


def _derived_quads(store: ox.Store) -> int:
    """How many quads the derived graphs of `store` hold (counted by the store: the inferred graph can hold
    ~10^6 quads, 9 s to iterate over in Python)."""
    graphs = " ".join(f"<{d.graph}>" for d in derived.derivations())
    result = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }}")
    return int(next(iter(result))["n"].value)  # type: ignore[arg-type,index]


def _provenance(
    store: ox.Store,
    sources: list[Source],
    root: Path,
    entries: Sequence[Entry],
    outcomes: Mapping[URIRef, derived.Outcome] | None = None,
) -> int:
    """(Re)write the provenance graph: the server keeps it, whatever an update wrote there; returns its quads."""
    meta_name = ox.NamedNode(str(META_GRAPH))
    if store.contains_named_graph(meta_name):
        store.remove_graph(meta_name)
    meta = provenance_graph(sources, root, entries, outcomes)  # small: a transaction, not a bulk load (no table files)
    store.extend(ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), meta_name) for s, p, o in meta)
    return len(meta)


def _graphs(store: ox.Store) -> dict[URIRef, rdflib.Graph]:
    graphs: dict[URIRef, rdflib.Graph] = {}
    for q in store.quads_for_pattern(None, None, None, None):
        if isinstance(q.graph_name, ox.NamedNode):
            name = URIRef(q.graph_name.value)
            graphs.setdefault(name, rdflib.Graph()).add(
                (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object))
            )
    return graphs


OX_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "xml": ox.RdfFormat.RDF_XML,
    "json-ld": ox.RdfFormat.JSON_LD,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}


class _Counting:
    """A binary file that reports how many bytes were read from it."""

    def __init__(self, fh: BinaryIO, report: Callable[[int], Any]) -> None:
        self._fh = fh
        self._report = report

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self._report(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        n = self._fh.readinto(buffer)  # type: ignore[attr-defined]
        self._report(n or 0)
        return n or 0


def _load(store: ox.Store, source: Source, report: Callable[[int], Any] = lambda n: None) -> list[str]:
    """Bulk-load one file into its named graph (N-Quads and TriG: their named graphs keep their names; triples
    in the provenance graph are dropped, the server writes it). Returns the named graphs it wrote besides its own."""
    fmt = OX_FORMATS[rdfio.format_for_path(source.path)]
    own = ox.NamedNode(str(source.graph))
    base = source.path.resolve().as_uri()
    named: set[str] = set()
    dropped = [0]
    try:
        with open(source.path, "rb") as raw:
            fh = _Counting(raw, report)
            if not source.holds_graphs:
                store.bulk_load(fh, format=fmt, to_graph=own, base_iri=base)
            else:
                meta = ox.NamedNode(str(META_GRAPH))

                def quads() -> Iterator[ox.Quad]:
                    for q in ox.parse(fh, format=fmt, base_iri=base, rename_blank_nodes=True):
                        g = q.graph_name
                        if isinstance(g, ox.DefaultGraph):
                            g = own
                        elif g == meta:
                            dropped[0] += 1
                            continue
                        elif isinstance(g, ox.BlankNode):
                            raise InputError(
                                f"a graph is named by a blank node ({g})",
                                source=str(source.path),
                                hint="name every graph with a full IRI (https://...)",
                            )
                        else:
                            named.add(g.value)
                        yield ox.Quad(q.subject, q.predicate, q.object, g)

                store.bulk_extend(quads())
    except SyntaxError as exc:
        hint = None
        if str(source.graph).startswith(INGEST_PREFIX):
            hint = (
                f"this file is an accepted ingest (graph <{source.graph}>) that this version of the store cannot "
                f"load; remove it (rm {source.path}) and build again (kg build) to drop that ingest"
            )
        raise InputError(f"syntax error: {exc}", source=str(source.path), hint=hint) from exc
    except FileNotFoundError as exc:
        raise InputError("no such file", source=str(source.path), hint="check the path") from exc
    except OSError as exc:
        raise StoreError(f"cannot load {source.path}: {exc}") from exc
    if dropped[0]:
        log.info(
            "%s: %d quads in <%s> were not loaded: that graph is the server's own", source.path, dropped[0], META_GRAPH
        )
    named.discard(str(source.graph))
    return sorted(named)


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


def _recorded_name(source: Source, root: Path) -> str:
    """How the manifest names a source: relative to the repository, an extra file by its absolute path."""
    return str(source.path) if source.origin == "extra" else _relative(source.path, root)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return path.name
