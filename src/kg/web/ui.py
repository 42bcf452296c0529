"""`/`: YASGUI on `/sparql`, served from the package's own static files, every saved query as a tab with its
parameters; a plain HTML form and HTML result tables for browsers without JavaScript."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import Blueprint, Response, render_template, url_for
from rdflib import URIRef
from rdflib.term import Identifier

from kg.errors import InputError
from kg.namespaces import BASE, PREFIXES
from kg.web import preview
from kg.web.services import Services, current

bp = Blueprint("ui", __name__)

_CLASSES = "SELECT DISTINCT ?c WHERE { { ?s a ?c } UNION { ?c a <http://www.w3.org/2002/07/owl#Class> } }"
_PROPERTIES = """SELECT DISTINCT ?p WHERE { { ?s ?p ?o } UNION { VALUES ?k { <http://www.w3.org/2002/07/owl#ObjectProperty>
<http://www.w3.org/2002/07/owl#DatatypeProperty> <http://www.w3.org/2002/07/owl#AnnotationProperty>
<http://www.w3.org/1999/02/22-rdf-syntax-ns#Property> } ?p a ?k } }"""


def default_query() -> str:
    lines = "\n".join(f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items())
    return f"{lines}\n\nSELECT ?s ?p ?o\nWHERE {{\n  ?s ?p ?o\n}}\nLIMIT 10\n"


def vocabulary(svc: Services) -> dict[str, list[str]]:
    """This dataset's classes and properties (in use or declared), for the editor's completion; once per
    store generation."""

    def compute() -> dict[str, list[str]]:
        classes = sorted({r["c"]["value"] for r in svc.select(_CLASSES) if r["c"]["type"] == "uri"})
        properties = sorted({r["p"]["value"] for r in svc.select(_PROPERTIES) if r["p"]["type"] == "uri"})
        return {"classes": classes, "properties": properties}

    return svc.per_generation("ui-vocabulary", compute)


def page() -> Response:
    """The YASGUI page: the endpoint, the project's prefixes, the saved queries with their parameters."""
    from kg.web.saved import parameter_view

    svc = current()
    saved = [
        {
            "name": q.name,
            "summary": q.summary,
            "text": q.text,
            # paging is in the text (its LIMIT clause), which the editor shows and the user edits
            "params": [parameter_view(svc, p) for p in q.params if not p.paging],
        }
        for q in svc.catalog
    ]
    # the endpoint answers at /sparql and /sparql/; url_for picks the latter, the canonical one has no slash
    endpoint = url_for("sparql.endpoint").rstrip("/")
    config = {
        "endpoint": endpoint,
        "prefixes": PREFIXES,
        "base": BASE,
        "saved": saved,
        "vocabulary": vocabulary(svc),
        "preview": preview.PREVIEW_ROWS,
        "defaultQuery": default_query(),
        "limits": url_for("meta.limits"),
    }
    html = render_template(
        "index.html",
        config=config,
        preview=preview.PREVIEW_ROWS,
        default_query=default_query(),
        limits_url=url_for("meta.limits"),
        dumps_url=url_for("meta.dump", name="interfirm.nq"),
    )
    return Response(html, mimetype="text/html")


FORMATS = [("csv", "CSV"), ("tsv", "TSV"), ("json", "JSON"), ("xml", "XML"), ("turtle", "Turtle"), ("nt", "N-Triples")]


def results_page(
    text: str,
    bindings: Mapping[str, Identifier] | None,
    default_graphs: Sequence[URIRef] | None,
    named_graphs: Sequence[URIRef] | None,
) -> Response:
    """A query's result as an HTML page (a browser asked /sparql): the first rows as a table, downloads, the
    query in a form; a query that does not parse is shown with the parser's message."""
    from kg.web.sparql import run_with_base

    svc = current()

    def run(sparql: str):  # type: ignore[no-untyped-def]
        return svc.query(
            sparql,
            bindings=bindings,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            tabular_format="json",
            graph_format="nt",
        )

    status, table, error = 200, None, None
    try:
        table = preview.table(run_with_base(run, text))
    except InputError as exc:
        status, error = exc.http_status, str(exc)
    binding_fields = [(f"${k}", v.n3()) for k, v in (bindings or {}).items()]
    html = render_template(
        "results.html",
        table=table,
        error=error,
        query_text=text,
        default_query=default_query(),
        preview=preview.PREVIEW_ROWS,
        formats=[f for f in FORMATS if table is None or (table.kind == "GRAPH") == (f[0] in ("turtle", "nt"))],
        binding_fields=binding_fields,
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/")
def index() -> Response:
    return page()
