"""`kg release`: the files a researcher cites and loads, described by VoID and DCAT with true sizes and checksums;
the version follows the rule of CHANGELOG.md."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import rdflib
import yaml
from rdflib import URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF

from kg import __version__
from kg.errors import InputError
from kg.namespaces import INFERRED_GRAPH, ONTOLOGY_IRI
from kg.release import check_version
from tests.conftest import ROOT
from tests.live import run_kg

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("release")
    out = tmp / "dist"
    proc = run_kg(tmp, "release", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"release {__version__}" in proc.stdout
    return out


def test_the_release_holds_every_file(dist: Path) -> None:
    names = {p.name for p in dist.iterdir()}
    assert names == {
        "ontology.ttl",
        "ontology.rdf",
        "ontology.jsonld",
        "data.nq",
        "data.trig",
        "data.ttl",
        "inferred.nq",
        "inferred.trig",
        "inferred.ttl",
        "void.ttl",
        "index.html",
        "ontology.svg",
        "CITATION.cff",
        "LICENSE-DATA",
    }


def test_the_ontology_in_three_syntaxes_is_the_same_graph(dist: Path) -> None:
    text = (dist / "ontology.ttl").read_text(encoding="utf-8")
    assert text.startswith("@prefix") and "\nPREFIX " not in text  # the OWL API reads @prefix only
    graphs = [rdflib.Graph().parse(dist / name) for name in ("ontology.ttl", "ontology.rdf", "ontology.jsonld")]
    assert all(len(g) == len(graphs[0]) > 1000 for g in graphs)
    assert isomorphic(graphs[0], graphs[1]) and isomorphic(graphs[0], graphs[2])
    assert graphs[0].value(ONTOLOGY_IRI, OWL.versionInfo) == rdflib.Literal(__version__)


def test_data_and_inferences_are_separate_files(dist: Path) -> None:
    data, inferred = rdflib.Dataset(), rdflib.Dataset()
    data.parse(dist / "data.nq", format="nquads")
    inferred.parse(dist / "inferred.nq", format="nquads")
    names = {URIRef(str(g.identifier)) for g in data.graphs() if len(g)}
    assert URIRef("https://w3id.org/interfirm/graph/table2") in names and INFERRED_GRAPH not in names
    assert {URIRef(str(g.identifier)) for g in inferred.graphs() if len(g)} == {INFERRED_GRAPH}
    trig = rdflib.Dataset()
    trig.parse(dist / "inferred.trig", format="trig")
    assert len(trig) == len(inferred) > 1000
    assert len(rdflib.Graph().parse(dist / "inferred.ttl")) == len(inferred)


def test_void_and_dcat_describe_each_file_truly(dist: Path) -> None:
    g = rdflib.Graph().parse(dist / "void.ttl")
    dataset = URIRef("https://w3id.org/interfirm/dataset")
    assert (dataset, RDF.type, DCAT.Dataset) in g and (dataset, RDF.type, VOID.Dataset) in g
    assert g.value(dataset, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert g.value(dataset, DCTERMS.publisher) is not None
    assert g.value(dataset, DCTERMS.issued) is not None and g.value(dataset, DCTERMS.modified) is not None
    assert str(g.value(dataset, OWL.versionInfo)) == __version__
    examples = set(g.objects(dataset, VOID.exampleResource))
    data = rdflib.Graph().parse(dist / "data.ttl")
    assert examples and all((e, None, None) in data for e in examples)
    distributions = set(g.objects(dataset, DCAT.distribution))
    described = {str(g.value(d, DCTERMS.title)) for d in distributions}
    assert described == {p.name for p in dist.iterdir()} - {"void.ttl"}
    for d in distributions:
        path = dist / str(g.value(d, DCTERMS.title))
        assert int(g.value(d, DCAT.byteSize)) == path.stat().st_size
        checksum = g.value(d, SPDX.checksum)
        assert g.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(g.value(checksum, SPDX.checksumValue)) == hashlib.sha256(path.read_bytes()).hexdigest()
        assert g.value(d, DCAT.mediaType) is not None and g.value(d, DCAT.downloadURL) is not None
    linksets = set(g.subjects(RDF.type, VOID.Linkset))
    assert len(linksets) >= 6 and all(g.value(ls, VOID.triples) for ls in linksets)


def test_the_documentation_is_one_file_with_the_class_diagram(dist: Path) -> None:
    html = (dist / "index.html").read_text(encoding="utf-8")
    assert "<svg" in html and 'id="StrategicPartnership"' in html
    assert "/resource?iri=" not in html and 'href="/' not in html  # every link works outside the server
    assert 'href="#Firm"' in html  # the diagram's classes link to their sections
    svg = (dist / "ontology.svg").read_text(encoding="utf-8")
    assert "ifc:NorthSouthPartnership" in svg and "ifc:hasForm" in svg


def test_citation_file(dist: Path) -> None:
    cff = yaml.safe_load((dist / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["version"] == __version__ and cff["license"] == "CC-BY-4.0"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cff["date-released"])
    assert cff["references"][0]["number"] == "UNCTAD/ITE/EDS/2"


def test_the_version_rule(tmp_path: Path) -> None:
    """CHANGELOG.md's newest version is the ontology's owl:versionInfo, its owl:versionIRI and the package's."""
    ontology = rdflib.Graph().parse(ROOT / "ontology" / "interfirm.ttl")
    assert check_version(ontology, ROOT) == __version__
    assert ontology.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef(f"{ONTOLOGY_IRI}/{__version__}")
    assert ontology.value(ONTOLOGY_IRI, OWL.priorVersion) is not None
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\n## [9.0.0] - 2030-01-01\n\n- later\n")
    with pytest.raises(InputError, match=re.escape("CHANGELOG.md's newest version is 9.0.0")):
        check_version(ontology, tmp_path)
