"""OWL 2 DL reasoning with HermiT (run by owlready2 on the machine's Java): consistency and satisfiability."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import rdflib

from kg.errors import StoreError
from kg.settings import Settings
from kg.sources import load_graph, repository_sources


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
