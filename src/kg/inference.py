"""OWL 2 RL materialisation into the inferred graph, with the rule behind every inferred triple.

HermiT classifies the ontology once per checksum (`kg.reasoning.classify`); `kg.rules` compiles it into
instance-level rules; this module runs them on the store: rules of the same shape become one SPARQL query
(the rule's constants in a VALUES block, with the rule's number), each query keeps only triples that are not
already in the store (MINUS), and the new triples are bulk-loaded into `graph/inferred`: stage 0 once, stage 1
until nothing new comes. Per rule, the provenance graph gets a prov:Plan with its axioms and how many triples it
added. `explain` finds, for an inferred triple, a rule and the premises that fire it, down to asserted triples.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from kg.derived import Derivation, Outcome
from kg.namespaces import GRAPH, INFERRED_GRAPH, ONTOLOGY_GRAPH
from kg.reasoning import Classification, classify
from kg.results import short
from kg.rules import Atom, Rule, Var, compile_rules

SCRATCH_GRAPH = GRAPH["inferred-scratch"]  # what an incremental run adds, while it runs
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
RL_SPEC = URIRef("https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules")
MAX_ROUNDS = 50
# a semi-naive run evaluates a body once per atom, that atom on the new triples and the others on the store:
# with more atoms, Oxigraph joins the unrestricted ones first (at 10^6 triples a 5-atom body's variants took
# over 20 GB), so such bodies are evaluated whole, as a full build does (under a second at 10^6)
MAX_DELTA_ATOMS = 2
MAX_SEEDS = 10_000  # matches of one atom in the new triples sent back as a VALUES block; more: the store joins
PROFILE = False
_XSD = str(XSD)
_TYPE = RDF.type.n3().encode()


@dataclass
class Tbox:
    """The ontology as the store holds it, its classification and the rules compiled from them."""

    ontology: rdflib.Graph
    classification: Classification
    rules: list[Rule]


_RULES: dict[str, list[Rule]] = {}


def tbox(ontology: rdflib.Graph, cache_dir: Path | None = None) -> Tbox:
    """Classify (cached by checksum) and compile `ontology`."""
    classification = classify(ontology, cache_dir)
    if classification.checksum not in _RULES:
        _RULES[classification.checksum] = compile_rules(ontology, classification)
    return Tbox(ontology, classification, _RULES[classification.checksum])


def ontology_from(store: ox.Store) -> rdflib.Graph:
    """The ontology's named graph of an Oxigraph store as an rdflib graph."""
    from kg.store.oxigraph import to_rdflib

    g = rdflib.Graph()
    for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(ONTOLOGY_GRAPH))):
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g


# ---- SPARQL for groups of rules ------------------------------------------------------------------------------


def _n3(term: object) -> str:
    if isinstance(term, Var):
        return str(term)
    if isinstance(term, URIRef | Literal):
        return term.n3()
    if isinstance(term, int):
        return str(term)
    raise ValueError(f"not a constant usable in a query: {term!r}")


@dataclass
class _Group:
    """Rules with the same shape, run as one query: the distinct bodies' constants in one VALUES block (?b),
    the heads' constants in another with the rule's index (?k)."""

    body: tuple[Atom, ...]  # with parameters ?c0, ?c1, ... in place of constants
    head: Atom  # with parameters ?h0, ?h1, ...
    transitive: URIRef | None
    body_params: list[Var]
    head_params: list[Var]
    bodies: dict[tuple[object, ...], int] = field(default_factory=dict)  # body constants -> ?b
    heads: list[tuple[int, int, tuple[object, ...]]] = field(default_factory=list)  # (?b, ?k, head constants)

    @property
    def ground(self) -> bool:
        """Whether the head has no variable: it holds as soon as the body matches once."""
        return not [v for v in self.head.variables() if v not in self.head_params]


def _parametrise(atoms: Sequence[Atom], prefix: str) -> tuple[list[Atom], list[Var], list[list[object]]]:
    params: list[Var] = []
    values: list[list[object]] = []

    def param(term: object) -> object:
        if isinstance(term, Var):
            return term
        v = Var(f"{prefix}{len(params)}")
        params.append(v)
        values.append(list(term) if isinstance(term, tuple) else [term])
        return v

    return [Atom(param(a.s), param(a.p), param(a.o)) for a in atoms], params, values  # type: ignore[arg-type]


def _product(values: list[list[object]]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [()]
    for vals in values:
        rows = [(*r, v) for r in rows for v in vals]
    return rows


def _groups(rules: Sequence[Rule], indices: Iterable[int]) -> list[_Group]:
    groups: dict[object, _Group] = {}
    for i in indices:
        rule = rules[i]
        if any(isinstance(t, BNode) for a in (*rule.body, rule.head) for t in (a.s, a.p, a.o)):
            continue  # a blank node of the ontology cannot be named in a query
        if rule.transitive is not None:
            body, body_params, body_values = list(rule.body), [], []
        else:
            body, body_params, body_values = _parametrise(rule.body, "c")
        (head,), head_params, head_values = _parametrise([rule.head], "h")
        key = (tuple(body), head, rule.transitive, rule.transitive and i)
        group = groups.setdefault(key, _Group(tuple(body), head, rule.transitive, body_params, head_params))
        for consts in _product(body_values):
            b = group.bodies.setdefault(consts, len(group.bodies))
            group.heads += [(b, i, h) for h in _product(head_values)]
    return list(groups.values())


def _trigger(line: bytes) -> tuple[bytes, bytes | None]:
    """What a new triple can match in a rule body: its property, and its class when it is a type."""
    _, p, rest = line.split(b" ", 2)
    return (p, rest[:-3] if p == _TYPE else None)


def _widen(produced: set[tuple[bytes, bytes | None]]) -> set[tuple[bytes, bytes | None]]:
    return produced | {(p, None) for p, _ in produced}


def _triggers(rule: Rule) -> set[tuple[bytes, bytes | None]]:
    """The (property, class) pairs the rule's body reads: a new triple with none of them cannot fire it."""
    out: set[tuple[bytes, bytes | None]] = set()
    if True:
        for a in rule.body:
            p = a.p.n3().encode() if isinstance(a.p, URIRef) else None
            if p is None:
                out.add((b"*", None))
            elif a.p == RDF.type:
                for c in a.o if isinstance(a.o, tuple) else (a.o,):
                    out.add((p, c.n3().encode() if isinstance(c, URIRef) else None))
            else:
                out.add((p, None))
    return out


def _order(group: _Group) -> tuple[int, int]:
    """Class memberships first, then property values, then domains and ranges, then joins: a later group's
    MINUS skips what earlier ones wrote, so fewer rows leave the engine."""
    if group.transitive is not None or len(group.body) > 1:
        return (3, len(group.body))
    params = dict(zip(group.body_params, next(iter(group.bodies), ()), strict=False))
    body_p = params.get(group.body[0].p, group.body[0].p)  # type: ignore[call-overload]
    head_params = {v: c for _, _, consts in group.heads[:1] for v, c in zip(group.head_params, consts, strict=True)}
    head_p = head_params.get(group.head.p, group.head.p)  # type: ignore[call-overload]
    if body_p == RDF.type:
        return (0, 0)
    return (1, 0) if head_p != RDF.type else (2, 0)


def _values(names: Sequence[Var], rows: Iterable[Sequence[object]]) -> str:
    body = "\n    ".join(f"({' '.join(_n3(c) for c in row)})" for row in rows)
    return f"VALUES ({' '.join(str(v) for v in names)}) {{\n    {body}\n  }}"


def _atom(a: Atom) -> str:
    return f"{_n3(a.s)} {_n3(a.p)} {_n3(a.o)} ."


def _atom_pattern(group: _Group, a: Atom, delta: Sequence[str] = ()) -> tuple[str, list[Var]]:
    """One body atom with its own VALUES block of (?b, the atom's parameters), in the graphs `delta` when given;
    and the atom's variables."""
    index = {v: i for i, v in enumerate(group.body_params)}
    params = [t for t in (a.s, a.p, a.o) if isinstance(t, Var) and t in index]
    atom_vars = [t for t in dict.fromkeys((a.s, a.p, a.o)) if isinstance(t, Var) and t not in index]
    rows = dict.fromkeys((bb, *(consts[index[v]] for v in params)) for consts, bb in group.bodies.items())
    pattern = _atom(a)
    if delta:
        pattern = f"VALUES ?delta {{ {' '.join(f'<{g}>' for g in delta)} }} GRAPH ?delta {{ {pattern} }}"
    return f"{_values([Var('b'), *params], rows)} {pattern}", atom_vars


def _body(group: _Group, keep: Sequence[Var], delta: Sequence[str] = ()) -> str:
    """The bodies as one subquery giving the distinct (?b, kept variables). Each atom is its own subquery
    with its own VALUES, so that Oxigraph joins them by hashing instead of one index lookup per row (10x).
    With `delta` (graph IRIs), only matches with at least one atom in those graphs (semi-naive)."""
    b = Var("b")
    names = " ".join(str(v) for v in [b, *keep])
    if group.transitive is not None:
        x, z = group.body[0].s, group.body[-1].o
        return f"{{ SELECT DISTINCT {names} WHERE {{ VALUES ?b {{ 0 }} {_n3(x)} {group.transitive.n3()}+ {_n3(z)} }} }}"

    def atom(a: Atom, restricted: bool) -> str:
        inner, atom_vars = _atom_pattern(group, a, delta if restricted else ())
        return f"{{ SELECT {' '.join(str(v) for v in [b, *atom_vars])} WHERE {{ {inner} }} }}"

    if not delta:
        variants = [[atom(a, False) for a in group.body]]
    else:
        variants = [[atom(a, i == j) for j, a in enumerate(group.body)] for i in range(len(group.body))]
    joined = " UNION ".join("{ " + " ".join(v) + " }" for v in variants)
    return f"{{ SELECT DISTINCT {names} WHERE {{\n    {joined}\n  }} }}"


def _head_vars(group: _Group) -> list[Var]:
    return list(dict.fromkeys(v for v in group.head.variables() if v not in group.head_params))


def _head_query(group: _Group, body: str, exclude: str) -> str:
    """SELECT ?k and the head's variables: the heads (VALUES, with the rule's index ?k) joined with `body`,
    literal subjects left out, what `exclude` says the store holds taken away."""
    h = group.head
    lines = [
        f"SELECT ?k {' '.join(str(v) for v in _head_vars(group))} WHERE {{",
        "  " + _values([Var("b"), Var("k"), *group.head_params], ((b, k, *c) for b, k, c in group.heads)),
        "  " + body,
    ]
    if isinstance(h.s, Var) and h.s not in group.head_params:
        lines.append(f"  FILTER (!isLiteral({h.s}))")
    lines += ["  " + exclude, "}"]
    return "\n".join(lines)


def _seeded_query(group: _Group, i: int, seed_names: Sequence[str], seeds: Sequence[bytes]) -> str:
    """The group's new head triples from the matches of body atom `i` in the new triples (`seeds`, rows of a
    SPARQL TSV result): the other atoms are looked up from them, and each head is checked on its own (FILTER
    NOT EXISTS), so the work follows the few new triples rather than the whole store."""
    others = " ".join(_atom_pattern(group, a)[0] for j, a in enumerate(group.body) if j != i)
    rows = "\n    ".join("(" + row.decode().replace("\t", " ") + ")" for row in seeds)
    body = (
        f"{{ SELECT DISTINCT ?b {' '.join(str(v) for v in _head_vars(group))} WHERE {{\n"
        f"    VALUES ({' '.join(seed_names)}) {{\n    {rows}\n  }}\n"
        f"    {others}\n"
        "  } }"
    )
    return _head_query(group, body, f"FILTER NOT EXISTS {{ {_atom(group.head)} }}")


def _query(group: _Group, delta: Sequence[str] = ()) -> str:
    """The group's new head triples: heads (VALUES) joined with the bodies, minus what the store holds."""
    distinct = dict.fromkeys(consts for _, _, consts in group.heads)
    body = _body(group, _head_vars(group), delta)
    return _head_query(group, body, f"MINUS {{ {_values(group.head_params, distinct)} {_atom(group.head)[:-2]} }}")


def _ground_lines(store: ox.Store, group: _Group, rules: Sequence[Rule]) -> Iterable[tuple[int, bytes]]:
    """Heads without variables: each holds when its body matches once and it is not in the store yet."""
    for consts, b in group.bodies.items():
        binding = dict(zip(group.body_params, consts, strict=True))
        atoms = [Atom(*(binding.get(t, t) for t in (a.s, a.p, a.o))) for a in group.body]  # type: ignore[arg-type]
        if group.transitive is not None:
            x, z = group.body[0].s, group.body[-1].o
            pattern = f"{_n3(x)} {group.transitive.n3()}+ {_n3(z)} ."
        else:
            pattern = " ".join(_atom(a) for a in atoms)
        if not store.query(f"ASK {{ {pattern} }}", use_default_graph_as_union=True):
            continue
        for bb, k, hc in group.heads:
            if bb != b:
                continue
            hb = dict(zip(group.head_params, hc, strict=True))
            triple = " ".join(_n3(hb.get(t, t)) for t in (group.head.s, group.head.p, group.head.o))
            if not store.query(f"ASK {{ {triple} }}", use_default_graph_as_union=True):
                yield k, f"{triple} .\n".encode()


# ---- results as N-Triples ------------------------------------------------------------------------------------


def _nt(value: bytes) -> bytes:
    """A term of a SPARQL TSV result (Turtle syntax) in N-Triples syntax."""
    if value[:1] in (b"<", b"_", b'"'):
        return value
    text = value.decode()
    if text in ("true", "false"):
        return f'"{text}"^^<{_XSD}boolean>'.encode()
    if "e" in text or "E" in text:
        return f'"{text}"^^<{_XSD}double>'.encode()
    if "." in text:
        return f'"{text}"^^<{_XSD}decimal>'.encode()
    return f'"{text}"^^<{_XSD}integer>'.encode()


def _tsv(store: ox.Store, text: str) -> tuple[list[str], list[bytes]]:
    """A SELECT query's variable names and rows (tab-separated terms in Turtle syntax)."""
    result = store.query(text, use_default_graph_as_union=True)
    rows = result.serialize(format=ox.QueryResultsFormat.TSV).split(b"\n")  # type: ignore[union-attr]
    header = rows[0].decode().split("\t") if rows and rows[0] else []
    return header, [row for row in rows[1:] if row]


def _head_lines(header: Sequence[str], rows: Iterable[bytes], rules: Sequence[Rule]) -> Iterable[tuple[int, bytes]]:
    """(rule index, N-Triples line) for each row of a group's query (?k and the head's variables)."""
    names = [h[1:] for h in header]
    for row in rows:
        cells = dict(zip(names, row.split(b"\t"), strict=True))
        k = int(cells.pop("k"))
        head = rules[k].head
        parts = [_nt(cells[t.name]) if isinstance(t, Var) else _n3(t).encode() for t in (head.s, head.p, head.o)]
        yield k, b" ".join(parts) + b" .\n"


def _delta_lines(
    store: ox.Store, group: _Group, rules: Sequence[Rule], delta: Sequence[str]
) -> Iterable[tuple[int, bytes]] | None:
    """The group's new triples that use a triple of the graphs `delta`, atom by atom from its matches there;
    None when a match holds a blank node (a query cannot name it) or there are more than MAX_SEEDS matches
    (a graph that gained triples is read whole: an INSERT into the 10^6-triple generated graph)."""
    found: list[tuple[int, list[str], list[bytes]]] = []
    for i, a in enumerate(group.body):
        inner, atom_vars = _atom_pattern(group, a, delta)
        # one row past MAX_SEEDS says there are too many: the store does not list them all
        header, seeds = _tsv(
            store,
            f"SELECT DISTINCT ?b {' '.join(str(v) for v in atom_vars)} WHERE {{ {inner} }} LIMIT {MAX_SEEDS + 1}",
        )
        if len(seeds) > MAX_SEEDS or any(b"\t_:" in row for row in seeds):
            return None
        if seeds:
            found.append((i, header, seeds))
    out: list[tuple[int, bytes]] = []
    for i, header, seeds in found:
        names, rows = _tsv(store, _seeded_query(group, i, header, seeds))
        out += _head_lines(names, rows, rules)
    return out


def _lines(
    store: ox.Store, group: _Group, rules: Sequence[Rule], delta: Sequence[str] = ()
) -> Iterable[tuple[int, bytes]]:
    """(rule index, N-Triples line) for each new triple the group concludes."""
    if group.ground:
        yield from _ground_lines(store, group, rules)
        return
    if delta and group.transitive is None:
        seeded = _delta_lines(store, group, rules, delta)
        if seeded is not None:
            yield from seeded
            return
    if len(group.body) > MAX_DELTA_ATOMS:
        delta = ()  # evaluated whole: the MINUS keeps only what is new, so the result is the same
    yield from _head_lines(*_tsv(store, _query(group, delta)), rules)


def _write(store: ox.Store, graph: ox.NamedNode, lines: list[bytes]) -> None:
    plain = [ln for ln in lines if b"_:" not in ln]
    blank = [ln for ln in lines if b"_:" in ln]
    if plain:
        store.bulk_load(b"".join(plain), format=ox.RdfFormat.N_TRIPLES, to_graph=graph, lenient=True)
    if blank:  # the bulk loader renames blank nodes; these keep the store's own
        store.extend(
            ox.Quad(q.subject, q.predicate, q.object, graph)
            for q in ox.parse(b"".join(blank), format=ox.RdfFormat.N_TRIPLES)
        )


@dataclass
class Materialised:
    """What a run concluded: triples per rule, how long it took, the classifier."""

    tbox: Tbox
    counts: dict[int, int]
    seconds: float
    rounds: int
    timing: dict[str, float] = field(default_factory=dict)

    @property
    def triples(self) -> int:
        return sum(self.counts.values())


def materialise(
    store: ox.Store, graph: ox.NamedNode, cache_dir: Path | None = None, delta: Sequence[str] | None = None
) -> Materialised:
    """Run the ontology's rules on `store` to a fixpoint, writing what is new into `graph`.

    Without `delta` the caller has emptied `graph`. With `delta` (names of graphs that only gained triples
    since `graph` was last computed), `graph` is kept and only rule matches that use a triple of those graphs,
    or of what this run adds, are evaluated: OWL 2 RL is monotone, so the result equals a full run.
    """
    started = time.monotonic()
    tb = tbox(ontology_from(store), cache_dir)
    rules = tb.rules
    counts: dict[int, int] = defaultdict(int)
    rounds = 0
    timing: dict[str, float] = defaultdict(float)
    scratch = ox.NamedNode(str(SCRATCH_GRAPH))
    since: list[str] = []
    if delta is not None:
        counts.update(_previous_counts(store, graph, rules))
        for g in delta:  # what is asserted now is not inferred
            store.update(
                f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} "
                f"GRAPH {graph} {{ ?s ?p ?o }} }}"
            )
        since = [*delta, SCRATCH_GRAPH]
        if store.contains_named_graph(scratch):
            store.remove_graph(scratch)
    for stage in (0, 1):
        indices = [i for i, r in enumerate(rules) if r.stage == stage]
        pending = sorted(_groups(rules, indices), key=_order)
        while pending:
            rounds += 1
            produced: set[tuple[bytes, bytes | None]] = set()
            for group in pending:  # each group's triples are written before the next runs: its MINUS skips them
                t0 = time.monotonic()
                fresh: dict[bytes, int] = {}
                for k, line in _lines(store, group, rules, since):
                    fresh.setdefault(line, k)
                t1 = time.monotonic()
                for line, k in fresh.items():
                    counts[k] += 1
                    produced.add(_trigger(line))
                if fresh:
                    _write(store, graph, list(fresh))
                    if delta is not None:
                        _write(store, scratch, list(fresh))
                timing["query"] += t1 - t0
                timing["write"] += time.monotonic() - t1
                if PROFILE:
                    print(f"{t1 - t0:7.2f}s {len(fresh):7d} {rules[group.heads[0][1]].render()[:90]}")
            if stage == 0 or rounds > MAX_ROUNDS:
                break
            # semi-naive by trigger: run again only the rules a new triple can feed
            widened = _widen(produced)
            pending = sorted(_groups(rules, [i for i in indices if _triggers(rules[i]) & widened]), key=_order)
    if delta is not None and store.contains_named_graph(scratch):
        store.remove_graph(scratch)
    return Materialised(tb, dict(counts), round(time.monotonic() - started, 3), rounds, dict(timing))


def _previous_counts(store: ox.Store, graph: ox.NamedNode, rules: Sequence[Rule]) -> dict[int, int]:
    """The triples each rule added before, as the provenance graph records them."""
    from kg.namespaces import META_GRAPH

    by_iri = {str(rule_iri(URIRef(graph.value), r)): i for i, r in enumerate(rules)}
    out: dict[int, int] = {}
    query = f"SELECT ?r ?n WHERE {{ GRAPH <{META_GRAPH}> {{ ?r <{VOID.triples}> ?n }} }}"
    for row in store.query(query):  # type: ignore[union-attr]
        i = by_iri.get(row["r"].value)  # type: ignore[index]
        if i is not None:
            out[i] = int(row["n"].value)  # type: ignore[index]
    return out


def rule_iri(graph: URIRef, rule: Rule) -> URIRef:
    return URIRef(f"{graph}#rule-{rule.id}")


def provenance(graph: URIRef, run: Materialised) -> list[tuple[rdflib.term.Node, ...]]:
    """PROV-O statements about a run: the reasoner, and each rule that added triples as a prov:Plan with its
    axioms and how many triples it added (void:triples)."""
    activity = URIRef(f"{graph}#derivation")
    reasoner = URIRef(f"{graph}#reasoner")
    out: list[tuple[rdflib.term.Node, ...]] = [
        (activity, PROV.used, ONTOLOGY_GRAPH),
        (activity, PROV.wasAssociatedWith, reasoner),
        (reasoner, RDF.type, PROV.SoftwareAgent),
        (
            reasoner,
            RDFS.label,
            Literal(
                "interfirm-kg OWL 2 RL rules on Oxigraph, over the hierarchy classified by "
                + run.tbox.classification.reasoner
            ),
        ),
        (activity, DCTERMS.extent, Literal(f"{run.rounds} rounds in {run.seconds} s")),
        (activity, RDFS.seeAlso, RL_SPEC),
    ]
    fired = [(i, r) for i, r in enumerate(run.tbox.rules) if run.counts.get(i, 0)]
    out.append(
        (
            activity,
            DCTERMS.description,
            Literal(
                f"{len(run.tbox.rules)} rules compiled from the ontology; {len(fired)} added triples (each a prov:Plan)"
            ),
        )
    )
    for i, rule in fired:
        iri = rule_iri(graph, rule)
        n = run.counts.get(i, 0)
        association = BNode()
        out += [
            (activity, PROV.qualifiedAssociation, association),
            (association, RDF.type, PROV.Association),
            (association, PROV.agent, reasoner),
            (association, PROV.hadPlan, iri),
            (iri, RDF.type, PROV.Plan),
            (iri, RDFS.label, Literal(f"{rule.kind}: {rule.render()}")),
            (iri, DCTERMS.identifier, Literal(rule.kind)),
            (iri, DCTERMS.description, Literal("; ".join(rule.axioms))),
            (iri, VOID.triples, Literal(n, datatype=XSD.integer)),
        ]
    return out


def cache_dir() -> Path:
    """Where classifications are cached: `.kg/cache` of the repository (KG_ROOT)."""
    from kg.settings import Settings

    return Settings.from_env().root / ".kg" / "cache"


def _write_inferred(store: ox.Store, graph: ox.NamedNode, delta: Sequence[str] | None = None) -> Outcome:
    run = materialise(store, graph, cache_dir(), delta)
    return Outcome(run.triples, provenance(URIRef(graph.value), run))


DERIVATION = Derivation(
    graph=INFERRED_GRAPH,
    label="inferred: the OWL 2 RL consequences of the ontology and the asserted data",
    method="OWL 2 RL/RDF rules (W3C OWL 2 Profiles, 4.3) compiled from the ontology as classified by HermiT, "
    "run as SPARQL on Oxigraph to a fixpoint; only triples not asserted elsewhere",
    write=_write_inferred,
)


# ---- explanations ----------------------------------------------------------------------------------------------

Triple = tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node]


@dataclass
class Explanation:
    """Why an inferred triple holds: the rule, and each premise with where it is asserted or, when it is
    inferred itself, its own explanation."""

    triple: Triple
    rule: Rule | None
    premises: list[tuple[Triple, list[URIRef], Explanation | None]] = field(default_factory=list)


def _unify(rule: Rule, triple: Triple) -> dict[Var, rdflib.term.Node] | None:
    binding: dict[Var, rdflib.term.Node] = {}
    for t, v in zip((rule.head.s, rule.head.p, rule.head.o), triple, strict=True):
        if isinstance(t, Var):
            if binding.setdefault(t, v) != v:
                return None
        elif t != v:
            return None
    return binding


def _match(store: object, rule: Rule, binding: dict[Var, rdflib.term.Node], triple: Triple) -> list[Triple] | None:
    """The body of `rule` instantiated by a solution that agrees with `binding` (not the triple itself)."""
    atoms = []
    extra: dict[Var, tuple[URIRef, ...]] = {}
    for n, a in enumerate(rule.body):
        o = a.o
        if isinstance(o, tuple):
            extra[Var(f"alt{n}")] = o
            o = Var(f"alt{n}")
        atoms.append(Atom(a.s, a.p, o))
    values = " ".join(f"VALUES {v} {{ {' '.join(c.n3() for c in cs)} }}" for v, cs in extra.items())
    if binding:
        names = " ".join(str(v) for v in binding)
        values += f" VALUES ({names}) {{ ({' '.join(t.n3() for t in binding.values())}) }}"
    text = f"SELECT * WHERE {{ {values} {' '.join(_atom(a) for a in atoms)} }} LIMIT 20"
    for row in store.query(text).as_dicts():  # type: ignore[attr-defined]
        full = {**binding, **{Var(k): v for k, v in row.items()}}
        premises = [tuple(full[t] if isinstance(t, Var) else t for t in (a.s, a.p, a.o)) for a in atoms]
        if triple not in premises:
            return premises  # type: ignore[return-value]
    return None


def _graphs_of(store: object, triple: Triple) -> list[URIRef]:
    s, p, o = triple
    text = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {s.n3()} {p.n3()} {o.n3()} }} }}"  # type: ignore[union-attr]
    return sorted(URIRef(str(r["g"])) for r in store.query(text).as_dicts())  # type: ignore[attr-defined]


def explain_triple(
    store: object, tb: Tbox, triple: Triple, depth: int = 0, seen: frozenset[Triple] = frozenset()
) -> Explanation:
    """One justification of `triple` by the rules, premises explained down to asserted triples."""
    for rule in tb.rules:
        binding = _unify(rule, triple)
        if binding is None:
            continue
        premises = _match(store, rule, binding, triple)
        if premises is None:
            continue
        out = Explanation(triple, rule)
        for premise in premises:
            graphs = _graphs_of(store, premise)
            sub = None
            if graphs == [INFERRED_GRAPH] and depth < 8 and premise not in seen:
                sub = explain_triple(store, tb, premise, depth + 1, seen | {triple})
            out.premises.append((premise, graphs, sub))
        return out
    return Explanation(triple, None)


def explain(store: object, iri: URIRef, cache: Path | None = None, limit: int = 200) -> list[Explanation]:
    """Each inferred triple with `iri` as subject or object (at most `limit`), explained."""
    ontology = rdflib.Graph()
    text = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?s ?p ?o }} }}"
    for row in store.query(text).rows:  # type: ignore[attr-defined]
        ontology.add(row)
    tb = tbox(ontology, cache)
    text = (
        f"SELECT ?s ?p ?o WHERE {{ {{ GRAPH <{INFERRED_GRAPH}> {{ ?iri ?p ?o }} BIND (?iri AS ?s) }} "
        f"UNION {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?iri }} BIND (?iri AS ?o) }} }} ORDER BY ?s ?p ?o LIMIT {limit}"
    )
    rows = store.query(text, bindings={"iri": iri}).rows  # type: ignore[attr-defined]
    return [explain_triple(store, tb, tuple(r)) for r in rows]  # type: ignore[arg-type]


def render_explanation(e: Explanation, indent: int = 0) -> list[str]:
    """The explanation as indented lines of text (prefixed names)."""
    pad = "  " * indent
    lines = [f"{pad}{' '.join(short(t) if t != RDF.type else 'a' for t in e.triple)}"]
    if e.rule is None:
        lines.append(f"{pad}  (no rule of the current ontology concludes it: rebuild the store)")
        return lines
    lines.append(f"{pad}  by {e.rule.kind}: {e.rule.render()}")
    for axiom in e.rule.axioms:
        lines.append(f"{pad}    axiom: {axiom}")
    for premise, graphs, sub in e.premises:
        where = ", ".join(short(g) if not str(g).startswith(str(GRAPH)) else str(g)[len(str(GRAPH)) :] for g in graphs)
        if sub is not None:
            lines.append(f"{pad}  from (inferred):")
            lines += render_explanation(sub, indent + 2)
        else:
            text = " ".join(short(t) if t != RDF.type else "a" for t in premise)
            lines.append(f"{pad}  from: {text}   [asserted in {where or 'no graph'}]")
    return lines
