"""The canonical Turtle layout of the repository's files (rdflib's longturtle, with `@prefix`) and a check for it."""

from __future__ import annotations

import re
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


# rdflib's longturtle writes SPARQL-style `PREFIX p: <ns>` lines; the OWL API's Turtle parser (Protege, ROBOT,
# HermiT's command line) reads only the Turtle `@prefix p: <ns> .` form (owlcs/owlapi#1149).
_SPARQL_PREFIX = re.compile(r"^PREFIX ([A-Za-z][\w.-]*)?: <([^>]*)>$", re.MULTILINE)


def turtle_prefixes(text: str) -> str:
    """Turtle text with every SPARQL-style PREFIX line rewritten as an `@prefix` directive."""
    return _SPARQL_PREFIX.sub(lambda m: f"@prefix {m.group(1) or ''}: <{m.group(2)}> .", text)


def _order_anonymous_blocks(text: str) -> str:
    """The blocks whose subject is a blank node (OWL class expressions with axioms of their own), sorted by their
    text after the named subjects: longturtle writes them in an order that changes from one parse to the next."""
    head, sep, body = text.partition("\n\n")
    blocks = body.rstrip("\n").split("\n\n")
    named = [b for b in blocks if not b.startswith("[]")]
    anonymous = sorted(b for b in blocks if b.startswith("[]"))
    return head + sep + "\n\n".join(named + anonymous) + "\n"


def canonical(path: Path) -> str:
    """The file's content in canonical layout: sorted `@prefix` lines, one block per resource."""
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
    return _order_anonymous_blocks(turtle_prefixes(out.serialize(format="longturtle")))


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
