"""Running the real server (`python -m kg serve`, gunicorn) for tests: start, wait for /health, stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request; HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def kg_env(tmp: Path, **more: str) -> dict[str, str]:
    """The environment of a `kg` process on the repository with its store, ingests and updates under `tmp`
    (the caller's own KG_* variables dropped; SERVICE off, as no test may need the internet, unless `more` allows
    it)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    environ.update(
        {
            "KG_ROOT": str(ROOT),
            "KG_ALLOWED_SERVICES": "",
            "KG_STORE_DIR": str(tmp / "store"),
            "KG_INGEST_DIR": str(tmp / "ingest"),
            "KG_UPDATES_DIR": str(tmp / "updates"),
            **more,
        }
    )
    return environ


def run_kg(
    tmp: Path, *args: str, stdin: str | None = None, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m kg ARGS` in `kg_env(tmp, **env)`, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        capture_output=True,
        text=True,
        env=kg_env(tmp, **(env or {})),
        cwd=ROOT,
        input=stdin,
        timeout=timeout,
    )


@contextmanager
def running_server(tmp: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`python -m kg serve ARGS` on a free loopback port, store under `tmp`; yields its base URL."""
    port = free_port()
    environ = kg_env(tmp, **(env or {}))
    log_path = tmp / f"server-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kg", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_SECONDS
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the server exited with {proc.returncode}:\n{_tail(log_path)}")
                try:
                    if http(base + "/health", timeout=5)[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no /health within {START_SECONDS} s:\n{_tail(log_path)}")
                time.sleep(0.25)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
