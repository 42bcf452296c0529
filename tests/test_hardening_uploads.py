"""Uploads cannot brick the store or hold the web processes (hardening, second round: uploads).

Each attack runs against `kg serve` over real sockets while a second client keeps asking a small query: it is
answered within 2 s throughout, the attack gets its documented status, and nothing is stored or left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, tmp_settings
from tests.live import http, kg_env, run_kg, running_server

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VALID = ROOT / "tests" / "cases" / "valid" / "cluster-network.ttl"
# terms rdflib reads but Oxigraph's parser refuses (issue: hardening, item 2), and what the message shows
UNSTORABLE = {
    "percent-zz": ("<https://example.org/a%zz>", "%zz"),
    "port": ("<https://example.org:abc/a>", "example.org:abc"),
    "bare-percent": ("<https://example.org/a%>", "percent encoding"),
    "control-character": ("<https://example.org/a\\u0001b>", "\\u0001"),
    "bracket-in-path": ("<https://example.org/a[1]>", "["),
    "two-hashes": ("<https://example.org/a#b#c>", "#"),
    "broken-ipv6-host": ("<http://[::1/a>", "[::1"),
    "long-language-tag": ('"x"@abcdefghijk', "abcdefghijk"),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("uploads")
    env = {"KG_UPDATE_TOKEN": TOKEN, "KG_RATE_LIMIT_PER_MINUTE": "0"}
    with running_server(tmp, env=env) as base:
        yield base, tmp


def quads(base: str) -> int:
    query = urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    status, _, body = http(f"{base}/sparql?query={query}", headers={"Accept": "application/sparql-results+json"})
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


@contextmanager
def victim(base: str) -> Iterator[list[float]]:
    """A second client asking a small query over and over while the block runs; its latencies."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = threading.Event()
    query = urllib.parse.quote("ASK { ?s ?p ?o }")

    def ask() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                status, _, body = http(f"{base}/sparql?query={query}", timeout=30)
            except OSError as exc:
                errors.append(repr(exc))
                continue
            latencies.append(time.monotonic() - started)
            if status != 200:
                errors.append(f"{status}: {body[:200]!r}")
            time.sleep(0.05)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    try:
        yield latencies
    finally:
        stop.set()
        thread.join(timeout=40)
    assert not errors, errors
    assert latencies, "the second client was never answered"
    assert max(latencies) < 2.0, f"the second client waited {max(latencies):.1f} s"


def left_behind(tmp: Path) -> list[Path]:
    folder = tmp / "ingest"
    return sorted(folder.glob("*.nt")) + sorted(folder.glob(".*partial")) if folder.is_dir() else []


@pytest.mark.slow
def test_unstorable_terms_are_refused_with_400_and_nothing_is_stored(served: tuple[str, Path]) -> None:
    base, tmp = served
    before = quads(base)
    with victim(base):
        for name, (term, shown) in UNSTORABLE.items():
            body = f"<https://example.org/s> <http://www.w3.org/2000/01/rdf-schema#label> {term} .\n".encode()
            headers = {"Content-Type": "application/n-triples"}
            status, _, answer = http(base + "/validate", data=body, headers=headers)
            text = answer.decode("utf-8", "replace")
            assert status == 400, (name, status, text)
            assert shown in text and "cannot be stored" in text, (name, text)
            status, _, answer = http(base + "/cases", data=body, headers={**headers, **AUTH})
            assert status == 400, (name, status, answer[:300])
    assert left_behind(tmp) == []
    assert quads(base) == before


@pytest.mark.slow
def test_an_upload_over_the_triple_cap_is_413_and_parsed_away_from_the_web_process(served: tuple[str, Path]) -> None:
    """1 MB of `[] e:p [], [], ...` (about 100,000 blank nodes per 300 KB): the query worker parses it and stops at
    the cap; the web process never holds it as a graph."""
    base, tmp = served
    stored = left_behind(tmp)
    body = b"@prefix e: <https://example.org/> .\n[] e:p " + b"[]," * 349_000 + b"[] .\n"
    with victim(base):
        started = time.monotonic()
        status, _, answer = http(base + "/validate", data=body, headers={"Content-Type": "text/turtle"}, timeout=120)
        elapsed = time.monotonic() - started
    assert status == 413, answer[:500]
    assert b"more than 200,000 triples" in answer and b"KG_MAX_UPLOAD_TRIPLES" in answer
    assert elapsed < 60
    status, _, answer = http(base + "/cases", data=body, headers={"Content-Type": "text/turtle", **AUTH}, timeout=120)
    assert status == 413, answer[:500]
    assert left_behind(tmp) == stored


@pytest.mark.slow
def test_empty_upload_is_nothing_to_validate(served: tuple[str, Path]) -> None:
    base, _ = served
    for body in (b"", b"# only a comment\n", b"@prefix e: <https://example.org/> .\n"):
        status, _, answer = http(base + "/validate", data=body, headers={"Content-Type": "text/turtle"})
        assert status == 400 and b"nothing to validate" in answer, (body, status, answer)


@pytest.mark.slow
def test_after_the_attacks_a_valid_case_is_still_added(served: tuple[str, Path]) -> None:
    base, tmp = served
    before = quads(base)
    status, _, answer = http(
        base + "/cases", data=VALID.read_bytes(), headers={"Content-Type": "text/turtle", **AUTH}, timeout=120
    )
    assert status == 201, answer[:500]
    assert quads(base) > before and len(left_behind(tmp)) == 1


def test_an_ingest_file_the_store_cannot_load_is_named_and_the_server_says_why(tmp_path: Path) -> None:
    """A committed ingest file that Oxigraph refuses (as an older version could commit): `kg build` names the file
    and how to drop it, and `kg serve` says why it does not start instead of a traceback."""
    folder = tmp_path / "ingest"
    folder.mkdir()
    bad = folder / "0123456789abcdef.nt"
    bad.write_text('<https://example.org/s> <http://www.w3.org/2000/01/rdf-schema#label> "x"@abcdefghijk .\n')
    proc = run_kg(tmp_path, "build")
    assert proc.returncode == 2, proc.stderr
    assert str(bad) in proc.stderr and f"rm {bad}" in proc.stderr and "Traceback" not in proc.stderr
    serve = subprocess.run(
        [sys.executable, "-m", "kg", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=kg_env(tmp_path),
        cwd=ROOT,
        timeout=120,
    )
    assert serve.returncode == 2, serve.stderr
    assert "the server does not start" in serve.stderr and f"rm {bad}" in serve.stderr
    assert "Traceback" not in serve.stderr
    bad.unlink()
    assert run_kg(tmp_path, "build").returncode == 0


def test_an_ingest_whose_build_fails_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the term check, a build can still fail (a full disk): the committed file is removed again."""
    from kg import ingest as ingest_module
    from kg.errors import StoreError
    from kg.store import open_store

    settings = tmp_settings(tmp_path, "oxigraph")
    open_store(settings).close()

    def failing_rebuild(_settings: object, **_: object) -> bool:
        raise StoreError("no space left on device (simulated)")

    monkeypatch.setattr(ingest_module, "rebuild", failing_rebuild)
    with pytest.raises(StoreError):
        ingest_module.ingest_files(settings, [VALID], agent="test")
    assert left_behind(tmp_path) == []
