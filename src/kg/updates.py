"""SPARQL 1.1 Update behind the update token: checked, tried on a copy of the store, then committed to a journal.

The store is always rebuilt from files (ontology, data, extra files, ingests), so an accepted update is kept
as one journal file `<updates dir>/<seq>.json` that every build replays, in order, after the sources it
came after. An update runs on a new store built beside the live one; only when it applied cleanly is its
journal file renamed into place (the commit point) and the new store swapped in. A failed or stopped
update leaves the journal and the live store as they were.

Semantics are the store's: the default graph is the union of the named graphs (read-only), so a WHERE
clause without USING or WITH sees every graph, and triples can only be written into named graphs. The
dataset of each such operation is made explicit (USING and USING NAMED for each graph) before it runs, so
replaying the journal gives the same result whatever graphs are added later. The provenance graph is the
server's (every build rewrites it): updates do not see it and may not name it. LOAD is refused: this server
never fetches data from elsewhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.derived import is_derived
from kg.errors import Forbidden, InputError, KgError, QuerySyntaxError, StoreError
from kg.guard import check_query
from kg.namespaces import GRAPH, META_GRAPH
from kg.settings import Settings
from kg.sparqltext import blank, is_absolute_iri, mask, mentions_load, one_prologue, update_operations


@dataclass(frozen=True)
class Entry:
    """One accepted update, as the journal keeps it."""

    seq: int
    text: str  # as it was sent
    evaluated: str  # with the dataset of every WHERE clause spelled out: what replays
    base: str | None
    after_ingests: tuple[str, ...]  # the ingest graphs that existed when it was accepted
    time: str
    agent: str
    request_id: str
    path: Path = field(compare=False)
    pending: bool = field(default=False, compare=False)

    @property
    def graph(self) -> str:
        """The IRI naming this update in the provenance graph."""
        return str(GRAPH[f"update/{self.seq}"])

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def to_json(self) -> str:
        record = {k: v for k, v in asdict(self).items() if k not in ("path", "pending")}
        record["after_ingests"] = list(self.after_ingests)
        return json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


@dataclass(frozen=True)
class UpdateResult:
    """What an accepted update did."""

    seq: int | None  # None when a remote store applied it
    graph: str | None
    quads: int | None
    seconds: float


def journal(settings: Settings) -> list[Entry]:
    """The accepted updates, oldest first."""
    folder = settings.updates_path
    if not folder.is_dir():
        return []
    return [_read(p) for p in sorted(folder.glob("*.json"))]


def _read(path: Path) -> Entry:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return Entry(
            seq=int(record["seq"]),
            text=str(record["text"]),
            evaluated=str(record["evaluated"]),
            base=record.get("base"),
            after_ingests=tuple(record.get("after_ingests", ())),
            time=str(record["time"]),
            agent=str(record["agent"]),
            request_id=str(record.get("request_id", "")),
            path=path,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"the update journal file {path} cannot be read: {exc}",
            hint="restore it from a backup; removing it drops that update from the store",
        ) from exc


def check(text: str, settings: Settings) -> None:
    """Refuse what an update may never do here, before anything runs: LOAD, SERVICE off the allow-list."""
    if len(text) > settings.max_query_chars:
        raise InputError(f"the update is longer than {settings.max_query_chars} characters", source="update")
    if not text.strip():
        raise InputError("the update is empty", source="update")
    if mentions_load(text):
        raise Forbidden(
            "LOAD is refused: this server never fetches data from elsewhere",
            hint="send the triples in INSERT DATA { GRAPH <...> { ... } }, or POST them to /cases",
        )
    if str(META_GRAPH) in mask(text)[1]:
        raise Forbidden(
            f"the provenance graph <{META_GRAPH}> is kept by the server; updates may not read or change it",
            hint="write your own statements about the data into a named graph of your own",
        )
    for iri in mask(text)[1]:
        if is_derived(iri):
            raise Forbidden(
                f"<{iri}> is a derived graph, recomputed by the server after every change; updates may not name it",
                hint="change the asserted data it is derived from instead",
            )
    check_query(text, settings.allowed_services)


def explicit_dataset(
    text: str, graphs: Sequence[str], using: Sequence[str] = (), using_named: Sequence[str] = ()
) -> str:
    """The update with USING / USING NAMED written into every operation that has a WHERE clause.

    With protocol parameters (`using-graph-uri`, `using-named-graph-uri`) those graphs; otherwise every
    graph of the store, both as the default graph (their union) and as named graphs. An operation with its
    own USING or WITH keeps it, and conflicts with protocol parameters (SPARQL 1.1 Protocol, 2.2.3).
    """
    for iri in [*graphs, *using, *using_named]:
        if not is_absolute_iri(iri):
            raise InputError(f"not an absolute IRI: {iri!r}", source="using-graph-uri")
    protocol = bool(using or using_named)
    if protocol:
        clause = " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named])
    else:
        clause = " ".join([f"USING <{g}>" for g in graphs] + [f"USING NAMED <{g}>" for g in graphs])
    edits: list[tuple[int, int, str]] = []
    for op in update_operations(text):
        if op.kind not in ("MODIFY", "DELETE WHERE"):
            continue
        if op.has_using or op.has_with:
            if protocol:
                raise InputError(
                    "using-graph-uri / using-named-graph-uri cannot be combined with USING or WITH in the update",
                    source="update",
                    hint="name the graphs either in the request parameters or in the update, not both",
                )
            continue
        if op.where is None or op.group is None:
            continue  # malformed: the engine's parser reports it
        if not clause:
            continue
        if op.kind == "DELETE WHERE":
            pattern = text[op.group[0] : op.group[1]]
            edits.append((op.start, op.group[1], f"DELETE {pattern}\n{clause}\nWHERE {pattern}"))
        else:
            edits.append((op.where, op.where, f"{clause}\n"))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def parse_check(text: str, base: str | None) -> None:
    """Raise QuerySyntaxError when the update does not parse (messages point into the text as sent)."""
    try:
        ox.Store().update(text, base_iri=base)  # an empty store: after `check`, nothing can reach out
    except SyntaxError as exc:
        raise QuerySyntaxError(f"the update does not parse: {exc}") from exc
    except (OSError, RuntimeError, ValueError):
        pass  # evaluation errors on an empty store say nothing about the real one


def apply(store: ox.Store, entry: Entry) -> None:
    """Run one journal entry on a store being built; the store's default graph must stay empty."""
    try:
        store.update(entry.evaluated, base_iri=entry.base)
    except SyntaxError as exc:
        raise QuerySyntaxError(f"the update does not parse: {exc}") from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"the update failed: {exc}", source="update") from exc
    if next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
        raise InputError(
            "the update writes into the default graph, which here is the read-only union of the named graphs",
            source="update",
            hint="put the triples in a named graph: INSERT DATA { GRAPH <...> { ... } }, or start with WITH <...>",
        )


_DATA_OPS = ("INSERT DATA", "DELETE DATA")
_MAX_PARSED = 20_000  # longer operations (other than DATA ones) are not read: any graph may have changed


def written_graphs(entry: Entry) -> set[str] | None:
    """The named graphs the update may change, read from its text; None when the text cannot tell (a graph
    variable in a template, CLEAR ALL, an operation this cannot read): then any graph may have changed.

    The quads of INSERT DATA and DELETE DATA are read by the engine's own parser (each as an INSERT DATA run
    on an empty store); the templates of the other operations by rdflib's SPARQL parser.
    """
    text = entry.evaluated
    ops = update_operations(text)
    if not ops:
        return None
    prologue = text[: ops[0].start]
    ends = [op.start for op in ops[1:]] + [len(text)]
    graphs: set[str] = set()
    for op, end in zip(ops, ends, strict=True):
        part = text[op.start : end]
        cut = blank(part, iris=False).rstrip()
        part = part[: len(cut) - 1] if cut.endswith(";") else part[: len(cut)]
        found = _data_graphs(prologue, part, op.kind, entry.base) if op.kind in _DATA_OPS else None
        if op.kind not in _DATA_OPS and len(part) <= _MAX_PARSED:
            found = _template_graphs(prologue + part, entry.base)
        if found is None:
            return None
        graphs |= found
    return graphs


def _data_graphs(prologue: str, part: str, kind: str, base: str | None) -> set[str] | None:
    """The graphs of one INSERT DATA or DELETE DATA operation."""
    if kind == "DELETE DATA":
        part = "INSERT" + part[len("DELETE") :]
    scratch = ox.Store()
    try:
        scratch.update(prologue + part, base_iri=base)
    except (SyntaxError, OSError, RuntimeError, ValueError):
        return None
    return {g.value for g in scratch.named_graphs() if isinstance(g, ox.NamedNode)}


def _template_graphs(text: str, base: str | None) -> set[str] | None:
    """The graphs one operation's templates, WITH clause or graph management names (rdflib's parser)."""
    from rdflib import URIRef
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        update = translateUpdate(parseUpdate(text), base=base)
    except Exception:  # rdflib refuses what the engine accepts: assume any graph
        return None
    graphs: set[str] = set()
    for op in update.algebra:
        named: list[object] = []
        if op.name in ("InsertData", "DeleteData", "DeleteWhere"):
            named += list(op.quads or {})
            named += [None] if op.triples else []
        elif op.name == "Modify":
            for clause in (op.delete, op.insert):  # attribute access: None when absent
                if clause is not None:
                    named += list(clause.quads or {})
                    named += [op.withClause] if clause.triples else []
        elif op.name in ("Clear", "Drop", "Create"):
            named.append(op.graphiri)
        elif op.name in ("Add", "Copy"):
            named.append(op.graph[1])
        elif op.name == "Move":
            named += list(op.graph)
        else:
            return None
        for g in named:
            if not isinstance(g, URIRef):  # a variable, DEFAULT, ALL, NAMED, or the default graph
                return None
            graphs.add(str(g))
    return graphs


def commit(
    settings: Settings,
    text: str,
    *,
    using: Sequence[str] = (),
    using_named: Sequence[str] = (),
    base: str | None = None,
    agent: str = "unknown",
    request_id: str | None = None,
) -> UpdateResult:
    """Apply an update all or nothing and keep it in the journal (a remote store gets it as it is)."""
    from kg.build import ensure_built, extend, fsync_dir, remote_store, writer_lock
    from kg.sources import ingest_sources

    started = time.monotonic()
    check(text, settings)
    if settings.store == "sparql":
        remote_store(settings).update(text, using=using, using_named=using_named)
        settings.updates_path.mkdir(parents=True, exist_ok=True)
        os.utime(settings.updates_path)  # nothing to keep here, but what is cached of the store is now stale
        return UpdateResult(None, None, None, round(time.monotonic() - started, 3))
    engine_text = one_prologue(text)
    parse_check(engine_text, base)
    folder = settings.updates_path
    folder.mkdir(parents=True, exist_ok=True)
    with writer_lock(settings):
        entries = journal(settings)
        current = ensure_built(settings)
        try:  # the provenance graph is the server's: rewritten by every build, so no update reads it
            graphs = [str(g) for g in current.graph_names() if g != META_GRAPH and not is_derived(g)]
        finally:
            current.close()
        seq = (entries[-1].seq if entries else 0) + 1
        final = folder / f"{seq:08d}.json"
        entry = Entry(
            seq=seq,
            text=text,
            evaluated=explicit_dataset(engine_text, graphs, using, using_named),
            base=base,
            after_ingests=tuple(str(s.graph) for s in ingest_sources(settings)),
            time=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            agent=agent,
            request_id=request_id or uuid.uuid4().hex,
            # beside the journal, not in it: a refused update must not touch the folder the workers watch
            path=folder.parent / f".{folder.name}.{seq:08d}.partial",
            pending=True,
        )
        with open(entry.path, "w", encoding="utf-8") as fh:
            fh.write(entry.to_json())
            fh.flush()
            os.fsync(fh.fileno())

        def commit_point() -> None:
            os.replace(entry.path, final)
            fsync_dir(folder)

        try:
            quads = extend(settings, entries, entry, commit_point)
        finally:
            entry.path.unlink(missing_ok=True)
    return UpdateResult(seq, entry.graph, quads, round(time.monotonic() - started, 3))


def committed(settings: Settings, request_id: str) -> Entry | None:
    """The journal entry of the update sent with this request id, if it was committed."""
    try:
        return next((e for e in journal(settings) if e.request_id == request_id), None)
    except KgError:
        return None
