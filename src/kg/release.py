"""A citable release in `dist/`: the ontology (Turtle with @prefix, RDF/XML, JSON-LD), the data and the inferred
graph as separate files (N-Quads, TriG, Turtle), the ontology's HTML documentation with a class diagram, a VoID
and DCAT description with checksums and sizes, and CITATION.cff. Built from the repository's files alone (no
local ingests or updates), so the same commit gives the same files (but for the dates of the provenance)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pyoxigraph as ox
import rdflib
from markupsafe import Markup
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, XSD

from kg import __version__, derived
from kg.errors import InputError, StoreError
from kg.formatting import turtle_prefixes
from kg.namespaces import BASE, GRAPH, IFD, INFERRED_GRAPH, META_GRAPH, ONTOLOGY_GRAPH, ONTOLOGY_IRI, PREFIXES
from kg.settings import Settings
from kg.sources import repository_sources
from kg.store.oxigraph import to_rdflib

VOID = Namespace("http://rdfs.org/ns/void#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
DATASET = URIRef(BASE + "dataset")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
EXAMPLES = (
    "firm-samsung",
    "agreement-shanghai-volkswagen-jv",
    "cluster-sialkot-surgical-instruments",
    "rq-a",
    "table-2-row-2",
    "case-box-4",
)
MEDIA = {
    ".ttl": ("text/turtle", "http://www.w3.org/ns/formats/Turtle"),
    ".rdf": ("application/rdf+xml", "http://www.w3.org/ns/formats/RDF_XML"),
    ".jsonld": ("application/ld+json", "http://www.w3.org/ns/formats/JSON-LD"),
    ".nq": ("application/n-quads", "http://www.w3.org/ns/formats/N-Quads"),
    ".trig": ("application/trig", "http://www.w3.org/ns/formats/TriG"),
    ".html": ("text/html", None),
    ".svg": ("image/svg+xml", None),
    ".cff": ("application/x-yaml", None),
}


@dataclass
class Release:
    """What `kg release` wrote."""

    version: str
    folder: Path
    files: list[Path]


def changelog_version(root: Path) -> str:
    """The newest version CHANGELOG.md records (its first `## [x.y.z]` heading)."""
    path = root / "CHANGELOG.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError("CHANGELOG.md is missing", source=str(path)) from exc
    m = re.search(r"^## \[(\d+\.\d+\.\d+)\]", text, re.MULTILINE)
    if m is None:
        raise InputError("CHANGELOG.md names no version", source=str(path), hint="add a heading '## [x.y.z] - date'")
    return m.group(1)


def check_version(ontology: rdflib.Graph, root: Path) -> str:
    """The release version: the ontology's, which must be CHANGELOG.md's newest, with the matching version IRI."""
    info = str(ontology.value(ONTOLOGY_IRI, OWL.versionInfo) or "")
    iri = str(ontology.value(ONTOLOGY_IRI, OWL.versionIRI) or "")
    newest = changelog_version(root)
    if info != newest:
        raise InputError(
            f"the ontology's owl:versionInfo is {info!r} but CHANGELOG.md's newest version is {newest}",
            source="ontology/interfirm.ttl",
            hint="follow the version rule in CHANGELOG.md: set owl:versionInfo and owl:versionIRI, add an entry",
        )
    if iri != f"{ONTOLOGY_IRI}/{info}":
        raise InputError(
            f"the ontology's owl:versionIRI is <{iri}>, not <{ONTOLOGY_IRI}/{info}>", source="ontology/interfirm.ttl"
        )
    if __version__ != info:
        raise InputError(f"the package version {__version__} is not the ontology's {info}", source="pyproject.toml")
    return info


def _graphs(store: ox.Store) -> dict[URIRef, rdflib.Graph]:
    out: dict[URIRef, rdflib.Graph] = {}
    for q in store.quads_for_pattern(None, None, None, None):
        if isinstance(q.graph_name, ox.NamedNode):
            g = out.setdefault(URIRef(q.graph_name.value), rdflib.Graph())
            g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return out


def _bind(g: rdflib.Graph) -> rdflib.Graph:
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True)
    return g


def _turtle(g: rdflib.Graph) -> bytes:
    """Turtle with @prefix (the OWL API reads no other form)."""
    return turtle_prefixes(_bind(g).serialize(format="longturtle")).encode("utf-8")


def _dataset(graphs: dict[URIRef, rdflib.Graph]) -> rdflib.Dataset:
    ds = rdflib.Dataset()
    for name, g in sorted(graphs.items()):
        target = ds.graph(name)
        for t in g:
            target.add(t)
    for prefix, ns in PREFIXES.items():
        ds.bind(prefix, ns, override=True)
    return ds


def _union(graphs: dict[URIRef, rdflib.Graph]) -> rdflib.Graph:
    g = rdflib.Graph()
    for part in graphs.values():
        g += part
    return g


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def release(settings: Settings, out: Path | None = None) -> Release:
    """Write the release into `out` (default `dist/` of the repository), replacing what was there."""
    from kg.build import _filled, provenance_graph

    sources = repository_sources(settings)
    store, _ = _filled(sources, settings.root, ())  # in memory: ontology, data, links, derived graphs, provenance
    graphs = _graphs(store)
    ontology = _bind(graphs[ONTOLOGY_GRAPH])
    version = check_version(ontology, settings.root)
    folder = out or settings.root / "dist"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files: list[Path] = []

    # the ontology
    files.append(_write(folder / "ontology.ttl", _turtle(ontology)))
    files.append(_write(folder / "ontology.rdf", ontology.serialize(format="xml", encoding="utf-8")))
    files.append(_write(folder / "ontology.jsonld", ontology.serialize(format="json-ld", encoding="utf-8")))

    # the data (every asserted graph but the ontology, with the provenance) and the inferred graph, apart
    derived_names = {d.graph for d in derived.derivations()}
    data = {n: g for n, g in graphs.items() if n not in derived_names and n != ONTOLOGY_GRAPH}
    data[META_GRAPH] = provenance_graph(sources, settings.root)  # without the rules (they are in inferred.*)
    inferred = {n: g for n, g in graphs.items() if n == INFERRED_GRAPH}
    for stem, part in (("data", data), ("inferred", inferred)):
        ds = _dataset(part)
        files.append(_write(folder / f"{stem}.nq", ds.serialize(format="nquads", encoding="utf-8")))
        files.append(_write(folder / f"{stem}.trig", ds.serialize(format="trig", encoding="utf-8")))
        files.append(_write(folder / f"{stem}.ttl", _turtle(_union(part))))

    # documentation, class diagram, licence, citation
    svg = class_diagram(ontology)
    files.append(_write(folder / "ontology.svg", svg))
    files.append(_write(folder / "index.html", documentation(ontology, svg)))
    files.append(_write(folder / "LICENSE-DATA", (settings.root / "LICENSE-DATA").read_bytes()))
    files.append(_write(folder / "CITATION.cff", citation(ontology, version).encode("utf-8")))

    # VoID and DCAT last: they describe the other files
    description = void_dcat(version, folder, files, graphs)
    files.append(_write(folder / "void.ttl", _turtle(description)))
    return Release(version, folder, files)


def _release_iri(version: str, name: str = "") -> URIRef:
    return URIRef(f"{BASE}release/{version}/{name}")


def void_dcat(version: str, folder: Path, files: list[Path], graphs: dict[URIRef, rdflib.Graph]) -> rdflib.Graph:
    """VoID and DCAT: the dataset, its subsets (the data, the inferred graph, the linksets), and each file of
    the release as a distribution with its media type, size and SHA-256 checksum."""
    g = _bind(rdflib.Graph())
    g.bind("spdx", str(SPDX))
    g.bind("dcat", str(DCAT))
    today = Literal(dt.date.today().isoformat(), datatype=XSD.date)
    publisher = BNode("publisher")
    g.add((publisher, RDF.type, FOAF.Organization))
    g.add((publisher, FOAF.name, Literal("the interfirm-kg project")))
    g.add((publisher, FOAF.homepage, URIRef(BASE)))
    g.add((DATASET, RDF.type, VOID.Dataset))
    g.add((DATASET, RDF.type, DCAT.Dataset))
    g.add((DATASET, DCTERMS.title, Literal("interfirm-kg: inter-firm cooperation (UNCTAD/ITE/EDS/2, 1997)", lang="en")))
    g.add(
        (
            DATASET,
            DCTERMS.description,
            Literal(
                "A linked-data knowledge graph of inter-firm cooperation (clusters, networks and strategic "
                "partnerships), the policies that foster it and the open research questions about it, from the "
                "UNCTAD paper UNCTAD/ITE/EDS/2 (1997), with its OWL 2 ontology, the OWL 2 RL inferences as a "
                "graph of their own, and links to Wikidata, the STW Thesaurus, ISO 3166-1 and UN M49.",
                lang="en",
            ),
        )
    )
    g.add((DATASET, DCTERMS.license, CC_BY))
    g.add((DATASET, DCTERMS.publisher, publisher))
    g.add((DATASET, DCTERMS.issued, today))
    g.add((DATASET, DCTERMS.modified, today))
    g.add((DATASET, DCTERMS.hasVersion, Literal(version)))
    g.add((DATASET, OWL.versionInfo, Literal(version)))
    g.add((DATASET, DCTERMS.source, IFD["unctad-ite-eds-2"]))
    g.add((DATASET, DCTERMS.conformsTo, ONTOLOGY_IRI))
    g.add((DATASET, VOID.vocabulary, URIRef(str(ONTOLOGY_IRI) + "#")))
    g.add((DATASET, VOID.uriSpace, Literal(str(IFD))))
    g.add((DATASET, DCAT.landingPage, URIRef(BASE + "dataset")))
    asserted = sum(len(p) for n, p in graphs.items() if n != INFERRED_GRAPH)
    g.add((DATASET, VOID.triples, Literal(asserted + len(graphs.get(INFERRED_GRAPH, ())))))
    for name in EXAMPLES:
        g.add((DATASET, VOID.exampleResource, IFD[name]))
    inferred = INFERRED_GRAPH
    g.add((DATASET, VOID.subset, inferred))
    g.add((inferred, RDF.type, VOID.Dataset))
    g.add((inferred, DCTERMS.title, Literal("the OWL 2 RL inferences", lang="en")))
    g.add((inferred, VOID.triples, Literal(len(graphs.get(INFERRED_GRAPH, ())))))
    for name, part in graphs.items():  # the linksets, as data/links/ describes them
        if str(name).startswith(str(GRAPH["links/"])):
            g.add((DATASET, VOID.subset, name))
            for t in part.triples((None, None, None)):
                if (
                    str(t[1]).startswith(str(VOID))
                    or (t[1] == RDF.type and str(t[2]).startswith(str(VOID)))
                    or (t[1] == RDFS.label and t[0] in set(part.subjects(RDF.type, VOID.Linkset)) | {name})
                ):
                    g.add(t)
    for path in files:
        dist = _release_iri(version, path.name)
        media, fmt = MEDIA.get(path.suffix, ("application/octet-stream", None))
        if path.name == "LICENSE-DATA":
            media = "text/plain"
        checksum = BNode(f"sha256-{path.name}")
        g.add((DATASET, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, Literal(path.name)))
        g.add((dist, DCAT.downloadURL, dist))
        g.add((dist, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media}")))
        if fmt:
            g.add((dist, DCTERMS.format, URIRef(fmt)))
        g.add((dist, DCAT.byteSize, Literal(path.stat().st_size, datatype=XSD.nonNegativeInteger)))
        g.add((dist, DCTERMS.license, CC_BY))
        g.add((dist, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(_sha256(path), datatype=XSD.hexBinary)))
        if path.suffix in (".nq", ".trig", ".ttl") and path.name.startswith(("data", "inferred")):
            g.add((DATASET, VOID.dataDump, dist))
    return g


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# ---- documentation -------------------------------------------------------------------------------------------------


def class_diagram(ontology: rdflib.Graph) -> bytes:
    """The class diagram of the /ontology page as an SVG picture, drawn by Graphviz's dot."""
    from kg.namespaces import IFC
    from kg.web.ontology_doc import diagram

    dot = shutil.which("dot")
    if dot is None:
        raise StoreError(
            "kg release draws the class diagram with Graphviz and no 'dot' is on PATH",
            hint="install Graphviz (Debian: apt-get install graphviz)",
        )
    d = diagram(ontology, str(IFC))

    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        "digraph ontology {",
        '  graph [rankdir=RL, fontname="Helvetica", nodesep=0.15, ranksep=0.5, bgcolor="white", concentrate=true];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3f8", color="#234", fontname="Helvetica", '
        "fontsize=11];",
        '  edge [fontname="Helvetica", fontsize=9, color="#456"];',
    ]
    for n in d["nodes"]:
        local = n["id"].split("#", 1)[-1]
        lines.append(
            f"  {quote(n['id'])} [label={quote(n['label'])}, URL={quote('#' + local)}, tooltip={quote(n['id'])}];"
        )
    for e in d["edges"]:
        if e["kind"] == "subclass":
            lines.append(f"  {quote(e['source'])} -> {quote(e['target'])} [arrowhead=empty];")
        else:
            lines.append(
                f"  {quote(e['source'])} -> {quote(e['target'])} [style=dashed, label={quote(e['label'])}, "
                "constraint=false];"
            )
    lines.append("}")
    try:
        proc = subprocess.run(
            [dot, "-Tsvg"], input="\n".join(lines).encode(), capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StoreError(f"Graphviz failed: {exc}") from exc
    if proc.returncode != 0:
        raise StoreError(f"Graphviz failed: {proc.stderr.decode(errors='replace')[:500]}")
    return proc.stdout


_HREF = re.compile(r'href="([^"]*)"')


def _static_links(html: str) -> str:
    """The server's links made to work in a file: this ontology's terms to their sections, this dataset's IRIs to
    themselves (w3id.org resolves them), other resources to their IRI."""
    onto = "/ontology#"

    def sub(m: re.Match[str]) -> str:
        url = m.group(1)
        if url.startswith(onto):
            return f'href="#{url[len(onto) :]}"'
        if url.startswith("/resource?iri="):
            return f'href="{unquote(url[len("/resource?iri=") :])}"'
        if url.startswith("/") and not url.startswith("//"):
            return f'href="{BASE}{url[1:]}"'
        return m.group(0)

    return _HREF.sub(sub, html)


def documentation(ontology: rdflib.Graph, svg: bytes) -> bytes:
    """The /ontology page as one HTML file: the same renderer and template body, the diagram as a picture."""
    from flask import Flask, render_template

    from kg.web.ontology_doc import document

    app = Flask("kg.web", template_folder=str(Path(__file__).parent / "web" / "templates"))
    with app.test_request_context("/ontology"):
        doc = document(ontology)
        for section in doc["sections"]:
            for term in section["terms"]:
                term.page = ""  # no resource pages in a file
        picture = Markup('<div class="diagram">' + svg.decode("utf-8").split("?>", 1)[-1] + "</div>")  # inline
        alternates = [
            {"url": name, "media": MEDIA[Path(name).suffix][0], "name": label}
            for name, label in (("ontology.ttl", "Turtle"), ("ontology.rdf", "RDF/XML"), ("ontology.jsonld", "JSON-LD"))
        ]
        html = render_template("release_ontology.html", doc=doc, alternates=alternates, diagram=picture)
    return _static_links(html).encode("utf-8")


def citation(ontology: rdflib.Graph, version: str) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the release, citing the paper it is built from."""
    title = str(ontology.value(ONTOLOGY_IRI, DCTERMS.title) or "Inter-firm cooperation ontology")
    today = dt.date.today().isoformat()
    return f"""cff-version: 1.2.0
message: "If you use this knowledge graph or its ontology, please cite it as below, and the paper it is built from."
type: dataset
title: "interfirm-kg: a knowledge graph of inter-firm cooperation (UNCTAD/ITE/EDS/2, 1997) - {title}"
version: "{version}"
date-released: "{today}"
license: CC-BY-4.0
url: "{BASE}"
authors:
  - name: "The interfirm-kg project"
keywords:
  - inter-firm cooperation
  - strategic partnerships
  - industrial clusters
  - knowledge graph
  - OWL ontology
references:
  - type: report
    title: "An Overview of Activities in the Area of Inter-firm Cooperation: A Progress Report"
    authors:
      - name: "United Nations Conference on Trade and Development (UNCTAD)"
    year: 1997
    number: "UNCTAD/ITE/EDS/2"
    publisher:
      name: "United Nations"
      city: "Geneva"
"""
