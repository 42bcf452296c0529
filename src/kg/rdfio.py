"""Reading RDF from files and request bodies into plain rdflib graphs, with errors that name file and line.

N-Quads and TriG are read like the other syntaxes: `parse_file` and `parse_bytes` give the union of a dataset's
graphs (what validation and reasoning look at), `parse_graphs` keeps its graph names (what a store holds).
"""

from __future__ import annotations

import json
import re
import xml.sax
from collections.abc import Iterable
from pathlib import Path

import rdflib
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import URIRef

from kg.errors import InputError, KgError, TooLarge
from kg.sparqltext import is_absolute_iri

# media type -> rdflib parser name
PARSE_FORMATS: dict[str, str] = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "nt",
    "text/plain": "nt",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "application/rdf+xml": "xml",
    "application/trig": "trig",
    "application/n-quads": "nquads",
}
SUFFIX_FORMATS: dict[str, str] = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "nt",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
    ".trig": "trig",
    ".nq": "nquads",
}
DATASET_FORMATS = ("nquads", "trig")  # the syntaxes that hold named graphs
_DOCTYPE = re.compile(rb"<!\s*+(DOCTYPE|ENTITY)", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*+:")


def format_for_path(path: Path) -> str:
    """The rdflib parser name for a file, from its suffix."""
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the RDF format of a {path.suffix or 'suffix-less'} file",
            source=str(path),
            hint="name the file .ttl, .nt, .nq, .trig, .jsonld or .rdf",
        )
    return fmt


def holds_graphs(path: Path) -> bool:
    """Whether a file's syntax holds named graphs of its own (N-Quads, TriG)."""
    return format_for_path(path) in DATASET_FORMATS


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError("no such file", source=str(path), hint="check the path") from exc
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", source=str(path)) from exc


def parse_file(path: Path, graph: rdflib.Graph | None = None, *, as_written: bool = False) -> rdflib.Graph:
    """Parse one RDF file into `graph` (a new graph if None); the triples of all its graphs for N-Quads and TriG;
    `as_written` as in `parse_bytes`."""
    fmt = format_for_path(path)
    return parse_bytes(_read(path), fmt, source=str(path), graph=graph, as_written=as_written)


def parse_graphs(path: Path, default_graph: URIRef) -> dict[URIRef, rdflib.Graph]:
    """One RDF file as named graphs: N-Quads and TriG keep theirs, and every triple outside a named graph (all
    of them, in the other syntaxes) goes to `default_graph`."""
    fmt = format_for_path(path)
    return {
        default_graph if name is None else name: graph
        for name, graph in _parse(_read(path), fmt, source=str(path), public_id=path.resolve().as_uri())
    }


def parse_files(paths: Iterable[Path], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Parse RDF files into one graph (`graph`, or a new one)."""
    target = rdflib.Graph() if graph is None else graph
    for path in paths:
        parse_file(path, target)
    return target


def parse_bytes(
    data: bytes,
    fmt: str,
    *,
    source: str = "<input>",
    graph: rdflib.Graph | None = None,
    public_id: str = "urn:x-interfirm:upload:",
    max_triples: int | None = None,
    as_written: bool = False,
) -> rdflib.Graph:
    """Parse RDF bytes in rdflib format `fmt` into one graph (for N-Quads and TriG: the union of the dataset's
    graphs); refuse anything that would fetch or expand external content, and stop (TooLarge) at the triple
    after `max_triples`. With `as_written`, literals keep their lexical form (rdflib would turn
    "1_000"^^xsd:integer into "1000"): for data to validate, whose mistakes must be shown as written."""
    target = rdflib.Graph() if graph is None else graph
    known = dict(target.namespaces())
    parts = _parse(data, fmt, source=source, public_id=public_id, max_triples=max_triples, as_written=as_written)
    for _, scratch in parts:
        for triple in scratch:
            target.add(triple)
        for prefix, ns in scratch.namespaces():
            if prefix and prefix not in known:
                target.bind(prefix, ns)
                known[prefix] = ns
    return target


def _parse(
    data: bytes,
    fmt: str,
    *,
    source: str,
    public_id: str,
    max_triples: int | None = None,
    as_written: bool = False,
) -> list[tuple[URIRef | None, rdflib.Graph]]:
    """The graphs in RDF bytes: (None, triples) for the default graph, (IRI, triples) for each named graph."""
    _refuse_external_content(data, fmt, source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            "the data is not valid UTF-8", source=source, line=line, hint="save the file as UTF-8"
        ) from exc
    scratch: rdflib.Graph
    if fmt in DATASET_FORMATS:
        scratch = rdflib.Dataset()  # capped once parsed (the body's size is capped already)
    else:
        scratch = rdflib.Graph() if max_triples is None else _Capped(max_triples, source)
    normalize = rdflib.NORMALIZE_LITERALS
    try:
        rdflib.NORMALIZE_LITERALS = normalize and not as_written
        scratch.parse(data=text, format=fmt, publicID=public_id)
    except KgError:
        raise
    except BadSyntax as exc:
        raise InputError(
            f"{fmt} syntax error: {exc._why}", source=source, line=exc.lines + 1, hint="fix the syntax at that line"
        ) from exc
    except xml.sax.SAXParseException as exc:
        raise InputError(f"RDF/XML syntax error: {exc.getMessage()}", source=source, line=exc.getLineNumber()) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"JSON syntax error: {exc.msg}", source=source, line=exc.lineno) from exc
    except Exception as exc:  # rdflib parsers raise many unrelated types
        line = _first_bad_line(text, fmt) if fmt in ("nt", "nquads") else _guess_line(text, str(exc))
        raise InputError(f"{fmt} cannot be parsed: {_first_line(str(exc))}", source=source, line=line) from exc
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
    if isinstance(scratch, rdflib.Dataset):
        parts: list[tuple[URIRef | None, rdflib.Graph]] = []
        for g in scratch.graphs():
            name = g.identifier
            if len(g) == 0:
                continue
            if name == DATASET_DEFAULT_GRAPH_ID:
                parts.append((None, _plain(g, scratch)))
            elif isinstance(name, URIRef) and is_absolute_iri(name):
                parts.append((name, _plain(g, scratch)))
            else:
                raise InputError(
                    f"a graph is named {name.n3()}, not by an absolute IRI",
                    source=source,
                    hint="name every graph with a full IRI (https://...)",
                )
    else:
        parts = [(None, scratch)]
    if max_triples is not None and sum(len(g) for _, g in parts) > max_triples:
        raise _too_large(max_triples, source)
    for _, g in parts:
        for triple in g:
            for term in triple:
                if _SURROGATE.search(term):
                    raise InputError(
                        f"{str(term).encode('utf-8', 'backslashreplace').decode()!r} holds a lone surrogate "
                        "(an escape such as \\uD800 that is half of a pair, not a character)",
                        source=source,
                        hint="write the character itself, or its \\U escape",
                    )
                if isinstance(term, rdflib.URIRef) and not is_absolute_iri(term) and _SCHEME.match(term):
                    shown = "".join(c if c.isprintable() and c != " " else f"\\u{ord(c):04X}" for c in term)
                    raise InputError(
                        f"the term <{shown}> cannot be stored: an IRI holds no spaces, control characters or "
                        'any of < > " { } | \\ ^ `',
                        source=source,
                        hint="percent-encode the character (%20 for a space) or remove it",
                    )
                if isinstance(term, rdflib.URIRef) and not is_absolute_iri(term):
                    raise InputError(
                        f"{str(term)!r} is not an absolute IRI",
                        source=source,
                        hint="use full IRIs (https://...) or declare the prefix; XML elements need a namespace",
                    )
    return parts


class _Capped(rdflib.Graph):
    """A graph that refuses its triple number `limit + 1` (parsing stops there)."""

    def __init__(self, limit: int, source: str) -> None:
        super().__init__()
        self.limit, self.source, self.count = limit, source, 0

    def add(self, triple: tuple) -> rdflib.Graph:  # type: ignore[override,type-arg]
        if triple in self:
            return self
        self.count += 1
        if self.count > self.limit:
            raise _too_large(self.limit, self.source)
        return super().add(triple)


def _too_large(limit: int, source: str) -> TooLarge:
    return TooLarge(
        f"more than {limit:,} triples",
        source=source,
        hint="split the data into smaller uploads, or ask the operator for a larger KG_MAX_UPLOAD_TRIPLES",
    )


def _plain(graph: rdflib.Graph, dataset: rdflib.Dataset) -> rdflib.Graph:
    """One graph of a parsed dataset as a plain graph, with the document's prefixes."""
    out = rdflib.Graph()
    for triple in graph:
        out.add(triple)
    for prefix, ns in dataset.namespaces():
        out.bind(prefix, ns)
    return out


def _refuse_external_content(data: bytes, fmt: str, source: str) -> None:
    if fmt == "xml" and _DOCTYPE.search(data):
        raise InputError(
            "RDF/XML with a DOCTYPE or entity declarations is refused",
            source=source,
            hint="remove the <!DOCTYPE ...> and expand entities yourself",
        )
    if fmt == "json-ld":
        try:
            doc = json.loads(data)
            remote = _has_remote_context(doc)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return  # the parser reports it with a line number
        except RecursionError:
            raise InputError(
                "the JSON-LD is nested too deeply to read", source=source, hint="flatten the document"
            ) from None
        if remote:
            raise InputError(
                "JSON-LD with a remote @context is refused: nothing is fetched",
                source=source,
                hint="inline the @context object",
            )


def _has_remote_context(node: object) -> bool:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context" and _context_is_remote(value):
                return True
            if _has_remote_context(value):
                return True
    elif isinstance(node, list):
        return any(_has_remote_context(item) for item in node)
    return False


def _context_is_remote(value: object) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return any(_context_is_remote(v) for v in value)
    if isinstance(value, dict):
        return "@import" in value
    return False


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


def _first_bad_line(text: str, fmt: str) -> int | None:
    """For line-based formats: the first line that does not parse on its own."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            (rdflib.Dataset() if fmt == "nquads" else rdflib.Graph()).parse(data=line + "\n", format=fmt)
        except Exception:
            return number
    return None


def _guess_line(text: str, message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    if match:
        return int(match.group(1))
    match = re.search(r"Invalid line: (.*)", message)
    if match:
        needle = match.group(1).strip()
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() == needle:
                return number
    return None
