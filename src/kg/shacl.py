"""Running pySHACL (the reference SHACL engine) on plain rdflib graphs, robustly and without re-parsing.

- Each SPARQL text is parsed once: pySHACL hands rdflib the text of a SPARQL constraint for every focus node,
  and parsing (pyparsing) is most of the time a small validation takes. Parsed queries are kept in memory and,
  with `prepare(cache_file)`, on disk for the next process (`kg.cache`).
- SUM and AVG follow SPARQL 1.1 on values that are not numbers (an ill-typed "36,8"^^xsd:decimal): the
  aggregate is an error and leaves its variable unbound (SPARQL 1.1 Query, 18.5.1), instead of a Python
  TypeError that ends the whole validation.
- rdflib's warnings about ill-typed literals (logged with a traceback) are silenced: a shape reports them.
- Two of pySHACL's per-focus-node costs are paid once: the check that a SPARQL constraint's text is allowed (a
  few regular expressions over the text, for every focus node) is remembered per text, and the lookup of a
  shape's constraint parameters is a set lookup instead of a scan of a list (the same parameters in the same
  order). Together they were 27 % of the time pySHACL took on a 20,000-triple file.
- `restricted` runs the shapes on chosen focus nodes only, by replacing every top-level shape's targets with
  `sh:targetNode`s; that works for blank nodes too, which pySHACL's `focus_nodes` option drops.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import rdflib
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Identifier

from kg.reach import Node, top_level_shapes

_installed = threading.Lock()
_done = False
_disk: dict[str, Any] = {}  # parsed queries from and for the cache file
_disk_file: list[Path] = []
_dirty = [False]


def prepare(cache_file: Path | None = None) -> None:
    """Install the parse cache, the SUM/AVG of SPARQL 1.1 and the log filter (once per process); with
    `cache_file`, parsed queries are also read from and kept in that file."""
    global _done
    with _installed:
        if cache_file is not None and not _disk_file:
            from kg import cache

            _pickling()
            _disk_file.append(cache_file)
            loaded = cache.load(cache_file)
            if isinstance(loaded, dict):
                _disk.update(loaded)
        if _done:
            return
        from rdflib.plugins.sparql.aggregates import Aggregator

        rdflib.plugin.register("sparql", rdflib.query.Processor, "kg.shacl", "CachingProcessor")
        Aggregator.accumulator_classes["Aggregate_Sum"] = _sum_class()
        Aggregator.accumulator_classes["Aggregate_Avg"] = _avg_class()
        _remember_sparql_checks()
        _parameter_set()
        quiet()
        _done = True


def _remember_sparql_checks() -> None:
    """pySHACL checks a SPARQL constraint's text (no MINUS, VALUES, SERVICE, rebinding of $this...) for each
    focus node; the outcome depends on the text and on which variables are pre-bound only, so a text that
    passed once passes again (one that fails still raises every time). Installed once, by `prepare`."""
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper

    check = SPARQLQueryHelper.check_invalid_sparql
    passed: set[tuple[str, bool, tuple[str, ...]]] = set()

    def remembered(self: Any, sparql_text: str, valuenode: Any = None, extravars: Any = None) -> bool:
        key = (sparql_text, valuenode is None, tuple(sorted(extravars or ())))
        if key not in passed:
            check(self, sparql_text, valuenode=valuenode, extravars=extravars)
            passed.add(key)
        return True

    SPARQLQueryHelper.check_invalid_sparql = remembered  # type: ignore[method-assign]


class _Parameters(list):  # type: ignore[type-arg]
    """pySHACL's list of constraint parameters, with membership tested in a set (the list is scanned for each
    predicate of each shape at each validation of it; rdflib compares terms in Python)."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self._members = set(self)

    def __contains__(self, item: object) -> bool:
        return item in self._members

    def copy(self) -> _Parameters:  # type: ignore[override]
        return _Parameters(self)

    def append(self, item: Any) -> None:
        super().append(item)
        self._members.add(item)


def _parameter_set() -> None:
    import pyshacl.shape
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP

    pyshacl.shape.CONSTRAINT_PARAMS = (_Parameters(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)  # type: ignore[attr-defined]


def flush() -> None:
    """Write the queries parsed since the cache file was read (if any)."""
    from kg import cache

    with _installed:
        if _dirty[0] and _disk_file:
            cache.save(_disk_file[0], dict(_disk))
            _dirty[0] = False


def quiet() -> None:
    """Silence rdflib's warnings (with tracebacks) about ill-typed literals: a datatype constraint reports them."""
    logger = logging.getLogger("rdflib.term")
    if not any(isinstance(f, _IllTypedFilter) for f in logger.filters):
        logger.addFilter(_IllTypedFilter())


class _IllTypedFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to convert Literal lexical form")


@lru_cache(maxsize=256)
def _prepared(text: str, namespaces: tuple[tuple[str, str], ...], base: str | None) -> Any:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    key = _key(text, namespaces, base)
    if key in _disk:
        return _disk[key]
    query = translateQuery(parseQuery(text), base, dict(namespaces) or None)
    if _disk_file and _picklable(query):
        _disk[key] = query
        _dirty[0] = True
    return query


_PROLOGUE = re.compile(r"\A(?:\s*PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^<>\s]*)>)*", re.IGNORECASE)


def _key(text: str, namespaces: tuple[tuple[str, str], ...], base: str | None) -> str:
    """A disk-cache key that does not depend on the order of the PREFIX lines (pySHACL writes them in set
    order, which changes from one process to the next)."""
    head = _PROLOGUE.match(text)
    end = head.end() if head else 0
    prefixes = sorted(re.findall(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^<>\s]*)>", text[:end], re.IGNORECASE))
    return repr((tuple(prefixes), text[end:], namespaces, base))


def _pickling() -> None:
    """Teach pickle rdflib's parsed queries: their expression nodes hold evaluation functions (some lambdas),
    which are stored by the name of the grammar rule that gives them."""
    import copyreg

    from rdflib.plugins.sparql.parserutils import CompValue, Expr

    copyreg.pickle(CompValue, _reduce)
    copyreg.pickle(Expr, _reduce)


@lru_cache(maxsize=1)
def _evaluators() -> dict[str, Any]:
    """Each grammar rule's evaluation function, by rule name (and the algebra's TrueFilter)."""
    from rdflib.plugins.sparql import operators, parser
    from rdflib.plugins.sparql.parserutils import Comp

    found: dict[str, Any] = {"TrueFilter": operators.TrueFilter._evalfn.__func__}  # type: ignore[union-attr]
    seen: set[int] = set()
    stack: list[Any] = [parser.Query, parser.UpdateUnit]
    while stack:
        element = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        if isinstance(element, Comp) and element.evalfn is not None:
            found.setdefault(element.name, element.evalfn)
        inner = getattr(element, "expr", None)
        if inner is not None and hasattr(inner, "parseImpl"):
            stack.append(inner)
        stack.extend(getattr(element, "exprs", None) or [])
    return found


def _reduce(node: Any) -> tuple[Any, ...]:
    evaluator = node.__dict__.get("_evalfn")
    if evaluator is not None and _evaluators().get(node.name) is not evaluator.__func__:
        raise TypeError(f"no known evaluation function for {node.name}")
    attrs = {k: v for k, v in node.__dict__.items() if k not in ("name", "_evalfn", "ctx")}
    return (_rebuild, (type(node), node.name, list(node.items()), attrs, evaluator is not None))


def _rebuild(cls: type, name: str, items: list[tuple[str, Any]], attrs: dict[str, Any], evaluates: bool) -> Any:
    from collections import OrderedDict
    from types import MethodType

    node = cls.__new__(cls)
    OrderedDict.__init__(node)
    node.name = name
    node.update(items)
    node.__dict__.update(attrs)
    if cls.__name__ == "Expr":
        node._evalfn = MethodType(_evaluators()[name], node) if evaluates else None
    return node


def _picklable(query: Any) -> bool:
    import pickle

    try:
        pickle.dumps(query)
        return True
    except Exception:
        return False


@lru_cache(maxsize=1)
def _processor_class() -> type:
    from rdflib.plugins.sparql.processor import SPARQLProcessor

    class CachingProcessor(SPARQLProcessor):
        """rdflib's SPARQL processor with each query text parsed once."""

        def query(  # type: ignore[override]
            self,
            strOrQuery: Any,
            initBindings: Mapping[str, Identifier] | None = None,
            initNs: Mapping[str, Any] | None = None,
            base: str | None = None,
            DEBUG: bool = False,
        ) -> Any:
            if isinstance(strOrQuery, str):
                namespaces = tuple(sorted((k, str(v)) for k, v in (initNs or {}).items()))
                strOrQuery = _prepared(strOrQuery, namespaces, base)
            return super().query(strOrQuery, initBindings, initNs, base, DEBUG)

    return CachingProcessor


def __getattr__(name: str) -> Any:  # the plugin class, built on first use (rdflib's plugin loader asks for it)
    if name == "CachingProcessor":
        return _processor_class()
    raise AttributeError(name)


def _sum_class() -> type:
    from rdflib.plugins.sparql.aggregates import Sum

    return _erring(Sum, "SUM")


def _avg_class() -> type:
    from rdflib.plugins.sparql.aggregates import Average

    return _erring(Average, "AVG")


def _erring(base: type, name: str) -> type:
    """rdflib's aggregate `base` made an error (unbound) when a value is not a number: rdflib's SUM raises a
    Python TypeError on an ill-typed literal, and its AVG skips what is not a number."""

    class Erring(base):  # type: ignore[valid-type,misc]
        failed = False

        def update(self, row: Any, aggregator: Any) -> None:
            from rdflib.plugins.sparql.evalutils import _eval
            from rdflib.plugins.sparql.operators import numeric
            from rdflib.plugins.sparql.sparql import NotBoundError

            if self.failed:
                return
            try:
                value = _eval(self.expr, row)
                if isinstance(value, NotBoundError):
                    return
                if getattr(value, "ill_typed", False) or not isinstance(numeric(value), (int, float, Decimal)):
                    raise TypeError(value)
                super().update(row, aggregator)
            except NotBoundError:
                return
            except Exception:  # SPARQLTypeError: not a number
                self.failed = True

        def set_value(self, bindings: Any) -> None:
            if not self.failed:
                super().set_value(bindings)

    Erring.__name__ = Erring.__qualname__ = f"Spec{base.__name__}"
    Erring.__doc__ = f"{name} that is an error (unbound) when a value is not a number."
    return Erring


def run(data: rdflib.Graph, shapes: rdflib.Graph) -> rdflib.Graph:
    """pySHACL's report graph for `data` (advanced features on, no inference, warnings allowed)."""
    from pyshacl import validate

    prepare()
    _, report, _ = validate(
        data,
        shacl_graph=shapes,
        ont_graph=None,
        inplace=True,  # no inference, no ontology to mix in: nothing changes the graph, so no copy of it
        inference="none",
        advanced=True,
        allow_warnings=True,
        do_owl_imports=False,
    )
    return report


def restricted(shapes: rdflib.Graph, focus: Mapping[Node, Iterable[Node]]) -> rdflib.Graph:
    """The shapes that `focus` names, and what they use (nested shapes, lists, SPARQL constraints, prefixes), with
    the targets of each replaced by `focus[shape]` (as sh:targetNode); other shapes are left out, so pySHACL
    builds only what it will run."""
    top = set(top_level_shapes(shapes))
    targets = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target}
    out = rdflib.Graph()
    seen = set(focus)
    todo = list(focus)
    while todo:
        s = todo.pop()
        for p, o in shapes.predicate_objects(s):
            if s in top and (p in targets or (p == RDF.type and o in (RDFS.Class, rdflib.OWL.Class))):
                continue
            out.add((s, p, o))
            if o not in seen and not isinstance(o, rdflib.Literal) and (o, None, None) in shapes:
                seen.add(o)
                todo.append(o)
    for shape, nodes in focus.items():
        for node in nodes:
            out.add((shape, SH.targetNode, node))  # type: ignore[arg-type]
    for prefix, ns in shapes.namespaces():
        out.bind(prefix, ns, override=False)
    return out
