"""The w3id.org redirect rules (w3id/interfirm/.htaccess) in a real Apache with mod_rewrite on loopback: RDF
clients are sent to the syntax they ask for, browsers to the page, each IRI to the server's same path.

.ci/run installs Debian's apache2; elsewhere the test is skipped with a message (and fails under CI=true).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.live import free_port

HTACCESS = ROOT / "w3id" / "interfirm" / ".htaccess"
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = Path("/usr/lib/apache2/modules")
TARGET = "https://interfirm-kg.example.org/"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def _config(folder: Path, port: int) -> str:
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    modules = "".join(
        f"LoadModule {name}_module {MODULES}/mod_{name}.so\n" for name in ("mpm_event", "authz_core", "rewrite")
    )
    return f"""ServerRoot "{folder}"
DefaultRuntimeDir "{folder}"
PidFile "{folder}/apache.pid"
ErrorLog "{folder}/error.log"
LogLevel warn rewrite:trace2
{modules}{user}Listen 127.0.0.1:{port}
ServerName 127.0.0.1
DocumentRoot "{folder}/www"
<Directory "{folder}/www">
    AllowOverride All
    Require all granted
</Directory>
"""


@pytest.fixture(scope="module")
def apache() -> Iterator[str]:
    if not (Path(APACHE).is_file() and (MODULES / "mod_rewrite.so").is_file()):
        message = "no Apache with mod_rewrite: apt-get install apache2 (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="kg-w3id-"))
    try:
        folder.chmod(0o755)  # Apache's workers (www-data when started by root) read the site
        site = folder / "www" / "interfirm"
        site.mkdir(parents=True)
        shutil.copy(HTACCESS, site / ".htaccess")
        for p in (folder / "www", site, site / ".htaccess"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        port = free_port()
        (folder / "apache.conf").write_text(_config(folder, port))
        proc = subprocess.Popen(
            [APACHE, "-f", str(folder / "apache.conf"), "-DFOREGROUND"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                if proc.poll() is not None:
                    log = (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
                    pytest.fail(f"Apache did not start: {log[-2000:]}")
                try:
                    urllib.request.urlopen(base + "/", timeout=1)
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def where(base: str, path: str, accept: str | None) -> tuple[int, str]:
    """The status and Location Apache answers for `path` with this Accept header (redirects not followed)."""
    opener = urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(base + path, headers={"Accept": accept} if accept else {})
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, resp.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


@pytest.mark.parametrize(
    ("accept", "suffix"),
    [
        ("text/turtle", "?format=turtle"),
        ("application/ld+json", "?format=jsonld"),
        ("application/rdf+xml;q=1.0, text/html;q=0.1", "?format=xml"),
        ("application/n-triples", "?format=nt"),
        (BROWSER, ""),
        (None, ""),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "ontology",
        "ontology/0.2.0",
        "id/firm-samsung",
        "graph/table2",
        "graph/inferred",
        "graph/links/wikidata",
        "dataset",
    ],
)
def test_each_client_is_sent_where_it_should(apache: str, path: str, accept: str | None, suffix: str) -> None:
    status, location = where(apache, f"/interfirm/{path}", accept)
    assert status == 303
    assert location == f"{TARGET}{path}{suffix}"


def test_other_paths_are_not_redirected(apache: str) -> None:
    assert where(apache, "/interfirm/secret/../etc", "text/turtle")[0] in (400, 404)
    assert where(apache, "/interfirm/nothing-here", BROWSER)[0] == 404
    assert where(apache, "/interfirm/", BROWSER) == (302, TARGET)


def test_the_server_answers_the_redirected_paths() -> None:
    """The paths the rules send clients to are routes of the server (same path, ?format= it understands)."""
    from kg.web import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(store="memory", threads=1))
    try:
        client = app.test_client()
        for path in (
            "/ontology?format=turtle",
            "/id/firm-samsung?format=jsonld",
            "/graph/table2?format=nt",
            "/dataset?format=turtle",
            "/ontology/0.2.0?format=xml",
        ):
            resp = client.get(path)
            assert resp.status_code == 200, path
    finally:
        app.extensions["kg"].close()
