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
