"""Serving the web application with gunicorn: worker processes, each with its own query workers."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from kg.settings import Settings


class KgServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running `create_app(settings)` in each worker process (gthread: threads only dispatch)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options: dict[str, Any] = {
            "bind": f"{s.host}:{s.port}",
            "workers": s.workers,
            "worker_class": "gthread",
            "threads": s.threads,
            # a backstop only: queries are stopped by the executor at query_timeout
            "timeout": int(s.query_timeout) + 30,
            "graceful_timeout": 10,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": "info",
            "control_socket_disable": True,
            "proc_name": "interfirm-kg",
        }
        for key, value in options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from kg.web import create_app

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        app = create_app(self.settings)
        app.extensions["kg"].start()  # the query workers start now, not on the first request
        return app


def _prebuild(settings: Settings) -> None:
    import sys

    from kg.errors import KgError
    from kg.store import open_store

    try:
        open_store(settings).close()
    except KgError as exc:  # say why the server cannot start, without a traceback
        print(f"error: the store cannot be built, so the server does not start: {exc}", file=sys.stderr)
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
    KgServer(settings).run()
