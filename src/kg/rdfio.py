"""Reading RDF from files and request bodies into plain rdflib graphs, with errors that name file and line."""

from __future__ import annotations

import json
import re
import xml.sax
from collections.abc import Iterable
from pathlib import Path

import rdflib
from rdflib.plugins.parsers.notation3 import BadSyntax

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
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def format_for_path(path: Path) -> str:
    """The rdflib parser name for a file, from its suffix."""
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the RDF format of a {path.suffix or 'suffix-less'} file",
            source=str(path),
            hint="name the file .ttl, .nt, .jsonld or .rdf",
        )
    return fmt


def parse_file(path: Path, graph: rdflib.Graph | None = None, *, as_written: bool = False) -> rdflib.Graph:
    """Parse one RDF file into `graph` (a new graph if None); `as_written` as in `parse_bytes`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError("no such file", source=str(path), hint="check the path") from exc
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", source=str(path)) from exc
    return parse_bytes(data, format_for_path(path), source=str(path), graph=graph, as_written=as_written)


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
    """Parse RDF bytes in rdflib format `fmt`; refuse anything that would fetch or expand external content, and
    stop (TooLarge) at the triple after `max_triples`. With `as_written`, literals keep their lexical form (rdflib
    would turn "1_000"^^xsd:integer into "1000"): for data to validate, whose mistakes must be shown as written."""
    target = rdflib.Graph() if graph is None else graph
    scratch = rdflib.Graph() if max_triples is None else _Capped(max_triples, source)
    _refuse_external_content(data, fmt, source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            "the data is not valid UTF-8", source=source, line=line, hint="save the file as UTF-8"
        ) from exc
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
    for triple in scratch:
        for term in triple:
            if isinstance(term, rdflib.URIRef) and not is_absolute_iri(term):
                raise InputError(
                    f"{str(term)!r} is not an absolute IRI",
                    source=source,
                    hint="use full IRIs (https://...) or declare the prefix; XML elements need a namespace",
                )
        target.add(triple)
    for prefix, ns in scratch.namespaces():
        if prefix and prefix not in dict(target.namespaces()):
            target.bind(prefix, ns)
    return target


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
            raise TooLarge(
                f"more than {self.limit:,} triples",
                source=self.source,
                hint="split the data into smaller uploads, or ask the operator for a larger KG_MAX_UPLOAD_TRIPLES",
            )
        return super().add(triple)


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
        except (json.JSONDecodeError, UnicodeDecodeError):
            return  # the parser reports it with a line number
        if _has_remote_context(doc):
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
