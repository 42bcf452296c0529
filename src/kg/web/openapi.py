"""The OpenAPI 3 description of every route."""

from __future__ import annotations

from typing import Any

from kg import __version__
from kg.results import GRAPH_FORMATS, TABULAR_FORMATS
from kg.web.conneg import FORMAT_PARAM
from kg.web.meta import DUMPS
from kg.web.validate import REPORT_FORMATS

# the media types of the result formats ("table" is the command line's own)
_TABULAR = [media for fmt, (media, _) in TABULAR_FORMATS.items() if fmt != "table"]
_GRAPH = [media for fmt, (media, _) in GRAPH_FORMATS.items() if fmt != "table"]
_RDF_IN = _GRAPH  # the RDF syntaxes /validate and /cases read


def _content(types: list[str]) -> dict[str, Any]:
    # JSON bodies are documents, the others text: an empty schema admits both
    return {t: {"schema": {}} for t in types}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _content(["text/plain", "application/json"])}


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
    "429": _error("too many queries: every worker busy, or this client over its rate (see Retry-After)"),
    "503": _error("the query ran past the time limit and was stopped"),
}


def spec() -> dict[str, Any]:
    """OpenAPI 3.0 document of the service."""
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
                    "summary": "Run a saved query; its declared parameters are query-string parameters",
                    "parameters": [_FORMAT],
                    "responses": {**_RESULTS, "404": _error("no such saved query")},
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
                    "responses": {**_RESULTS, "404": _error("no such saved query")},
                },
            },
            "/queries/{name}.rq": {
                "get": {
                    "summary": "The text of a saved query",
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "the query", "content": _content(["application/sparql-query"])},
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
                        "429": _error("this client is over its rate (see Retry-After)"),
                        "503": _error("the validation ran past the time limit and was stopped"),
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
                    },
                }
            },
            "/resource": {
                "get": {
                    "summary": "A Linked Data page for any IRI in the graph",
                    "parameters": [
                        {"name": "iri", "in": "query", "required": True, "schema": {"type": "string"}},
                        _FORMAT,
                    ],
                    "responses": {
                        "200": {"description": "the resource", "content": _content(["text/html", *_GRAPH])},
                        "400": _error("missing or malformed IRI"),
                        "404": _error("unknown IRI"),
                    },
                }
            },
            "/id/{rest}": {
                "get": {
                    "summary": "Our own IRIs at their own path (when the server's public base is their namespace)",
                    "parameters": [
                        {"name": "rest", "in": "path", "required": True, "schema": {"type": "string"}},
                        _FORMAT,
                    ],
                    "responses": {
                        "200": {"description": "the resource", "content": _content(["text/html", *_GRAPH])},
                        "404": _error("unknown IRI, or this server is not the namespace's home"),
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
                        "429": _error("every query worker busy (see Retry-After)"),
                    },
                }
            },
            "/dumps/interfirm.{ext}": {
                "get": {
                    "summary": "The whole dataset for download",
                    "parameters": [
                        {
                            "name": "ext",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": list(DUMPS)},
                        }
                    ],
                    "responses": {
                        "200": {"description": "the dump", "content": _content(_GRAPH)},
                        "404": _error("unknown dump format"),
                    },
                }
            },
            "/health": {
                "get": {
                    "summary": "200 when the store answers",
                    "responses": {
                        "200": {"description": "healthy", "content": _content(["application/json"])},
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
