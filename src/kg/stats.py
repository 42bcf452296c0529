"""Statistics of the graph: sizes per named graph, classes, properties."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.results import short
from kg.store.base import Store

_COUNTS = """
SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
WHERE { ?s ?p ?o }
"""
_GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
_CLASSES = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class }
GROUP BY ?class ORDER BY DESC(?n) ?class
"""


@dataclass
class Stats:
    """Counts that describe the graph."""

    triples: int
    subjects: int
    properties: int
    graphs: list[tuple[str, int]]
    classes: list[tuple[str, int]]
    extras: list[tuple[str, list[str]]] = field(default_factory=list)  # extra file -> the graphs it fills

    def render(self, top: int = 25) -> str:
        lines = [
            f"triples (default graph = union): {self.triples}",
            f"distinct subjects: {self.subjects}",
            f"distinct properties: {self.properties}",
            f"named graphs: {len(self.graphs)}",
        ]
        lines += [f"  {g}  {n}" for g, n in self.graphs]
        lines.append(f"classes with instances: {len(self.classes)} (top {min(top, len(self.classes))})")
        lines += [f"  {c}  {n}" for c, n in self.classes[:top]]
        sizes = dict(self.graphs)
        lines.append(f"extra files: {len(self.extras)} (kept until kg build --remove FILE or --only-repository)")
        for name, graphs in self.extras:
            lines.append(f"  {name}")
            lines += [f"    {g}  {sizes.get(g, 0)}" for g in graphs]
        return "\n".join(lines) + "\n"


def compute(store: Store) -> Stats:
    totals = store.query(_COUNTS).rows[0]
    graphs = [(str(g), int(n)) for g, n in store.query(_GRAPHS).rows]  # type: ignore[arg-type]
    classes = [(short(c), int(n)) for c, n in store.query(_CLASSES).rows]  # type: ignore[arg-type]
    return Stats(
        triples=int(totals[0]),  # type: ignore[arg-type]
        subjects=int(totals[1]),  # type: ignore[arg-type]
        properties=int(totals[2]),  # type: ignore[arg-type]
        graphs=graphs,
        classes=classes,
    )
