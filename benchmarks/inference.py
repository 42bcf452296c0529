"""What the inferred graph costs a build (run by hand, loopback only, never in CI).

For each size, `kg generate` writes N triples, then `kg build --force FILE` runs in a child process (repeated
`--reps` times). The build's manifest says how long the derived graph took and how many triples it holds, so
each build gives both numbers under the same load: the build without inference is the build minus that part.
Then what storing the entailments costs by itself (Oxigraph's bulk load of the generated file, then of the
inferred triples beside it), and one case file is ingested into the built store, which updates the inferred
graph incrementally.
HermiT's classification is cached by the ontology's checksum (`.kg/cache`); a first build warms it.

    .venv/bin/python benchmarks/inference.py [--sizes 1e6] [--reps 3] [--workdir /tmp/kg-bench-inference] [--no-ingest]

`--no-ingest` leaves out the ingest (new data is validated with its neighbourhood only: seconds at 10^6).

Prints a Markdown section for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KG = [sys.executable, "-m", "kg"]
INFERRED = "https://w3id.org/interfirm/graph/inferred"  # the manifest also times the statistics graph


def run(args: list[str], env: dict[str, str], timeout: float = 3600) -> float:
    started = time.monotonic()
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr[-2000:]}")
    return time.monotonic() - started


def write_floor(store: Path, data: Path, work: Path) -> tuple[float, float]:
    """What storing the entailments costs by itself: Oxigraph's bulk load of the generated file into an empty
    on-disk store, then of the built inferred graph's triples into a named graph beside it (seconds each)."""
    import pyoxigraph as ox

    inferred = work / "inferred.nt"
    built = ox.Store.read_only(str(store / "db"))
    built.dump(str(inferred), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(INFERRED))
    del built
    target = work / "floor-store"
    shutil.rmtree(target, ignore_errors=True)
    fresh = ox.Store(str(target))
    started = time.monotonic()
    fresh.bulk_load(path=str(data), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("https://example.org/g"))
    base = time.monotonic() - started
    started = time.monotonic()
    fresh.bulk_load(path=str(inferred), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(INFERRED))
    entailed = time.monotonic() - started
    del fresh
    shutil.rmtree(target, ignore_errors=True)
    inferred.unlink()
    return base, entailed


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e6")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/kg-bench-inference"))
    ap.add_argument("--no-ingest", action="store_true", help="leave out the ingest of one case")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env.update({"KG_ROOT": str(ROOT), "KG_STORE_DIR": str(args.workdir / "store"),
                "KG_INGEST_DIR": str(args.workdir / "ingest"), "KG_UPDATES_DIR": str(args.workdir / "updates")})
    rows = []
    load_start = load()
    for text in args.sizes.split(","):
        n = int(float(text))
        data = args.workdir / f"generated-{n}.nt"
        if not data.exists():
            run([*KG, "generate", "--triples", str(n), "--seed", "1", "-o", str(data)], env)
        run([*KG, "build", "--force", str(data)], env)  # warms HermiT's cache and the page cache
        builds = []
        for _ in range(args.reps):
            wall = run([*KG, "build", "--force", str(data)], env)
            manifest = json.loads((args.workdir / "store" / "manifest.json").read_text())
            derived = manifest["derived"][INFERRED]
            builds.append((wall, float(manifest["seconds"]), float(derived["seconds"]), int(derived["triples"]),
                           int(manifest["quads"])))
        floor = write_floor(args.workdir / "store", data, args.workdir)
        shutil.rmtree(args.workdir / "ingest", ignore_errors=True)
        ingest_wall, ingest_inference = float("nan"), float("nan")
        if not args.no_ingest:
            case = ROOT / "tests" / "cases" / "valid" / "cluster-network.ttl"
            ingest_wall = run([*KG, "ingest", str(case), "--agent", "benchmark"], env)
            manifest = json.loads((args.workdir / "store" / "manifest.json").read_text())
            derived = manifest["derived"][INFERRED]
            ingest_inference = float(derived["seconds"])
            shutil.rmtree(args.workdir / "ingest", ignore_errors=True)
        walls = [b[0] for b in builds]
        parts = [b[2] for b in builds]
        without = [b[0] - b[2] for b in builds]
        ratios = [b[2] / (b[0] - b[2]) for b in builds]
        rows.append({
            "triples": n, "wall": statistics.median(walls), "inference": statistics.median(parts),
            "without": statistics.median(without), "ratio": statistics.median(ratios), "inferred": builds[0][3],
            "quads": builds[0][4], "ingest": ingest_wall, "ingest_inference": ingest_inference,
            "all": builds, "floor": floor,
        })
    flags = " --no-ingest" if args.no_ingest else ""
    print(f"## Inference (reasoning issue)\n\n`benchmarks/inference.py --sizes {args.sizes} --reps {args.reps}{flags}` "
          f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"{platform.platform()}; load average at the start {load_start}, at the end {load()}).\n")
    print("| generated triples | quads built | inferred triples | kg build s | of which inference s | "
          "build without inference s | inference / rest | ingest of one case s (its inference s) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['triples']:,} | {r['quads']:,} | {r['inferred']:,} | {r['wall']:.1f} | {r['inference']:.1f} | "
              f"{r['without']:.1f} | +{r['ratio'] * 100:.0f}% | {r['ingest']:.1f} ({r['ingest_inference']:.1f}) |")
    print("\nStoring the entailments alone (Oxigraph's bulk load into an empty on-disk store: the generated file, "
          "then the inferred triples into a named graph beside it):")
    for r in rows:
        base, entailed = r["floor"]
        print(f"- {r['triples']:,} generated triples: {base:.1f} s, then {r['inferred']:,} inferred triples "
              f"{entailed:.1f} s, that is +{entailed / r['without'] * 100:.0f}% of the build without inference")
    print("\nEach build (wall s, build s, inference s, inferred, quads): "
          + "; ".join(str([tuple(round(x, 1) for x in b) for b in r["all"]]) for r in rows))


if __name__ == "__main__":
    main()
