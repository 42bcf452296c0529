"""Per-client admission (as WDQS does): a sliding one-minute window of requests, and a cap on the requests one
client has in the query workers at once, both counted across every process of the server.

The counts live in a small SQLite database that the server's processes share (the `kg serve` master creates it
before it starts them; an app on its own keeps a private one). SQLite serialises the processes' transactions
and its locks die with a process, so a process killed mid-request cannot wedge the others; the requests it held
are dropped the next time someone needs the room.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import time
import weakref
from pathlib import Path

from kg.errors import TooBusy

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (client TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_client ON hits (client, at);
CREATE TABLE IF NOT EXISTS running (id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS running_client ON running (client);
"""
WINDOW = 60.0


class Admission:
    """At most `per_minute` requests per client in any 60 s window and at most `concurrent` at once (0: no limit).

    `path` is the database file the server's processes share (None: a private one, removed with this object).
    """

    def __init__(self, path: Path | None, per_minute: int, concurrent: int) -> None:
        self.per_minute = per_minute
        self.concurrent = concurrent
        if path is None:
            folder = tempfile.mkdtemp(prefix="kg-limits-")
            weakref.finalize(self, shutil.rmtree, folder, True)
            path = Path(folder) / "limits.sqlite"
        self.path = path
        self._local = threading.local()
        self._requests = 0

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")  # counts, not data: losing them in a crash costs nothing
        conn.executescript(_SCHEMA)
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = self._local.conn = self._connect()
            self._local.pid = os.getpid()
        return conn

    def enter(self, client: str, now: float | None = None) -> int | None:
        """Admit one request from `client`: its ticket for `leave`, or TooBusy with the seconds to wait."""
        if self.per_minute <= 0 and self.concurrent <= 0:
            return None
        now = time.monotonic() if now is None else now
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._requests += 1
            if self._requests % 1000 == 0:  # forget idle clients now and then
                conn.execute("DELETE FROM hits WHERE at <= ?", (now - WINDOW,))
            if self.per_minute > 0:
                conn.execute("DELETE FROM hits WHERE client = ? AND at <= ?", (client, now - WINDOW))
                query = "SELECT COUNT(*), MIN(at) FROM hits WHERE client = ?"
                count, oldest = conn.execute(query, (client,)).fetchone()
                if count >= self.per_minute:
                    retry = max(1, int(oldest + WINDOW - now) + 1)
                    raise TooBusy(
                        f"more than {self.per_minute} requests in a minute from {client}",
                        retry_after=retry,
                        hint=f"wait {retry} s, or run the saved queries less often",
                    )
                conn.execute("INSERT INTO hits (client, at) VALUES (?, ?)", (client, now))
            ticket = None
            if self.concurrent > 0:
                running = self._running(conn, client)
                if running >= self.concurrent and self._forget_dead(conn, client):
                    running = self._running(conn, client)
                if running >= self.concurrent:
                    conn.execute("COMMIT")  # the hit counts: a flood of refused requests is still a flood
                    raise TooBusy(
                        f"{client} already has {self.concurrent} requests running, as many as this endpoint allows "
                        "one client at once",
                        retry_after=1,
                        hint="wait for one of them to finish before sending the next",
                    )
                ticket = conn.execute(
                    "INSERT INTO running (client, pid) VALUES (?, ?)", (client, os.getpid())
                ).lastrowid
            conn.execute("COMMIT")
            return ticket
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def leave(self, ticket: int | None) -> None:
        """The request holding `ticket` has finished."""
        if ticket is not None:
            self._conn().execute("DELETE FROM running WHERE id = ?", (ticket,))

    @staticmethod
    def _running(conn: sqlite3.Connection, client: str) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM running WHERE client = ?", (client,)).fetchone()[0])

    @staticmethod
    def _forget_dead(conn: sqlite3.Connection, client: str) -> bool:
        """Drop the requests held by processes that no longer exist (killed mid-request); True when any were."""
        dead = []
        for (pid,) in conn.execute("SELECT DISTINCT pid FROM running WHERE client = ?", (client,)).fetchall():
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                dead.append(pid)
            except PermissionError:
                pass
        for pid in dead:
            conn.execute("DELETE FROM running WHERE pid = ?", (pid,))
        return bool(dead)
