"""What a shape reads: the shapes compiled into one automaton of walks from a focus node.

Validating a focus node against a shape reads only the triples on certain walks from it: the shape's
property paths (sequence, alternative, inverse and repeated paths), the nested shapes of `sh:node`,
`sh:property`, `sh:or`/`sh:and`/`sh:not`/`sh:xone` and qualified value shapes, `rdf:type`/`rdfs:subClassOf*`
for `sh:class`, the triple patterns of SPARQL constraints connected to `$this`, and for a top-level shape the
triples that make the node a target. This module compiles all of that, from the shapes alone, into one
nondeterministic automaton whose transitions are steps along triples. `kg.focus` runs it backwards from new
triples (which focus nodes can they affect?) and forwards from those nodes (which triples must be fetched?).

Each step also records whether adding a triple it reads can *add* a result ("grows"): adding a type to a value
of `sh:class` or a value to a `sh:minCount` path can only remove results, unless negated by `sh:not`. New data
whose triples are only read by such steps cannot give a node a new finding, so the backward walk skips them;
this keeps a new type on a shared node (a country, a form) from reaching every resource that points to it.

A shape that reads triples not connected to its focus node (a SPARQL pattern on constant or free terms) or
uses SHACL-JS or node expressions cannot be focused: `Reach.unfocused` names it and the caller validates the
whole graph instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import rdflib
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath
from rdflib.plugins.sparql.parserutils import CompValue

from kg.errors import InputError

Node = URIRef | BNode | Literal


@dataclass(frozen=True)
class Step:
    """One step along triples: `edge` follows triples with `predicate` (any when None) from subject to object,
    or object to subject when `inverse`; `predicate` goes from a node to the predicates of its triples."""

    kind: str
    predicate: URIRef | None = None
    inverse: bool = False


@dataclass(frozen=True)
class Transition:
    source: int
    step: Step
    target: int
    grows: bool  # adding a triple read here can add a validation result


@dataclass(frozen=True)
class Targets:
    """A top-level shape's target declarations."""

    classes: frozenset[URIRef] = frozenset()
    nodes: frozenset[Node] = frozenset()
    subjects_of: frozenset[URIRef] = frozenset()
    objects_of: frozenset[URIRef] = frozenset()
    selects: tuple[str, ...] = ()  # SPARQL-based targets (SHACL-AF), with their prefixes


@dataclass
class Reach:
    """The automaton: `roots[shape]` is the state a focus node of a top-level shape starts in."""

    size: int = 0
    epsilon: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    steps: dict[int, list[Transition]] = field(default_factory=lambda: defaultdict(list))
    roots: dict[Node, int] = field(default_factory=dict)
    targets: dict[Node, Targets] = field(default_factory=dict)
    unfocused: dict[Node, str] = field(default_factory=dict)  # shape -> why it cannot be focused
    # reverse indexes, filled by `index()`
    back_epsilon: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    back_steps: dict[int, list[Transition]] = field(default_factory=lambda: defaultdict(list))
    by_predicate: dict[URIRef | None, list[Transition]] = field(default_factory=lambda: defaultdict(list))
    root_shapes: dict[int, list[Node]] = field(default_factory=lambda: defaultdict(list))
    moves: dict[int, list[tuple[Step, tuple[int, ...]]]] = field(default_factory=dict)
    back_moves: dict[int, list[tuple[Step, tuple[int, ...]]]] = field(default_factory=dict)
    roots_behind: dict[int, list[Node]] = field(default_factory=dict)

    def index(self) -> None:
        """The indexes the walks use: reverse edges, transitions by predicate, and for each state the steps
        leaving its epsilon closure (forwards) and entering it (backwards) with the roots behind it."""
        for source, targets in self.epsilon.items():
            for target in targets:
                self.back_epsilon[target].append(source)
        for transitions in self.steps.values():
            for t in transitions:
                self.back_steps[t.target].append(t)
                self.by_predicate[t.step.predicate].append(t)
        for shape, state in self.roots.items():
            self.root_shapes[state].append(shape)
        for state in range(self.size):
            ahead = _closure(state, self.epsilon)
            moves: dict[Step, list[int]] = defaultdict(list)
            for q in ahead:
                for t in self.steps.get(q, ()):
                    moves[t.step].append(t.target)
            self.moves[state] = [(step, tuple(targets)) for step, targets in moves.items()]
            behind = _closure(state, self.back_epsilon)
            back: dict[Step, list[int]] = defaultdict(list)
            for q in behind:
                for t in self.back_steps.get(q, ()):
                    back[t.step].append(t.source)
            self.back_moves[state] = [(step, tuple(sources)) for step, sources in back.items()]
            self.roots_behind[state] = [shape for q in behind for shape in self.root_shapes.get(q, ())]

    def reading(self, predicate: URIRef) -> list[Transition]:
        """The transitions that read triples with this predicate (named, any, or predicate-of steps)."""
        return self.by_predicate.get(predicate, []) + self.by_predicate.get(None, [])


def _closure(state: int, edges: dict[int, list[int]]) -> list[int]:
    """`state` and every state reachable from it along `edges`."""
    seen, todo = {state}, [state]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return sorted(seen)


_EFFECT_OF_MORE_VALUES: dict[URIRef, int] = {
    # +1: another value node can add a result; -1: it can only remove one
    SH.minCount: -1,
    SH.hasValue: -1,
    SH.qualifiedMinCount: -1,
}
_VALUE_PARAMETERS = {  # parameters that constrain each value node
    SH["class"],
    SH.datatype,
    SH.nodeKind,
    SH.minExclusive,
    SH.minInclusive,
    SH.maxExclusive,
    SH.maxInclusive,
    SH.minLength,
    SH.maxLength,
    SH.pattern,
    SH.languageIn,
    SH.uniqueLang,
    SH["in"],
    SH.node,
    SH.property,
    SH["or"],
    SH["and"],
    SH["not"],
    SH.xone,
    SH.maxCount,
    SH.qualifiedMaxCount,
    SH.equals,
    SH.disjoint,
    SH.lessThan,
    SH.lessThanOrEquals,
    SH.sparql,
}
_UNSUPPORTED = {
    SH.js: "a SHACL-JS constraint",
    SH.expression: "a node expression (sh:expression)",
}
_TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


def _combine(polarity: int, effect: int) -> bool:
    """Whether a read with `effect` (+1 adds results, -1 removes, 0 either) under `polarity` can add results."""
    return polarity == 0 or effect == 0 or polarity * effect > 0


class _Compiler:
    def __init__(self, shapes: rdflib.Graph) -> None:
        self.g = shapes
        self.reach = Reach()
        self.entries: dict[tuple[Node, int], int] = {}
        self.prefixes = _prefix_declarations(shapes)
        # predicates whose values a shape enumerates (sh:in): values shared by many resources
        self.enumerated = {
            p for shape in shapes.subjects(SH["in"], None) if isinstance(p := shapes.value(shape, SH.path), URIRef)
        }
        self.current: Node | None = None  # the top-level shape being compiled

    def state(self) -> int:
        self.reach.size += 1
        return self.reach.size - 1

    def eps(self, a: int, b: int) -> None:
        if b not in self.reach.epsilon[a]:
            self.reach.epsilon[a].append(b)

    def step(self, a: int, step: Step, grows: bool) -> int:
        b = self.state()
        self.reach.steps[a].append(Transition(a, step, b, grows))
        return b

    def unfocused(self, why: str) -> None:
        if self.current is not None:
            self.reach.unfocused.setdefault(self.current, why)

    # ------------------------------------------------------------------ paths

    def path(self, node: Any, start: int, grows: bool) -> int:
        """Compile a SHACL path (from the shapes graph) from `start`; returns the state of its value nodes."""
        return self.walk(self.shacl_path(node), start, grows)

    def shacl_path(self, node: Any) -> tuple:  # type: ignore[type-arg]
        g = self.g
        if isinstance(node, URIRef):
            return ("edge", node, False)
        if (node, RDF.first, None) in g:
            return ("seq", tuple(self.shacl_path(m) for m in Collection(g, node)))
        for p, kind in (
            (SH.alternativePath, "alt"),
            (SH.inversePath, "inv"),
            (SH.zeroOrMorePath, "star"),
            (SH.oneOrMorePath, "plus"),
            (SH.zeroOrOnePath, "opt"),
        ):
            value = g.value(node, p)
            if value is None:
                continue
            if kind == "alt":
                return ("alt", tuple(self.shacl_path(m) for m in Collection(g, value)))
            inner = self.shacl_path(value)
            if kind == "inv":
                return _inverse(inner)
            if kind == "star":
                return ("star", inner)
            if kind == "plus":
                return ("seq", (inner, ("star", inner)))
            return ("alt", (("eps",), inner))
        raise InputError(f"a SHACL path the validator cannot read: {node!r}", source="shapes")

    def walk(self, path: tuple, start: int, grows: bool) -> int:  # type: ignore[type-arg]
        kind = path[0]
        if kind == "eps":
            return start
        if kind == "edge":
            return self.step(start, Step("edge", path[1], path[2]), grows)
        if kind == "any":
            return self.step(start, Step("edge", None, path[1]), grows)
        if kind == "pred":
            return self.step(start, Step("predicate", None, path[1]), grows)
        if kind == "seq":
            at = start
            for part in path[1]:
                at = self.walk(part, at, grows)
            return at
        if kind == "alt":
            end = self.state()
            for part in path[1]:
                self.eps(self.walk(part, start, grows), end)
            return end
        if kind == "star":
            loop = self.state()
            self.eps(start, loop)
            self.eps(self.walk(path[1], loop, grows), loop)
            return loop
        raise AssertionError(kind)

    # ------------------------------------------------------------------ shapes

    def shape(self, shape: Node, polarity: int) -> int:
        """The entry state of `shape` (a node being validated against it), compiled once per polarity."""
        key = (shape, polarity)
        if key in self.entries:
            return self.entries[key]
        entry = self.state()
        self.entries[key] = entry
        g = self.g
        if (shape, SH.deactivated, Literal(True)) in g:
            return entry
        for p, why in _UNSUPPORTED.items():
            if (shape, p, None) in g:
                self.unfocused(f"{why} in {shape.n3()}")
        path = g.value(shape, SH.path)
        if path is not None:
            effects = {
                _EFFECT_OF_MORE_VALUES.get(p, 1)
                for p in g.predicates(shape, None)
                if p in _VALUE_PARAMETERS or p in _EFFECT_OF_MORE_VALUES
            }
            effect = effects.pop() if len(effects) == 1 else (0 if effects else -1)
            values = self.path(path, entry, _combine(polarity, effect))
            self.value_constraints(shape, values, polarity, focus=entry, path=path)
        else:
            self.value_constraints(shape, entry, polarity, focus=entry, path=None)
        return entry

    def value_constraints(self, shape: Node, values: int, polarity: int, *, focus: int, path: Any) -> None:
        """The reads of the constraints on each value node (the focus node itself for a node shape)."""
        g = self.g
        if (shape, SH["class"], None) in g:
            types = self.step(values, Step("edge", RDF.type), _combine(polarity, -1))
            self.walk(("star", ("edge", RDFS.subClassOf, False)), types, _combine(polarity, -1))
        for nested in g.objects(shape, SH.node):
            self.eps(values, self.shape(nested, polarity))
        for nested in g.objects(shape, SH.property):
            self.eps(values, self.shape(nested, polarity))
        for p in (SH["and"], SH["or"]):
            for members in g.objects(shape, p):
                for member in Collection(g, members):
                    self.eps(values, self.shape(member, polarity))
        for members in g.objects(shape, SH.xone):
            for member in Collection(g, members):
                self.eps(values, self.shape(member, 0))
        for nested in g.objects(shape, SH["not"]):
            self.eps(values, self.shape(nested, -polarity))
        for nested in g.objects(shape, SH.qualifiedValueShape):
            has_min = (shape, SH.qualifiedMinCount, None) in g
            has_max = (shape, SH.qualifiedMaxCount, None) in g
            inner = 0 if has_min and has_max else (-polarity if has_max else polarity)
            self.eps(values, self.shape(nested, inner))
            if (shape, SH.qualifiedValueShapesDisjoint, Literal(True)) in g:
                for parent in g.subjects(SH.property, shape):
                    for sibling in g.objects(parent, SH.property):
                        for other in g.objects(sibling, SH.qualifiedValueShape):
                            self.eps(values, self.shape(other, 0))
        for p in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            for other in g.objects(shape, p):
                self.step(focus, Step("edge", other), True)
        if (shape, SH.closed, Literal(True)) in g:
            self.step(values, Step("edge", None), _combine(polarity, 1))
        for constraint in g.objects(shape, SH.sparql):
            if (constraint, SH.deactivated, Literal(True)) in g:
                continue
            text = g.value(constraint, SH.select) or g.value(constraint, SH.ask)
            if text is None:
                self.unfocused(f"a SPARQL constraint without sh:select/sh:ask in {shape.n3()}")
                continue
            prefixes = self.prefixes_of(constraint)
            if path is not None:
                text = str(text).replace("$PATH", _path_text(g, path))
            self.sparql(str(text), prefixes, focus, polarity, "this")

    def prefixes_of(self, node: Node) -> dict[str, str]:
        out: dict[str, str] = {}
        for ontology in self.g.objects(node, SH.prefixes):
            out.update(self.prefixes.get(ontology, {}))
        return out

    def root(self, shape: Node) -> None:
        """A top-level shape: its target reads and its constraints, from one root state."""
        g = self.g
        self.current = shape
        targets = Targets(
            classes=frozenset(
                c
                for c in g.objects(shape, SH.targetClass)
                if isinstance(c, URIRef)  # implicit class targets below
            )
            | (frozenset({shape}) if isinstance(shape, URIRef) and _is_class(g, shape) else frozenset()),
            nodes=frozenset(g.objects(shape, SH.targetNode)),  # type: ignore[arg-type]
            subjects_of=frozenset(p for p in g.objects(shape, SH.targetSubjectsOf) if isinstance(p, URIRef)),
            objects_of=frozenset(p for p in g.objects(shape, SH.targetObjectsOf) if isinstance(p, URIRef)),
            selects=tuple(self.target_selects(shape)),
        )
        root = self.state()
        self.reach.roots[shape] = root
        self.reach.targets[shape] = targets
        if targets.classes:
            types = self.step(root, Step("edge", RDF.type), True)
            self.walk(("star", ("edge", RDFS.subClassOf, False)), types, True)
        for p in targets.subjects_of:
            self.step(root, Step("edge", p), True)
        for p in targets.objects_of:
            self.step(root, Step("edge", p, True), True)
        for select in targets.selects:
            self.sparql(select, {}, root, 1, "this")
        self.eps(root, self.shape(shape, 1))
        self.current = None

    def target_selects(self, shape: Node) -> list[str]:
        out = []
        for target in self.g.objects(shape, SH.target):
            select = self.g.value(target, SH.select)
            if select is None:
                self.unfocused(f"a custom target type in {shape.n3()}")
                continue
            prefixes = self.prefixes_of(target)
            head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))
            out.append(head + str(select))
        return out

    # ------------------------------------------------------------------ SPARQL

    def sparql(self, text: str, prefixes: dict[str, str], start: int, polarity: int, this: str) -> None:
        """Compile the triple patterns of a SPARQL query connected to `$this` into walks from `start`."""
        from rdflib.plugins.sparql import prepareQuery

        try:
            query = prepareQuery(text, initNs=prefixes)
        except Exception as exc:
            raise InputError(f"a SPARQL query in the shapes does not parse: {exc}", source="shapes") from exc
        patterns = _Patterns()
        patterns.walk(query.algebra, _Scope("", {}), polarity)
        self.connect(patterns, start, Variable(this))

    def connect(self, patterns: _Patterns, start: int, this: Variable) -> None:
        """Walk the pattern graph from `this`. Each variable is reached by the cheapest chain of patterns (a
        forward step costs least; a backward step costs more, and much more from a variable whose values are
        enumerated by an sh:in somewhere in the shapes, such as a direction shared by thousands of agreements);
        every other pattern is then read from its subject when it can be. Any such plan reads, for each solution of
        the query, every triple the solution matches: the choice only decides how much more is read."""
        import heapq

        root = _Var(this)
        tests = [p for p in patterns.items if _existence_test(p, patterns)]
        edges = [p for p in patterns.items if p not in tests]
        by_var: dict[_Var, list[_Pattern]] = defaultdict(list)
        for pat in edges:
            for term in (pat.s, pat.p, pat.o):
                if isinstance(term, _Var) and pat not in by_var[term]:
                    by_var[term].append(pat)
        cost: dict[_Var, int] = {root: 0}
        tree: dict[_Var, tuple[_Pattern, int, int]] = {}
        enumerated: dict[_Var, bool] = {root: False}
        order: list[_Var] = []
        heap: list[tuple[int, int, _Var]] = [(0, 0, root)]
        pushes = 0
        while heap:
            d, _, u = heapq.heappop(heap)
            if u in order:
                continue
            order.append(u)
            for pat in by_var[u]:
                for frm, to, step_cost in _options(pat, u, enumerated[u]):
                    v = (pat.s, pat.p, pat.o)[to]
                    if isinstance(v, _Var) and v not in order and d + step_cost < cost.get(v, 1 << 30):
                        cost[v] = d + step_cost
                        tree[v] = (pat, frm, to)
                        enumerated[v] = frm == 0 and to == 2 and isinstance(pat.p, URIRef) and pat.p in self.enumerated
                        pushes += 1
                        heapq.heappush(heap, (cost[v], pushes, v))
        var_state: dict[_Var, int] = {root: self.state()}
        self.eps(start, var_state[root])
        read: list[tuple[_Pattern, int]] = []  # (pattern, the position it is read from)
        for v in order[1:]:
            pat, frm, _ = tree[v]
            if not any(p is pat for p, _ in read):
                self.read(pat, frm, var_state)
                read.append((pat, frm))
        for pat in edges:
            if any(p is pat for p, _ in read):
                continue
            terms = (pat.s, pat.p, pat.o)
            frm = next((i for i in (0, 2) if isinstance(terms[i], _Var) and terms[i] in var_state), None)
            if frm is None:
                self.unfocused(f"the SPARQL pattern {pat.text()} is not connected to $this")
                continue
            self.read(pat, frm, var_state)
            read.append((pat, frm))
        for pat in tests:
            terms = (pat.s, pat.p, pat.o)
            known = next(i for i, t in enumerate(terms) if not (isinstance(t, _Var) and patterns.uses[t] == 1))
            var = (pat.s, pat.p, pat.o)[known]
            if var not in var_state:
                self.unfocused(f"the SPARQL pattern {pat.text()} is not connected to $this")
            elif not any(p is not pat and _mentions(p, var, known) and _joined(p, pat) for p, _ in read):
                if known == 1:
                    self.unfocused(f"the SPARQL pattern {pat.text()} reads every triple with a predicate")
                else:
                    self.read(pat, known, var_state)

    def read(self, pat: _Pattern, frm: int, var_state: dict[_Var, int]) -> None:
        """Compile the reads of one pattern walked from its subject (`frm` 0) or object (2): every matching triple
        of the node there; the other terms' variables get the nodes found."""
        terms = (pat.s, pat.p, pat.o)
        start = var_state[terms[frm]]

        def link(term: Any, state: int) -> None:
            if isinstance(term, _Var):
                if term not in var_state:
                    var_state[term] = self.state()
                self.eps(state, var_state[term])

        if isinstance(pat.p, _Var):
            link(terms[2 - frm], self.walk(("any", frm == 2), start, pat.grows))
            link(pat.p, self.walk(("pred", frm == 2), start, pat.grows))
            return
        path = _sparql_path(pat.p)
        link(terms[2 - frm], self.walk(path if frm == 0 else _inverse(path), start, pat.grows))


def _options(pat: _Pattern, var: _Var, enumerated: bool) -> list[tuple[int, int, int]]:
    """(from position, to position, cost) for walking `pat` from `var`."""
    out = []
    backwards = 100 if enumerated else 10
    if isinstance(pat.p, _Var):
        if pat.s == var:
            out += [(0, 2, 5), (0, 1, 5)]
        if pat.o == var:
            out += [(2, 0, 5 * backwards), (2, 1, 5 * backwards)]
        return out
    if pat.s == var:
        out.append((0, 2, 1))
    if pat.o == var:
        out.append((2, 0, backwards))
    return out


def _mentions(pat: _Pattern, var: _Var, position: int) -> bool:
    return (pat.s, pat.p, pat.o)[position] == var


def _existence_test(pat: _Pattern, patterns: _Patterns) -> bool:
    """A pattern whose terms but one are variables used nowhere else, where only its existence counts (no
    aggregate over it): `{ SELECT ?t { ?s ?t ?o } GROUP BY ?t }` joined with `$this ?t ?x` holds by the very
    triple that bound ?t, and reads nothing new."""
    if pat.counted:
        return False
    terms = (pat.s, pat.p, pat.o)
    free = [isinstance(t, _Var) and patterns.uses[t] == 1 for t in terms]
    return sum(free) == 2 and isinstance(terms[free.index(False)], _Var)


def _joined(a: _Pattern, b: _Pattern) -> bool:
    """Two patterns not in different branches of one UNION."""
    branches = dict(a.branch)
    return all(branches.get(union, index) == index for union, index in b.branch)


@dataclass
class _Pattern:
    s: Any  # a variable (_Var) or a term
    p: Any  # a variable, an IRI or an rdflib path
    o: Any
    grows: bool
    counted: bool  # inside a sub-select with aggregates: multiplicity matters
    branch: tuple[tuple[int, int], ...] = ()  # (UNION, branch) pairs it sits in

    def text(self) -> str:
        def t(x: Any) -> str:
            return f"?{x}" if isinstance(x, _Var) else (x.n3() if hasattr(x, "n3") else str(x))

        return f"{t(self.s)} {t(self.p)} {t(self.o)}"


class _Var(str):
    """A query variable, renamed to its scope (IRIs are strings too, so variables get their own type)."""


@dataclass
class _Scope:
    name: str
    mapping: dict[str, _Var]

    def var(self, v: Variable) -> _Var:
        key = str(v)
        if key in self.mapping:
            return self.mapping[key]
        return _Var(f"{self.name}{key}")


class _Patterns:
    """The triple patterns of a query, with variables renamed per sub-select scope and the effect on the
    query's solutions of adding a match (under NOT EXISTS or MINUS it can only remove solutions)."""

    def __init__(self) -> None:
        self.items: list[_Pattern] = []
        self.uses: dict[_Var, int] = defaultdict(int)
        self.scopes = 0
        self.unions = 0
        self.branch: tuple[tuple[int, int], ...] = ()
        self.counted = False

    def add(self, triple: Any, scope: _Scope, polarity: int) -> None:
        terms = [scope.var(t) if isinstance(t, Variable) else t for t in triple]
        for t in terms:
            if isinstance(t, _Var):
                self.uses[t] += 1
        self.items.append(_Pattern(*terms, grows=_combine(polarity, 1), counted=self.counted, branch=self.branch))

    def walk(self, node: Any, scope: _Scope, polarity: int) -> None:
        if isinstance(node, (list, tuple)):
            for item in node:
                self.walk(item, scope, polarity)
            return
        if not isinstance(node, CompValue):
            return
        name = node.name
        if name == "BGP":
            for triple in node.triples:
                self.add(triple, scope, polarity)
        elif name == "TriplesBlock":
            for block in node.triples:
                flat = list(block)
                for i in range(0, len(flat) - 2, 3):
                    self.add(flat[i : i + 3], scope, polarity)
        elif name in ("Project", "SubSelect"):
            self.select(node, scope, polarity)
        elif name == "Union" or (name == "GroupOrUnionGraphPattern" and len(node.graph) > 1):
            self.union([node.p1, node.p2] if name == "Union" else node.graph, scope, polarity)
        elif name == "Filter":
            self.walk(node.p, scope, polarity)
            self.condition(node.expr, scope, polarity)
        elif name == "LeftJoin":
            self.walk(node.p1, scope, polarity)
            self.walk(node.p2, scope, 0)
            self.anywhere(node.expr, scope)
        elif name == "OptionalGraphPattern":
            self.walk(node.graph, scope, 0)
        elif name == "Minus":
            self.walk(node.p1, scope, polarity)
            self.walk(node.p2, scope, -polarity)
        elif name == "MinusGraphPattern":
            self.walk(node.graph, scope, -polarity)
        elif name == "AggregateJoin":
            was, self.counted = self.counted, self.counted or _aggregates(node.A)
            self.walk(node.p, scope, polarity)
            self.counted = was
        else:
            for key, value in node.items():
                if key in ("_vars", "PV"):
                    continue
                if key == "expr":
                    self.anywhere(value, scope)
                else:
                    self.walk(value, scope, polarity)

    def union(self, branches: list[Any], scope: _Scope, polarity: int) -> None:
        self.unions += 1
        union, outer = self.unions, self.branch
        for i, branch in enumerate(branches):
            self.branch = (*outer, (union, i))
            self.walk(branch, scope, polarity)
        self.branch = outer

    def select(self, node: CompValue, scope: _Scope, polarity: int) -> None:
        """A (sub-)select: its variables are its own, except those it projects."""
        self.scopes += 1
        if node.name == "Project":
            projected, body = node.PV, node.p
        else:
            projected = [v.var or v.evar for v in node.projection] if node.projection else None
            body = node.where
        inner = scope
        if self.scopes > 1 and projected is not None:
            inner = _Scope(f"s{self.scopes}.", {str(v): scope.var(v) for v in projected})
        was, self.counted = self.counted, self.counted or _aggregates(node)
        self.walk(body, inner, polarity)
        if node.name == "SubSelect":
            self.anywhere([node.having, node.orderby], inner)
        self.counted = was

    def condition(self, expr: Any, scope: _Scope, polarity: int) -> None:
        """A FILTER: (NOT) EXISTS as a top-level conjunct keeps (or flips) the polarity; inside any other
        expression (a disjunction, a negation of something else) it can go either way."""
        if not isinstance(expr, CompValue):
            return
        if expr.name == "ConditionalAndExpression":
            for part in [expr.expr, *(expr.other or [])]:
                self.condition(part, scope, polarity)
        elif expr.name == "Builtin_EXISTS":
            self.walk(expr.graph, scope, polarity)
        elif expr.name == "Builtin_NOTEXISTS":
            self.walk(expr.graph, scope, -polarity)
        elif expr.name == "UnaryNot" and isinstance(expr.expr, CompValue) and expr.expr.name == "Builtin_EXISTS":
            self.walk(expr.expr.graph, scope, -polarity)
        else:
            self.anywhere(expr, scope)

    def anywhere(self, value: Any, scope: _Scope) -> None:
        """(NOT) EXISTS somewhere in an expression: its patterns may add or remove solutions."""
        if isinstance(value, (list, tuple)):
            for v in value:
                self.anywhere(v, scope)
        elif isinstance(value, CompValue):
            if value.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
                self.walk(value.graph, scope, 0)
            else:
                for key, v in value.items():
                    if key != "_vars":
                        self.anywhere(v, scope)


def _aggregates(node: Any) -> bool:
    """Whether a (sub-)query computes aggregates other than the SAMPLE that GROUP BY adds for each key."""
    found = []

    def visit(n: Any) -> None:
        if isinstance(n, (list, tuple)):
            for x in n:
                visit(x)
        elif isinstance(n, CompValue):
            if n.name.startswith("Aggregate_") and n.name != "Aggregate_Sample":
                found.append(n.name)
            for x in n.values():
                visit(x)

    visit(node)
    return bool(found)


def _sparql_path(p: Any) -> tuple:  # type: ignore[type-arg]
    if isinstance(p, URIRef):
        return ("edge", p, False)
    if isinstance(p, SequencePath):
        return ("seq", tuple(_sparql_path(a) for a in p.args))
    if isinstance(p, AlternativePath):
        return ("alt", tuple(_sparql_path(a) for a in p.args))
    if isinstance(p, InvPath):
        return _inverse(_sparql_path(p.arg))
    if isinstance(p, MulPath):
        inner = _sparql_path(p.path)
        return {"*": ("star", inner), "+": ("seq", (inner, ("star", inner))), "?": ("alt", (("eps",), inner))}[p.mod]
    if isinstance(p, NegatedPath):
        forward = any(isinstance(a, URIRef) for a in p.args)
        backward = any(isinstance(a, InvPath) for a in p.args)
        return (
            "alt",
            tuple(x for x in (("any", False) if forward else None, ("any", True) if backward else None) if x),
        )
    raise InputError(f"a SPARQL path the validator cannot read: {p!r}", source="shapes")


def _inverse(path: tuple) -> tuple:  # type: ignore[type-arg]
    kind = path[0]
    if kind == "edge":
        return ("edge", path[1], not path[2])
    if kind in ("any", "pred"):
        return (kind, not path[1])
    if kind == "seq":
        return ("seq", tuple(_inverse(p) for p in reversed(path[1])))
    if kind == "alt":
        return ("alt", tuple(_inverse(p) for p in path[1]))
    if kind == "star":
        return ("star", _inverse(path[1]))
    return path


def _path_text(g: rdflib.Graph, node: Any) -> str:
    """A SHACL path as SPARQL path text (for `$PATH` in SPARQL constraints of property shapes)."""
    if isinstance(node, URIRef):
        return node.n3()
    if (node, RDF.first, None) in g:
        return "(" + "/".join(_path_text(g, m) for m in Collection(g, node)) + ")"
    for p, fmt in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        value = g.value(node, p)
        if value is not None:
            return "(" + fmt.format(_path_text(g, value)) + ")"
    value = g.value(node, SH.alternativePath)
    if value is not None:
        return "(" + "|".join(_path_text(g, m) for m in Collection(g, value)) + ")"
    raise InputError(f"a SHACL path the validator cannot read: {node!r}", source="shapes")


def _prefix_declarations(g: rdflib.Graph) -> dict[Node, dict[str, str]]:
    out: dict[Node, dict[str, str]] = defaultdict(dict)
    for ontology, decl in g.subject_objects(SH.declare):
        prefix, namespace = g.value(decl, SH.prefix), g.value(decl, SH.namespace)
        if prefix is not None and namespace is not None:
            out[ontology][str(prefix)] = str(namespace)
    return out


def _is_class(g: rdflib.Graph, shape: URIRef) -> bool:
    """An implicit class target: a shape that is also a class."""
    types = set(g.objects(shape, RDF.type))
    return bool(types & {RDFS.Class, URIRef("http://www.w3.org/2002/07/owl#Class")}) and bool(
        types & {SH.NodeShape, SH.PropertyShape}
    )


def top_level_shapes(shapes: rdflib.Graph) -> list[Node]:
    """The shapes that select their own focus nodes (have targets), in a stable order."""
    found = {s for p in _TARGET_PREDICATES for s in shapes.subjects(p, None)}
    found |= {s for s in shapes.subjects(RDF.type, None) if isinstance(s, URIRef) and _is_class(shapes, s)}
    found = {s for s in found if (s, SH.deactivated, Literal(True)) not in shapes}
    return sorted(found, key=lambda s: (isinstance(s, BNode), str(s)))


def compile_shapes(shapes: rdflib.Graph) -> Reach:
    """The automaton of everything the shapes read, with one root state per top-level shape."""
    compiler = _Compiler(shapes)
    for shape in top_level_shapes(shapes):
        compiler.root(shape)
    compiler.reach.index()
    return compiler.reach
