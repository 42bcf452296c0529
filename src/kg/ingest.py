"""Ingest without loss: new case data is validated and added only if it conforms, all of it or none.

An accepted ingest becomes one file `<ingest dir>/<id>.nt` (its triples plus a PROV record of when, from
which file, with which checksum and by whom) and one named graph `graph/ingest/<id>` in the store.
Before anything is written, every term is read back with Oxigraph's own parser (`kg.upload.check_terms`):
data that conforms can always be loaded. The file is the commit point: it is written to a temporary name,
flushed to disk and renamed. The store is then rebuilt beside the old one and swapped in, so readers see
either the old or the new store, never half an ingest; should the build still fail, the file is removed again
and the store stays as it was. A crash before the rename leaves everything as it was, a crash after it leaves a
committed ingest that the next start includes. One ingest at a time (a file lock).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib import Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from kg.build import fsync_dir, rebuild, writer_lock
from kg.errors import KgError
from kg.namespaces import GRAPH
from kg.settings import Settings
from kg.upload import check_terms, ntriples, read_files
from kg.validation import Progress, Report, load_shapes, validate_new


@dataclass
class IngestResult:
    """What an ingest did (or, in a dry run, would do)."""

    graph: URIRef
    triples: int
    report: Report
    committed: bool
    path: Path | None = None


def _digest(data: rdflib.Graph) -> str:
    """A checksum of the data that does not depend on how its blank nodes happen to be labelled."""
    canonical = to_canonical_graph(data)
    lines = sorted(canonical.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines())
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def ingest(
    settings: Settings,
    data: rdflib.Graph,
    *,
    source_name: str,
    agent: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    processes: int = 1,
) -> IngestResult:
    """Validate `data` against the shapes with the existing graph (large data in `processes` processes); if it
    conforms (and not a dry run), commit it."""
    from kg.store import open_store

    check_terms(data, source_name)
    digest = _digest(data)
    ingest_id = digest[:16]
    graph = GRAPH[f"ingest/{ingest_id}"]
    with writer_lock(settings):
        store = open_store(settings)
        try:
            report = validate_new(store, data, load_shapes(settings), progress=progress, processes=processes)
        finally:
            store.close()
        if dry_run or not report.conforms:
            return IngestResult(graph, len(data), report, committed=False)
        target = settings.ingest_path / f"{ingest_id}.nt"
        if target.exists():
            return IngestResult(graph, len(data), report, committed=False, path=target)
        record = rdflib.Graph()
        record += data
        record.add((graph, RDF.type, PROV.Entity))
        record.add((graph, RDFS.label, Literal(f"ingest of {source_name}")))
        record.add((graph, DCTERMS.source, Literal(source_name)))
        record.add((graph, DCTERMS.identifier, Literal("sha256:" + digest)))
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        record.add((graph, PROV.generatedAtTime, Literal(now, datatype=XSD.dateTime)))
        record.add((graph, PROV.wasAttributedTo, Literal(agent or whoami())))
        payload = ntriples(record, source_name)
        check_terms(record, source_name)  # the provenance record too (the source name is the client's text)
        tmp = settings.ingest_path / f".{ingest_id}.nt.partial"
        try:
            with open(tmp, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)  # the commit point
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(settings.ingest_path)
        try:
            rebuild(settings)
        except (KgError, OSError, ValueError):
            target.unlink(missing_ok=True)  # nothing of a failed ingest is left behind
            fsync_dir(settings.ingest_path)
            raise
    return IngestResult(graph, len(data), report, committed=True, path=target)


def ingest_files(
    settings: Settings,
    paths: list[Path],
    *,
    agent: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    processes: int = 1,
) -> IngestResult:
    """Ingest the union of the given files as one ingest (all of them or none)."""
    data = read_files(paths)
    name = ", ".join(p.name for p in paths)
    return ingest(
        settings, data, source_name=name, agent=agent, dry_run=dry_run, progress=progress, processes=processes
    )


def whoami() -> str:
    """The user running this process (recorded as who made a change)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
