"""The repository's RDF sources (ontology and data files), extra files and ingests, and the named graph each
one becomes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib import URIRef

from kg import rdfio
from kg.errors import InputError
from kg.namespaces import GRAPH, META_GRAPH, ONTOLOGY_GRAPH
from kg.settings import Settings
from kg.sparqltext import is_absolute_iri

_CHECKSUMS: dict[tuple[str, int, int, int], str] = {}

# the text of the paper every repository graph comes from (sources/README.md)
PAPER_TEXT = Path("sources") / "unctad-ite-eds-2.txt"


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
    """One RDF file and the named graph that holds it (for N-Quads and TriG: the graph of its triples outside
    any named graph; its named graphs keep their names).

    `origin` is "repository" (ontology, data/), "extra" (a file given to `kg build`) or "ingest". `kept` is set
    for an extra file that is gone: its checksum when it was loaded, its graphs taken from the store.
    """

    path: Path
    graph: URIRef
    origin: str = "repository"
    kept: str = ""
    kept_graphs: tuple[str, ...] = ()  # the named graphs (N-Quads, TriG) a gone file filled besides its own

    def sha256(self) -> str:
        return self.kept or file_sha256(self.path)

    @property
    def holds_graphs(self) -> bool:
        return rdfio.holds_graphs(self.path)

    def parse(self) -> rdflib.Graph:
        """Every triple of the file in one graph (all its graphs merged)."""
        return rdfio.parse_file(self.path)

    def parse_graphs(self) -> dict[URIRef, rdflib.Graph]:
        """The file's triples by the named graph they go to."""
        return rdfio.parse_graphs(self.path, self.graph)


@dataclass(frozen=True)
class ExtraFile:
    """An extra data file as the user named it: its absolute path and, when given, the graph to hold it."""

    path: Path
    graph: URIRef | None = None

    @property
    def spec(self) -> str:
        """`GRAPH-IRI=PATH` or `PATH`, as `kg build` takes it and the manifest records it."""
        return f"{self.graph}={self.path}" if self.graph is not None else str(self.path)


def parse_extra(spec: str | Path) -> ExtraFile:
    """`PATH` or `GRAPH-IRI=PATH`, with the path made absolute. The graph IRI may itself hold `=`: the split is
    the `=` with an IRI before it and an existing file after it (else the last `=` with an IRI before it)."""
    text = str(spec)
    splits = [
        (text[:at], text[at + 1 :])
        for at, c in enumerate(text)
        if c == "=" and ("://" in text[:at] or text[:at].startswith("urn:"))
    ]
    if not splits:
        return ExtraFile(Path(text).expanduser().absolute())
    graph_iri, path = next(((g, p) for g, p in splits if Path(p).expanduser().is_file()), splits[-1])
    if not is_absolute_iri(graph_iri):
        raise InputError(
            f"{graph_iri!r} is not an absolute IRI",
            source=text,
            hint="write GRAPH-IRI=FILE, e.g. https://example.org/graph/notes=notes.ttl",
        )
    if URIRef(graph_iri) == META_GRAPH:
        raise InputError(
            f"<{META_GRAPH}> is the server's provenance graph; every build rewrites it",
            source=text,
            hint="name another graph",
        )
    return ExtraFile(Path(path).expanduser().absolute(), URIRef(graph_iri))


def all_sources(settings: Settings, extras: Sequence[ExtraFile] = ()) -> list[Source]:
    """The repository's sources, the extra files and every accepted ingest."""
    return repository_sources(settings) + extra_sources(extras) + ingest_sources(settings)


def ingest_sources(settings: Settings) -> list[Source]:
    """Accepted ingests: `<ingest dir>/<id>.nt`, each the content of its named graph with its PROV record."""
    folder = settings.ingest_path
    if not folder.is_dir():
        return []
    return [Source(p, GRAPH[f"ingest/{p.stem}"], "ingest") for p in sorted(folder.glob("*.nt"))]


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


def extra_graph(path: Path) -> URIRef:
    """The graph of an extra file named without one: after its name and content, the same on every machine."""
    return GRAPH[f"extra/{path.stem}-{file_sha256(path)[:16]}"]


def extra_sources(specs: Iterable[ExtraFile | str | Path]) -> list[Source]:
    """Extra data files (`ExtraFile`s, or specs `PATH` / `GRAPH-IRI=PATH`): each must exist and be RDF."""
    out = []
    for spec in specs:
        extra = spec if isinstance(spec, ExtraFile) else parse_extra(spec)
        if not extra.path.is_file():
            raise InputError("no such file", source=str(extra.path), hint="check the path")
        rdfio.format_for_path(extra.path)  # refuses a file whose syntax cannot be told, before any work
        graph = extra.graph if extra.graph is not None else extra_graph(extra.path)
        out.append(Source(extra.path, graph, "extra"))
    return out


def shape_files(settings: Settings) -> list[Path]:
    return sorted(settings.shapes_dir.glob("*.ttl"))


def paper_text(settings: Settings) -> Path | None:
    """The paper's text under `sources/`, when the repository holds it."""
    path = settings.root / PAPER_TEXT
    return path if path.is_file() else None


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
