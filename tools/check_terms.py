"""Report ifc: terms used in Turtle files that ontology/interfirm.ttl does not declare."""

import sys
from pathlib import Path

import rdflib

IFC = "https://w3id.org/interfirm/ontology#"
root = Path(__file__).resolve().parent.parent
onto = rdflib.Graph().parse(root / "ontology" / "interfirm.ttl")
declared = {str(s) for s in onto.subjects() if str(s).startswith(IFC)}
bad = 0
for name in sys.argv[1:]:
    g = rdflib.Graph().parse(name)
    for t in g:
        for term in t:
            if isinstance(term, rdflib.URIRef) and str(term).startswith(IFC) and str(term) not in declared:
                print(f"{name}: undeclared {term}")
                bad += 1
    print(f"{name}: {len(g)} triples")
sys.exit(1 if bad else 0)
