"""Validating data against the project's SHACL shapes: the one core behind `kg validate`, `kg ingest`,
`POST /validate` and `POST /cases`.

New data is validated as part of the merged graph (the store, ontology included, plus the new data) without
loading the store: `kg.reach` derives from the shapes what each shape reads, `kg.focus` finds the focus nodes
the new triples can affect and fetches what their validation reads, and pySHACL (`kg.shacl`) validates exactly
those nodes on that neighbourhood, once with the new data and once without it. The report holds the results
the new data brings: results on existing resources only where the new data changed them. Validating the
merged graph in full gives the same results beyond those the existing graph already had
(`tests/test_validation.py` checks it for every case file and for generated and mutated cases).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from kg import shacl
from kg.errors import InputError
from kg.namespaces import META_GRAPH, PREFIXES
from kg.reach import Reach, compile_shapes
from kg.settings import Settings
from kg.sources import shape_files
from kg.store.base import Store

Progress = Callable[[str, int, int], None]  # (stage, done, total)
BATCH = 300  # focus nodes per pySHACL run, on the neighbourhood they read (a progress step)


@dataclass(frozen=True)
class Finding:
    """One result of a SHACL report, in words."""

    severity: str
    focus: str  # the resource, prefixed (a blank node as a path from a named resource)
    path: str  # the property path
    value: str  # the offending value as written
    expected: str  # what the constraint expects
    shape: str
    constraint: str
    message: str  # what is wrong and how to fix it


@dataclass
class Report:
    """A validation report: conforms when there is no violation (warnings allowed)."""

    conforms: bool
    findings: list[Finding]
    graph: rdflib.Graph
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    def render(self, fmt: str) -> str:
        if fmt == "turtle":
            return self.graph.serialize(format="turtle")
        if fmt == "jsonld":
            return self.graph.serialize(format="json-ld")
        if fmt == "json":
            return (
                json.dumps({"conforms": self.conforms, "results": [asdict(f) for f in self.findings]}, indent=2) + "\n"
            )
        lines = []
        for f in self.findings:
            where = " ".join(x for x in (f.focus, f.path, f.value) if x)
            lines.append(f"{f.severity}: {where}")
            if f.expected:
                lines.append(f"  expected: {f.expected}")
            lines.append(f"  {f.message}\n  [{f.shape}, {f.constraint}]")
        n_v = len(self.violations)
        n_w = len(self.findings) - n_v
        lines.append(
            ("conforms" if self.conforms else "does not conform")
            + f": {n_v} violation{'s' * (n_v != 1)}, {n_w} warning{'s' * (n_w != 1)}"
        )
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Shapes:
    """The shapes graph and what its shapes read."""

    graph: rdflib.Graph
    reach: Reach


_shapes_cache: dict[tuple[tuple[str, int, int], ...], Shapes] = {}
_shapes_lock = threading.Lock()


def load_shapes(settings: Settings) -> Shapes:
    """The project's shapes, compiled: once per process while the files stay the same, and kept on disk
    (`kg.cache`) for the next process."""
    from kg import cache, rdfio

    files = shape_files(settings)
    key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    with _shapes_lock:
        if key in _shapes_cache:
            return _shapes_cache[key]
    contents = [p.read_bytes() for p in files]
    cached = cache.folder(settings) / f"shapes-{cache.digest(*contents)[:32]}.pickle"
    shapes = cache.load(cached)
    if not isinstance(shapes, Shapes):
        graph = rdfio.parse_files(files)
        if len(graph) == 0:
            raise InputError("no shapes found", source=str(settings.shapes_dir))
        shapes = Shapes(graph, compile_shapes(graph))
        cache.save(cached, shapes)
    shacl.prepare(cache.folder(settings) / f"sparql-{cache.digest()[:32]}.pickle")
    with _shapes_lock:
        _shapes_cache.clear()
        _shapes_cache[key] = shapes
    return shapes


def validate(
    settings: Settings,
    files: list[Path] | None = None,
    *,
    data: rdflib.Graph | None = None,
    progress: Progress | None = None,
    processes: int = 1,
) -> Report:
    """Validate the store's data as a whole (no files, no data), or new data (files or a graph) with it, large new
    data in `processes` processes."""
    from kg.store import open_store
    from kg.upload import read_files

    new = read_files(files) if files else data
    shapes = load_shapes(settings)
    store = open_store(settings)
    try:
        if new is None:
            return validate_graph(existing_graph(store), shapes)
        return validate_new(store, new, shapes, progress=progress, processes=processes)
    finally:
        store.close()


def not_data() -> tuple[rdflib.URIRef, ...]:
    """The graphs data is validated without: the provenance graph is not data, and the derived graphs (the
    reasoner's inferences, the statistics) are computed from it: data is checked as its authors wrote it."""
    from kg.derived import derivations

    return (META_GRAPH, *(d.graph for d in derivations()))


def existing_graph(store: Store) -> rdflib.Graph:
    """The store's data (every named graph but the provenance graph and the derived ones) as one rdflib graph."""
    skipped = set(not_data())
    graph = rdflib.Graph()
    for s, p, o, g in store.quads():
        if g not in skipped:
            graph.add((s, p, o))
    return graph


def validate_graph(graph: rdflib.Graph, shapes: Shapes | rdflib.Graph) -> Report:
    """Validate a whole graph (ontology included) with pySHACL: every focus node of every shape."""
    from kg.upload import mark_ill_typed

    shapes_graph = shapes.graph if isinstance(shapes, Shapes) else shapes
    graph = mark_ill_typed(graph)
    report = shacl.run(graph, shapes_graph)
    results = _results(report)
    findings = _describe(results, graph, shapes_graph)
    return _report(findings, [report])


def validate_new(
    store: Store, new: rdflib.Graph, shapes: Shapes, *, progress: Progress | None = None, processes: int = 1
) -> Report:
    """Validate `new` as part of the store's graph: the results the new data brings (see the module doc). With
    `processes` > 1, batches of focus nodes are checked by that many processes at once."""
    from kg.focus import View, added_triples, affected, neighbourhood, targets_in
    from kg.upload import mark_ill_typed

    started = time.monotonic()
    shacl.prepare()
    if len(new) == 0:
        raise InputError("nothing to validate: the input holds no triples")
    new = mark_ill_typed(new)
    if shapes.reach.unfocused:
        return _validate_everything(store, new, shapes)

    def step(stage: str) -> Callable[[str, int], None] | None:
        return (lambda _stage, n: progress(stage, n, 0)) if progress else None

    timings: dict[str, float] = {}
    clock = [time.monotonic()]

    def lap(name: str) -> None:
        now = time.monotonic()
        timings[name] = round(timings.get(name, 0.0) + now - clock[0], 3)
        clock[0] = now

    view = View(store, new, not_data())
    added = added_triples(view)
    new_triples = set(added)
    lap("added")
    roots = affected(shapes.reach, view, added, step("finding the resources the new data affects"))
    lap("affected")
    # batches of focus nodes, each validated on the neighbourhood its own nodes read: the work per node does not
    # grow with the size of the input (rdflib evaluates some SPARQL patterns by scanning the whole graph)
    nodes = sorted({n for ns in roots.values() for n in ns}, key=lambda n: (type(n).__name__, str(n)))
    batches = [set(nodes[i : i + BATCH]) for i in range(0, len(nodes), BATCH)] or [set()]
    named = rdflib.Graph()  # everything read, and the new data: where findings find names for blank nodes
    for t in new:
        named.add(t)
    after: list[_Result] = []
    before: set[tuple[Any, ...]] = set()
    reports: list[rdflib.Graph] = []
    total = read = 0
    pool = _pool(shapes, processes if len(batches) > 1 else 1)
    pending: list[Any] = []
    done = 0

    def collect(outcome: tuple[list[_Result], set[tuple[Any, ...]], rdflib.Graph | None]) -> None:
        nonlocal done
        results, earlier_keys, report = outcome
        after.extend(results)
        before.update(earlier_keys)
        if report is not None:
            reports.append(report)
        done += 1
        if progress:
            progress("validating", done, len(batches))

    try:
        for batch in batches:
            part = {shape: ns & batch for shape, ns in roots.items() if ns & batch}
            graph = neighbourhood(shapes.reach, view, part)
            lap("neighbourhood")
            focus = targets_in(shapes.reach, graph, part)
            lap("targets")
            named += graph
            total += sum(len(v) for v in focus.values())
            read += len(graph)
            earlier = [t for t in graph if t not in new_triples]
            if pool is None:
                collect(_check(shapes, list(graph), earlier, focus))
                lap("shacl")
                continue
            pending.append(pool.submit(_check, None, list(graph), earlier, focus))
            while len(pending) >= 2 * processes or (pending and pending[0].done()):
                collect(pending.pop(0).result())
        for future in pending:
            collect(future.result())
        lap("shacl")
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    fresh = [r for r in dict((r.key, r) for r in after).values() if r.key not in before]
    shacl.flush()
    for prefix, ns in new.namespaces():
        named.bind(prefix, ns, override=False)
    report = _report(_describe(fresh, named, shapes.graph), reports)
    lap("report")
    report.stats = {
        "new_triples": len(new),
        "added_triples": len(added),
        "focus_nodes": total,
        "neighbourhood_triples": read,
        "store_lookups": view.lookups,
        "seconds": round(time.monotonic() - started, 3),
        "stages": timings,
    }
    return report


_worker_shapes: list[Shapes] = []  # in a pool process: the shapes, set once by `_start`


def _start(shapes: Shapes) -> None:
    _worker_shapes.append(shapes)
    shacl.prepare()


def _pool(shapes: Shapes, processes: int) -> Any:
    """A pool of `processes` processes that check batches (None for one: the batches are checked here)."""
    if processes <= 1:
        return None
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(processes, mp_context=mp.get_context("spawn"), initializer=_start, initargs=(shapes,))


def _check(
    shapes: Shapes | None,
    graph_triples: list[Any],
    earlier_triples: list[Any],
    focus: dict[Any, list[Any]],
) -> tuple[list[_Result], set[tuple[Any, ...]], rdflib.Graph | None]:
    """pySHACL on one batch: its results on the neighbourhood, and (when there are any) the keys of the results
    the same nodes have without the new triples; with the report graph."""
    from kg.focus import targets_in

    shapes = shapes or _worker_shapes[0]
    if not focus:
        return [], set(), None
    graph = rdflib.Graph()
    for t in graph_triples:
        graph.add(t)
    report = shacl.run(graph, shacl.restricted(shapes.graph, focus))
    results = _results(report)
    earlier_keys: set[tuple[Any, ...]] = set()
    if results:
        earlier = rdflib.Graph()
        for t in earlier_triples:
            earlier.add(t)
        earlier_focus = targets_in(shapes.reach, earlier, {s: set(n) for s, n in focus.items()})
        if earlier_focus:
            earlier_keys = {r.key for r in _results(shacl.run(earlier, shacl.restricted(shapes.graph, earlier_focus)))}
    return results, earlier_keys, report if results else None


def _validate_everything(store: Store, new: rdflib.Graph, shapes: Shapes) -> Report:
    """When a shape reads more than walks from its focus nodes (`Reach.unfocused`): the merged graph in full,
    minus what the existing graph already reported."""
    import sys

    why = "; ".join(f"{k.n3()}: {v}" for k, v in shapes.reach.unfocused.items())
    print(f"warning: validating the whole graph, because {why}", file=sys.stderr)
    existing = existing_graph(store)
    before = {r.key for r in _results(shacl.run(existing, shapes.graph))}
    merged = existing + new
    report = shacl.run(merged, shapes.graph)
    fresh = [r for r in _results(report) if r.key not in before]
    return _report(_describe(fresh, merged, shapes.graph), [report])


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class _Result:
    severity: str
    focus: Any
    path: Any  # text
    value: Any
    shape: Any
    constraint: Any
    message: str

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.severity, self.focus, self.path, self.value, self.shape, self.constraint, self.message)


def _results(*reports: rdflib.Graph) -> list[_Result]:
    """The top-level results of pySHACL reports (not the nested sh:detail ones), each once."""
    out: dict[tuple[Any, ...], _Result] = {}
    for report in reports:
        for top in report.subjects(RDF.type, SH.ValidationReport):
            for r in report.objects(top, SH.result):
                severity = report.value(r, SH.resultSeverity)
                path = report.value(r, SH.resultPath)
                messages = sorted(str(m) for m in report.objects(r, SH.resultMessage))
                result = _Result(
                    severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                    focus=report.value(r, SH.focusNode),
                    path=_path_text(report, path, None) if path is not None else "",
                    value=report.value(r, SH.value),
                    shape=report.value(r, SH.sourceShape),
                    constraint=report.value(r, SH.sourceConstraintComponent),
                    message=messages[0] if messages else "",
                )
                out.setdefault(result.key, result)
    return list(out.values())


def _report(findings: list[Finding], reports: list[rdflib.Graph]) -> Report:
    graph = rdflib.Graph()
    for r in reports:
        graph += r
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True)
    findings.sort(key=lambda f: (f.severity != "Violation", f.focus, f.path, f.shape, f.value))
    return Report(not any(f.severity == "Violation" for f in findings), findings, graph)


def _describe(results: list[_Result], data: rdflib.Graph, shapes: rdflib.Graph) -> list[Finding]:
    names = _Names(data)
    out = []
    for r in results:
        path, value = r.path, r.value
        if not path:
            path, value = _derived_path(r, data, shapes)
        message = r.message
        note = _ill_typed_note(r, value, shapes)
        if note:
            message = f"{note}. {message}"
        out.append(
            Finding(
                severity=r.severity,
                focus=names.node(r.focus),
                path=names.path(path),
                value=names.value(value),
                expected=_expected(r, shapes, names),
                shape=names.term(r.shape),
                constraint=names.term(r.constraint),
                message=message,
            )
        )
    return out


def _derived_path(r: _Result, data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[str, Any]:
    """For a result with no path (a node-level constraint: sh:or, sh:not, SPARQL): the path the shape checks,
    when it names one, with the offending value(s) found there; else the property linking the focus to the
    value. Never the focus node itself as the value."""
    value = None if r.value == r.focus else r.value
    if value is not None:
        linking = sorted({p for p in data.predicates(r.focus, value)}, key=str)
        if linking:
            return " | ".join(p.n3() for p in linking), value
        return "", value
    paths = _member_paths(r.shape, shapes)
    if len(paths) == 1:
        path = next(iter(paths))
        values = [o for o in data.objects(r.focus, path)] if isinstance(path, URIRef) else []
        return path.n3() if isinstance(path, URIRef) else _path_text(shapes, path, None), (
            values[0] if len(values) == 1 else None
        )
    return "", None


def _member_paths(shape: Any, shapes: rdflib.Graph, depth: int = 0) -> set[Any]:
    """The paths of the property shapes a logical constraint combines (not those under sh:not)."""
    if depth > 3 or shape is None:
        return set()
    found: set[Any] = set()
    path = shapes.value(shape, SH.path)
    if path is not None and depth > 0:
        return {path}
    for p in (SH["or"], SH["and"], SH.xone):
        for members in shapes.objects(shape, p):
            for member in Collection(shapes, members):
                found |= _member_paths(member, shapes, depth + 1)
    for p in (SH.node, SH.property):
        for member in shapes.objects(shape, p):
            found |= _member_paths(member, shapes, depth + 1)
    return found


def _ill_typed_note(r: _Result, value: Any, shapes: rdflib.Graph) -> str:
    if not isinstance(value, Literal) or value.datatype is None or not getattr(value, "ill_typed", False):
        return ""
    return f'"{value}" is not a valid {_Names(None).term(value.datatype)}'


_COMPONENT_PARAMETERS: dict[str, tuple[URIRef, str]] = {
    "MinCountConstraintComponent": (SH.minCount, "at least {} value(s)"),
    "MaxCountConstraintComponent": (SH.maxCount, "at most {} value(s)"),
    "DatatypeConstraintComponent": (SH.datatype, "a literal of datatype {}"),
    "ClassConstraintComponent": (SH["class"], "an instance of {}"),
    "NodeKindConstraintComponent": (SH.nodeKind, "a node of kind {}"),
    "MinInclusiveConstraintComponent": (SH.minInclusive, "a value of {} or more"),
    "MaxInclusiveConstraintComponent": (SH.maxInclusive, "a value of {} or less"),
    "MinExclusiveConstraintComponent": (SH.minExclusive, "a value over {}"),
    "MaxExclusiveConstraintComponent": (SH.maxExclusive, "a value under {}"),
    "MinLengthConstraintComponent": (SH.minLength, "text of at least {} characters"),
    "MaxLengthConstraintComponent": (SH.maxLength, "text of at most {} characters"),
    "PatternConstraintComponent": (SH.pattern, "text matching {}"),
    "HasValueConstraintComponent": (SH.hasValue, "the value {}"),
}


def _expected(r: _Result, shapes: rdflib.Graph, names: _Names) -> str:
    """What the constraint expects, from its parameters (a core constraint) or the shape's label."""
    component = str(r.constraint).rsplit("#", 1)[-1] if r.constraint is not None else ""
    if component in _COMPONENT_PARAMETERS:
        parameter, template = _COMPONENT_PARAMETERS[component]
        values = sorted(
            names.term(v) if not isinstance(v, Literal) else str(v) for v in shapes.objects(r.shape, parameter)
        )
        if values:
            return template.format(" or ".join(values))
    if component == "InConstraintComponent":
        members = [names.term(m) for lst in shapes.objects(r.shape, SH["in"]) for m in Collection(shapes, lst)]
        return "one of " + ", ".join(members)
    if component == "LanguageInConstraintComponent":
        tags = [str(m) for lst in shapes.objects(r.shape, SH.languageIn) for m in Collection(shapes, lst)]
        return "text tagged @" + " or @".join(tags)
    label = shapes.value(r.shape, RDFS.label)
    return str(label) if label is not None else ""


class _Names:
    """Terms for people: prefixed names (the project's prefixes and the data's own), literals as written,
    blank nodes as a path from a named resource."""

    def __init__(self, data: rdflib.Graph | None) -> None:
        self.data = data
        prefixes = dict(PREFIXES)
        if data is not None:
            for prefix, ns in data.namespaces():
                if prefix and str(ns) not in prefixes.values():
                    prefixes.setdefault(prefix, str(ns))
        self.prefixes = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))

    def term(self, term: Any) -> str:
        if term is None:
            return ""
        if isinstance(term, URIRef):
            for prefix, ns in self.prefixes:
                local = str(term)[len(ns) :]
                if str(term).startswith(ns) and local and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", local):
                    if not local.endswith("."):
                        return f"{prefix}:{local}"
            return f"<{term}>"
        if isinstance(term, Literal):
            return self.value(term)
        if isinstance(term, BNode):
            return self.node(term)
        return str(term)

    def value(self, term: Any) -> str:
        if term is None:
            return ""
        if isinstance(term, Literal):
            text = json.dumps(str(term), ensure_ascii=False)
            if term.language:
                return f"{text}@{term.language}"
            if term.datatype is not None and term.datatype != XSD.string:
                return f"{text}^^{self.term(term.datatype)}"
            return text
        return self.term(term) if not isinstance(term, BNode) else self.node(term)

    def node(self, term: Any, depth: int = 0) -> str:
        """A node; a blank node as `named / property` (the first way a named resource reaches it)."""
        if not isinstance(term, BNode):
            return self.term(term)
        if self.data is None or depth > 3:
            return "[]"
        incoming = sorted(self.data.subject_predicates(term), key=lambda sp: (isinstance(sp[0], BNode), str(sp)))
        if not incoming:
            return "[]"
        subject, predicate = incoming[0]
        text = f"{self.node(subject, depth + 1)} / {self.term(predicate)}"
        label = self.data.value(term, RDFS.label)
        if label is not None:
            return f"{text} [{self.value(label)}]"
        blanks = sorted((o for o in self.data.objects(subject, predicate) if isinstance(o, BNode)), key=self._signature)
        if len(blanks) > 1:  # several blank nodes the same way: which one, in a stable order
            return f"{text} [{blanks.index(term) + 1} of {len(blanks)}]"
        return text

    def _signature(self, node: BNode) -> str:
        assert self.data is not None
        return " ".join(sorted(f"{p} {o!r}" for p, o in self.data.predicate_objects(node) if not isinstance(o, BNode)))

    def path(self, text: str) -> str:
        """A path written with full IRIs (`<...>`), with prefixes instead."""
        return re.sub(r"<([^<>\s]+)>", lambda m: self.term(URIRef(m.group(1))), text)


def _path_text(graph: rdflib.Graph, node: Any, _names: Any) -> str:
    """A SHACL path (in `graph`) as SPARQL path text with full IRIs."""
    if isinstance(node, URIRef):
        return node.n3()
    if node is None:
        return ""
    if (node, RDF.first, None) in graph:
        return " / ".join(_path_text(graph, m, None) for m in Collection(graph, node))
    for p, fmt in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        value = graph.value(node, p)
        if value is not None:
            inner = _path_text(graph, value, None)
            return fmt.format(inner if isinstance(value, URIRef) else f"({inner})")
    value = graph.value(node, SH.alternativePath)
    if value is not None:
        return " | ".join(_path_text(graph, m, None) for m in Collection(graph, value))
    return str(node)
