"""What a user of the real server (`kg serve` over sockets) sees: complete dumps past the row cap, gzip on request,
sizes and checksums in VoID/DCAT, a cut query result that says so in every way a client can read, the paper's
text where the provenance graph points, the data licence, synthetic data labelled as such, one log line per
request and the URL printed once."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from rdflib import URIRef
from rdflib.namespace import DCAT, DCTERMS

from kg.namespaces import DATA_LICENSE, IFD, SYNTHETIC
from tests.conftest import ROOT
from tests.live import http, run_kg, running_server

pytestmark = pytest.mark.slow

CAP = 1000
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")


class Served:
    def __init__(self, base: str, tmp: Path, generated: Path) -> None:
        self.base, self.tmp, self.generated = base, tmp, generated

    @property
    def log(self) -> str:
        port = urllib.parse.urlsplit(self.base).port
        return (self.tmp / f"server-{port}.log").read_text(errors="replace")

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return http(self.base + path, headers=headers)

    def count(self, where: str) -> int:
        query = urllib.parse.quote(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        status, _, body = self.get(f"/sparql?query={query}", Accept="application/sparql-results+json")
        assert status == 200, body
        return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The repository plus 3,000 synthetic triples (`kg build FILE`), served with results cut at 1,000 rows."""
    tmp = tmp_path_factory.mktemp("serving")
    generated = tmp / "gen.nt"
    assert run_kg(tmp, "generate", "-n", "3000", "--seed", "8", "-o", str(generated)).returncode == 0
    built = run_kg(tmp, "build", str(generated))
    assert built.returncode == 0, built.stderr
    with running_server(tmp, env={"KG_MAX_RESULT_ROWS": str(CAP)}) as base:
        yield Served(base, tmp, generated)


# ----------------------------------------------------------------------------------------------------------- dumps


def test_dumps_are_complete_past_the_row_cap(served: Served) -> None:
    triples = served.count("?s ?p ?o")
    quads = served.count("GRAPH ?g { ?s ?p ?o }")
    assert triples > 3 * CAP
    status, headers, body = served.get("/dumps/interfirm.nt")
    assert status == 200, body[:300]
    assert "X-Result-Truncated" not in headers
    lines = [line for line in body.decode("utf-8").splitlines() if line.strip()]
    assert len(lines) == triples == len(rdflib.Graph().parse(data=body, format="nt"))
    status, headers, body = served.get("/dumps/interfirm.nq")
    assert status == 200 and headers["Content-Type"] == "application/n-quads; charset=utf-8"
    ds = rdflib.Dataset()
    ds.parse(data=body, format="nquads")
    assert sum(len(g) for g in ds.graphs()) == quads
    assert any(str(g.identifier).startswith("https://w3id.org/interfirm/graph/extra/gen-") for g in ds.graphs())


def test_dumps_gzip_on_request_with_size_and_checksum_in_void_and_dcat(served: Served) -> None:
    status, headers, plain = served.get("/dumps/interfirm.ttl")
    assert status == 200 and headers["Vary"] == "Accept-Encoding"
    status, headers, encoded = served.get("/dumps/interfirm.ttl", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(encoded) == plain
    status, headers, file = served.get("/dumps/interfirm.ttl.gz")
    assert status == 200 and headers["Content-Type"] == "application/gzip"
    assert gzip.decompress(file) == plain

    status, _, body = served.get("/sparql", Accept="text/turtle")
    g = rdflib.Graph().parse(data=body, format="turtle")
    public = "https://w3id.org/interfirm"  # the description names the public base, never the request's Host
    dataset = URIRef(public + "/dataset")
    assert g.value(dataset, DCTERMS.license) == DATA_LICENSE
    sizes = {}
    for dist in g.objects(dataset, DCAT.distribution):
        url = str(g.value(dist, DCAT.downloadURL))
        checksum = g.value(dist, SPDX.checksum)
        sizes[url.rsplit("/", 1)[-1]] = (
            g.value(dist, DCAT.byteSize).toPython(),  # type: ignore[union-attr]
            str(g.value(checksum, SPDX.checksumValue)),
        )
        assert g.value(dist, DCTERMS.license) == DATA_LICENSE
    assert sizes["interfirm.ttl"] == (len(plain), hashlib.sha256(plain).hexdigest())
    assert sizes["interfirm.ttl.gz"] == (len(file), hashlib.sha256(file).hexdigest())
    assert len(sizes) == 10
    assert {URIRef(public + "/dumps/" + name) for name in sizes} == set(g.objects(dataset, VOID.dataDump))


# ------------------------------------------------------------------------------------------------------ row cap


def test_a_cut_select_says_so_in_json_xml_and_headers(served: Served) -> None:
    query = urllib.parse.quote("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    status, headers, body = served.get(f"/sparql?query={query}", Accept="application/sparql-results+json")
    assert status == 200
    assert headers["X-Result-Truncated"] == f"rows={CAP}"
    doc = json.loads(body)
    assert len(doc["results"]["bindings"]) == CAP
    link = doc["head"]["link"]
    assert link == [served.base + "/limits#result-rows"]
    assert headers["Link"] == f'<{link[0]}>; rel="describedby"'
    status, _, page = served.get("/limits", Accept="text/html")
    assert status == 200 and b'id="result-rows"' in page and f"{CAP:,}".encode() in page
    status, _, body = served.get(f"/sparql?query={query}", Accept="application/sparql-results+xml")
    assert f'<link href="{link[0]}"/>'.encode() in body
    construct = urllib.parse.quote("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    status, headers, body = served.get(f"/sparql?query={construct}", Accept="text/turtle")
    assert headers["X-Result-Truncated"] == f"rows={CAP}"
    assert body.startswith(f"# this result is incomplete: see <{link[0]}>\n".encode())
    assert len(rdflib.Graph().parse(data=body, format="turtle")) == CAP
    complete = urllib.parse.quote("SELECT ?s WHERE { ?s ?p ?o } LIMIT 10")
    status, headers, body = served.get(f"/sparql?query={complete}", Accept="application/sparql-results+json")
    assert "X-Result-Truncated" not in headers and "link" not in json.loads(body)["head"]


def test_the_command_line_warns_when_the_endpoint_cut_the_result(served: Served, tmp_path: Path) -> None:
    query = tmp_path / "all.rq"
    query.write_text("#+ summary: everything\nSELECT ?s ?p ?o WHERE { ?s ?p ?o }\n", encoding="utf-8")
    env = {"KG_STORE": "sparql", "KG_ENDPOINT": served.base + "/sparql"}
    proc = run_kg(tmp_path, "query", str(query), "--format", "csv", env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1 + CAP
    assert "warning: this result is incomplete" in proc.stderr and f"rows={CAP}" in proc.stderr
    small = tmp_path / "small.rq"
    small.write_text("#+ summary: a few\nSELECT ?s WHERE { ?s ?p ?o } LIMIT 3\n", encoding="utf-8")
    proc = run_kg(tmp_path, "query", str(small), "--format", "csv", env=env)
    assert proc.returncode == 0 and proc.stderr == ""


# ------------------------------------------------------------------------------------- provenance, licence, labels


def test_the_papers_text_is_where_the_provenance_graph_points(served: Served) -> None:
    text_iri = "https://w3id.org/interfirm/sources/unctad-ite-eds-2.txt"
    query = urllib.parse.quote(
        "PREFIX spdx: <http://spdx.org/rdf/terms#> PREFIX dcterms: <http://purl.org/dc/terms/> "
        f"SELECT ?sum WHERE {{ <{IFD['unctad-ite-eds-2']}> dcterms:hasFormat <{text_iri}> . "
        f"<{text_iri}> spdx:checksum/spdx:checksumValue ?sum }}"
    )
    status, _, body = served.get(f"/sparql?query={query}", Accept="application/sparql-results+json")
    recorded = json.loads(body)["results"]["bindings"][0]["sum"]["value"]
    status, headers, text = served.get("/sources/unctad-ite-eds-2.txt")
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert hashlib.sha256(text).hexdigest() == recorded
    assert text == (ROOT / "sources" / "unctad-ite-eds-2.txt").read_bytes()


def test_synthetic_data_is_labelled_synthetic_and_paper_data_from_the_paper(served: Served) -> None:
    firm = next(
        line.split()[0].strip("<>") for line in served.generated.read_text().splitlines() if "/firm-" in line.split()[0]
    )
    assert firm.startswith(str(SYNTHETIC))
    status, _, page = served.get("/resource?iri=" + urllib.parse.quote(firm, safe=""), Accept="text/html")
    assert status == 200
    html = page.decode()
    assert "Synthetic data:" in html and "Synthetic (kg generate):" in html and "From the paper" not in html
    status, _, page = served.get("/resource?iri=" + urllib.parse.quote(str(IFD["firm-samsung"])), Accept="text/html")
    html = page.decode()
    assert "From the paper:" in html and "Synthetic" not in html


# ----------------------------------------------------------------------------------------------------------- logs


def test_the_url_is_printed_once_and_each_request_logged_once(served: Served) -> None:
    marker = "once-" + hashlib.sha256(served.base.encode()).hexdigest()[:8]
    assert served.get(f"/health?probe={marker}")[0] == 200
    deadline = time.monotonic() + 10  # the access log line is written once the response has been sent
    while marker not in served.log and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a second line, were there one, would come right after
    log = served.log
    assert log.count(f"serving {served.base}/ (SPARQL endpoint {served.base}/sparql)") == 1
    lines = [line for line in log.splitlines() if marker in line]
    assert len(lines) == 1, lines
    assert re.search(r'"GET /health\?probe=once-[0-9a-f]{8} HTTP/1.1" 200 \d+ bytes \d+ ms', lines[0])
