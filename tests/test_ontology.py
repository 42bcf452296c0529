"""The ontology: header, labels and definitions, domains and ranges, declared terms, HermiT consistency."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg import formatting, reasoning
from kg.namespaces import IFC, ONTOLOGY_IRI
from kg.settings import Settings
from kg.sources import load_graph, repository_sources
from kg.store import Store
from tests.test_queries import CATALOG

ROOT = Path(__file__).resolve().parent.parent
VANN = rdflib.Namespace("http://purl.org/vocab/vann/")


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontology" / "interfirm.ttl")


def own_terms(g: rdflib.Graph) -> set[rdflib.URIRef]:
    return {s for s in g.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(str(IFC))}


def test_header(ontology: rdflib.Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    for p in (
        OWL.versionIRI,
        OWL.versionInfo,
        DCTERMS.title,
        DCTERMS.description,
        DCTERMS.license,
        DCTERMS.created,
        DCTERMS.source,
        VANN.preferredNamespacePrefix,
        VANN.preferredNamespaceUri,
    ):
        assert ontology.value(ONTOLOGY_IRI, p) is not None, p
    assert str(ontology.value(ONTOLOGY_IRI, VANN.preferredNamespaceUri)) == str(IFC)


def test_the_header_states_the_licence_of_ontology_and_data(ontology: rdflib.Graph) -> None:
    """CC BY 4.0 for the ontology and the data, as LICENSE-DATA says."""
    cc_by = rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert ontology.value(ONTOLOGY_IRI, DCTERMS.license) == cc_by
    assert "https://creativecommons.org/licenses/by/4.0/" in (ROOT / "LICENSE-DATA").read_text()
    rights = str(ontology.value(ONTOLOGY_IRI, DCTERMS.rights))
    assert "the data" in rights and "CC BY 4.0" in rights and "LICENSE-DATA" in rights


def test_every_term_has_one_english_label_a_definition_and_is_defined_by(ontology: rdflib.Graph) -> None:
    problems = []
    for term in sorted(own_terms(ontology)):
        labels = list(ontology.objects(term, RDFS.label))
        if len(labels) != 1 or getattr(labels[0], "language", None) != "en":
            problems.append(f"{term}: needs exactly one rdfs:label@en, has {labels}")
        defs = [d for d in ontology.objects(term, SKOS.definition) if getattr(d, "language", None) == "en"]
        if not defs:
            problems.append(f"{term}: no skos:definition@en")
        if (term, RDFS.isDefinedBy, ONTOLOGY_IRI) not in ontology:
            problems.append(f"{term}: no rdfs:isDefinedBy")
        if not list(ontology.objects(term, RDF.type)):
            problems.append(f"{term}: no rdf:type")
    assert not problems, "\n".join(problems)


def test_every_property_states_domain_and_range(ontology: rdflib.Graph) -> None:
    missing = []
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for p in ontology.subjects(RDF.type, kind):
            if not str(p).startswith(str(IFC)):
                continue
            inherited = list(ontology.transitive_objects(p, RDFS.subPropertyOf))
            if not any(ontology.value(q, RDFS.domain) for q in inherited):
                missing.append(f"{p}: no domain")
            if not any(ontology.value(q, RDFS.range) for q in inherited):
                missing.append(f"{p}: no range")
    assert not missing, "\n".join(missing)


def _used_terms(text: str) -> set[str]:
    return set(re.findall(r"ifc:([A-Za-z][A-Za-z0-9_]*)", text)) | set(
        re.findall(r"<https://w3id\.org/interfirm/ontology#([A-Za-z0-9_]+)>", text)
    )


@pytest.mark.parametrize("folder", ["data", "shapes", "queries", "tests/cases/valid", "tests/cases/invalid", "docs"])
def test_every_namespace_term_used_is_declared(ontology: rdflib.Graph, folder: str) -> None:
    declared = {str(t)[len(str(IFC)) :] for t in own_terms(ontology)}
    undeclared = {}
    for path in sorted((ROOT / folder).glob("*")):
        if path.suffix not in (".ttl", ".rq", ".md"):
            continue
        text = path.read_text(encoding="utf-8")
        if folder == "tests/cases/invalid" and "ifs:UndeclaredTermShape" in text.splitlines()[0]:
            continue  # these files misspell terms on purpose
        bad = _used_terms(text) - declared
        if bad:
            undeclared[path.name] = sorted(bad)
    assert not undeclared, undeclared


@pytest.mark.slow
def test_hermit_consistent_and_no_unsatisfiable_class(settings: Settings) -> None:
    verdict = reasoning.check(settings)
    assert verdict.consistent, verdict.explanation
    assert verdict.unsatisfiable == []


@pytest.mark.slow
def test_hermit_detects_an_inconsistency(settings: Settings) -> None:
    """The check can fail: a firm that is also a government contradicts a disjointness axiom."""
    bad = rdflib.Graph()
    x = rdflib.URIRef("https://w3id.org/interfirm/id/firm-test-contradiction")
    bad.add((x, RDF.type, IFC.Firm))
    bad.add((x, RDF.type, IFC.Government))
    verdict = reasoning.check(settings, extra=bad)
    assert not verdict.consistent


# ---- readable by the OWL tools users have: the OWL API and HermiT bundled in owlready2, default options ----------

OWLCHECK = ROOT / "tools" / "owlcheck" / "OwlCheck.java"
FOREIGN_DECLARATIONS = {
    OWL.Class,
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    OWL.NamedIndividual,
}


def hermit_jar() -> Path:
    import owlready2  # imported here: it sets up a global world on import

    jar = Path(owlready2.__file__).parent / "hermit" / "HermiT.jar"
    assert jar.is_file(), f"owlready2 bundles HermiT (with the OWL API) at {jar}"
    return jar


def java(*args: str) -> subprocess.CompletedProcess[str]:
    java_bin = shutil.which("java")
    assert java_bin, "the OWL checks run on Java (a JRE 11 or newer)"
    return subprocess.run([java_bin, *args], capture_output=True, text=True, timeout=600)


def owlcheck(*args: str) -> list[list[str]]:
    """The facts OwlCheck reports (PARSED, PROFILE, CONSISTENT, UNSATISFIABLE, INSTANCE), one list a line."""
    proc = java("-cp", str(hermit_jar()), str(OWLCHECK), *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def merged_turtle(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Path:
    """The ontology and all data in one Turtle file, as a user would load them together into Protege."""
    path = tmp_path_factory.mktemp("owl") / "interfirm-all.ttl"
    load_graph(repository_sources(settings)).serialize(path, format="turtle", encoding="utf-8")
    return path


def test_hermit_command_line_with_default_options_classifies_the_ontology_turtle() -> None:
    """HermiT's own command line (the OWL API's Turtle parser, no option to ignore datatypes) on the file itself."""
    ontology_file = ROOT / "ontology" / "interfirm.ttl"
    proc = java("-cp", str(hermit_jar()), "org.semanticweb.HermiT.cli.CommandLine", "-k", "-U", ontology_file.as_uri())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "http://www.w3.org/2002/07/owl#Thing is satisfiable." in proc.stdout, proc.stdout
    unsatisfiable = proc.stdout.split("Classes equivalent to 'owl:Nothing':", 1)[1].split()
    assert unsatisfiable == ["owl:Nothing"], proc.stdout


def test_every_repository_turtle_file_parses_with_the_owl_api(settings: Settings) -> None:
    files = formatting.turtle_files(settings)
    facts = owlcheck("--parse-only", *map(str, files))
    assert [f[1] for f in facts if f[0] == "PARSED"] == [str(p) for p in files]


def test_ontology_and_data_are_owl2_dl_consistent_without_unsatisfiable_classes(merged_turtle: Path) -> None:
    facts = owlcheck(str(merged_turtle))
    assert [f for f in facts if f[0] == "PROFILE"] == []
    assert ["CONSISTENT", "true"] in facts
    assert [f for f in facts if f[0] == "UNSATISFIABLE"] == []


def test_strategic_partnerships_have_one_answer(merged_turtle: Path, store: Store, paper_text: str) -> None:
    """HermiT's members of ifc:StrategicPartnership are the saved query's; Box 4's one-way joint venture, which
    the paper presents among the cases of partnering, is one of them."""
    assert "Some cases suggesting benefits that developing country firms might obtain through partnering" in paper_text
    facts = owlcheck(
        f"--instances={IFC.StrategicPartnership}", f"--instances={IFC.TwoWayPartnership}", str(merged_turtle)
    )
    inferred = {f[2] for f in facts if f[0] == "INSTANCE" and f[1] == str(IFC.StrategicPartnership)}
    two_way = {f[2] for f in facts if f[0] == "INSTANCE" and f[1] == str(IFC.TwoWayPartnership)}
    queried = {str(r[0]) for r in store.query(CATALOG.get("strategic-partnerships").text).rows}
    assert inferred == queried
    assert two_way < inferred
    assert "https://w3id.org/interfirm/id/agreement-shanghai-volkswagen-jv" in inferred
    assert "https://w3id.org/interfirm/id/agreement-quest-biocon-biochemicals-acquisition" not in inferred


def test_no_axioms_about_other_vocabularies_terms(ontology: rdflib.Graph) -> None:
    """Terms of other vocabularies are only declared (for OWL 2 DL); what they mean is their vocabulary's business."""
    said = [
        (s, p, o)
        for s, p, o in ontology
        if isinstance(s, rdflib.URIRef)
        and not str(s).startswith((str(IFC), str(ONTOLOGY_IRI)))
        and not (p == RDF.type and o in FOREIGN_DECLARATIONS)
    ]
    assert said == []


def test_own_terms_tied_to_the_standard_ones(ontology: rdflib.Graph) -> None:
    org = rdflib.Namespace("http://www.w3.org/ns/org#")
    sdmx = "http://purl.org/linked-data/sdmx/2009/"
    assert (IFC.hasMember, RDFS.subPropertyOf, org.hasMember) in ontology
    assert (IFC.subsidiaryOf, RDFS.subPropertyOf, org.subOrganizationOf) in ontology
    assert (IFC.about, RDFS.subPropertyOf, DCTERMS.subject) in ontology
    assert (IFC.summary, RDFS.subPropertyOf, DCTERMS.description) in ontology
    assert (IFC.refArea, RDFS.subPropertyOf, rdflib.URIRef(sdmx + "dimension#refArea")) in ontology
    assert (IFC.value, RDFS.subPropertyOf, rdflib.URIRef(sdmx + "measure#obsValue")) in ontology
    assert (IFC.unit, RDFS.subPropertyOf, rdflib.URIRef(sdmx + "attribute#unitMeasure")) in ontology
    assert (None, None, rdflib.URIRef(str(IFC) + "obsStatus")) not in ontology


def test_no_gyear_in_ranges_or_reasoned_values(ontology: rdflib.Graph, settings: Settings) -> None:
    """xsd:gYear is outside the OWL 2 datatype map; only annotation values (dcterms:issued) may keep it."""
    gyear = rdflib.URIRef("http://www.w3.org/2001/XMLSchema#gYear")
    assert (None, RDFS.range, gyear) not in ontology
    graph = load_graph(repository_sources(settings))
    annotations = set(ontology.subjects(RDF.type, OWL.AnnotationProperty))
    bad = [
        (s, p) for s, p, o in graph if isinstance(o, rdflib.Literal) and o.datatype == gyear and p not in annotations
    ]
    assert bad == []
    years = list(graph.objects(None, IFC.startYear)) + list(graph.objects(None, IFC.periodStart))
    assert years and all(y.datatype == rdflib.URIRef("http://www.w3.org/2001/XMLSchema#integer") for y in years)
