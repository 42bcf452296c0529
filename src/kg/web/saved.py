"""`/queries`: the saved queries as an API (parameters bound by the engine) and, for browsers, one page per query
with a form per parameter, the query text, its results as a table and downloads (as grlc does)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request
from rdflib import URIRef

from kg.errors import InputError
from kg.namespaces import IFC
from kg.queries import MAX_PAGE, Parameter, SavedQuery
from kg.results import short
from kg.web import conneg, preview
from kg.web.services import Services, current

bp = Blueprint("saved", __name__)

MAX_CHOICES = 2000  # an iri parameter with more candidate values gets a text field instead of a pick-list
_TYPE_OF = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?c (COUNT(?x) AS ?n) WHERE { ?d a ?c . ?x a ?c } GROUP BY ?c"""
_CHOICES = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?v (MIN(STR(?l)) AS ?label) WHERE {{ ?c rdfs:subClassOf* ?cls . ?v a ?c OPTIONAL {{ ?v rdfs:label ?l }} }}
GROUP BY ?v ORDER BY ?label ?v LIMIT {MAX_CHOICES + 1}"""
INPUT_TYPES = {
    "iri": "url",
    "integer": "number",
    "decimal": "number",
    "year": "text",
    "language": "text",
    "string": "text",
    "limit": "number",
    "offset": "number",
}
PATTERNS = {"year": r"-?\d{4}", "language": r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*"}
FORMATS = [("csv", "CSV"), ("tsv", "TSV"), ("json", "SPARQL JSON"), ("xml", "SPARQL XML")]
GRAPH_FORMATS = [("turtle", "Turtle"), ("nt", "N-Triples"), ("jsonld", "JSON-LD"), ("rdfxml", "RDF/XML")]


def choices(svc: Services, param: Parameter) -> list[dict] | None:
    """The values an iri parameter can take (instances of its class, subclasses' included), or None when its class
    is unknown or has too many instances; once per store generation."""
    if param.type != "iri":
        return None

    def compute() -> list[dict] | None:
        cls = param.cls
        if cls is None and param.default:
            # the default's class: one of this ontology's if it has one, the widest of them (any firm, not TNCs)
            rows = [r for r in svc.select(_TYPE_OF, {"d": URIRef(param.default)}) if r["c"]["type"] == "uri"]
            rows.sort(key=lambda r: (not r["c"]["value"].startswith(str(IFC)), -int(r["n"]["value"]), r["c"]["value"]))
            cls = rows[0]["c"]["value"] if rows else None
        if cls is None:
            return None
        rows = svc.select(_CHOICES, {"cls": URIRef(cls)})
        if len(rows) > MAX_CHOICES:
            return None
        return [
            {"iri": r["v"]["value"], "label": r.get("label", {}).get("value") or short(URIRef(r["v"]["value"]))}
            for r in rows
            if r["v"]["type"] == "uri"
        ]

    return svc.per_generation(f"choices {param.name} {param.cls} {param.default}", compute)


def parameter_view(svc: Services, param: Parameter) -> dict:
    """A parameter for a form: name, type, description, default, the input to use and its pick-list."""
    return {
        "name": param.name,
        "type": param.type,
        "description": param.description,
        "default": param.default,
        "required": param.required,
        "input": INPUT_TYPES[param.type],
        "step": "any" if param.type == "decimal" else ("1" if param.type in ("integer", "limit", "offset") else None),
        "min": {"limit": 1, "offset": 0}.get(param.type),
        "max": MAX_PAGE if param.type == "limit" else None,
        "pattern": PATTERNS.get(param.type),
        "choices": choices(svc, param),
    }


@bp.get("/queries")
def index() -> Response:
    queries = [q.to_json() for q in current().catalog]
    if conneg.prefers_html():
        return Response(render_template("queries.html", queries=queries), mimetype="text/html")
    resp = jsonify({"queries": [dict(q, url=f"/queries/{q['name']}") for q in queries]})
    resp.headers["Vary"] = "Accept"
    return resp


def _values(saved: SavedQuery) -> dict[str, str]:
    values = {k: v for k, v in request.args.items() if k != "format"}
    if request.method == "POST":
        if request.mimetype == "application/json":
            try:
                body = request.get_json(silent=True)
            except RecursionError:
                body = None  # nested deeper than the JSON reader goes: not an object of values anyway
            if not isinstance(body, dict) or not all(isinstance(v, str | int | float | bool) for v in body.values()):
                raise InputError(
                    "the JSON body must be an object of parameter values (strings, numbers or booleans)",
                    source="request body",
                )
            values.update({str(k): str(v) for k, v in body.items()})
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
            values.update({k: v for k, v in request.form.items() if k != "format"})
        else:
            raise InputError(
                f"unsupported Content-Type {request.mimetype!r}",
                hint="send parameters as a form, JSON object or query string",
            )
    for key in list(values):
        if len(request.args.getlist(key)) > 1:
            raise InputError(f"parameter {key!r} is given more than once", source=key)
    return values


def pages(saved: SavedQuery, values: dict[str, str], rows: int | None, extra: dict[str, str]) -> dict[str, str]:
    """The URLs of the first, previous and next pages of a paged query's result (by rel); {} when it does not
    page. A page that came back empty has no next one."""
    page = saved.page(values)
    if page is None:
        return {}
    limit, offset = page
    names = {p.type: p.name for p in saved.params if p.paging}
    given = {k: v for k, v in values.items() if k not in names.values()}

    def url(at: int) -> str:
        args = {**given, names["limit"]: str(limit), **({names["offset"]: str(at)} if "offset" in names else {})}
        return f"/queries/{saved.name}?{urlencode({**args, **extra})}"

    if "offset" not in names:
        return {}
    links = {"first": url(0)}
    if offset > 0:
        links["prev"] = url(max(0, offset - limit))
    if rows:
        links["next"] = url(offset + limit)
    return links


@bp.route("/queries/<name>", methods=["GET", "POST"])
def run(name: str) -> Response:
    saved = current().catalog.get(name)
    values = _values(saved)
    if conneg.prefers_html():
        return page(saved, values)
    text, bindings = saved.prepare(values)
    tabular, graph = conneg.result_formats()
    answer = current().query(text, bindings=bindings, tabular_format=tabular, graph_format=graph)
    resp = conneg.answer_response(answer)
    fmt = request.args.get("format")
    links = pages(saved, values, answer.rows, {"format": fmt} if fmt else {})
    if links:  # RFC 8288 links to the neighbouring pages
        resp.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
    return resp


def page(saved: SavedQuery, values: dict[str, str]) -> Response:
    """A saved query's page: its form (filled with `values` or the defaults), results, text and downloads."""
    svc = current()
    params = [dict(parameter_view(svc, p), value=values.get(p.name, p.default or "")) for p in saved.params]
    status, table, error, links, page_of = 200, None, None, {}, None
    try:
        text, bindings = saved.prepare(values)
        answer = svc.query(text, bindings=bindings, tabular_format="json", graph_format="nt")
        table = preview.table(answer)
        links, page_of = pages(saved, values, answer.rows, {}), saved.page(values)
    except InputError as exc:
        status, error = exc.http_status, str(exc)
    given = {p["name"]: p["value"] for p in params if p["value"]}
    kinds = GRAPH_FORMATS if table is not None and table.kind == "GRAPH" else FORMATS
    downloads = [
        {"name": label, "url": f"/queries/{saved.name}?{urlencode({**given, 'format': fmt})}"} for fmt, label in kinds
    ]
    html = render_template(
        "query.html",
        q=saved,
        params=params,
        table=table,
        error=error,
        downloads=downloads,
        links=links,
        page_of=page_of,
        editor_url="/?" + urlencode({"saved": saved.name, **given}),
        api_url=f"/queries/{saved.name}" + (f"?{urlencode(given)}" if given else ""),
    )
    resp = Response(html, status=status, mimetype="text/html")
    resp.headers["Vary"] = "Accept"
    return resp


@bp.get("/queries/<name>.rq")
def text(name: str) -> Response:
    """The query's text: application/sparql-query, or plain text a browser shows instead of downloading."""
    body = current().catalog.get(name).text
    media = "text/plain" if conneg.prefers_html() else "application/sparql-query"
    resp = Response(body, mimetype=media)
    resp.headers["Content-Type"] = f"{media}; charset=utf-8"
    resp.headers["Vary"] = "Accept"
    return resp
