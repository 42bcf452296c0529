"""Dump cost (run by hand): how long the server takes to write the five dumps of one store generation.

For each size: the repository plus N generated triples (`kg generate --seed 1`, an extra file), built once,
then `kg.dumps.produce` writes N-Quads and N-Triples from the store and converts them to TriG, JSON-LD and
Turtle, all gzipped. Prints a Markdown table: generated triples, quads, build seconds, dump seconds, data MB,
gzip MB.

    .venv/bin/python benchmarks/dumps.py [--sizes 1e3,1e5,1e6]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kg import dumps  # noqa: E402
from kg.build import read_manifest, rebuild  # noqa: E402
from kg.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e3,1e5,1e6", help="generated triples beside the repository graph")
    args = ap.parse_args()
    print("| generated triples | quads | build (s) | dumps (s) | data (MB) | gzip (MB) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in [int(float(x)) for x in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            generated = work / "generated.nt"
            subprocess.run(
                [sys.executable, "-m", "kg", "generate", "-n", str(size), "--seed", "1", "-o", str(generated)],
                check=True,
                cwd=ROOT,
                capture_output=True,
            )
            settings = Settings.from_env(
                environ={}, root=ROOT, store_dir=work / "store", ingest_dir=work / "ingest", updates_dir=work / "u"
            )
            started = time.monotonic()
            rebuild(settings, add=[str(generated)])
            build = time.monotonic() - started
            started = time.monotonic()
            written = dumps.produce(settings) or {}
            seconds = time.monotonic() - started
            data = sum(d.bytes for d in written.values()) / 1e6
            packed = sum(d.gzip_bytes for d in written.values()) / 1e6
            quads = read_manifest(settings.store_path)["quads"]
            print(f"| {size:,} | {quads:,} | {build:.1f} | {seconds:.1f} | {data:.0f} | {packed:.1f} |", flush=True)


if __name__ == "__main__":
    main()
