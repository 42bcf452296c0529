"""The repository's RDF sources (ontology and data files) and the named graph each one becomes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib import URIRef

from kg import rdfio
from kg.errors import InputError
from kg.namespaces import GRAPH, ONTOLOGY_GRAPH
from kg.settings import Settings

_CHECKSUMS: dict[tuple[str, int, int, int], str] = {}


def _state(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def file_sha256(path: Path) -> str:
    """A file's checksum (data files can be gigabytes); remembered until its size, time or inode changes."""
    key = _state(path)
    if key not in _CHECKSUMS:
        with open(path, "rb") as fh:
            _CHECKSUMS[key] = hashlib.file_digest(fh, "sha256").hexdigest()
    return _CHECKSUMS[key]


def checksum_record(path: Path) -> dict[str, object]:
    """A file's checksum with the state it was taken in, for `remember_checksums` in another process."""
    path_text, size, mtime_ns, inode = _state(path)
    return {"path": path_text, "size": size, "mtime_ns": mtime_ns, "inode": inode, "sha256": file_sha256(path)}


def remember_checksums(records: Iterable[dict]) -> None:  # type: ignore[type-arg]
    """Trust checksums recorded by `checksum_record` for files still in the same state."""
    for r in records:
        try:
            _CHECKSUMS[(str(r["path"]), int(r["size"]), int(r["mtime_ns"]), int(r["inode"]))] = str(r["sha256"])
        except (KeyError, TypeError, ValueError):
            continue


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
    """The ontology first, then every `data/*.ttl` in name order, then the links to other datasets
    (`data/links/*.ttl`, graph `graph/links/<name>`)."""
    if not settings.ontology_file.is_file():
        raise InputError(
            "the ontology file is missing",
            source=str(settings.ontology_file),
            hint="run kg from the repository or set KG_ROOT",
        )
    sources = [Source(settings.ontology_file, ONTOLOGY_GRAPH)]
    sources += [Source(p, GRAPH[p.stem]) for p in sorted(settings.data_dir.glob("*.ttl"))]
    sources += [Source(p, GRAPH[f"links/{p.stem}"]) for p in sorted(settings.links_dir.glob("*.ttl"))]
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
    return rdfio.parse_files(s.path for s in sources)
