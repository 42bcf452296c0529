"""The ontology compiled into instance-level OWL 2 RL rules, each justified by the axioms it applies.

The classified hierarchy (`kg.reasoning.classify`: HermiT, or the told one) and the ontology's axioms become a
graph of class nodes (named classes and the class expressions the axioms build: hasValue, someValuesFrom,
allValuesFrom, intersectionOf, unionOf) with subsumption edges. A rule has a conjunctive body of triple
patterns and one head; heads are *folded*: a rule that concludes `?x a C` also concludes every consequence of
C (its superclasses, the hasValue restrictions above it, the domains and ranges of the properties those give,
super-properties, inverses), so that derived facts never need the base rules again. Rules come in two stages:

- stage 0, one premise from the data: `?x a C` (cax-sco, cls-hv1, cls-int2, cls-uni) and `?x p ?y`
  (prp-spo1, prp-dom, prp-rng, prp-inv1/2, prp-symp); run once over the asserted data;
- stage 1, joins: cls-hv2, cls-int1, cls-svf1/2, cls-avf, prp-spo2 (property chains), prp-trp (transitive
  properties); run to a fixpoint after stage 0.

Not applied (no equality reasoning): the rules that conclude owl:sameAs (functional and inverse-functional
properties, max cardinality, keys), and the rules that only detect inconsistency (disjointness, complements,
owl:Nothing) - `kg reason` leaves those to HermiT. Typing with owl:Thing is not materialised.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

from kg.reasoning import Classification
from kg.results import short

_XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True)
class Var:
    """A rule variable."""

    name: str

    def __str__(self) -> str:
        return f"?{self.name}"


Term = Var | URIRef | BNode | Literal
Alternatives = tuple[URIRef, ...]  # a term position that matches any of these


@dataclass(frozen=True)
class Atom:
    """A triple pattern: variables, constants (rdflib terms), or in the object a set of alternative IRIs."""

    s: Term
    p: Term
    o: Term | Alternatives

    def variables(self) -> list[Var]:
        return [t for t in (self.s, self.p, self.o) if isinstance(t, Var)]

    def render(self) -> str:
        def one(t: Term | Alternatives) -> str:
            if isinstance(t, tuple):
                return "{" + ", ".join(short(a) for a in t) + "}"
            if isinstance(t, Var):
                return str(t)
            return "a" if t == RDF.type else short(t)

        return f"{one(self.s)} {one(self.p)} {one(self.o)}"


@dataclass(frozen=True)
class Rule:
    """Body => head, with the OWL 2 RL rule it instantiates and the axioms (ontology text) it applies."""

    kind: str  # the OWL 2 RL/RDF rule name(s), e.g. "cax-sco" or "cls-int1, cax-sco"
    body: tuple[Atom, ...]
    head: Atom
    axioms: tuple[str, ...]
    stage: int
    transitive: URIRef | None = None  # prp-trp: the body is the closure of this property (?x p+ ?z)

    @property
    def id(self) -> str:
        key = "|".join([self.kind, *(a.render() for a in self.body), self.head.render(), *self.axioms])
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def render(self) -> str:
        return f"{' . '.join(a.render() for a in self.body)}  =>  {self.head.render()}"


# ---- the class-node graph ------------------------------------------------------------------------------------


@dataclass
class _Graph:
    g: rdflib.Graph
    sup: dict[rdflib.term.Node, dict[rdflib.term.Node, str]] = field(default_factory=dict)  # node -> sup -> why
    psup: dict[URIRef, dict[URIRef, str]] = field(default_factory=dict)

    def add(self, a: rdflib.term.Node, b: rdflib.term.Node, why: str) -> None:
        if a != b and b != OWL.Thing:
            self.sup.setdefault(a, {}).setdefault(b, why)

    def padd(self, a: URIRef, b: URIRef, why: str) -> None:
        if a != b:
            self.psup.setdefault(a, {}).setdefault(b, why)


def _members(g: rdflib.Graph, node: rdflib.term.Node, p: URIRef) -> list[rdflib.term.Node]:
    head = g.value(node, p)
    return list(Collection(g, head)) if head is not None else []


def expression(g: rdflib.Graph, node: rdflib.term.Node, depth: int = 0) -> str:
    """A class expression in Manchester syntax, as text."""
    if not isinstance(node, BNode) or depth > 6:
        return short(node) if not isinstance(node, BNode) else "[ ]"

    def sub(n: rdflib.term.Node) -> str:
        text = expression(g, n, depth + 1)
        return f"({text})" if isinstance(n, BNode) and (" and " in text or " or " in text) else text

    for op, word in ((OWL.intersectionOf, " and "), (OWL.unionOf, " or ")):
        if g.value(node, op) is not None:
            return word.join(sub(m) for m in _members(g, node, op))
    prop = g.value(node, OWL.onProperty)
    if prop is not None:
        for pred, word in ((OWL.hasValue, "value"), (OWL.someValuesFrom, "some"), (OWL.allValuesFrom, "only")):
            v = g.value(node, pred)
            if v is not None:
                return f"{short(prop)} {word} {sub(v)}"
        for pred, word in ((OWL.minCardinality, "min"), (OWL.maxCardinality, "max"), (OWL.cardinality, "exactly")):
            v = g.value(node, pred)
            if v is not None:
                return f"{short(prop)} {word} {v}"
    return "[ ]"


X, Y, Z = Var("x"), Var("y"), Var("z")


def _selectivity(a: Atom) -> int:
    """Atoms with a constant object and a property first (fewest matches), class memberships after."""
    if a.p != RDF.type and not isinstance(a.o, Var):
        return 0
    if a.p != RDF.type:
        return 1
    return 2


class Compiler:
    """Compiles one ontology graph (and its classification) into rules."""

    def __init__(self, ontology: rdflib.Graph, classification: Classification) -> None:
        self.g = ontology
        self.graph = _Graph(ontology)
        self.hermit = classification.reasoner.startswith("HermiT")
        told = {(str(a), str(b)) for a, b in ontology.subject_objects(RDFS.subClassOf)}
        told_p = {(str(a), str(b)) for a, b in ontology.subject_objects(RDFS.subPropertyOf)}
        g = ontology

        def why(a: rdflib.term.Node, rel: str, b: rdflib.term.Node) -> str:
            return f"{expression(g, a)} {rel} {expression(g, b)}"

        # named hierarchy: the classifier's, with the told axioms (sound, and annotation properties HermiT omits)
        source = " (HermiT)" if self.hermit else ""
        for a, b in classification.classes:
            if (a, b) not in told:
                self.graph.add(URIRef(a), URIRef(b), why(URIRef(a), "SubClassOf", URIRef(b)) + source)
        for a, b in classification.properties:
            if (a, b) not in told_p:
                self.graph.padd(URIRef(a), URIRef(b), f"{short(URIRef(a))} SubPropertyOf {short(URIRef(b))}{source}")
        for a, b in g.subject_objects(RDFS.subClassOf):
            self.graph.add(a, b, why(a, "SubClassOf", b))
        for a, b in g.subject_objects(OWL.equivalentClass):
            self.graph.add(a, b, why(a, "EquivalentTo", b))
            self.graph.add(b, a, why(a, "EquivalentTo", b))
        for a, b in g.subject_objects(RDFS.subPropertyOf):
            if isinstance(a, URIRef) and isinstance(b, URIRef):
                self.graph.padd(a, b, f"{short(a)} SubPropertyOf {short(b)}")
        for a, b in g.subject_objects(OWL.equivalentProperty):
            if isinstance(a, URIRef) and isinstance(b, URIRef):
                self.graph.padd(a, b, f"{short(a)} EquivalentTo {short(b)}")
                self.graph.padd(b, a, f"{short(a)} EquivalentTo {short(b)}")
        # structural edges of class expressions: an intersection is below each member, a union above each
        for node in set(g.subjects(OWL.intersectionOf)):
            for m in _members(g, node, OWL.intersectionOf):
                self.graph.add(node, m, f"({expression(g, node)}) implies {expression(g, m)}")
        for node in set(g.subjects(OWL.unionOf)):
            for m in _members(g, node, OWL.unionOf):
                self.graph.add(m, node, f"{expression(g, m)} implies ({expression(g, node)})")
        self.inverse: dict[URIRef, list[tuple[URIRef, str]]] = {}
        for a, b in g.subject_objects(OWL.inverseOf):
            if isinstance(a, URIRef) and isinstance(b, URIRef):
                text = f"{short(a)} InverseOf {short(b)}"
                self.inverse.setdefault(a, []).append((b, text))
                self.inverse.setdefault(b, []).append((a, text))
        self.symmetric = {p for p in g.subjects(RDF.type, OWL.SymmetricProperty) if isinstance(p, URIRef)}
        self.transitive = {p for p in g.subjects(RDF.type, OWL.TransitiveProperty) if isinstance(p, URIRef)}
        self.datatype = {p for p in g.subjects(RDF.type, OWL.DatatypeProperty)} | {
            p for p in g.subjects(RDF.type, OWL.AnnotationProperty)
        }

    # -- closures with the axioms each step applies ----------------------------------------------------------

    def class_sup(self, node: rdflib.term.Node) -> dict[rdflib.term.Node, tuple[str, ...]]:
        """Every node above `node` (itself included, with no axiom), each with the axioms that lead there."""
        seen: dict[rdflib.term.Node, tuple[str, ...]] = {node: ()}
        queue = deque([node])
        while queue:
            n = queue.popleft()
            for m, why in self.graph.sup.get(n, {}).items():
                if m not in seen:
                    seen[m] = (*seen[n], why)
                    queue.append(m)
        return seen

    def class_sub(self, node: rdflib.term.Node) -> set[rdflib.term.Node]:
        below: dict[rdflib.term.Node, set[rdflib.term.Node]] = {}
        for a, sups in self.graph.sup.items():
            for b in sups:
                below.setdefault(b, set()).add(a)
        seen = {node}
        queue = deque([node])
        while queue:
            for m in below.get(queue.popleft(), ()):
                if m not in seen:
                    seen.add(m)
                    queue.append(m)
        return seen

    def prop_sup(self, p: URIRef) -> dict[URIRef, tuple[str, ...]]:
        seen: dict[URIRef, tuple[str, ...]] = {p: ()}
        queue = deque([p])
        while queue:
            n = queue.popleft()
            for m, why in self.graph.psup.get(n, {}).items():
                if m not in seen:
                    seen[m] = (*seen[n], why)
                    queue.append(m)
        return seen

    # -- consequences: what a fact entails about the same individuals, with no other premise ------------------

    def consequences(self, start: tuple) -> list[tuple[Atom, tuple[str, ...], str]]:  # type: ignore[type-arg]
        """The facts `start` entails on its own: ("type", var, node) or ("prop", s, p, o). Each is returned with
        its axioms and RL rule names; the start fact itself is not."""
        out: list[tuple[Atom, tuple[str, ...], str]] = []
        seen: set[tuple] = {start}  # type: ignore[type-arg]
        queue: deque[tuple[tuple, tuple[str, ...], tuple[str, ...]]] = deque([(start, (), ())])  # type: ignore[type-arg]
        while queue:
            fact, axioms, kinds = queue.popleft()
            new: list[tuple[tuple, tuple[str, ...], str]] = []  # type: ignore[type-arg]
            if fact[0] == "type":
                _, var, node = fact
                for sup, path in self.class_sup(node).items():
                    if sup == node:
                        continue
                    kind = "cax-sco"
                    new.append((("type", var, sup), path, kind))
                    value, prop = self.g.value(sup, OWL.hasValue), self.g.value(sup, OWL.onProperty)
                    if value is not None and isinstance(prop, URIRef):
                        new.append((("prop", var, prop, value), path, "cls-hv1"))
            else:
                _, s, p, o = fact
                for q, path in self.prop_sup(p).items():
                    if q != p:
                        new.append((("prop", s, q, o), path, "prp-spo1"))
                    for d in self.g.objects(q, RDFS.domain):
                        if d != OWL.Thing and d != RDFS.Resource:
                            why = f"{short(q)} Domain {expression(self.g, d)}"
                            new.append((("type", s, d), (*path, why), "prp-dom"))
                    if q not in self.datatype and not isinstance(o, Literal):
                        for r in self.g.objects(q, RDFS.range):
                            if r not in (OWL.Thing, RDFS.Resource, RDFS.Literal) and not str(r).startswith(_XSD):
                                new.append(
                                    (("type", o, r), (*path, f"{short(q)} Range {expression(self.g, r)}"), "prp-rng")
                                )
                    if not isinstance(o, Literal):
                        for inv, text in self.inverse.get(q, []):
                            new.append((("prop", o, inv, s), (*path, text), "prp-inv"))
                        if q in self.symmetric:
                            new.append((("prop", o, q, s), (*path, f"{short(q)} is symmetric"), "prp-symp"))
            for f, path, kind in new:
                if isinstance(f[1], Literal) or f in seen:
                    continue
                seen.add(f)
                full, kinds_now = (*axioms, *path), (*kinds, kind)
                queue.append((f, full, kinds_now))
                if f[0] == "type" and isinstance(f[2], URIRef):
                    out.append((Atom(f[1], RDF.type, f[2]), full, ", ".join(dict.fromkeys(kinds_now))))
                elif f[0] == "prop":
                    out.append((Atom(f[1], f[2], f[3]), full, ", ".join(dict.fromkeys(kinds_now))))
        return out

    # -- membership of a class node as alternative conjunctive bodies -----------------------------------------

    def member(self, var: Var, node: rdflib.term.Node, fresh: Iterator[Var], depth: int = 0) -> list[list[Atom]]:
        """The ways `var` can be shown a member of `node`, each a conjunction of atoms (named classes are read
        from the materialised types)."""
        if node == OWL.Thing:
            return [[]]
        if isinstance(node, URIRef):
            return [[Atom(var, RDF.type, node)]]
        if depth > 4:
            return []
        below = self.class_sub(node)
        named = tuple(sorted((n for n in below if isinstance(n, URIRef)), key=str))
        ways: list[list[Atom]] = [[Atom(var, RDF.type, named)]] if named else []
        for n in sorted((n for n in below if isinstance(n, BNode)), key=str):
            ways += self.condition(var, n, fresh, depth + 1)
        return ways

    def condition(self, var: Var, node: rdflib.term.Node, fresh: Iterator[Var], depth: int = 0) -> list[list[Atom]]:
        """The own membership condition of a class expression (hasValue, someValuesFrom, intersectionOf)."""
        g = self.g
        prop = g.value(node, OWL.onProperty)
        if isinstance(prop, URIRef):
            value = g.value(node, OWL.hasValue)
            if value is not None:
                return [[Atom(var, prop, value)]]
            filler = g.value(node, OWL.someValuesFrom)
            if filler is not None:
                y = next(fresh)
                return [[Atom(var, prop, y), *way] for way in self.member(y, filler, fresh, depth + 1)]
            return []
        members = _members(g, node, OWL.intersectionOf)
        if members:
            ways: list[list[Atom]] = [[]]
            for m in members:
                ways = [w + x for w in ways for x in self.member(var, m, fresh, depth + 1)]
            return ways
        return []

    @staticmethod
    def _prune(ways: list[list[Atom]], below: set[rdflib.term.Node]) -> list[list[Atom]]:
        """Drop the alternatives that test membership of a named class below the expression itself: the
        stage-0 rules already concluded everything that follows for its members."""
        out = []
        for way in ways:
            kept: list[Atom] = []
            for a in way:
                if a.p == RDF.type and isinstance(a.o, tuple):
                    rest = tuple(n for n in a.o if n not in below)
                    if not rest:
                        break
                    a = Atom(a.s, a.p, rest)
                elif a.p == RDF.type and a.o in below:
                    break
                kept.append(a)
            else:
                out.append(kept)
        return out

    # -- the rules ---------------------------------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        g = self.g
        out: dict[str, Rule] = {}

        def emit(kind: str, body: list[Atom], head: Atom, axioms: tuple[str, ...], stage: int, **kw: object) -> None:
            if head in body:
                return
            body = sorted(dict.fromkeys(body), key=_selectivity)
            rule = Rule(kind, tuple(body), head, tuple(dict.fromkeys(axioms)), stage, **kw)  # type: ignore[arg-type]
            out.setdefault(rule.id, rule)

        classes = {n for n in self.graph.sup if isinstance(n, URIRef)}
        classes |= {c for c in g.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
        for c in sorted(classes, key=str):
            for head, axioms, kind in self.consequences(("type", X, c)):
                emit(kind, [Atom(X, RDF.type, c)], head, axioms, 0)
        props = {p for p in self.graph.psup if isinstance(p, URIRef)}
        for kind_ in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty):
            props |= {p for p in g.subjects(RDF.type, kind_) if isinstance(p, URIRef)}
        for p in sorted(props, key=str):
            for head, axioms, kind in self.consequences(("prop", X, p, Y)):
                emit(kind, [Atom(X, p, Y)], head, axioms, 0)
        # cls-hv2, cls-int1, cls-svf1/2: a class expression's own condition implies what is above it
        for node in sorted({n for n in self.graph.sup if isinstance(n, BNode)}, key=str):
            fresh = (Var(f"y{i}") for i in range(1, 100))
            ways = self._prune(self.condition(X, node, fresh), self.class_sub(node))
            if not ways:
                continue
            kind0 = (
                "cls-hv2"
                if g.value(node, OWL.hasValue) is not None
                else ("cls-svf1" if g.value(node, OWL.someValuesFrom) is not None else "cls-int1")
            )
            heads = self.consequences(("type", X, node))
            for way in ways:
                for head, axioms, kind in heads:
                    emit(f"{kind0}, {kind}", way, head, axioms, 1)
        # cls-avf: x in (p only F), x p y => y in F
        for node in sorted(set(g.subjects(OWL.allValuesFrom)), key=str):
            prop, filler = g.value(node, OWL.onProperty), g.value(node, OWL.allValuesFrom)
            if not isinstance(prop, URIRef) or filler is None:
                continue
            fresh = (Var(f"y{i}") for i in range(1, 100))
            why = f"{expression(g, node)}"
            for way in self.member(X, node, fresh):
                start = ("type", Z, filler)
                heads = [(Atom(Z, RDF.type, filler), (), "cls-avf")] if isinstance(filler, URIRef) else []
                for head, axioms, kind in heads + self.consequences(start):
                    emit(f"cls-avf, {kind}", [*way, Atom(X, prop, Z)], head, (why, *axioms), 1)
        # prp-spo2: property chains
        for p, chain_head in g.subject_objects(OWL.propertyChainAxiom):
            chain = list(Collection(g, chain_head))
            if not isinstance(p, URIRef) or not chain or not all(isinstance(q, URIRef) for q in chain):
                continue
            names = [X, *(Var(f"y{i}") for i in range(1, len(chain))), Z]
            body = [Atom(names[i], q, names[i + 1]) for i, q in enumerate(chain)]
            why = f"{short(p)} SubPropertyChain {' o '.join(short(q) for q in chain)}"
            start = ("prop", X, p, Z)
            for head, axioms, kind in [(Atom(X, p, Z), (), "prp-spo2"), *self.consequences(start)]:
                emit(f"prp-spo2, {kind}" if kind != "prp-spo2" else kind, body, head, (why, *axioms), 1)
        # prp-trp: transitive properties, run as a closure (?x p+ ?z)
        for p in sorted(self.transitive, key=str):
            why = f"{short(p)} is transitive"
            start = ("prop", X, p, Z)
            for head, axioms, kind in [(Atom(X, p, Z), (), "prp-trp"), *self.consequences(start)]:
                emit(
                    f"prp-trp, {kind}" if kind != "prp-trp" else kind,
                    [Atom(X, p, Y), Atom(Y, p, Z)],
                    head,
                    (why, *axioms),
                    1,
                    transitive=p,
                )
        return sorted(out.values(), key=lambda r: (r.stage, r.kind, r.render()))


def compile_rules(ontology: rdflib.Graph, classification: Classification) -> list[Rule]:
    """The instance-level rules of `ontology` (see the module docstring), without the subsumed ones."""
    return without_subsumed(Compiler(ontology, classification).rules())


def without_subsumed(rules: list[Rule]) -> list[Rule]:
    """`rules` less each one another makes redundant: one whose body another's body maps into (a substitution of
    the other's variables turns each of its atoms into one of this body's) with the same head, run in the same
    stage or later. Unfolding nested class expressions gives such rules (an agreement with partners of the
    North, of the South and of the South again), each a query as costly as the rule it repeats. Of rules that
    subsume each other, the first is kept."""
    by_head: dict[tuple[object, ...], list[int]] = {}
    for i, r in enumerate(rules):
        if r.transitive is None:
            by_head.setdefault((r.head.p, r.head.o if not isinstance(r.head.o, Var) else None), []).append(i)
    dropped: set[int] = set()
    for indices in by_head.values():
        for i in indices:
            for j in indices:
                if i == j or j in dropped or rules[j].stage < rules[i].stage:
                    continue
                if _subsumes(rules[j], rules[i]) and (j < i or not _subsumes(rules[i], rules[j])):
                    dropped.add(i)
                    break
    return [r for i, r in enumerate(rules) if i not in dropped]


def _subsumes(general: Rule, special: Rule) -> bool:
    """Whether every match of `special`'s body is one of `general`'s giving the same head (a homomorphism)."""
    if len(general.body) > len(special.body):
        return False

    def term(t: object, u: object, binding: dict[Var, object]) -> dict[Var, object] | None:
        if isinstance(t, Var):
            if t in binding:
                return binding if binding[t] == u else None
            return {**binding, t: u}
        if isinstance(t, tuple):  # alternatives: they must cover what `special` allows
            return binding if (set(u) if isinstance(u, tuple) else {u}) <= set(t) else None
        return binding if t == u else None

    def atom(a: Atom, b: Atom, binding: dict[Var, object]) -> dict[Var, object] | None:
        for t, u in ((a.s, b.s), (a.p, b.p), (a.o, b.o)):
            found = term(t, u, binding)
            if found is None:
                return None
            binding = found
        return binding

    def search(k: int, binding: dict[Var, object]) -> bool:
        if k == len(general.body):
            return atom(general.head, special.head, binding) is not None
        for b in special.body:
            found = atom(general.body[k], b, binding)
            if found is not None and search(k + 1, found):
                return True
        return False

    start = atom(general.head, special.head, {})  # the head fixes the variables it shares with the body
    return start is not None and search(0, start)
