"""OWL 2 DL reasoning with HermiT (bundled in owlready2, run on the machine's Java): consistency and
satisfiability of ontology and data, and the classification of the ontology alone (its class and property
hierarchies) that the rule engine of `kg.inference` builds on, cached by the ontology's checksum."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDFS

from kg.errors import StoreError
from kg.settings import Settings
from kg.sources import load_graph, repository_sources

CACHE_VERSION = "1"  # bump when the cached classification's format or meaning changes
HERMIT_TIMEOUT = 300.0


@dataclass
class ReasonerVerdict:
    """What HermiT concluded about the ontology and data."""

    consistent: bool
    unsatisfiable: list[str]
    explanation: str = ""

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable


def check(settings: Settings, extra: rdflib.Graph | None = None) -> ReasonerVerdict:
    """Load the ontology and all data (plus `extra`) and ask HermiT for consistency and unsatisfiable classes."""
    graph = load_graph(repository_sources(settings))
    if extra is not None:
        graph += extra
    return check_graph(graph)


def check_graph(graph: rdflib.Graph) -> ReasonerVerdict:
    if shutil.which("java") is None:
        raise StoreError("HermiT needs Java and none is on PATH", hint="install a JRE (Java 11 or newer)")
    import owlready2  # imported here: it sets up a global world on import

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "all.nt"
        graph.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        noise = io.StringIO()
        with contextlib.redirect_stderr(noise):
            world.get_ontology(path.as_uri()).load()
            try:
                # HermiT's default options: every datatype the graph uses is in the OWL 2 datatype map
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
            except owlready2.OwlReadyInconsistentOntologyError as exc:
                return ReasonerVerdict(False, [], str(exc)[:2000])
            except owlready2.OwlReadyJavaError as exc:
                raise StoreError(f"HermiT failed: {str(exc)[:1000]}") from exc
        unsat = sorted(c.iri for c in world.inconsistent_classes() if c.iri != "http://www.w3.org/2002/07/owl#Nothing")
        world.close()
        return ReasonerVerdict(True, unsat)


# ---- classification of the ontology (the TBox) ----------------------------------------------------------------

_TOP_BOTTOM = {
    str(OWL.Thing),
    str(OWL.Nothing),
    str(OWL.topObjectProperty),
    str(OWL.bottomObjectProperty),
    str(OWL.topDataProperty),
    str(OWL.bottomDataProperty),
}
_AXIOM = re.compile(
    r"^(SubClassOf|EquivalentClasses|SubObjectPropertyOf|EquivalentObjectProperties|"
    r"SubDataPropertyOf|EquivalentDataProperties)\( ((?:<[^>]+>\s*)+)\)$",
    re.MULTILINE,
)


@dataclass
class Classification:
    """The ontology's named class and property hierarchies: direct subsumptions (sub, super) as the classifier
    found them, equivalences as sub/super both ways. `reasoner` says which classifier produced them."""

    classes: list[tuple[str, str]] = field(default_factory=list)
    properties: list[tuple[str, str]] = field(default_factory=list)
    reasoner: str = ""
    checksum: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": CACHE_VERSION,
                "reasoner": self.reasoner,
                "checksum": self.checksum,
                "classes": sorted(self.classes),
                "properties": sorted(self.properties),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Classification:
        data = json.loads(text)
        if data.get("version") != CACHE_VERSION:
            raise ValueError("another cache version")
        return cls(
            [tuple(p) for p in data["classes"]],  # type: ignore[misc]
            [tuple(p) for p in data["properties"]],  # type: ignore[misc]
            data["reasoner"],
            data["checksum"],
        )


def ontology_checksum(ontology: rdflib.Graph) -> str:
    """A checksum of the ontology's triples that does not depend on blank node labels (a store gives them new
    ones on every load): each blank node stands for the hash of what it says (its outgoing triples, nested)."""
    memo: dict[rdflib.term.Node, str] = {}

    def term(t: rdflib.term.Node, depth: int = 0) -> str:
        if not isinstance(t, rdflib.BNode):
            return t.n3()
        if t not in memo:
            memo[t] = "_:cycle"  # a blank node reached again while hashing itself
            if depth > 50:
                return memo[t]
            parts = sorted(f"{p.n3()} {term(o, depth + 1)}" for p, o in ontology.predicate_objects(t))
            memo[t] = "_:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return memo[t]

    lines = sorted({f"{term(s)} {p.n3()} {term(o)}" for s, p, o in ontology})
    return hashlib.sha256((CACHE_VERSION + "\n" + "\n".join(lines)).encode()).hexdigest()


_MEMO: dict[str, Classification] = {}


def classify(ontology: rdflib.Graph, cache_dir: Path | None = None) -> Classification:
    """The class and property hierarchies of `ontology`, classified by HermiT once per ontology checksum.

    Kept in memory and, with `cache_dir`, in a file named after the checksum. Without Java, or when HermiT
    refuses the ontology, the told hierarchy (the axioms as written, closed under OWL 2 RL's schema rules)
    is used instead, and `reasoner` says so.
    """
    checksum = ontology_checksum(ontology)
    if checksum in _MEMO:
        return _MEMO[checksum]
    path = cache_dir / f"tbox-{checksum[:32]}.json" if cache_dir is not None else None
    if path is not None and path.is_file():
        try:
            result = Classification.from_json(path.read_text())
            if result.checksum == checksum:
                _MEMO[checksum] = result
                return result
        except (OSError, ValueError, KeyError, TypeError):
            pass
    result = _hermit(ontology)
    if result is None:
        result = told(ontology)
    result.checksum = checksum
    _MEMO[checksum] = result
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
            tmp.write_text(result.to_json())
            tmp.replace(path)
        except OSError:
            pass  # a cache that cannot be written only costs time
    return result


def _hermit_classpath() -> str | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("owlready2")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "hermit"
    jar = folder / "HermiT.jar"
    return os.pathsep.join([str(folder), str(jar)]) if jar.is_file() else None


def _hermit(ontology: rdflib.Graph) -> Classification | None:
    """HermiT's command line with its default options: -c (classes), -O and -D (object and data properties)."""
    java, classpath = shutil.which("java"), _hermit_classpath()
    if java is None or classpath is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ontology.ttl"
        g = rdflib.Graph()
        g += ontology
        g.serialize(path, format="turtle", encoding="utf-8")  # @prefix Turtle: the OWL API's parser reads it
        try:
            proc = subprocess.run(
                [
                    java,
                    "-Xmx1g",
                    "-cp",
                    classpath,
                    "org.semanticweb.HermiT.cli.CommandLine",
                    "-c",
                    "-O",
                    "-D",
                    path.as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=HERMIT_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    if proc.returncode != 0:
        return None
    classes: list[tuple[str, str]] = []
    properties: list[tuple[str, str]] = []
    for kind, iris_text in _AXIOM.findall(proc.stdout):
        iris = re.findall(r"<([^>]+)>", iris_text)
        pairs: list[tuple[str, str]] = []
        if kind.startswith("Sub"):
            pairs = [(iris[0], iris[1])]
        else:
            pairs = [(a, b) for a in iris for b in iris if a != b]
        target = classes if "Class" in kind else properties
        target += [(a, b) for a, b in pairs if a not in _TOP_BOTTOM and b not in _TOP_BOTTOM]
    return Classification(classes, properties, reasoner="HermiT (owlready2's HermiT.jar, default options)")


def told(ontology: rdflib.Graph) -> Classification:
    """The hierarchies as the ontology states them: rdfs:subClassOf and owl:equivalentClass between named
    classes, rdfs:subPropertyOf and owl:equivalentProperty between properties (OWL 2 RL scm-sco, scm-eqc,
    scm-spo, scm-eqp); the engine closes them transitively."""
    classes: list[tuple[str, str]] = []
    properties: list[tuple[str, str]] = []
    for a, b in ontology.subject_objects(RDFS.subClassOf):
        if isinstance(a, rdflib.URIRef) and isinstance(b, rdflib.URIRef):
            classes.append((str(a), str(b)))
    for a, b in ontology.subject_objects(OWL.equivalentClass):
        if isinstance(a, rdflib.URIRef) and isinstance(b, rdflib.URIRef):
            classes += [(str(a), str(b)), (str(b), str(a))]
    for a, b in ontology.subject_objects(RDFS.subPropertyOf):
        if isinstance(a, rdflib.URIRef) and isinstance(b, rdflib.URIRef):
            properties.append((str(a), str(b)))
    for a, b in ontology.subject_objects(OWL.equivalentProperty):
        if isinstance(a, rdflib.URIRef) and isinstance(b, rdflib.URIRef):
            properties += [(str(a), str(b)), (str(b), str(a))]
    classes = [(a, b) for a, b in classes if a not in _TOP_BOTTOM and b not in _TOP_BOTTOM and a != b]
    properties = [(a, b) for a, b in properties if a not in _TOP_BOTTOM and b not in _TOP_BOTTOM and a != b]
    return Classification(sorted(set(classes)), sorted(set(properties)), reasoner="told hierarchy (no HermiT)")
