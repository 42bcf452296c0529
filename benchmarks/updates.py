"""SPARQL Update cost (run by hand): one committed update on the repository graph and with generated data beside it.

A commit copies the live store, runs the update on the copy and brings the derived graphs up to date: the
statistics graph reads again only the graphs the update changed. For each size this builds the store, then
commits small updates (INSERT DATA into a named graph of their own) through `kg.updates.commit`, and prints a
Markdown table: quads after, build seconds, median and maximum commit seconds. A second table gives, for the
largest size, one update of each kind by what the statistics must read again: a small graph of its own, the
generated graph (all its triples), or every graph (a graph variable in the template: the text cannot say which).

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
    kinds: list[tuple[str, str, float]] = []
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
            if size == max(int(float(x)) for x in args.sizes.split(",")):
                kinds = by_kind(settings, extra)
    print("| generated triples | quads after | build (s) | commit median (s) | commit max (s) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size, quads, build_s, median, worst in rows:
        print(f"| {size:,} | {quads:,} | {build_s:.2f} | {median:.2f} | {worst:.2f} |")
    print()
    print("| update (largest size) | graphs the statistics read again | commit (s) |")
    print("| --- | --- | ---: |")
    for what, read, seconds in kinds:
        print(f"| {what} | {read} | {seconds:.2f} |")


def by_kind(settings: Settings, extra: tuple[str, ...]) -> list[tuple[str, str, float]]:
    """One commit of each kind, by what the statistics graph must read again."""
    from kg.sources import extra_sources

    updates = [
        (
            "INSERT DATA into a graph of its own",
            "that graph",
            f'INSERT DATA {{ GRAPH <{NOTES}> {{ <{NOTES}#k> <{NOTES}#p> "k" }} }}',
        )
    ]
    if extra:
        big = extra_sources(list(extra))[0].graph
        updates.append(
            (
                "INSERT DATA into the generated graph",
                "the generated graph",
                f'INSERT DATA {{ GRAPH <{big}> {{ <{NOTES}#k> <{NOTES}#p> "k" }} }}',
            )
        )
    updates.append(
        (
            "DELETE with a graph variable (its effect is compared over every graph)",
            "the graph its effect changed",
            f"DELETE {{ GRAPH ?g {{ ?s <{NOTES}#p> ?o }} }} WHERE {{ GRAPH ?g {{ ?s <{NOTES}#p> ?o }} }}",
        )
    )
    out = []
    for what, read, text in updates:
        started = time.monotonic()
        commit(settings, text, agent="benchmark")
        out.append((what, read, time.monotonic() - started))
        print(f"{what}: {out[-1][2]:.2f} s", file=sys.stderr)
    return out


if __name__ == "__main__":
    main()
