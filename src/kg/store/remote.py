"""The `sparql` backend: any SPARQL 1.1 Query/Update endpoint (Virtuoso, Fuseki, Oxigraph server, GraphDB, Neptune).

The remote store's default graph must be the union of its named graphs (Virtuoso's is; Fuseki needs
`tdb2:unionDefaultGraph true`). Loading uses SPARQL 1.1 Update (`DROP SILENT GRAPH` + `INSERT DATA` in
chunks), which every such store accepts.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import rdflib
from rdflib.term import BNode, Identifier, Literal, URIRef

from kg.errors import Forbidden, QuerySyntaxError, StoreError
from kg.store.base import Quad, QueryResult, Store, capped, with_values

_SRX = "{http://www.w3.org/2005/sparql-results#}"


class RemoteStore(Store):
    """A store behind a SPARQL 1.1 endpoint; `update_endpoint` defaults to the query endpoint."""

    kind = "sparql"

    def __init__(
        self,
        endpoint: str,
        *,
        update_endpoint: str | None = None,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint or endpoint
        self.timeout = timeout
        self._auth = None
        if token:
            self._auth = f"Bearer {token}"
        elif user:
            basic = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._auth = f"Basic {basic}"

    def _post(
        self, url: str, body: bytes, content_type: str, accept: str, headers: dict[str, str] | None = None
    ) -> bytes:
        """POST and read the answer; `headers` (when given) receives the response's headers."""
        req = urllib.request.Request(url, data=body, method="POST")
        req.add_header("Content-Type", content_type)
        req.add_header("Accept", accept)
        if self._auth:
            req.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                if headers is not None:
                    headers.update(resp.headers.items())
                return resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:1000].decode("utf-8", "replace")
            if exc.code == 400:
                raise QuerySyntaxError(f"the remote endpoint refused the query: {detail.strip()}") from exc
            if exc.code in (401, 403):
                raise Forbidden(
                    f"the remote endpoint {url} answered {exc.code}: {detail.strip()}",
                    hint="give credentials: --user and --password (HTTP Basic), or --token (Bearer, such as "
                    "another kg server's update token); or KG_ENDPOINT_USER/KG_ENDPOINT_PASSWORD/KG_ENDPOINT_TOKEN",
                ) from exc
            raise StoreError(f"the remote endpoint {url} answered {exc.code}: {detail.strip()}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise StoreError(f"cannot reach the SPARQL endpoint {url}: {exc}") from exc

    def update(self, sparql_update: str, *, using: Sequence[str] = (), using_named: Sequence[str] = ()) -> None:
        """Run a SPARQL 1.1 Update on the remote store (with the protocol's using-graph-uri parameters)."""
        fields = [("update", sparql_update)]
        fields += [("using-graph-uri", g) for g in using] + [("using-named-graph-uri", g) for g in using_named]
        self._post(
            self.update_endpoint,
            urllib.parse.urlencode(fields).encode(),
            "application/x-www-form-urlencoded",
            "*/*",
        )

    def load_graph(
        self,
        name: URIRef,
        triples: Iterable[tuple[Identifier, Identifier, Identifier]],
        *,
        chunk: int = 2000,
        chunk_chars: int = 90_000,
        progress: Callable[[int], object] | None = None,
    ) -> int:
        """Replace one named graph with these triples; returns how many were sent (`progress` hears each chunk).

        The first request drops the graph and inserts the first chunk (`DROP SILENT GRAPH ; INSERT DATA`, so a
        small graph is replaced in one request); each INSERT DATA holds at most `chunk` triples and about
        `chunk_chars` characters (a kg server takes updates of up to 100,000).
        """
        drop = f"DROP SILENT GRAPH <{name}>"
        batch: list[str] = []
        size = 0
        sent = 0

        def flush() -> None:
            nonlocal drop, batch, size, sent
            insert = f"INSERT DATA {{ GRAPH <{name}> {{\n" + "\n".join(batch) + "\n} }"
            self.update(f"{drop} ;\n{insert}" if drop else insert)
            if progress is not None:
                progress(len(batch))
            drop, sent, batch, size = "", sent + len(batch), [], 0

        for s, p, o in triples:
            if isinstance(s, BNode) or isinstance(o, BNode):
                s = _skolem(s, name)
                o = _skolem(o, name)
            line = f"{s.n3()} {p.n3()} {o.n3()} ."
            if batch and size + len(line) > chunk_chars:
                flush()
            batch.append(line)
            size += len(line) + 1
            if len(batch) >= chunk:
                flush()
        if batch:
            flush()
        elif drop:
            self.update(drop)
        return sent

    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Identifier] | None = None,
        default_graphs: Sequence[URIRef] | None = None,
        named_graphs: Sequence[URIRef] | None = None,
        max_rows: int | None = None,
    ) -> QueryResult:
        if bindings:
            sparql = with_values(sparql, bindings)
        params: list[tuple[str, str]] = [("query", sparql)]
        params += [("default-graph-uri", str(g)) for g in default_graphs or []]
        params += [("named-graph-uri", str(g)) for g in named_graphs or []]
        body = urllib.parse.urlencode(params).encode()
        accept = (
            "application/sparql-results+xml;q=1.0, application/sparql-results+json;q=0.9, "
            "application/n-triples;q=0.8, text/turtle;q=0.7"
        )
        answered: dict[str, str] = {}
        raw = self._post(self.endpoint, body, "application/x-www-form-urlencoded", accept, answered)
        result = _parse_answer(raw)
        if result.kind == "SELECT":
            result.rows, result.truncated = capped(result.rows, max_rows)
        elif result.graph is not None:
            triples, result.truncated = capped(result.graph, max_rows)
            if result.truncated:
                result.graph = rdflib.Graph()
                for t in triples:
                    result.graph.add(t)
        cut = {k.lower(): v for k, v in answered.items()}.get("x-result-truncated")
        if cut:  # the endpoint cut the result itself (interfirm-kg says so in this header)
            result.truncated = True
            result.cut_by = f"{self.endpoint} answered with at most its limit ({cut})"
        return result

    def graph_names(self) -> list[URIRef]:
        r = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(URIRef(str(row[0])) for row in r.rows if row[0] is not None)

    def quads(self) -> Iterator[Quad]:
        r = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        for s, p, o, g in r.rows:
            yield s, p, o, URIRef(str(g))  # type: ignore[misc]

    def __len__(self) -> int:
        r = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(r.rows[0][0])  # type: ignore[arg-type]


def _skolem(term: Identifier, graph: URIRef) -> Identifier:
    if isinstance(term, BNode):
        return URIRef(f"{graph}/.well-known/genid/{term}")
    return term


def _parse_answer(raw: bytes) -> QueryResult:
    text = raw.lstrip()
    if text.startswith(b"{"):
        doc = json.loads(raw)
        if "boolean" in doc:
            return QueryResult("ASK", boolean=bool(doc["boolean"]))
        variables = doc["head"]["vars"]
        rows = [tuple(_json_term(b.get(v)) for v in variables) for b in doc["results"]["bindings"]]
        return QueryResult("SELECT", variables=variables, rows=rows)
    if text.startswith(b"<?xml") or text.startswith(b"<sparql"):
        root = ET.fromstring(raw)
        if root.tag == f"{_SRX}sparql":
            boolean = root.find(f"{_SRX}boolean")
            if boolean is not None:
                return QueryResult("ASK", boolean=boolean.text.strip() == "true")  # type: ignore[union-attr]
            variables = [v.attrib["name"] for v in root.iter(f"{_SRX}variable")]
            rows = []
            for result in root.iter(f"{_SRX}result"):
                values = {b.attrib["name"]: _xml_term(b) for b in result.findall(f"{_SRX}binding")}
                rows.append(tuple(values.get(v) for v in variables))
            return QueryResult("SELECT", variables=variables, rows=rows)
    g = rdflib.Graph()
    try:
        g.parse(data=raw.decode("utf-8"), format="nt")
    except Exception:
        g.parse(data=raw.decode("utf-8"), format="turtle")
    return QueryResult("GRAPH", graph=g)


def _json_term(b: dict | None) -> Identifier | None:
    if b is None:
        return None
    kind, value = b["type"], b["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if "xml:lang" in b:
        return Literal(value, lang=b["xml:lang"])
    dt = b.get("datatype")
    if dt and dt != "http://www.w3.org/2001/XMLSchema#string":
        return Literal(value, datatype=URIRef(dt))
    return Literal(value)


def _xml_term(binding: ET.Element) -> Identifier | None:
    node = next(iter(binding), None)
    if node is None:
        return None
    tag = node.tag.removeprefix(_SRX)
    if tag == "uri":
        return URIRef(node.text or "")
    if tag == "bnode":
        return BNode(node.text or "")
    lang = node.attrib.get("{http://www.w3.org/XML/1998/namespace}lang")
    if lang:
        return Literal(node.text or "", lang=lang)
    dt = node.attrib.get("datatype")
    if dt and dt != "http://www.w3.org/2001/XMLSchema#string":
        return Literal(node.text or "", datatype=URIRef(dt))
    return Literal(node.text or "")
