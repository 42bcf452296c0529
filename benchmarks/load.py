"""Bounded load test (run by hand, loopback only): 16 clients over the saved-query mix for 60 s.

Starts `kg serve` on a free loopback port with the repository's graph, runs N client threads that each
loop over the saved queries (in a different order) until the duration is over, and prints a Markdown
table: requests, errors, throughput, p50/p99 latency. Every loop is bounded in time and count.

    .venv/bin/python benchmarks/load.py [--clients 16] [--seconds 60]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import http, running_server  # noqa: E402

MAX_REQUESTS = 1_000_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    names = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp, running_server(
        Path(tmp), env={"KG_RATE_LIMIT_PER_MINUTE": "0"}
    ) as base:
        deadline = time.monotonic() + args.seconds

        def client(seed: int) -> None:
            order = names[:]
            random.Random(seed).shuffle(order)
            i = 0
            while time.monotonic() < deadline and len(latencies) < MAX_REQUESTS:
                name = order[i % len(order)]
                i += 1
                t0 = time.monotonic()
                try:
                    status, _, _ = http(f"{base}/queries/{name}?format=json", timeout=60)
                except OSError as exc:
                    status = type(exc).__name__
                elapsed = time.monotonic() - t0
                with lock:
                    if status == 200:
                        latencies.append(elapsed)
                    else:
                        errors[str(status)] += 1

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 120)
        wall = time.monotonic() - started
    lat = sorted(latencies)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan")
    print("| clients | seconds | requests OK | errors | throughput req/s | p50 ms | p99 ms |")
    print("| ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    err = ", ".join(f"{k}: {v}" for k, v in errors.items()) or "0"
    print(f"| {args.clients} | {wall:.0f} | {len(lat)} | {err} | {len(lat) / wall:.1f} | "
          f"{statistics.median(lat) * 1000:.1f} | {p99 * 1000:.1f} |")


if __name__ == "__main__":
    main()
