"""The OpenAPI 3 description of every route."""

from __future__ import annotations

from typing import Any

from kg import __version__
from kg.dumps import SYNTAXES
from kg.queries import MAX_OFFSET, MAX_PAGE, QueryCatalog, SavedQuery
from kg.results import GRAPH_FORMATS, TABULAR_FORMATS
from kg.web.conneg import FORMAT_PARAM
from kg.web.validate import REPORT_FORMATS

# the media types of the result formats ("table" is the command line's own)
_TABULAR = [media for fmt, (media, _) in TABULAR_FORMATS.items() if fmt != "table"]
_GRAPH = [media for fmt, (media, _) in GRAPH_FORMATS.items() if fmt != "table"]
_RDF_IN = [*_GRAPH, "application/n-quads", "application/trig"]  # the RDF syntaxes /validate and /cases read
_DUMP_NAMES = [f"interfirm.{ext}{gz}" for ext in SYNTAXES for gz in ("", ".gz")]
_DUMP_TYPES = [*sorted({s.media_type for s in SYNTAXES.values()}), "application/gzip"]


_ERROR = {
    "type": "object",
    "required": ["status", "error"],
    "properties": {"status": {"type": "integer"}, "error": {"type": "string"}},
}
_JSON_SCHEMAS: dict[str, dict[str, Any]] = {
    "application/sparql-results+json": {
        "type": "object",
        "required": ["head"],
        "properties": {"head": {"type": "object"}, "results": {"type": "object"}, "boolean": {"type": "boolean"}},
    },
    "application/ld+json": {"oneOf": [{"type": "object"}, {"type": "array"}]},
}


def _schema(media: str) -> dict[str, Any]:
    """A body's schema: SPARQL JSON results, JSON-LD, an object for other JSON, a string for text and XML."""
    if media in _JSON_SCHEMAS:
        return _JSON_SCHEMAS[media]
    if media == "application/json":
        return {"type": "object"}
    return {"type": "string"}


def _content(types: list[str]) -> dict[str, Any]:
    return {t: {"schema": _schema(t)} for t in types}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"text/plain": {"schema": {"type": "string"}}, "application/json": {"schema": _ERROR}},
    }


_FORMAT = {
    "name": "format",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": list(FORMAT_PARAM)},
}


def _graph_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string"}},
    }


_GRAPHS = [
    _graph_parameter(n, "a query's dataset (SPARQL 1.1 Protocol)") for n in ("default-graph-uri", "named-graph-uri")
]
_USING = [
    _graph_parameter(n, "an update's dataset for its WHERE clauses (SPARQL 1.1 Protocol)")
    for n in ("using-graph-uri", "using-named-graph-uri")
]
_RESULTS = {
    "200": {"description": "query results", "content": _content(_TABULAR + _GRAPH)},
    "400": _error("malformed query or parameters"),
    "403": _error("an update without the server's update token (or on a server started without one)"),
    "413": _error("request body too large"),
    "429": _error(
        "too many requests: every query worker busy, or this client over its rate or its share of the workers "
        "(see Retry-After)"
    ),
    "502": _error("a SERVICE endpoint the query calls (a federated query) could not be reached or failed"),
    "503": _error("the query ran past the time limit or the memory limit and was stopped"),
}
# what every route that uses the query workers may answer besides its own statuses
_LIMITED = {
    "429": _RESULTS["429"],
    "503": _error("the work ran past the time limit or the memory limit and was stopped"),
}


_HTML = {"type": "string"}
# a resource page's groups of values: one property's values in one direction, a page at a time
_PAGING = [
    {
        "name": "dir",
        "in": "query",
        "required": False,
        "description": "out, in (values of p) or instances (of a class)",
        "schema": {"type": "string", "enum": ["out", "in", "instances"]},
    },
    {"name": "p", "in": "query", "required": False, "description": "the property's IRI", "schema": {"type": "string"}},
    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
    {
        "name": "depth",
        "in": "query",
        "required": False,
        "description": "the network drawing's depth",
        "schema": {"type": "integer", "enum": [1, 2, 3]},
    },
]
_PAGE = {
    "200": {
        "description": "query results (for a browser: the query's page)",
        "content": _content(_TABULAR + _GRAPH + ["text/html"]),
    }
}
_PAGE_LINKS = {
    "Link": {
        "description": 'the neighbouring pages of a listing (RFC 8288): rel="first", "prev" and "next"',
        "schema": {"type": "string"},
    }
}
_SEARCH = {
    "type": "object",
    "required": ["query", "results", "more"],
    "properties": {
        "query": {"type": "string"},
        "more": {"type": "boolean"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["iri", "label", "url", "classes", "rank"],
                "properties": {
                    "iri": {"type": "string"},
                    "label": {"type": "string"},
                    "matched": {"type": "string"},
                    "property": {"type": "string"},
                    "url": {"type": "string"},
                    "rank": {"type": "integer"},
                    "classes": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
    },
}
_GRAPH_JSON = {
    "type": "object",
    "required": ["nodes", "edges"],
    "properties": {
        "nodes": {"type": "array", "items": {"type": "object"}},
        "edges": {"type": "array", "items": {"type": "object"}},
        "agreements": {"type": "integer"},
        "truncated": {"type": "boolean"},
    },
}
_NETWORK_FILTERS = [
    {"name": n, "in": "query", "required": False, "description": d, "schema": {"type": "string"}}
    for n, d in (
        ("form", "IRI of an agreement form"),
        ("sector", "IRI of a sector"),
        ("country", "IRI of a country (of a partner; of a cluster's location)"),
    )
]
_PARAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "uri"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "year": {"type": "string", "pattern": r"^-?\d{4}$"},
    "language": {"type": "string", "pattern": r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$"},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
}


def _saved_operation(q: SavedQuery) -> dict[str, Any]:
    """One saved query as its own operation, one typed query-string parameter per declared parameter."""
    parameters = []
    for p in q.params:
        schema = dict(_PARAM_SCHEMAS[p.type])
        if p.default is not None:
            schema["default"] = int(p.default) if p.type in ("integer", "limit", "offset") else p.default
        parameters.append(
            {"name": p.name, "in": "query", "required": p.required, "description": p.description, "schema": schema}
        )
    description = q.description or q.summary
    if q.tags:
        description += f" (tags: {', '.join(q.tags)})"
    responses = {**_RESULTS, **_PAGE}
    if any(p.paging for p in q.params):
        description += (
            "\n\nA listing, one page at a time: `limit` sets the page size, `offset` how many to skip; the "
            "`Link` header names the first, previous and next pages (an empty page has no next)."
        )
        responses["200"] = {**responses["200"], "headers": _PAGE_LINKS}
    return {
        "get": {
            "operationId": "query_" + q.name.replace("-", "_"),
            "summary": q.summary,
            "description": description + f"\n\nThe query: /queries/{q.name}.rq",
            "tags": ["saved queries"],
            "parameters": [*parameters, _FORMAT],
            "responses": responses,
        }
    }


def spec(catalog: QueryCatalog | None = None) -> dict[str, Any]:
    """OpenAPI 3.0 document of the service: every route, and every saved query as an operation of its own."""
    if catalog is None:
        from kg.web.services import current

        catalog = current().catalog
    document = _routes()
    for q in catalog:
        document["paths"][f"/queries/{q.name}"] = _saved_operation(q)
    return document


def _routes() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "interfirm-kg",
            "version": __version__,
            "description": "SPARQL 1.1 endpoint, saved queries, validation and Linked Data for the "
            "inter-firm cooperation knowledge graph (UNCTAD/ITE/EDS/2, 1997).",
        },
        "paths": {
            "/sparql": {
                "get": {
                    "summary": "SPARQL query by GET, or the service description without a query",
                    "parameters": [
                        {"name": "query", "in": "query", "required": False, "schema": {"type": "string"}},
                        *_GRAPHS,
                        _FORMAT,
                    ],
                    "responses": {
                        **_RESULTS,
                        "200": {
                            "description": "results or service description",
                            "content": _content(_TABULAR + _GRAPH + ["text/html"]),
                        },
                    },
                },
                "post": {
                    "summary": "SPARQL query by POST (form or direct), or SPARQL Update (form or direct) with the "
                    "update token as Authorization: Bearer",
                    "parameters": [*_GRAPHS, *_USING, _FORMAT],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/sparql-query": {"schema": {"type": "string"}},
                            "application/sparql-update": {"schema": {"type": "string"}},
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"query": {"type": "string"}, "update": {"type": "string"}},
                                }
                            },
                        },
                    },
                    "responses": {
                        **_RESULTS,
                        "200": {
                            "description": "query results, or for an update what it did",
                            "content": _content(_TABULAR + _GRAPH + ["application/json"]),
                        },
                        "415": _error("unsupported request media type"),
                    },
                },
            },
            "/queries": {
                "get": {
                    "summary": "List the saved queries",
                    "responses": {
                        "200": {
                            "description": "the saved queries",
                            "content": _content(["application/json", "text/html"]),
                        }
                    },
                }
            },
            "/queries/{name}": {
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {
                    "summary": "Run a saved query; its declared parameters are query-string parameters (a browser "
                    "gets the query's page: form, results, downloads)",
                    "parameters": [_FORMAT],
                    "responses": {**_RESULTS, **_PAGE, "404": _error("no such saved query")},
                },
                "post": {
                    "summary": "Run a saved query with parameters in a form or JSON body",
                    "parameters": [_FORMAT],
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                        },
                    },
                    "responses": {**_RESULTS, **_PAGE, "404": _error("no such saved query")},
                },
            },
            "/queries/{name}.rq": {
                "get": {
                    "summary": "The text of a saved query",
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {
                            "description": "the query (as text/plain for a browser)",
                            "content": _content(["application/sparql-query", "text/plain"]),
                        },
                        "404": _error("no such saved query"),
                    },
                }
            },
            "/validate": {
                "post": {
                    "summary": "Validate case data against the server's shapes and ontology (nothing is stored)",
                    "requestBody": {"required": True, "content": _content(_RDF_IN)},
                    "responses": {
                        "200": {
                            "description": "the SHACL report",
                            "content": _content(list(REPORT_FORMATS)),
                        },
                        "400": _error(
                            "unusable data: unparseable (the message names the line), empty (nothing to validate), "
                            "or holding a term the store cannot hold (the message names it)"
                        ),
                        "413": _error("body too large, or more triples than KG_MAX_UPLOAD_TRIPLES"),
                        "415": _error("unsupported media type"),
                        **_LIMITED,
                    },
                }
            },
            "/cases": {
                "post": {
                    "summary": "Add case data (needs the update token): validated, then added all or nothing",
                    "requestBody": {"required": True, "content": _content(_RDF_IN)},
                    "responses": {
                        "200": {"description": "already present", "content": _content(["application/json"])},
                        "201": {"description": "added", "content": _content(["application/json"])},
                        "400": _error(
                            "unusable data: unparseable (the message names the line), empty, or holding a term the "
                            "store cannot hold (the message names it); nothing was added"
                        ),
                        "403": _error("no or wrong update token"),
                        "413": _error("body too large, or more triples than KG_MAX_UPLOAD_TRIPLES"),
                        "415": _error("unsupported media type"),
                        "422": {
                            "description": "violations: nothing was added",
                            "content": _content(["application/json"]),
                        },
                        **_LIMITED,
                    },
                }
            },
            "/resource": {
                "get": {
                    "summary": "A Linked Data page for any IRI in the graph",
                    "parameters": [
                        {"name": "iri", "in": "query", "required": True, "schema": {"type": "string"}},
                        _FORMAT,
                        *_PAGING,
                    ],
                    "responses": {
                        "200": {"description": "the resource", "content": _content(["text/html", *_GRAPH])},
                        "400": _error("missing or malformed IRI"),
                        "404": _error("unknown IRI"),
                        **_LIMITED,
                    },
                }
            },
            "/id/{rest}": {
                "get": {
                    "summary": "This dataset's IRIs (https://w3id.org/interfirm/id/...) at their own path, by content "
                    "negotiation",
                    "parameters": [
                        {"name": "rest", "in": "path", "required": True, "schema": {"type": "string"}},
                        _FORMAT,
                        *_PAGING,
                    ],
                    "responses": {
                        "200": {"description": "the resource", "content": _content(["text/html", *_GRAPH])},
                        "400": _error("unknown format, or a malformed paging parameter"),
                        "404": _error("nothing is known about this IRI"),
                    },
                }
            },
            "/synthetic/{rest}": {
                "get": {
                    "summary": "What kg generate made up, at its own path (when the server's public base matches)",
                    "parameters": [
                        {"name": "rest", "in": "path", "required": True, "schema": {"type": "string"}},
                        _FORMAT,
                    ],
                    "responses": {
                        "200": {"description": "the resource", "content": _content(["text/html", *_GRAPH])},
                        "404": _error("unknown IRI, or this server is not the namespace's home"),
                        **_LIMITED,
                    },
                }
            },
            "/ontology": {
                "get": {
                    "summary": "The ontology as HTML documentation or RDF",
                    "parameters": [_FORMAT],
                    "responses": {
                        "200": {"description": "the ontology", "content": _content(["text/html", *_GRAPH])},
                        "400": _error("unknown format"),
                        **_LIMITED,
                    },
                }
            },
            "/dataset": {
                "get": {
                    "summary": "VoID/DCAT description of the dataset",
                    "parameters": [_FORMAT],
                    "responses": {
                        "200": {"description": "the description", "content": _content(["text/html", *_GRAPH])},
                        "400": _error("unknown format"),
                        **_LIMITED,
                    },
                }
            },
            "/dumps/{name}": {
                "get": {
                    "summary": "The whole dataset for download, complete (`.gz`: the gzip file; Accept-Encoding: "
                    "gzip for gzip content-coding)",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": _DUMP_NAMES},
                        }
                    ],
                    "responses": {
                        "200": {"description": "the dump", "content": _content(_DUMP_TYPES)},
                        "304": {"description": "not modified (If-None-Match)"},
                        "404": _error("unknown dump, or a server in front of a remote store (no dumps)"),
                        **_LIMITED,
                    },
                }
            },
            "/sources/{name}": {
                "get": {
                    "summary": "The text of the paper the graph was built from (named in the provenance graph)",
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "the text", "content": _content(["text/plain"])},
                        "304": {"description": "not modified (If-None-Match)"},
                        "404": _error("no such source text"),
                    },
                }
            },
            "/limits": {
                "get": {
                    "summary": "The limits of this server (a cut result links here)",
                    "responses": {
                        "200": {"description": "the limits", "content": _content(["text/html", "application/json"])}
                    },
                }
            },
            "/graph/{rest}": {
                "get": {
                    "summary": "A named graph of the dataset: its triples for an RDF client, a page about it for a "
                    "browser",
                    "parameters": [
                        {"name": "rest", "in": "path", "required": True, "schema": {"type": "string"}},
                        _FORMAT,
                    ],
                    "responses": {
                        "200": {"description": "the graph", "content": _content(["text/html", *_GRAPH])},
                        "400": _error("unknown format"),
                        "404": _error("no such named graph"),
                    },
                }
            },
            "/ontology/{version}": {
                "get": {
                    "summary": "The ontology at its version IRI (the current version only)",
                    "parameters": [
                        {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}},
                        _FORMAT,
                    ],
                    "responses": {
                        "200": {"description": "the ontology", "content": _content(["text/html", *_GRAPH])},
                        "400": _error("unknown format"),
                        "404": _error("not the current version"),
                    },
                }
            },
            "/search": {
                "get": {
                    "summary": "Resources whose label or alternative label holds every word of q, ranked, with "
                    "their classes",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "description": "the words (at most 200 characters)",
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the hits",
                            "content": {"application/json": {"schema": _SEARCH}, "text/html": {"schema": _HTML}},
                        },
                        "400": _error("no words, or too long"),
                    },
                }
            },
            "/network": {
                "get": {
                    "summary": "The cooperation network drawn (HTML), with filters",
                    "parameters": _NETWORK_FILTERS,
                    "responses": {
                        "200": {"description": "the page", "content": _content(["text/html"])},
                        "400": _error("a filter that is not an IRI"),
                    },
                }
            },
            "/network.json": {
                "get": {
                    "summary": "The cooperation network as nodes and edges (one edge per agreement and pair of "
                    "partners), whole or around a focus to a depth",
                    "parameters": [
                        {"name": "focus", "in": "query", "required": False, "schema": {"type": "string"}},
                        {
                            "name": "depth",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "enum": [1, 2, 3], "default": 1},
                        },
                        *_NETWORK_FILTERS,
                    ],
                    "responses": {
                        "200": {
                            "description": "nodes and edges",
                            "content": {"application/json": {"schema": _GRAPH_JSON}},
                        },
                        "400": _error("a parameter that is not an IRI, or a depth out of range"),
                    },
                }
            },
            "/api": {
                "get": {
                    "summary": "This API's documentation (Swagger UI)",
                    "responses": {"200": {"description": "HTML", "content": _content(["text/html"])}},
                }
            },
            "/health": {
                "get": {
                    "summary": "200 when the store answers",
                    "responses": {
                        "200": {"description": "healthy", "content": _content(["application/json"])},
                        "429": _LIMITED["429"],
                        "503": _error("the store is empty or not answering"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3", "content": _content(["application/json"])}},
                }
            },
            "/": {
                "get": {
                    "summary": "The query UI (YASGUI)",
                    "responses": {"200": {"description": "HTML", "content": _content(["text/html"])}},
                }
            },
        },
    }
