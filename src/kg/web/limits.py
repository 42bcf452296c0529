"""Per-client rate limiting (as WDQS does): a sliding one-minute window of query requests per client address."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from kg.errors import TooBusy


class RateLimiter:
    """At most `per_minute` query requests per client in any 60 s window (per server process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> None:
        """Count one request from `client`, or raise TooBusy with the seconds until it may retry."""
        if self.per_minute <= 0:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[client]
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                retry = max(1, int(hits[0] + 60 - now) + 1)
                raise TooBusy(
                    f"more than {self.per_minute} queries in a minute from {client}",
                    retry_after=retry,
                    hint=f"wait {retry} s, or run the saved queries less often",
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - 60]:
                    del self._hits[key]
