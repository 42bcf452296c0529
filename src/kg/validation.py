"""Validating data against the project's SHACL shapes, together with the ontology and the existing graph."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDF, SH

from kg import rdfio
from kg.errors import InputError
from kg.namespaces import META_GRAPH, ONTOLOGY_GRAPH, PREFIXES
from kg.results import short
from kg.settings import Settings
from kg.sources import shape_files


@dataclass(frozen=True)
class Finding:
    """One result of a SHACL report, in words."""

    severity: str
    focus: str
    path: str
    value: str
    shape: str
    constraint: str
    message: str


@dataclass
class Report:
    """A validation report: conforms when there is no violation (warnings allowed)."""

    conforms: bool
    findings: list[Finding]
    graph: rdflib.Graph

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
            where = f.focus + (f" {f.path}" if f.path else "")
            value = f" (value {f.value})" if f.value else ""
            lines.append(f"{f.severity}: {where}{value}\n  {f.message}\n  [{f.shape}, {f.constraint}]")
        n_v = len(self.violations)
        n_w = len(self.findings) - n_v
        lines.append(
            ("conforms" if self.conforms else "does not conform")
            + f": {n_v} violation{'s' * (n_v != 1)}, {n_w} warning{'s' * (n_w != 1)}"
        )
        return "\n".join(lines) + "\n"


def load_shapes(settings: Settings) -> rdflib.Graph:
    shapes = rdfio.parse_files(shape_files(settings))
    if len(shapes) == 0:
        raise InputError("no shapes found", source=str(settings.shapes_dir))
    return shapes


def context(settings: Settings) -> tuple[rdflib.Graph, rdflib.Graph, rdflib.Graph]:
    """What new data is validated with: (the existing graph, the ontology, the shapes).

    Both graphs are read from the store, so they hold what ingests and updates made of the files; the
    provenance graph is not data and is left out, and so are the derived graphs (the reasoner's inferences):
    new data is checked as its authors wrote it, against what others asserted.
    """
    from kg.derived import is_derived
    from kg.store import open_store

    existing, ontology = rdflib.Graph(), rdflib.Graph()
    store = open_store(settings)
    try:
        for s, p, o, g in store.quads():
            if g == ONTOLOGY_GRAPH:
                ontology.add((s, p, o))
            elif g != META_GRAPH and not is_derived(g):
                existing.add((s, p, o))
    finally:
        store.close()
    return existing, ontology, load_shapes(settings)


def validate(settings: Settings, files: list[Path] | None = None, *, data: rdflib.Graph | None = None) -> Report:
    """Validate the repository's data, or new data (files or a graph) together with it."""
    existing, ontology, shapes = context(settings)
    new = rdfio.parse_files(files or [])
    if data is not None:
        new += data
    if not files and data is None:
        return validate_graph(existing, ontology, shapes)
    return validate_new(new, existing, ontology, shapes)


_FOCUS_SCHEMES = ("http:", "https:", "urn:", "file:")


def affected_nodes(new: rdflib.Graph, merged: rdflib.Graph, ontology: rdflib.Graph) -> list[rdflib.term.Node]:
    """The nodes whose verdict new data can change: those it mentions, and up to two links back from them.

    The existing graph conforms, so a violation after adding `new` sits on a node that `new` mentions
    (a new resource, or an existing one that gains properties or incoming links such as a data set's
    rows), or on a node whose constraint follows links to one (an agreement whose partner's country
    changes): those are reached by following links backwards.
    """
    vocabulary = set(ontology.subjects()) | {o for o in new.objects(None, RDF.type)}
    mentioned = {t for t in new.subjects()} | {
        o for p, o in new.predicate_objects() if p != RDF.type and not isinstance(o, rdflib.Literal)
    }
    mentioned -= vocabulary
    focus = set(mentioned)
    frontier = set(mentioned)
    for _ in range(2):
        frontier = {s for node in frontier for s in merged.subjects(None, node)} - focus - vocabulary
        focus |= frontier
    return sorted(focus, key=str)


def validate_new(new: rdflib.Graph, existing: rdflib.Graph, ontology: rdflib.Graph, shapes: rdflib.Graph) -> Report:
    """Validate new data together with the existing graph, looking only at the nodes it can affect."""
    merged = rdflib.Graph()
    merged += existing
    merged += new
    focus = affected_nodes(new, merged, ontology)
    if not all(isinstance(node, rdflib.URIRef) and str(node).lower().startswith(_FOCUS_SCHEMES) for node in focus):
        focus = []  # pySHACL takes only http(s)/urn/file IRIs as focus nodes: validate everything instead
    merged += ontology
    return validate_graph(merged, None, shapes, focus=focus)


def validate_graph(
    graph: rdflib.Graph,
    ontology: rdflib.Graph | None,
    shapes: rdflib.Graph,
    *,
    focus: list[rdflib.term.Node] | None = None,
) -> Report:
    """Run pySHACL on plain rdflib graphs, the ontology in the data graph so sh:targetClass sees subclasses.

    With `ontology=None` the caller has already added it: pySHACL's own mixing deep-copies the ontology
    on every run (seconds), a plain union gives the shapes the same class hierarchy.
    """
    if ontology is not None:
        combined = rdflib.Graph()
        combined += graph
        combined += ontology
        graph = combined
    conforms, report_graph, _ = shacl_validate(
        graph,
        shacl_graph=shapes,
        ont_graph=None,
        inference="none",
        advanced=True,
        allow_warnings=True,
        do_owl_imports=False,
        focus_nodes=focus or None,
    )
    for prefix, ns in PREFIXES.items():
        report_graph.bind(prefix, ns)
    findings = sorted(_findings(report_graph), key=lambda f: (f.severity != "Violation", f.focus, f.shape))
    return Report(conforms=bool(conforms), findings=findings, graph=report_graph)


def _findings(report: rdflib.Graph) -> list[Finding]:
    out = []
    for r in report.subjects(RDF.type, SH.ValidationResult):

        def one(p: rdflib.URIRef, r: rdflib.term.Node = r) -> str:
            v = report.value(r, p)
            return short(v) if v is not None else ""

        severity = report.value(r, SH.resultSeverity)
        messages = [str(m) for m in report.objects(r, SH.resultMessage)]
        out.append(
            Finding(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus=one(SH.focusNode),
                path=one(SH.resultPath),
                value=one(SH.value),
                shape=one(SH.sourceShape),
                constraint=one(SH.sourceConstraintComponent),
                message=messages[0] if messages else "",
            )
        )
    return out
