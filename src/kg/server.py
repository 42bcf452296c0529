"""Serving the web application with gunicorn: worker processes, each with its own query workers."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from kg.settings import Settings


class KgServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running `create_app(settings)` in each worker process.

    Each process has `http_threads` threads that read requests and answer them, and `threads` query workers
    that evaluate: far more threads than query workers, so a request beyond what the workers can take reaches
    the application at once and is refused there (429 with Retry-After), instead of waiting unread behind
    slow queries. The per-client counts live in one database all processes share (`kg.web.limits`).
    """

    def __init__(self, settings: Settings, limits: Path) -> None:
        self.settings = settings
        self.limits = limits
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options: dict[str, Any] = {
            "bind": f"{s.host}:{s.port}",
            "workers": s.workers,
            "worker_class": "gthread",
            "threads": max(s.http_threads, s.threads + 1),
            # recycled now and then, so memory a process gathered is given back (jitter: not all at once)
            "max_requests": s.max_requests,
            "max_requests_jitter": s.max_requests_jitter if s.max_requests else 0,
            # a backstop only: queries are stopped by the executor at query_timeout
            "timeout": int(s.query_timeout) + 30,
            "graceful_timeout": 10,
            # one line per request, written once the response is sent (by gunicorn, not also by the app)
            "accesslog": "-",
            "access_log_format": '%(h)s "%(r)s" %(s)s %({content-length}o)s bytes %(M)s ms',
            "errorlog": "-",
            "loglevel": "info",
            "when_ready": _announce,
            "control_socket_disable": True,
            "proc_name": "interfirm-kg",
        }
        for key, value in options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from kg.web import create_app

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        app = create_app(self.settings, limits=self.limits)
        app.extensions["kg"].start()  # the query workers start now, not on the first request
        return app


def _announce(server: Any) -> None:
    """Once, when the server listens: the URL it serves."""
    for listener in server.LISTENERS:
        url = str(listener).rstrip("/")  # http://HOST:PORT
        print(f"serving {url}/ (SPARQL endpoint {url}/sparql); Ctrl-C stops", flush=True)


def _prebuild(settings: Settings) -> None:
    import sys

    from kg.cli import _say_on_stderr
    from kg.errors import KgError
    from kg.store import open_store

    _say_on_stderr()
    try:
        open_store(settings).close()
    except KgError as exc:  # said as the CLI says it, never as a traceback
        print(f"error: the store cannot be built, so the server does not start: {exc}", file=sys.stderr, flush=True)
        sys.exit(exc.exit_code)


def serve(settings: Settings) -> None:
    """Build the store if needed, then serve until interrupted.

    The build runs in a spawned child: the gunicorn master must never load RocksDB, whose background
    threads do not survive the fork into workers (a worker opening a store would then hang).
    """
    import multiprocessing as mp

    child = mp.get_context("spawn").Process(target=_prebuild, args=(settings,))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(child.exitcode or 1)
    folder = Path(tempfile.mkdtemp(prefix="kg-serve-"))  # this server's own: its processes share it
    master = os.getpid()
    try:
        KgServer(settings, folder / "limits.sqlite").run()
    finally:
        if os.getpid() == master:  # a worker process leaves through here too when it exits
            shutil.rmtree(folder, ignore_errors=True)
