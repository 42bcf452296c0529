"""SPARQL Update cost (run by hand): one committed update on the repository graph and with generated data beside it.

An accepted update rebuilds the store beside the live one with the journal replayed, so its cost follows the
size of the store. For each size this builds the store, then commits three small updates (INSERT DATA into a
named graph) through `kg.updates.commit`, and prints a Markdown table: quads after, build seconds, median and
maximum commit seconds.

    .venv/bin/python benchmarks/updates.py [--sizes 0,1e5,1e6]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kg.build import rebuild  # noqa: E402
from kg.settings import Settings  # noqa: E402
from kg.updates import commit  # noqa: E402

NOTES = "https://example.org/benchmark/notes"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="0,1e5,1e6", help="generated triples beside the repository graph")
    ap.add_argument("--updates", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for size in [int(float(x)) for x in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            extra: tuple[str, ...] = ()
            if size:
                out = work / "generated.nt"
                subprocess.run(
                    [sys.executable, "-m", "kg", "generate", "--triples", str(size), "--seed", "1", "-o", str(out)],
                    check=True,
                    cwd=ROOT,
                    capture_output=True,
                )
                extra = (str(out),)
            settings = Settings.from_env(
                environ={},
                root=ROOT,
                store_dir=work / "store",
                ingest_dir=work / "ingest",
                updates_dir=work / "updates",
                extra_files=extra,
            )
            started = time.monotonic()
            rebuild(settings)
            quads = 0
            build_s = time.monotonic() - started
            seconds = []
            for i in range(args.updates):
                update = f'INSERT DATA {{ GRAPH <{NOTES}> {{ <{NOTES}#n{i}> <{NOTES}#p> "{i}" }} }}'
                started = time.monotonic()
                result = commit(settings, update, agent="benchmark")
                seconds.append(time.monotonic() - started)
                quads = result.quads or quads
            rows.append((size, quads, build_s, statistics.median(seconds), max(seconds)))
            print(f"size {size}: build {build_s:.2f} s, commits {[round(s, 2) for s in seconds]}", file=sys.stderr)
    print("| generated triples | quads after | build (s) | commit median (s) | commit max (s) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size, quads, build_s, median, worst in rows:
        print(f"| {size:,} | {quads:,} | {build_s:.2f} | {median:.2f} | {worst:.2f} |")


if __name__ == "__main__":
    main()
