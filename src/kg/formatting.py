"""The canonical Turtle layout of the repository's files (rdflib's longturtle) and a check for it."""

from __future__ import annotations

from pathlib import Path

import rdflib

from kg import rdfio
from kg.namespaces import PREFIXES
from kg.settings import Settings


def turtle_files(settings: Settings) -> list[Path]:
    """The Turtle files kept in canonical layout: ontology, data and shapes."""
    return [
        settings.ontology_file,
        *sorted(settings.data_dir.glob("*.ttl")),
        *sorted(settings.shapes_dir.glob("*.ttl")),
    ]


def canonical(path: Path) -> str:
    """The file's content in canonical layout: sorted prefixes, one block per resource."""
    g = rdfio.parse_file(path)
    out = rdflib.Graph(bind_namespaces="none")
    used = {str(ns) for _, ns in g.namespaces()}
    for prefix, ns in sorted(PREFIXES.items()):
        if ns in used or any(str(t).startswith(ns) for triple in g for t in triple):
            out.bind(prefix, ns)
    for prefix, ns in g.namespaces():
        if prefix and prefix not in PREFIXES:
            out.bind(prefix, ns)
    out += g
    return out.serialize(format="longturtle")


def check(paths: list[Path]) -> list[Path]:
    """The files that are not in canonical layout."""
    return [p for p in paths if p.read_text(encoding="utf-8") != canonical(p)]


def rewrite(paths: list[Path]) -> list[Path]:
    """Rewrite files into canonical layout; returns those that changed."""
    changed = []
    for p in paths:
        text = canonical(p)
        if p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
            changed.append(p)
    return changed
