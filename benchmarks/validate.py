"""Validation benchmarks (run by hand): `kg validate` and `POST /validate` against the repository and large stores.

What it measures, each command a whole process (wall time, and peak RSS from `os.wait4`):

- `kg stats` and `kg validate CASE100` on the repository's store (a generated ~100-triple case, seed 7): medians
  and their ratio (target: validate within 2x stats);
- `POST /validate` of the same case to `kg serve` on that store, warm: p50 and p95 (target: p50 under 150 ms);
- `kg validate CASE1000` (a generated 1,000-triple case, seed 999) against the repository alone and against the
  repository plus 10^6 and 10^7 generated triples (seed 1; targets: under 3 s and 5 s, within 1.5x of the
  repository alone; peak memory independent of the store's size), with what the focused validation read;
- `kg validate` of a generated 10^5-triple file against the repository (target: under a minute).

    .venv/bin/python benchmarks/validate.py                       # sizes 1e6,1e7; writes the section of RESULTS.md
    .venv/bin/python benchmarks/validate.py --sizes 1e6 --no-write

Stores and generated files go to --workdir (removed after each size unless --keep): 10^7 triples need about
1.5 GB for the file and 3 GB for the store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BEGIN = "<!-- benchmarks/validate.py: begin -->"
END = "<!-- benchmarks/validate.py: end -->"

Result = dict[str, Any]
# everything `kg validate` does but validate: imports, the compiled shapes, opening and closing the store
OPEN_ONLY = (
    "from kg.settings import Settings; from kg.store import open_store; from kg.validation import load_shapes;"
    "s = Settings.from_env(); load_shapes(s); open_store(s).close()"
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def env_for(work: Path, store: Path, extra: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env.update(
        KG_ROOT=str(ROOT),
        KG_STORE_DIR=str(store),
        KG_INGEST_DIR=str(work / "no-ingests"),
        KG_UPDATES_DIR=str(work / "no-updates"),
        KG_RATE_LIMIT_PER_MINUTE="0",
        PYTHONUNBUFFERED="1",
    )
    if extra is not None:
        env["KG_EXTRA_FILES"] = str(extra)
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 900) -> Result:
    """A command to completion: exit code, wall seconds, peak RSS in MB, output (kept in files, not pipes)."""
    import tempfile

    from run import wait_measured  # this folder is on the path when a benchmark runs as a script

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=ROOT)
        rc, wall, rss_mb, _ = wait_measured(proc, timeout, poll=0.005)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    return {"rc": rc, "s": wall, "rss_mb": rss_mb, "out": text, "err": errors}


def repeated(args: list[str], env: dict[str, str], reps: int) -> Result:
    """The median wall time and the largest peak RSS of `reps` runs (after one unmeasured run)."""
    run(args, env)
    runs = [run(args, env) for _ in range(reps)]
    bad = [r for r in runs if r["rc"] not in (0, 1)]
    if bad:
        raise RuntimeError(f"{' '.join(args)} failed: {bad[0]['err'][-2000:]}")
    return {
        "median_s": statistics.median(r["s"] for r in runs),
        "min_s": min(r["s"] for r in runs),
        "max_s": max(r["s"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
        "rc": runs[-1]["rc"],
        "verdict": runs[-1]["out"].strip().splitlines()[-1:] or [""],
    }


def generate(n: str, seed: int, out: Path, env: dict[str, str]) -> None:
    r = run([PY, "-m", "kg", "generate", "--triples", n, "--seed", str(seed), "-o", str(out)], env, timeout=3600)
    if r["rc"] != 0:
        raise RuntimeError(r["err"])


def read_stats(case: Path, env: dict[str, str]) -> Result:
    """What the focused validation read (in a child process with the same settings), and the store's files open
    at its end (RocksDB keeps each file's index in memory while the file is open)."""
    code = (
        "import json, sys; from pathlib import Path; from kg.settings import Settings; from kg.store import open_store;"
        "from kg.upload import read_files; from kg.validation import load_shapes, validate_new;"
        "s = Settings.from_env(); st = open_store(s); r = validate_new(st, read_files([Path(sys.argv[1])]), "
        "load_shapes(s)); import os; fds = [os.path.join('/proc/self/fd', f) for f in os.listdir('/proc/self/fd')];"
        "ssts = [p for p in (os.path.realpath(f) for f in fds) if p.endswith('.sst')];"
        "print(json.dumps({**r.stats, 'violations': len(r.violations), 'findings': len(r.findings),"
        " 'quads': len(st), 'sst_open': len(ssts), 'sst_open_mb': sum(os.path.getsize(p) for p in ssts) / 2**20}))"
    )
    r = run([PY, "-c", code, str(case)], env)
    if r["rc"] != 0:
        raise RuntimeError(r["err"][-2000:])
    return json.loads(r["out"].strip().splitlines()[-1])


def serve_p50(case: Path, env: dict[str, str], work: Path, n: int = 60) -> Result:
    """`POST /validate` of `case` to a `kg serve` on loopback, after a warm-up: p50 and p95 in ms."""
    sys.path.insert(0, str(ROOT))
    from tests.live import free_port

    port = free_port()
    log_file = (work / "serve.log").open("wb")
    proc = subprocess.Popen(
        [PY, "-m", "kg", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    body = case.read_bytes()

    def post() -> float:
        req = urllib.request.Request(
            base + "/validate", data=body, headers={"Content-Type": "text/turtle", "Accept": "application/json"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()
        return (time.perf_counter() - started) * 1000

    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=5):
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.3)
        for _ in range(15):
            post()
        times = sorted(post() for _ in range(n))
        return {"p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * len(times)) - 1], "n": n}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log_file.close()


def machine() -> Result:
    from importlib.metadata import version

    with open("/proc/meminfo") as fh:
        mem = int(next(line for line in fh if line.startswith("MemTotal")).split()[1]) / 1024 / 1024
    cpu = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(mem, 1),
        "python": sys.version.split()[0],
        "packages": {p: version(p) for p in ("interfirm-kg", "pyoxigraph", "rdflib", "pyshacl")},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e6,1e7", help="generated triples beside the repository (default 1e6,1e7)")
    ap.add_argument("--reps", type=int, default=7, help="measured runs of each command (default 7)")
    ap.add_argument("--big", default="1e5", help="size of the large file validated against the repository")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/kg-bench-validate"))
    ap.add_argument("--keep", action="store_true", help="keep generated files and stores")
    ap.add_argument("--no-write", dest="write", action="store_false", help="print, do not update RESULTS.md")
    args = ap.parse_args(argv)
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    (work / "no-ingests").mkdir(parents=True)
    results: Result = {"machine": machine(), "load_start": os.getloadavg(), "command": " ".join(sys.argv)}
    repo = work / "repo" / "store"
    env = env_for(work, repo)
    case100, case1000, big = work / "case100.ttl", work / "case1000.ttl", work / "big.nt"
    generate("100", 7, case100, env)
    generate("1000", 999, case1000, env)
    generate(args.big, 998, big, env)
    if run([PY, "-m", "kg", "build"], env)["rc"] != 0:
        raise RuntimeError("kg build failed")
    os.sync()

    log("repository: kg stats and kg validate of the ~100-triple case")
    results["stats"] = repeated([PY, "-m", "kg", "stats"], env, args.reps)
    results["validate100"] = repeated([PY, "-m", "kg", "validate", str(case100)], env, args.reps)
    results["read100"] = read_stats(case100, env)
    log("repository: POST /validate")
    results["http100"] = serve_p50(case100, env, work)
    log("repository: the 1,000-triple case and the large file")
    results["sizes"] = {
        "0": {
            "validate": repeated([PY, "-m", "kg", "validate", str(case1000)], env, args.reps),
            "open": repeated([PY, "-c", OPEN_ONLY], env, 3),
        }
    }
    results["sizes"]["0"]["read"] = read_stats(case1000, env)
    results["big"] = run([PY, "-m", "kg", "validate", "--format", "json", str(big)], env, timeout=1800)
    results["big"]["triples"] = sum(1 for _ in big.open())
    big_report = json.loads(results["big"].pop("out") or "{}")
    results["big"]["findings"] = len(big_report.get("results", []))
    results["big"]["conforms"] = big_report.get("conforms")
    results["big"].pop("err", None)

    for size in [x for x in args.sizes.split(",") if x.strip()]:
        n = int(float(size))
        log(f"{n:,} generated triples: generate and build")
        gen = work / f"gen-{n}.nt"
        store = work / f"s{n}" / "store"
        generate(size, 1, gen, env)
        env_n = env_for(work, store, gen)
        build = run([PY, "-m", "kg", "build"], env_n, timeout=7200)
        if build["rc"] != 0:
            raise RuntimeError(build["err"][-2000:])
        os.sync()  # the build's writes on disk before anything is measured
        log(f"{n:,}: kg validate of the 1,000-triple case")
        results["sizes"][str(n)] = {
            "build_s": build["s"],
            "open": repeated([PY, "-c", OPEN_ONLY], env_n, 3),
            "validate": repeated([PY, "-m", "kg", "validate", str(case1000)], env_n, args.reps),
            "read": read_stats(case1000, env_n),
            "disk_mb": sum(f.stat().st_size for f in store.rglob("*") if f.is_file()) / 1024 / 1024,
        }
        if not args.keep:
            shutil.rmtree(store.parent, ignore_errors=True)
            gen.unlink(missing_ok=True)
    results["load_end"] = os.getloadavg()
    (work / "results.json").write_text(json.dumps(results, indent=1))  # kept even if the report fails
    text = report(results)
    print(text)
    if args.write:
        path = ROOT / "benchmarks" / "RESULTS.md"
        old = path.read_text()
        if BEGIN in old:
            old = old[: old.index(BEGIN)] + old[old.index(END) + len(END) :].lstrip("\n")
        path.write_text(old.rstrip("\n") + "\n\n" + text)
        log(f"wrote {path}")
    (work / "results.json").write_text(json.dumps(results, indent=1))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def report(r: Result) -> str:
    m = r["machine"]
    sizes = r["sizes"]
    base = sizes["0"]["validate"]["median_s"]
    stats, v100, http = r["stats"]["median_s"], r["validate100"]["median_s"], r["http100"]
    lines = [
        BEGIN,
        "## Validation (issue: validation a researcher can trust)",
        "",
        f"`benchmarks/validate.py` ({r['command'].split('benchmarks/', 1)[-1]}) on {m['date']}: {m['nproc']} CPUs "
        f"({m['cpu']}), {m['mem_gib']} GiB; Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
        + f". Load average at the start {r['load_start'][0]:.2f}, at the end {r['load_end'][0]:.2f} (other work on "
        "the machine shows up in every number). Each command is a whole process, the median of several runs after "
        "one unmeasured run; peak RSS is the largest `ru_maxrss` of those runs.",
        "",
        "| target | verdict | numbers |",
        "| --- | --- | --- |",
        f"| `kg validate` of a ~100-triple case within 2x `kg stats` (repository store) | {verdict(v100 <= 2 * stats)} "
        f"| validate {v100:.2f} s vs stats {stats:.2f} s: {v100 / stats:.2f}x |",
        f"| `POST /validate` of that case, warm p50 under 150 ms | {verdict(http['p50_ms'] < 150)} | p50 "
        f"{http['p50_ms']:.0f} ms, p95 {http['p95_ms']:.0f} ms over {http['n']} requests |",
    ]
    for n, limit in ((10**6, 3.0), (10**7, 5.0)):
        if str(n) in sizes:
            s = sizes[str(n)]["validate"]["median_s"]
            lines.append(
                f"| 1,000-triple case against the repository + {n:,} generated triples under {limit:g} s, within 1.5x "
                f"of the repository alone | {verdict(s < limit and s <= 1.5 * base)} | {s:.2f} s vs {base:.2f} s: "
                f"{s / base:.2f}x |"
            )
    rss = [sizes[k]["validate"]["rss_mb"] for k in sorted(sizes, key=int)]
    lines.append(
        f"| peak memory of the validating process independent of the store's size | "
        f"{verdict(max(rss) <= 1.25 * min(rss))} | {', '.join(f'{x:,.0f}' for x in rss)} MB from the repository "
        f"alone to the largest store |"
    )
    big = r["big"]
    lines += [
        f"| a 10^5-triple file validates in under a minute | {verdict(big['rc'] in (0, 1) and big['s'] < 60)} | "
        f"{big['triples']:,} triples in {big['s']:.1f} s, peak RSS {big['rss_mb']:,.0f} MB |",
        "",
        "| store | quads | `kg validate` s (min-max) | peak RSS MB | peak RSS MB without validating | focus nodes "
        "| triples read | store lookups | store files open at the end (their size) | findings |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for k in sorted(sizes, key=int):
        v, rd = sizes[k]["validate"], sizes[k]["read"]
        name = "repository" if k == "0" else f"repository + {int(k):,}"
        lines.append(
            f"| {name} | {rd['quads']:,} | {v['median_s']:.2f} ({v['min_s']:.2f}-{v['max_s']:.2f}) | "
            f"{v['rss_mb']:,.0f} | {sizes[k]['open']['rss_mb']:,.0f} | {rd['focus_nodes']:,} | "
            f"{rd['neighbourhood_triples']:,} | {rd['store_lookups']:,} | "
            f"{rd['sst_open']} ({rd['sst_open_mb']:,.0f} MB) | {rd['findings']:,} |"
        )
    rd = r["read100"]
    low, high = sizes["0"], sizes[max(sizes, key=int)]
    lines += [
        "",
        "Memory: the validation's own work is the same at every size (the focus nodes, triples read and lookups "
        "above). What grows with the store is the store engine's: a process that does all `kg validate` does but "
        'validate (imports, the compiled shapes, opening and closing the store; the column "without validating") '
        f"peaks at {low['open']['rss_mb']:,.0f} MB on the repository and {high['open']['rss_mb']:,.0f} MB on the "
        "largest store, and RocksDB keeps the index of each store file a lookup opens in memory while the store is "
        "open "
        f"({low['read']['sst_open']} files of {low['read']['sst_open_mb']:,.0f} MB open at the end against the "
        f"repository, {high['read']['sst_open']} files of {high['read']['sst_open_mb']:,.0f} MB against the largest "
        "store). pyoxigraph sets RocksDB's caches itself (a 32 MB block cache, 128 MB for the strings, up to "
        "`ulimit -n` - 48 open files) and offers no option to lower them.",
        "",
        f"The ~100-triple case ({rd['new_triples']} triples) reads {rd['neighbourhood_triples']} triples for "
        f"{rd['focus_nodes']} focus nodes; `kg stats` peaks at {r['stats']['rss_mb']:,.0f} MB, `kg validate` at "
        f"{r['validate100']['rss_mb']:,.0f} MB. In-process stages of the 1,000-triple case against the largest store "
        f"(s): {json.dumps(sizes[max(sizes, key=int)]['read']['stages'])}.",
        END,
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
