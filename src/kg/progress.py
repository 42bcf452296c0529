"""Progress on standard error for long commands: bars when it is a terminal, nothing otherwise (logs, pipes)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm


def bar(total: float | None, desc: str, *, unit: str = "it", scale: bool = False, **options: Any) -> tqdm:  # type: ignore[type-arg]
    """A progress bar on standard error, shown only when it is a terminal; `scale` for bytes (kB, MB, ...)."""
    tqdm.monitor_interval = 0  # no monitor thread: the bars refresh themselves
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=scale,
        unit_divisor=1024 if unit == "B" else 1000,
        file=sys.stderr,
        disable=None,  # None: off unless standard error is a terminal
        leave=False,
        dynamic_ncols=True,
        mininterval=0.2,
        **options,
    )


@contextmanager
def working(desc: str) -> Iterator[None]:
    """A ticking line (elapsed time) on a terminal while one long step that reports no progress of its own runs."""
    with bar(None, desc, bar_format="{desc}: {elapsed}") as line:
        if line.disable:
            yield
            return
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(0.5):
                line.refresh()

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()


class Timer:
    """Seconds since it was made, for the summary line of a command."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def __str__(self) -> str:
        s = self.seconds
        return f"{s:.1f} s" if s < 120 else f"{int(s // 60)} min {int(s % 60)} s"


class Stages:
    """Progress of a long validation or ingest on standard error (a terminal only): a ticking `desc` line from the
    start, replaced by a bar per stage (`stages(stage, done, total)`) once the work has run for `after` seconds."""

    def __init__(self, desc: str, after: float = 2.0) -> None:
        self.desc = desc
        self.started = time.monotonic()
        self.after = after
        self.bar: tqdm | None = None  # type: ignore[type-arg]
        self.stage = ""
        self._working: Any = None

    def __enter__(self) -> Stages:
        self._working = working(self.desc)
        self._working.__enter__()
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.bar is None and time.monotonic() - self.started < self.after:
            return
        self._stop_working()
        if self.bar is None or stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = bar(total or None, f"{self.desc}: {stage}", unit=" batches" if total else " steps")
        self.bar.n = done
        self.bar.refresh()

    def _stop_working(self) -> None:
        if self._working is not None:
            self._working.__exit__(None, None, None)
            self._working = None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __exit__(self, *exc: object) -> None:
        self._stop_working()
        self.close()
