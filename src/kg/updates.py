"""SPARQL 1.1 Update behind the update token: checked, tried on a copy of the store, then committed to a journal.

The store is always rebuilt from files (ontology, data, extra files, ingests), so an accepted update is kept
as one journal file `<updates dir>/<seq>.json` that every build replays, in order, after the sources it
came after. An update runs on a new store built beside the live one; only when it applied cleanly is its
journal file renamed into place (the commit point) and the new store swapped in. A failed or stopped
update leaves the journal and the live store as they were.

What the journal keeps, and a build replays, is the update's effect: the statements it removed and the ones it
added (N-Quads), not its text. Replaying text would evaluate it again: NOW(), RAND(), UUID(), BNODE() or an
order the engine picks differ on every build, so a rebuild would not reproduce the live store. The effect
replays to the same store every time. Blank nodes read from source files get new identities on every build, so
an update may not remove statements about them or add statements to them (it may create its own).

Semantics are the store's: the default graph is the union of the named graphs (read-only), so a WHERE
clause without USING or WITH sees every graph, and triples can only be written into named graphs. The
dataset of each such operation is made explicit (USING and USING NAMED for each graph) before it runs. The
provenance graph is the server's (every build rewrites it): it is not in the store while an update runs, so
no spelling of its name can read it, and an update whose effect touches it is refused. LOAD is refused:
this server never fetches data from elsewhere.

The journal is a hash chain: each file records its own checksum and its predecessor's, so a file edited,
removed or reordered by hand is refused at the next build, naming it; the store's manifest records the last
update it holds, so a journal that lost its last files is refused too (`kg build --force` accepts it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.derived import is_derived
from kg.errors import Forbidden, InputError, KgError, QuerySyntaxError, StoreError
from kg.guard import check_query
from kg.namespaces import GRAPH, META_GRAPH
from kg.settings import Settings
from kg.sparqltext import emptied_graphs, is_absolute_iri, mentions_load, names, one_prologue, update_operations

_HINT_RESTORE = (
    "restore the journal from a backup; to drop updates on purpose, remove their files from the newest back and "
    "run `kg build --force`"
)


@dataclass(frozen=True)
class Entry:
    """One accepted update, as the journal keeps it."""

    seq: int
    text: str  # as it was sent
    evaluated: str  # with the dataset of every WHERE clause spelled out: what ran
    base: str | None
    after_ingests: tuple[str, ...]  # the ingest graphs that existed when it was accepted
    time: str
    agent: str
    request_id: str
    path: Path = field(compare=False)
    pending: bool = field(default=False, compare=False)
    removed: str | None = None  # N-Quads of what it removed (None: a journal file from before effects were kept)
    added: str | None = None  # N-Quads of what it added
    cleared: tuple[str, ...] = ()  # named graphs it emptied of everything they held (not listed in `removed`)
    created: tuple[str, ...] = ()  # empty named graphs it created
    dropped: tuple[str, ...] = ()  # named graphs it dropped
    prev: str = ""  # the checksum of the entry before it ("" for the first)
    stored_checksum: str | None = field(default=None, compare=False)  # as read from the file
    # the graphs the update may write (None: any), read from its text: only these are compared before and after
    targets: frozenset[str] | None = field(default=None, compare=False)
    # after `evaluate` on a copy of the live store: the quads the store must hold before the provenance graph is
    # written again (checked when the store is counted: what changed outside the compared graphs shows there)
    expected_quads: int | None = field(default=None, compare=False)

    @property
    def graph(self) -> str:
        """The IRI naming this update in the provenance graph."""
        return str(GRAPH[f"update/{self.seq}"])

    @property
    def legacy(self) -> bool:
        """Written before the journal kept effects: it replays by evaluating its text."""
        return self.removed is None

    def record(self) -> dict[str, object]:
        """The journal file's content, without its checksum."""
        record: dict[str, object] = {
            "seq": self.seq,
            "text": self.text,
            "evaluated": self.evaluated,
            "base": self.base,
            "after_ingests": list(self.after_ingests),
            "time": self.time,
            "agent": self.agent,
            "request_id": self.request_id,
        }
        if not self.legacy:
            record.update(
                removed=self.removed,
                added=self.added,
                cleared=list(self.cleared),
                created=list(self.created),
                dropped=list(self.dropped),
                prev=self.prev,
            )
        return record

    @property
    def checksum(self) -> str:
        """SHA-256 of the record (the journal's chain links these)."""
        canonical = json.dumps(self.record(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def sha256(self) -> str:
        return self.checksum

    def to_json(self) -> str:
        record = self.record()
        if not self.legacy:
            record["checksum"] = self.checksum
        return json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


@dataclass(frozen=True)
class UpdateResult:
    """What an accepted update did."""

    seq: int | None  # None when a remote store applied it
    graph: str | None
    quads: int | None
    seconds: float


def journal(settings: Settings) -> list[Entry]:
    """The accepted updates, oldest first; StoreError naming the file when the chain is broken."""
    folder = settings.updates_path
    if not folder.is_dir():
        return []
    entries = [_read(p) for p in sorted(folder.glob("*.json"))]
    verify_chain(entries)
    return entries


def verify_chain(entries: Sequence[Entry]) -> None:
    """Refuse a journal whose files were edited, removed or reordered since they were written."""
    previous: Entry | None = None
    for i, e in enumerate(entries):
        if e.seq != i + 1 or e.path.name != f"{e.seq:08d}.json":
            raise StoreError(
                f"the update journal is broken at {e.path}: update {i + 1} belongs there (a journal file was "
                "removed, renamed or copied)",
                hint=_HINT_RESTORE,
            )
        if e.legacy:
            if previous is not None and not previous.legacy:
                raise StoreError(
                    f"the update journal is broken at {e.path}: an old-style file after newer ones", hint=_HINT_RESTORE
                )
        else:
            if e.stored_checksum != e.checksum:
                raise StoreError(
                    f"the update journal file {e.path} was changed after it was written (its checksum does not "
                    "match its content)",
                    hint=_HINT_RESTORE,
                )
            if e.prev != (previous.checksum if previous is not None else ""):
                raise StoreError(
                    f"the update journal is broken at {e.path}: it does not follow the file before it (that file "
                    "was changed, removed or replaced)",
                    hint=_HINT_RESTORE,
                )
        previous = e


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
            removed=None if record.get("removed") is None else str(record["removed"]),
            added=None if record.get("added") is None else str(record["added"]),
            cleared=tuple(str(g) for g in record.get("cleared", ())),
            created=tuple(str(g) for g in record.get("created", ())),
            dropped=tuple(str(g) for g in record.get("dropped", ())),
            prev=str(record.get("prev", "")),
            stored_checksum=record.get("checksum"),
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise StoreError(
            f"the update journal file {path} cannot be read: {type(exc).__name__}: {exc}",
            hint="restore it from a backup; removing it drops that update (and every later one) from the store",
        ) from exc


def check(text: str, settings: Settings, base: str | None = None) -> None:
    """Refuse what an update may never do here, before anything runs: LOAD, SERVICE off the allow-list,
    naming the provenance graph (however it is spelled: prefixed, relative to a BASE, escaped), nesting too
    deep, RDF 1.2 terms."""
    if len(text) > settings.max_query_chars:
        raise InputError(f"the update is longer than {settings.max_query_chars} characters", source="update")
    if not text.strip():
        raise InputError("the update is empty", source="update")
    check_query(
        text,
        settings.allowed_services,
        max_depth=settings.max_query_depth,
        max_chain=settings.max_query_chain,
        what="update",
    )
    if mentions_load(text):
        raise Forbidden(
            "LOAD is refused: this server never fetches data from elsewhere",
            hint="send the triples in INSERT DATA { GRAPH <...> { ... } }, or POST them to /cases",
        )
    named = written_graphs(text, base)[0]
    if str(META_GRAPH) in named:
        raise _meta_refused()
    for iri in sorted(named):
        if is_derived(iri):
            raise Forbidden(
                f"<{iri}> is a derived graph, recomputed by the server after every change; updates may not name it",
                hint="change the asserted data it is derived from instead",
            )


def _meta_refused() -> Forbidden:
    return Forbidden(
        f"the provenance graph <{META_GRAPH}> is kept by the server; updates may not read or change it",
        hint="write your own statements about the data into a named graph of your own",
    )


def written_graphs(text: str, base: str | None) -> tuple[frozenset[str], bool]:
    """(every IRI the update names, resolved against each base it may have, as the engine resolves them;
    whether it may write any graph at all). A superset of the graphs it writes."""
    found = names(text)
    bases = [b for b in (base, *found.bases) if b]
    bases += [r for b in found.bases for r in _resolve(b, [base] if base else [])]
    out: set[str] = set()
    for iri in found.iris:
        out.add(iri)
        out.update(_resolve(iri, bases))
    return frozenset(out), found.any_graph


def _resolve(iri: str, bases: Iterable[str]) -> set[str]:
    """`iri` resolved against each base by the engine's own IRI resolution (RFC 3987)."""
    out = set()
    for b in set(bases):
        try:
            triple = next(
                iter(ox.parse(f"<{iri}> <urn:x:p> <urn:x:o> .\n".encode(), format=ox.RdfFormat.TURTLE, base_iri=b))
            )
        except (SyntaxError, ValueError, StopIteration):
            continue
        out.add(triple.subject.value)
    return out


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


_BLANK_LABEL = re.compile(r"_:([A-Za-z0-9_][\w.-]*)")
_NQUADS = ox.RdfFormat.N_QUADS


def apply(store: ox.Store, entry: Entry, earlier: Sequence[Entry] = (), *, count: int | None = None) -> Entry:
    """Run one journal entry on a store being built: replay its effect (or, for a journal file from before
    effects were kept, its text). A pending entry is evaluated, and returned with its effect; `count` is the
    store's number of quads when the caller knows it (see `evaluate`)."""
    if entry.pending:
        return evaluate(store, entry, earlier, count=count)
    if entry.legacy:
        _run(store, entry.evaluated, entry.base)
        return entry
    try:
        for name in entry.cleared:  # whatever it holds now: the update removed all of it
            store.clear_graph(ox.NamedNode(name))
        for q in _parse(entry.removed or ""):
            store.remove(q)
        store.extend(_parse(entry.added or ""))
        for name in entry.created:
            store.add_graph(ox.NamedNode(name))
        for name in entry.dropped:
            if store.contains_named_graph(ox.NamedNode(name)):
                store.remove_graph(ox.NamedNode(name))
    except (SyntaxError, ValueError, OSError) as exc:
        raise InputError(f"the effect recorded in the journal cannot be replayed: {exc}", source="update") from exc
    return entry


def effect_quads(nquads: str) -> list[ox.Quad]:
    """The quads of an effect as a journal entry records it (its `removed` or `added` N-Quads)."""
    return _parse(nquads)


def changed_graphs(entry: Entry) -> set[str] | None:
    """The named graphs an entry changed, read from its effect (as `apply` or `evaluate` return it); None for a
    journal file from before effects were kept (its text was run: any graph may have changed)."""
    if entry.legacy:
        return None
    graphs = {*entry.cleared, *entry.created, *entry.dropped}
    for q in [*_parse(entry.removed or ""), *_parse(entry.added or "")]:
        if isinstance(q.graph_name, ox.NamedNode):
            graphs.add(q.graph_name.value)
    return graphs


def _parse(nquads: str) -> list[ox.Quad]:
    return list(ox.parse(nquads.encode("utf-8"), format=_NQUADS)) if nquads.strip() else []


def _serialize(quads: Iterable[ox.Quad]) -> str:
    text = ox.serialize(list(quads), format=_NQUADS) or b""
    return "".join(sorted(text.decode("utf-8").splitlines(keepends=True)))


def _run(store: ox.Store, text: str, base: str | None) -> None:
    try:
        store.update(text, base_iri=base)
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


def evaluate(store: ox.Store, entry: Entry, earlier: Sequence[Entry] = (), *, count: int | None = None) -> Entry:
    """Run a new update on `store` (a copy of the live store, or a fresh build) and return its entry with the
    effect: the statements removed and added in the graphs it may write, compared before and after.

    With `count` (the store's quads, known from its manifest) the entry says how many quads the store must hold
    afterwards and the caller checks it when it counts the store anyway; without, it is counted here (counting
    a large store takes a while)."""
    meta = ox.NamedNode(str(META_GRAPH))
    if store.contains_named_graph(meta):
        if count is not None:
            count -= sum(1 for _ in store.quads_for_pattern(None, None, None, meta))
        store.remove_graph(meta)  # not there while the update runs: no spelling of its name can read it
    graphs_before = set(store.named_graphs())
    if entry.targets is None:
        watched = graphs_before
    else:
        watched = {g for g in graphs_before if isinstance(g, ox.NamedNode) and g.value in entry.targets}
    before = {q for g in watched for q in store.quads_for_pattern(None, None, None, g)}
    count_before = len(store) if count is None else count
    _run(store, entry.evaluated, entry.base)
    if store.contains_named_graph(meta):
        raise _meta_refused()
    graphs_after = set(store.named_graphs())
    fresh = graphs_after - graphs_before
    after = {q for g in watched | fresh for q in store.quads_for_pattern(None, None, None, g)}
    removed, added = before - after, after - before
    expected = count_before - len(removed) + len(added)
    # a graph the update emptied of all it held (by CLEAR or DROP, or statement by statement) is kept as
    # "cleared": it replays whatever the graph then holds, its blank nodes too (they have new labels on every
    # build, so removing them one by one could not replay)
    kept = {q.graph_name for q in before & after}
    cleared = ({q.graph_name for q in before} - kept) | _emptied(entry, graphs_before)
    removed = {q for q in removed if q.graph_name not in cleared}
    added |= {q for q in after if q.graph_name in cleared}
    if count is None:
        check_count(len(store), expected)
    _check_effect(store, removed, added, earlier)
    written = {q.graph_name for q in added}
    created = tuple(sorted(g.value for g in fresh - written if isinstance(g, ox.NamedNode)))
    dropped = tuple(sorted(g.value for g in graphs_before - graphs_after if isinstance(g, ox.NamedNode)))
    return dataclasses.replace(
        entry,
        removed=_serialize(removed),
        added=_serialize(added),
        cleared=tuple(sorted(g.value for g in cleared if isinstance(g, ox.NamedNode))),
        created=created,
        dropped=dropped,
        expected_quads=None if count is None else expected,
    )


def _emptied(entry: Entry, graphs: set[ox.NamedNode | ox.BlankNode | ox.DefaultGraph]) -> set:
    """The graphs of `graphs` that a CLEAR or DROP operation of the update names (resolved as the engine would)."""
    written, every = emptied_graphs(entry.text)
    if every:
        return {g for g in graphs if isinstance(g, ox.NamedNode)}
    bases = [entry.base] if entry.base else []
    iris = set(written) | {r for iri in written for r in _resolve(iri, bases)}
    return {g for g in graphs if isinstance(g, ox.NamedNode) and g.value in iris}


def check_count(count: int, expected: int) -> None:
    """Refuse an update that changed more than the graphs its text names (so its effect would be incomplete)."""
    if count != expected:
        raise InputError(
            "the update changed graphs its text does not name (the server could not tell what it changed); "
            "nothing was changed",
            source="update",
            hint="name the graphs it writes with GRAPH <...> or WITH <...>",
        )


def _check_effect(store: ox.Store, removed: set[ox.Quad], added: set[ox.Quad], earlier: Sequence[Entry]) -> None:
    """Refuse an effect a rebuild could not reproduce, or that the rest of the server cannot hold."""
    for q in added:
        if not isinstance(q.graph_name, ox.NamedNode):
            raise InputError(
                "the update writes into a graph named by a blank node; name graphs with IRIs", source="update"
            )
        for term in (q.subject, q.object):
            if isinstance(term, ox.Triple) or getattr(term, "direction", None) is not None:
                raise InputError(
                    "the update would store an RDF 1.2 term (a triple term or a literal with a base direction), "
                    "which this endpoint does not support",
                    source="update",
                )
    journal_nodes = {label for e in earlier for label in _BLANK_LABEL.findall(e.added or "")}
    for q in removed:
        for term in (q.subject, q.object):
            if isinstance(term, ox.BlankNode) and term.value not in journal_nodes:
                raise _unstable_blank_node("removes statements about", q)
    for q in added:
        for term in (q.subject, q.object):
            if isinstance(term, ox.BlankNode) and term.value not in journal_nodes and _existed(store, term, added):
                raise _unstable_blank_node("adds statements to", q)


def _existed(store: ox.Store, node: ox.BlankNode, added: set[ox.Quad]) -> bool:
    """Whether the blank node was in the store before the update (in a statement the update did not add)."""
    for pattern in ((node, None, None, None), (None, None, node, None)):
        if any(q not in added for q in store.quads_for_pattern(*pattern)):
            return True
    return False


def _unstable_blank_node(what: str, quad: ox.Quad) -> InputError:
    return InputError(
        f"the update {what} a blank node read from a source file or an ingest ({quad}); such nodes get a new "
        "identity on every build, so the change could not be replayed",
        source="update",
        hint="give the node an IRI in the data, or change the statements of nodes that have IRIs",
    )


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
    """Apply an update all or nothing and keep its effect in the journal (a remote store gets it as it is)."""
    from kg.build import ensure_built, extend, fsync_dir, remote_store, writer_lock
    from kg.sources import ingest_sources

    started = time.monotonic()
    check(text, settings, base)
    if settings.store == "sparql":
        remote_store(settings).update(text, using=using, using_named=using_named)
        settings.updates_path.mkdir(parents=True, exist_ok=True)
        os.utime(settings.updates_path)  # nothing to keep here, but what is cached of the store is now stale
        return UpdateResult(None, None, None, round(time.monotonic() - started, 3))
    engine_text = one_prologue(text)
    parse_check(engine_text, base)
    targets, any_graph = written_graphs(engine_text, base)
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
            path=final,
            pending=True,
            removed="",
            added="",
            prev=entries[-1].checksum if entries else "",
            targets=None if any_graph else targets,
        )
        # beside the journal, not in it: a refused update must not touch the folder the workers watch
        partial = folder.parent / f".{folder.name}.{seq:08d}.partial"

        def commit_point(applied: Entry) -> None:
            with open(partial, "w", encoding="utf-8") as fh:
                fh.write(applied.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(partial, final)
            fsync_dir(folder)

        try:
            quads, applied = extend(settings, entries, entry, commit_point)
        finally:
            partial.unlink(missing_ok=True)
    return UpdateResult(seq, applied.graph, quads, round(time.monotonic() - started, 3))


def committed(settings: Settings, request_id: str) -> Entry | None:
    """The journal entry of the update sent with this request id, if it was committed."""
    try:
        return next((e for e in journal(settings) if e.request_id == request_id), None)
    except KgError:
        return None
