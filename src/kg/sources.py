"""The repository's RDF sources (ontology and data files) and the named graph each one becomes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib import URIRef

from kg import rdfio
from kg.errors import InputError
from kg.namespaces import GRAPH, ONTOLOGY_GRAPH
from kg.settings import Settings

_CHECKSUMS: dict[tuple[str, int, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """A file's checksum, read in chunks (data files can be gigabytes); remembered in this process until the
    file's size, modification time or inode changes."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    cached = _CHECKSUMS.get(key)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    _CHECKSUMS[key] = h.hexdigest()
    return _CHECKSUMS[key]


@dataclass(frozen=True)
class Source:
    """One RDF file and the named graph that holds it."""

    path: Path
    graph: URIRef

    def sha256(self) -> str:
        return file_sha256(self.path)

    def parse(self) -> rdflib.Graph:
        return rdfio.parse_file(self.path)


def all_sources(settings: Settings) -> list[Source]:
    """The repository's sources, the configured extra files and every accepted ingest."""
    return repository_sources(settings) + extra_sources(settings.extra_files) + ingest_sources(settings)


def ingest_sources(settings: Settings) -> list[Source]:
    """Accepted ingests: `<ingest dir>/<id>.nt`, each the content of its named graph with its PROV record."""
    folder = settings.ingest_path
    if not folder.is_dir():
        return []
    return [Source(p, GRAPH[f"ingest/{p.stem}"]) for p in sorted(folder.glob("*.nt"))]


def repository_sources(settings: Settings) -> list[Source]:
    """The ontology first, then every `data/*.ttl` in name order."""
    if not settings.ontology_file.is_file():
        raise InputError(
            "the ontology file is missing",
            source=str(settings.ontology_file),
            hint="run kg from the repository or set KG_ROOT",
        )
    sources = [Source(settings.ontology_file, ONTOLOGY_GRAPH)]
    sources += [Source(p, GRAPH[p.stem]) for p in sorted(settings.data_dir.glob("*.ttl"))]
    return sources


def extra_sources(specs: list[Path] | list[str] | tuple[str, ...]) -> list[Source]:
    """Extra data files: `PATH` (graph named after its content hash) or `GRAPH-IRI=PATH`."""
    out = []
    for spec in specs:
        graph_iri, sep, rest = str(spec).partition("=")
        if sep and "://" in graph_iri:
            path, graph = Path(rest), URIRef(graph_iri)
        else:
            path, graph = Path(spec), None
        if not path.is_file():
            raise InputError("no such file", source=str(path), hint="check the path")
        if graph is None:
            graph = GRAPH[f"extra/{path.stem}-{file_sha256(path)[:16]}"]
        out.append(Source(path, graph))
    return out


def shape_files(settings: Settings) -> list[Path]:
    return sorted(settings.shapes_dir.glob("*.ttl"))


def fingerprint(sources: list[Source]) -> str:
    """One hash over the names, graphs and contents of the sources: equal means nothing changed."""
    h = hashlib.sha256()
    for s in sources:
        h.update(str(s.graph).encode())
        h.update(b"\0")
        h.update(s.sha256().encode())
    return h.hexdigest()


def load_graph(sources: list[Source]) -> rdflib.Graph:
    """All sources merged into one plain rdflib graph (for validation and reasoning)."""
    g = rdflib.Graph()
    for s in sources:
        rdfio.parse_file(s.path, g)
    return g
