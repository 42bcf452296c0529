#!/usr/bin/env python3
"""Benchmarks of interfirm-kg on generated data: build, queries in process and over HTTP, load, memory (validation:
`benchmarks/validate.py`).

Run by hand, never in CI (see benchmarks/README.md):

    .venv/bin/python benchmarks/run.py                      # 1e5, 1e6 and 1e7 triples
    .venv/bin/python benchmarks/run.py --sizes 1e5,1e6      # quicker

Every server it starts listens on 127.0.0.1 only and is stopped at the end; every loop is bounded in count and
time. It writes benchmarks/RESULTS.md, benchmarks/latency.png and the raw numbers as JSON in the work folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ACCEPT_JSON = "application/sparql-results+json"
SEED = 1

Result = dict[str, Any]


# ---- small helpers --------------------------------------------------------------------------------------------


def log(msg: str) -> None:
    """A progress line on stderr, with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    """1e5, 100000 or 100_000 as an int."""
    return int(float(text.replace("_", "")))


def human(n: int) -> str:
    """10^5 style names for sizes."""
    exp = len(str(n)) - 1
    return f"10^{exp}" if n == 10**exp else f"{n:,}"


def pct(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks; None without values."""
    if not values:
        return None
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(samples_ms: list[float], **extra: Any) -> Result:
    return {"n": len(samples_ms), "p50_ms": pct(samples_ms, 50), "p95_ms": pct(samples_ms, 95), **extra}


def timed_reps(
    fn: Callable[[], Any], *, max_reps: int, budget_s: float, cpu: list[float] | None = None
) -> tuple[list[float], Any]:
    """Milliseconds of up to `max_reps` calls of fn after one warm-up call, within about `budget_s` seconds.

    The warm-up counts as a sample when it alone takes more than half the budget (a slow query runs once).
    With `cpu`, the milliseconds of CPU this process spent in each sampled call are appended to it (in-process
    queries: what the call costs whatever else runs on the machine).
    """
    started = time.perf_counter()
    c = time.process_time()
    out = fn()
    first = (time.perf_counter() - started) * 1000
    if first / 1000 > budget_s / 2:
        if cpu is not None:
            cpu.append((time.process_time() - c) * 1000)
        return [first], out
    samples: list[float] = []
    while len(samples) < max_reps and time.perf_counter() - started < budget_s:
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        samples.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - c) * 1000)
    return samples, out


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_measured(proc: subprocess.Popen, timeout: float, poll: float = 0.02) -> tuple[int, float, float, bool]:  # type: ignore[type-arg]
    """Wait for `proc` (killed at `timeout` seconds): its exit code, wall seconds, peak RSS in MB (os.wait4), and
    whether it was killed."""
    started = time.perf_counter()
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(poll)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_maxrss / 1024, time.perf_counter() > deadline


def run_child(args: list[str], *, env: dict[str, str], timeout: float, log_to: Path) -> Result:
    """Run a command to completion (killed at `timeout`); its wall time and peak RSS (os.wait4)."""
    with open(log_to, "w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        rc, wall, rss_mb, timed_out = wait_measured(proc, timeout)
    text = log_to.read_text(errors="replace")
    return {
        "rc": rc,
        "wall_s": wall,
        "maxrss_mb": rss_mb,
        "timed_out": timed_out,
        "output": text[-4000:],
    }


def kg_env(work: Path, store_dir: Path, extra: Path | None = None, **more: str) -> dict[str, str]:
    """The environment for `kg`: this repository, a store of its own, no ingests, no rate limit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    ingest = work / "no-ingests"
    ingest.mkdir(exist_ok=True)
    env.update(
        KG_ROOT=str(ROOT),
        KG_STORE_DIR=str(store_dir),
        KG_INGEST_DIR=str(ingest),
        KG_UPDATES_DIR=str(work / "no-updates"),
        # a benchmark from one loopback address would hit the per-client limit at once
        KG_RATE_LIMIT_PER_MINUTE="0",
        KG_CLIENT_CONCURRENCY="0",  # and at the per-client share of the query workers
        # queue rather than refuse while every query worker is busy (16 clients, 8 workers)
        KG_QUEUE_WAIT="60",
        PYTHONUNBUFFERED="1",
    )
    if extra is not None:
        env["KG_EXTRA_FILES"] = str(extra)
    env.update(more)
    return env


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_memory(pid: int) -> Result:
    """RSS and PSS (MB) summed over a process tree, and how many processes it has."""
    rss = pss = 0
    pids = process_tree(pid)
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as fh:
                m = re.search(r"^VmRSS:\s+(\d+)", fh.read(), re.M)
                rss += int(m.group(1)) if m else 0
            with open(f"/proc/{p}/smaps_rollup") as fh:
                m = re.search(r"^Pss:\s+(\d+)", fh.read(), re.M)
                pss += int(m.group(1)) if m else 0
        except OSError:
            continue
    return {"rss_mb": rss / 1024, "pss_mb": pss / 1024, "processes": len(pids)}


class MemorySampler:
    """Samples a process tree's memory every half second (in a thread) and keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak: Result = tree_memory(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            now = tree_memory(self.pid)
            if now["rss_mb"] > self.peak["rss_mb"]:
                self.peak = now

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def http_get(port: int, path: str, *, accept: str = ACCEPT_JSON, timeout: float = 120) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": accept})
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()


def wait_http(port: int, path: str, *, timeout: float, proc: subprocess.Popen) -> float:
    """Seconds until GET path answers 200 (raises when the process exits or the time runs out)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            status, _, _ = http_get(port, path, timeout=5)
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"no answer on port {port} after {timeout:.0f} s")


def stop(proc: subprocess.Popen | None) -> None:
    """Stop a server we started (its process group: gunicorn and its workers), by its id."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


# ---- the saved queries --------------------------------------------------------------------------------------


def saved_queries() -> list[tuple[str, str, dict]]:
    """(name, text, bindings with the declared defaults) for each queries/*.rq but the federated ones (their
    SERVICE calls go to Wikidata: they measure the internet, and a benchmark runs on loopback only)."""
    from kg.queries import QueryCatalog

    return [(q.name, q.text, q.bind({})) for q in QueryCatalog(ROOT / "queries") if "federated" not in q.tags]


def endpoint_text(text: str, bindings: dict) -> str:
    """The query text with its bindings as a VALUES block, for plain SPARQL endpoints.

    The block goes at the start of the top-level WHERE, as kg's sparql backend sends it (Virtuoso needs it there,
    and rdflib joins it first instead of evaluating the whole pattern unbound).
    """
    from kg.store import remote
    from kg.store.base import with_values

    if not bindings:
        return text
    inline = getattr(remote, "_inline_values", None)
    return inline(text, bindings) if inline is not None else with_values(text, bindings)


# ---- measurements -------------------------------------------------------------------------------------------


def measure_inprocess(store_dir: Path, budget_s: float, max_reps: int) -> dict[str, Result]:
    """Each saved query with pyoxigraph directly and through the kg store API (same on-disk store)."""
    import pyoxigraph as ox

    from kg.store.base import with_values
    from kg.store.oxigraph import OxigraphStore

    raw = ox.Store.read_only(str(store_dir / "db"))
    api = OxigraphStore(store_dir / "db", read_only=True)

    def run_raw(text: str) -> int:
        r = raw.query(text, use_default_graph_as_union=True)
        if isinstance(r, ox.QueryBoolean):
            return 1
        if isinstance(r, ox.QuerySolutions):
            variables = r.variables
            n = 0
            for solution in r:
                for v in variables:
                    solution[v]
                n += 1
            return n
        return sum(1 for _ in r)

    out: dict[str, Result] = {}
    for name, text, bindings in saved_queries():
        bound = with_values(text, bindings) if bindings else text
        cpu: list[float] = []
        samples, rows = timed_reps(lambda b=bound: run_raw(b), max_reps=max_reps, budget_s=budget_s, cpu=cpu)
        ox_result = summary(samples, rows=rows, cpu_p50_ms=pct(cpu, 50))
        samples, result = timed_reps(
            lambda t=text, b=bindings: api.query(t, bindings=b), max_reps=max_reps, budget_s=budget_s
        )
        rows = len(result.rows) if result.kind == "SELECT" else None
        out[name] = {"pyoxigraph": ox_result, "kg_api": summary(samples, rows=rows)}
        api_p50 = fmt_ms(out[name]["kg_api"]["p50_ms"])
        log(f"  in process {name}: pyoxigraph {fmt_ms(ox_result['p50_ms'])} ms, kg API {api_p50} ms")
    api.close()
    return out


def measure_http_queries(
    port: int, budget_s: float, max_reps: int, *, total_budget_s: float, request_timeout: float
) -> dict[str, Result]:
    """Each saved query over HTTP (GET /queries/NAME, SPARQL JSON), one client; a timeout is noted, not fatal."""
    out: dict[str, Result] = {}
    started = time.perf_counter()
    for name, _, _ in saved_queries():
        if time.perf_counter() - started > total_budget_s:
            out[name] = {"skipped": "time budget"}
            continue
        meta: Result = {}

        def call(n: str = name, m: Result = meta) -> None:
            status, body, headers = http_get(port, f"/queries/{n}", timeout=request_timeout)
            m.update(
                status=status,
                bytes=len(body),
                rows=headers.get("X-Result-Rows"),
                truncated=headers.get("X-Result-Truncated", ""),
            )

        try:
            samples, _ = timed_reps(call, max_reps=max_reps, budget_s=budget_s)
            out[name] = summary(samples, **meta)
        except TimeoutError:
            out[name] = {"timeout_s": request_timeout}
        except OSError as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        if meta.get("status", 200) != 200:
            out[name] = {"error": f"HTTP {meta['status']}"}
        log(f"  HTTP {name}: {fmt_ms(out[name].get('p50_ms'))} ms")
    return out


def measure_endpoint_queries(
    server: Callable[[], int],
    path: str,
    budget_s: float,
    max_reps: int,
    *,
    total_budget_s: float,
    request_timeout: float,
    restart: Callable[[], None] | None = None,
    max_restarts: int = 3,
) -> dict[str, Result]:
    """Each saved query (defaults bound by VALUES) on a plain SPARQL endpoint, GET ?query=, one client.

    `server()` gives the current port. A timed-out request leaves a single-threaded server busy: it is then
    restarted (`restart`, at most `max_restarts` times) or the remaining queries are skipped.
    """
    out: dict[str, Result] = {}
    started = time.perf_counter()
    restarts = 0
    busy = False
    for name, text, bindings in saved_queries():
        if time.perf_counter() - started > total_budget_s:
            out[name] = {"skipped": "time budget"}
            continue
        if busy:
            out[name] = {"skipped": "the server was left busy by a query that timed out"}
            continue
        q = urllib.parse.quote(endpoint_text(text, bindings))
        meta: Result = {}

        def call(q: str = q, m: Result = meta) -> None:
            status, body, _ = http_get(server(), f"{path}?query={q}", timeout=request_timeout)
            m.update(status=status, bytes=len(body))

        try:
            samples, _ = timed_reps(call, max_reps=max_reps, budget_s=budget_s)
            out[name] = summary(samples, **meta)
            if meta.get("status") != 200:
                out[name] = {"error": f"HTTP {meta.get('status')}"}
        except TimeoutError:
            out[name] = {"timeout_s": request_timeout}
            if restart is not None and restarts < max_restarts:
                restarts += 1
                restart()
            else:
                busy = True
        except OSError as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def load_run(port: int, paths: list[str], clients: int, duration: float, request_timeout: float) -> Result:
    """`clients` threads cycling over `paths` for `duration` seconds; throughput and latency percentiles."""
    lat: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=request_timeout)
        k = i
        while time.perf_counter() < deadline:
            path = paths[k % len(paths)]
            k += 1
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept": ACCEPT_JSON})
                resp = conn.getresponse()
                resp.read()
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    if resp.status == 200:
                        lat.append(ms)
                    else:
                        errors[str(resp.status)] = errors.get(str(resp.status), 0) + 1
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=request_timeout)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + request_timeout + 10)
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "seconds": elapsed,
        "ok": len(lat),
        "errors": errors,
        "throughput_rps": len(lat) / elapsed if elapsed else 0.0,
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
    }


def measure_lookup(port: int, iris: list[str], budget_s: float) -> Result:
    """GET /resource?iri=...&format=nt for each IRI (bounded by count and time)."""
    samples: list[float] = []
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for iri in iris:
        if time.perf_counter() - started > budget_s:
            break
        t = time.perf_counter()
        status, _, _ = http_get(
            port,
            "/resource?" + urllib.parse.urlencode({"iri": iri, "format": "nt"}),
            accept="application/n-triples",
            timeout=60,
        )
        samples.append((time.perf_counter() - t) * 1000)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return summary(samples, statuses=statuses)


def start_kg_server(
    work: Path, store_dir: Path, extra: Path | None, port: int, timeout: float, query_timeout: float, **more: str
) -> tuple[subprocess.Popen, Result]:
    """`kg serve --extra FILE` (or, with `KG_STORE=sparql` in `more`, in front of a remote store) on a loopback
    port; returns once every query worker has answered."""
    env = kg_env(work, store_dir, KG_QUERY_TIMEOUT=str(query_timeout), **more)
    logf = open(work / f"serve-{port}.log", "w")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "kg", "serve", "--host", "127.0.0.1", "--port", str(port)]
        + (["--extra", str(extra)] if extra is not None else []),
        stdout=logf,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        with MemorySampler(proc.pid) as sampler:
            # /health answers once the app is up; then enough concurrent queries to wake every query worker
            wait_http(port, "/health", timeout=timeout, proc=proc)
            warm = load_run(port, ["/sparql?query=" + urllib.parse.quote("ASK {}")], 16, 2.0, timeout)
        if warm["ok"] == 0:
            raise RuntimeError(f"the server answered no query: {warm['errors']}")
        return proc, {"start_s": time.perf_counter() - started, "startup_peak": sampler.peak}
    except Exception:
        stop(proc)
        raise


def generated_iris(seed: int, firms: int, agreements: int, n: int) -> list[str]:
    rng = random.Random(1234)
    base = f"https://w3id.org/interfirm/synthetic/{seed}/"
    out = []
    for k in range(n):
        if k % 2 == 0 or agreements == 0:
            out.append(f"{base}firm-{rng.randrange(firms):06d}")
        else:
            out.append(f"{base}agreement-{rng.randint(1, agreements):06d}")
    return out


# ---- child-process tasks (rdflib) ------------------------------------------------------------------------------


def child_rdflib(
    file: Path, budget_s: float, query_timeout: float, max_reps: int, total_budget_s: float, store_dir: Path
) -> Result:
    """Parse the file with rdflib (timed) into a named graph of a dataset whose default graph is the union, add
    the repository's graphs and the kg store's statistics graph, run each saved query in memory."""
    import rdflib

    from kg.namespaces import STATISTICS_GRAPH
    from kg.settings import Settings
    from kg.sources import repository_sources

    g = rdflib.Dataset(default_union=True)
    t = time.perf_counter()
    g.graph(rdflib.URIRef("urn:x-bench:generated")).parse(file, format="nt")
    parse_s = time.perf_counter() - t
    for s in repository_sources(Settings.from_env(environ={}, root=ROOT)):
        g.graph(s.graph).parse(s.path, format="turtle")
    statistics = g.graph(STATISTICS_GRAPH)
    for triple in statistics_graph(store_dir):
        statistics.add(triple)

    def alarm(*_: object) -> None:
        raise TimeoutError

    signal.signal(signal.SIGALRM, alarm)
    queries: dict[str, Result] = {}
    started = time.perf_counter()
    for name, text, bindings in saved_queries():
        if time.perf_counter() - started > total_budget_s:
            queries[name] = {"skipped": "time budget"}
            continue

        def run(t: str = text, b: dict = bindings) -> int:
            signal.setitimer(signal.ITIMER_REAL, query_timeout)
            try:
                return len(list(g.query(t, initBindings=b or None)))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)

        try:
            samples, rows = timed_reps(run, max_reps=max_reps, budget_s=budget_s)
            queries[name] = summary(samples, rows=rows)
        except TimeoutError:
            queries[name] = {"timeout_s": query_timeout}
        except Exception as exc:  # rdflib refuses or fails on a query: say so, go on
            queries[name] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"parse_s": parse_s, "triples": len(g), "queries": queries}


def run_json_child(task: list[str], work: Path, timeout: float, name: str) -> Result:
    """Run one of this script's child tasks; its JSON result with wall time and peak RSS."""
    out = run_child(
        [PY, str(Path(__file__).resolve()), *task],
        env=kg_env(work, work / "unused-store"),
        timeout=timeout,
        log_to=work / f"{name}.log",
    )
    if out["timed_out"]:
        partial = re.search(r"^PARTIAL (.*)$", out["output"], re.M)
        return {
            **(json.loads(partial.group(1)) if partial else {}),
            "timeout_s": timeout,
            "maxrss_mb": out["maxrss_mb"],
        }
    match = re.search(r"^RESULT (.*)$", out["output"], re.M)
    if out["rc"] != 0 or not match:
        return {"error": out["output"][-1500:]}
    return {**json.loads(match.group(1)), "wall_s": out["wall_s"], "maxrss_mb": out["maxrss_mb"]}


# ---- comparison servers -----------------------------------------------------------------------------------------


def rdflib_endpoint_available() -> bool:
    try:
        import rdflib_endpoint  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return False
    return True


class RdflibEndpoint:
    """`python -m rdflib_endpoint serve` (uvicorn, rdflib in memory) on a free loopback port, restartable."""

    def __init__(self, files: list[str], logfile: Path) -> None:
        self.files = files
        self.logfile = logfile
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.starts: list[float] = []

    def start(self) -> None:
        self.stop()
        self.port = free_port()
        with open(self.logfile, "a") as logf:
            self.proc = subprocess.Popen(
                [PY, "-m", "rdflib_endpoint", "serve", *self.files, "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=logf,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        self.starts.append(wait_http(self.port, "/?query=" + urllib.parse.quote("ASK {}"), timeout=900, proc=self.proc))

    def stop(self) -> None:
        stop(self.proc)
        self.proc = None


def bench_rdflib_endpoint(work: Path, file: Path, args: argparse.Namespace) -> Result:
    """rdflib-endpoint on the repository + generated data: per-query p50, then 16 clients on a fresh server."""
    from kg.settings import Settings
    from kg.sources import repository_sources

    files = [str(s.path) for s in repository_sources(Settings.from_env(environ={}, root=ROOT))] + [str(file)]
    server = RdflibEndpoint(files, work / "rdflib-endpoint.log")
    out: Result = {}
    try:
        server.start()
        out["start_s"] = server.starts[0]
        assert server.proc is not None
        out["memory"] = tree_memory(server.proc.pid)
        out["queries"] = measure_endpoint_queries(
            lambda: server.port,
            "/",
            args.query_budget,
            5,
            total_budget_s=args.endpoint_budget,
            request_timeout=args.slow_request_timeout,
            restart=server.start,
        )
        server.start()  # idle again: a timed-out query may still be running
        paths = [f"/?query={urllib.parse.quote(endpoint_text(t, b))}" for _, t, b in saved_queries()]
        log(f"  rdflib-endpoint: 16 clients for {args.duration:.0f} s")
        assert server.proc is not None
        with MemorySampler(server.proc.pid) as sampler:
            out["load16"] = load_run(server.port, paths, 16, args.duration, args.slow_request_timeout)
        out["memory_peak"] = sampler.peak
        out["restarts"] = len(server.starts) - 1
    except Exception as exc:  # report and go on with the other measurements
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        server.stop()
    return out


def isql(sql: str, timeout: float) -> str:
    """Run SQL in the Virtuoso this script started (its SQL port is in KG_VIRTUOSO_SQL_PORT)."""
    port = os.environ["KG_VIRTUOSO_SQL_PORT"]
    proc = subprocess.run(
        ["isql-vt", f"127.0.0.1:{port}", "dba", "dba", f"exec={sql}"], capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0 or "*** Error" in proc.stdout + proc.stderr:
        raise RuntimeError(f"isql: {(proc.stdout + proc.stderr)[-600:]}")
    return proc.stdout


def statistics_graph(store_dir: Path) -> Any:
    """The statistics graph of the built kg store, as an rdflib graph (what Virtuoso gets, so that the QC
    query reads the same statistics there)."""
    import pyoxigraph as ox
    import rdflib

    from kg.namespaces import STATISTICS_GRAPH
    from kg.store.oxigraph import to_rdflib

    store = ox.Store.read_only(str(store_dir / "db"))
    g = rdflib.Graph()
    for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(STATISTICS_GRAPH))):
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    del store
    return g


def bench_virtuoso(
    work: Path, file: Path, endpoint: str, args: argparse.Namespace, store_dir: Path, full: bool
) -> Result:
    """Virtuoso with the repository (`kg push`), the generated file (its bulk loader when this script started it,
    else `kg push`) and the kg store's statistics graph; the saved queries at its /sparql, then through
    `kg serve --store sparql` in front of it."""
    from kg.namespaces import STATISTICS_GRAPH
    from kg.sources import extra_sources
    from kg.store.remote import RemoteStore

    out: Result = {}
    parsed = urllib.parse.urlsplit(endpoint)
    port = parsed.port or 80
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        return {"error": f"not a loopback endpoint: {endpoint}"}
    graph = str(extra_sources([file])[0].graph)
    bulk = args.virtuoso_dir if os.environ.get("KG_VIRTUOSO_SQL_PORT") and args.virtuoso_dir else None
    started = time.perf_counter()
    push = run_child(
        [PY, "-m", "kg", "push", "--endpoint", endpoint],
        env=kg_env(work, work / "unused-store", extra=None if bulk else file),
        timeout=args.virtuoso_push_timeout,
        log_to=work / "virtuoso-push.log",
    )
    if push["rc"] != 0:
        return {"error": "kg push failed: " + push["output"][-800:]}
    out["push_s"] = push["wall_s"]
    if bulk is not None:
        linked = bulk / file.name
        linked.unlink(missing_ok=True)
        try:
            os.link(file, linked)
        except OSError:
            shutil.copyfile(file, linked)
        t = time.perf_counter()
        isql(
            f"DELETE FROM DB.DBA.load_list; ld_dir('{bulk}', '{file.name}', '{graph}'); rdf_loader_run(); checkpoint;",
            timeout=args.virtuoso_push_timeout,
        )
        out["bulk_load_s"] = time.perf_counter() - t
        linked.unlink(missing_ok=True)
    RemoteStore(endpoint, timeout=600).load_graph(STATISTICS_GRAPH, statistics_graph(store_dir))
    out["load_s"] = time.perf_counter() - started
    try:
        out["queries"] = measure_endpoint_queries(
            lambda: port,
            parsed.path,
            args.query_budget,
            args.max_reps,
            total_budget_s=args.endpoint_budget,
            request_timeout=args.request_timeout,
        )
        paths = [f"{parsed.path}?query={urllib.parse.quote(endpoint_text(t, b))}" for _, t, b in saved_queries()]
        if full:
            out["load16"] = load_run(port, paths, 16, args.duration, args.request_timeout)
        log("  kg serve --store sparql in front of Virtuoso")
        kg_port = free_port()
        proc, _ = start_kg_server(
            work,
            work / "unused-store",
            None,
            kg_port,
            timeout=300,
            query_timeout=args.request_timeout,
            KG_STORE="sparql",
            KG_ENDPOINT=endpoint,
        )
        try:
            out["kg_sparql"] = {
                "queries": measure_http_queries(
                    kg_port,
                    args.query_budget,
                    args.max_reps,
                    total_budget_s=args.endpoint_budget,
                    request_timeout=args.request_timeout,
                )
            }
            if full:
                kg_paths = [f"/queries/{name}" for name, _, _ in saved_queries()]
                out["kg_sparql"]["load16"] = load_run(kg_port, kg_paths, 16, args.duration, args.request_timeout)
        finally:
            stop(proc)
    finally:  # leave Virtuoso as it was: without the generated graph
        if bulk is not None:
            isql(f"DELETE FROM DB.DBA.RDF_QUAD WHERE G = iri_to_id('{graph}'); checkpoint;", timeout=1800)
        else:
            RemoteStore(endpoint, timeout=600).update(f"DROP SILENT GRAPH <{graph}>")
    return out


# ---- one size ---------------------------------------------------------------------------------------------------


def bench_size(n: int, work: Path, args: argparse.Namespace, virtuoso: str | None) -> Result:
    full = n <= args.full_max
    res: Result = {"triples_target": n, "full": full}
    d = work / f"n{n}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    file = d / f"gen-{n}.nt"
    store_dir = d / "store"

    log(f"{human(n)}: generating")
    gen = run_child(
        [PY, "-m", "kg", "generate", "--triples", str(n), "--seed", str(SEED), "-o", str(file)],
        env=kg_env(work, store_dir),
        timeout=1800,
        log_to=d / "generate.log",
    )
    m = re.search(r"wrote (\d+) triples .*?\((\d+) firms, (\d+) agreements", gen["output"])
    if gen["rc"] != 0 or not m:
        raise RuntimeError("kg generate failed: " + gen["output"][-800:])
    triples, firms, agreements = (int(x) for x in m.groups())
    res["file"] = {
        "triples": triples,
        "firms": firms,
        "agreements": agreements,
        "bytes": file.stat().st_size,
        "generate_s": gen["wall_s"],
        "generate_maxrss_mb": gen["maxrss_mb"],
    }

    log(f"{human(n)}: kg build")
    b = run_child(
        [PY, "-m", "kg", "build", str(file)], env=kg_env(work, store_dir), timeout=3600, log_to=d / "build.log"
    )
    if b["rc"] != 0:
        raise RuntimeError("kg build failed: " + b["output"][-800:])
    manifest = json.loads((store_dir / "manifest.json").read_text())
    res["build"] = {
        "wall_s": b["wall_s"],
        "maxrss_mb": b["maxrss_mb"],
        "quads": manifest.get("quads"),
        "load_s": manifest.get("seconds"),
    }

    log(f"{human(n)}: pyoxigraph bulk load of the file alone")
    ox_dir = d / "ox-alone"
    code = (
        "import sys, pyoxigraph as ox\n"
        "s = ox.Store(sys.argv[1])\n"
        "s.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode('urn:x-bench:g'))\n"
        "s.flush()\nprint(len(s))\n"
    )
    o = run_child(
        [PY, "-c", code, str(ox_dir), str(file)], env=kg_env(work, store_dir), timeout=3600, log_to=d / "ox.log"
    )
    res["ox_bulk"] = {"wall_s": o["wall_s"], "maxrss_mb": o["maxrss_mb"], "rc": o["rc"]}
    shutil.rmtree(ox_dir, ignore_errors=True)

    if n <= args.rdflib_max:
        log(f"{human(n)}: rdflib parse and queries in memory")
        res["rdflib"] = run_json_child(
            [
                "_rdflib",
                str(file),
                str(args.query_budget),
                str(args.rdflib_query_timeout),
                str(args.max_reps),
                str(args.rdflib_budget),
                str(store_dir),
            ],
            d,
            timeout=args.rdflib_budget + 900,
            name="rdflib",
        )
    else:
        res["rdflib"] = {"skipped": f"rdflib is not run beyond {human(args.rdflib_max)} triples"}

    log(f"{human(n)}: pyoxigraph and kg store API in process")
    res["inprocess"] = measure_inprocess(store_dir, args.query_budget, args.max_reps)

    log(f"{human(n)}: kg serve")
    port = free_port()
    # at the big sizes the server stops a query when the client gives up, so that it does not slow the next ones
    query_timeout = args.request_timeout * 2 if full else args.light_request_timeout
    proc, started = start_kg_server(work, store_dir, file, port, timeout=1200, query_timeout=query_timeout)
    res["server_query_timeout_s"] = query_timeout
    try:
        res["server"] = {**started, "idle": tree_memory(proc.pid), "port": port}
        log(f"{human(n)}: lookup by IRI")
        with MemorySampler(proc.pid) as sampler:
            res["lookup"] = measure_lookup(port, generated_iris(SEED, firms, agreements, args.lookups), budget_s=60)
        res["server"]["peak_lookup"] = sampler.peak
        with MemorySampler(proc.pid) as sampler:
            log(f"{human(n)}: saved queries over HTTP")
            if full:
                res["http"] = measure_http_queries(
                    port,
                    args.query_budget,
                    args.max_reps,
                    total_budget_s=args.endpoint_budget,
                    request_timeout=args.request_timeout,
                )
            else:  # as many runs of each as the budget allows (one of a slow query)
                res["http"] = measure_http_queries(
                    port,
                    args.query_budget,
                    args.max_reps,
                    total_budget_s=args.light_budget,
                    request_timeout=args.light_request_timeout,
                )
            if full:
                paths = [f"/queries/{name}" for name, _, _ in saved_queries()]
                res["load"] = {}
                for clients in (1, 4, 16):
                    log(f"{human(n)}: {clients} client(s) for {args.duration:.0f} s")
                    res["load"][str(clients)] = load_run(port, paths, clients, args.duration, args.request_timeout)
        peaks = (res["server"]["peak_lookup"], sampler.peak)
        res["server"]["peak"] = max(peaks, key=lambda m: m["rss_mb"])
        res["server"]["after"] = tree_memory(proc.pid)
    finally:
        stop(proc)

    if full and n <= args.rdflib_max and args.rdflib_endpoint and rdflib_endpoint_available():
        log(f"{human(n)}: rdflib-endpoint")
        res["rdflib_endpoint"] = bench_rdflib_endpoint(d, file, args)
    elif full and n <= args.rdflib_max:
        res["rdflib_endpoint"] = {"skipped": "rdflib-endpoint/uvicorn not installed (pip install -e '.[bench]')"}

    if virtuoso and n <= args.virtuoso_max:
        log(f"{human(n)}: Virtuoso")
        try:
            res["virtuoso"] = bench_virtuoso(d, file, virtuoso, args, store_dir, full)
        except Exception as exc:
            res["virtuoso"] = {"error": f"{type(exc).__name__}: {exc}"}

    if not args.keep:
        shutil.rmtree(d, ignore_errors=True)
    return res


def machine() -> Result:
    from importlib.metadata import PackageNotFoundError, version

    packages = {}
    for p in (
        "interfirm-kg",
        "pyoxigraph",
        "rdflib",
        "pyshacl",
        "flask",
        "gunicorn",
        "rdflib-endpoint",
        "uvicorn",
        "matplotlib",
    ):
        try:
            packages[p] = version(p)
        except PackageNotFoundError:
            packages[p] = "not installed"
    mem = ""
    with open("/proc/meminfo") as fh:
        m = re.search(r"MemTotal:\s+(\d+)", fh.read())
        mem = f"{int(m.group(1)) / 1024 / 1024:.1f} GiB" if m else "?"
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            m = re.search(r"model name\s*:\s*(.*)", fh.read())
            cpu = m.group(1) if m else ""
    except OSError:
        pass
    virtuoso = ""
    if shutil.which("virtuoso-t"):
        proc = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True, timeout=10)
        m = re.search(r"Version ([\w.\-]+)", proc.stdout + proc.stderr)
        virtuoso = m.group(1) if m else "installed"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": packages,
        "virtuoso": virtuoso,
        "loadavg": os.getloadavg(),
    }


# ---- the report -------------------------------------------------------------------------------------------------


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def fmt_s(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}"


def verdict(ok: bool | None) -> str:
    return "**met**" if ok else ("**not met**" if ok is not None else "not measured")


def targets(results: Result) -> list[tuple[str, bool | None, str]]:
    """The issues' targets: (target, met?, the numbers)."""
    sizes = results["sizes"]
    out: list[tuple[str, bool | None, str]] = []
    for size, limit in ((10**6, 1000.0), (10**7, 5000.0)):
        http = sizes.get(str(size), {}).get("http")
        name = f"Every saved query's HTTP p50 under {limit / 1000:g} s at {human(size)} (one client, defaults)"
        if not http:
            out.append((name, None, f"{human(size)} not run"))
            continue
        slow = [
            f"{q} ({cell_text(r)})" for q, r in sorted(http.items()) if r.get("p50_ms") is None or r["p50_ms"] >= limit
        ]
        worst = max(((r["p50_ms"], q) for q, r in http.items() if r.get("p50_ms") is not None), default=(0.0, "–"))
        out.append(
            (
                name,
                not slow,
                f"{len(http) - len(slow)} of {len(http)} under; slowest {worst[1]} {fmt_ms(worst[0])} ms"
                + (": not " + "; ".join(slow) if slow else ""),
            )
        )
    load = sizes.get(str(10**6), {}).get("load", {}).get("16")
    if load:
        errors = sum(load["errors"].values())
        out.append(
            (
                "16-client throughput over the saved-query mix at 10^6 at least 3.6 req/s (10× 0.36) with 0 errors",
                load["throughput_rps"] >= 3.6 and errors == 0,
                f"{load['throughput_rps']:.2f} req/s, {load['ok']:,} answers, {errors} errors",
            )
        )
    s6 = sizes.get(str(10**6), {})
    if "build" in s6:
        b, o = s6["build"]["wall_s"], s6["ox_bulk"]["wall_s"]
        out.append(
            (
                "Build of repository + generated 10^6 within 2× of pyoxigraph's bulk load of the file alone",
                b <= 2 * o,
                f"kg build {b:.1f} s vs pyoxigraph {o:.1f} s: {b / o:.2f}×",
            )
        )
        p = s6.get("rdflib", {}).get("parse_s")
        out.append(
            (
                "… and ≥6× faster than rdflib parsing it",
                None if p is None else p >= 6 * b,
                "rdflib not measured" if p is None else f"rdflib parse {p:.1f} s / kg build {b:.1f} s = {p / b:.1f}×",
            )
        )
    else:
        out.append(
            (
                "Build of repository + generated 10^6 within 2× of pyoxigraph / ≥6× faster than rdflib",
                None,
                "10^6 not run",
            )
        )
    for key in sorted(sizes, key=int):
        s = sizes[key]
        if "inprocess" not in s or "http" not in s:
            continue
        bad, checked = [], 0
        for name, r in s["inprocess"].items():
            h = s["http"].get(name, {})
            if h.get("p50_ms") is None or r["pyoxigraph"].get("p50_ms") is None:
                continue
            checked += 1
            limit = 1.3 * r["pyoxigraph"]["p50_ms"] + 5
            if h["p50_ms"] > limit:
                bad.append(f"{name} ({fmt_ms(h['p50_ms'])} > {fmt_ms(limit)} ms)")
        out.append(
            (
                f"Each saved query's HTTP p50 within 1.3× pyoxigraph in process + 5 ms ({human(int(key))})",
                not bad if checked else None,
                f"{checked - len(bad)} of {checked} queries within" + (": not " + "; ".join(bad) if bad else ""),
            )
        )
    for key in sorted(sizes, key=int):
        s = sizes[key]
        ours = s.get("load", {}).get("16", {}).get("throughput_rps")
        theirs = s.get("rdflib_endpoint", {}).get("load16", {}).get("throughput_rps")
        if ours is None:
            continue
        if not theirs:
            ok = None if theirs is None else True
            out.append(
                (
                    f"16-client throughput ≥5× rdflib-endpoint's ({human(int(key))})",
                    ok,
                    f"kg {ours:.1f} req/s; rdflib-endpoint "
                    + ("not measured" if theirs is None else "completed no request"),
                )
            )
        else:
            out.append(
                (
                    f"16-client throughput ≥5× rdflib-endpoint's ({human(int(key))})",
                    ours >= 5 * theirs,
                    f"kg {ours:.1f} req/s vs rdflib-endpoint {theirs:.2f} req/s: {ours / theirs:.1f}×",
                )
            )
    s7 = sizes.get(str(10**7))
    if s7 and "server" in s7:
        sv = s7["server"]
        rss = sv["peak"]["rss_mb"]
        look = s7["lookup"]["p50_ms"]
        lookup_peak = sv.get("peak_lookup", sv["peak"])["rss_mb"]
        out.append(
            (
                "10^7 triples built and served: server memory under 2 GB",
                rss < 2048,
                f"peak RSS of all {sv['peak']['processes']} server processes while serving {rss:,.0f} MB "
                f"(PSS {sv['peak']['pss_mb']:,.0f} MB); during the lookups alone {lookup_peak:,.0f} MB; idle "
                f"{sv['idle']['rss_mb']:,.0f} MB; at startup {sv.get('startup_peak', {}).get('rss_mb', 0):,.0f} MB",
            )
        )
        out.append(
            (
                "10^7: lookup by IRI under 10 ms p50 over HTTP",
                look is not None and look < 10,
                f"p50 {fmt_ms(look)} ms, p95 {fmt_ms(s7['lookup']['p95_ms'])} ms over {s7['lookup']['n']} lookups",
            )
        )
    else:
        out.append(("10^7 triples built and served, memory < 2 GB, lookup < 10 ms p50", None, "10^7 not run"))
    return out


def cell_text(r: Result) -> str:
    """A measurement as a table shows it: the p50, `> N s` for a timeout, or what happened."""
    if r.get("p50_ms") is not None:
        return f"{fmt_ms(r['p50_ms'])} ms"
    if "timeout_s" in r:
        return f"> {r['timeout_s']:.0f} s"
    return "skipped" if "skipped" in r else "error" if r else "–"


BEFORE = ROOT / "benchmarks" / "before-issue12.json"


def before_after(results: Result) -> list[str]:
    """The saved queries before issue 12 (its baseline file) beside this run, with Virtuoso on the same texts."""
    if not BEFORE.is_file():
        return []
    before = json.loads(BEFORE.read_text())
    lines = [
        "## Before and after (issue 12)",
        "",
        f"Before: {before['source']}. After: this run. HTTP is `GET /queries/NAME` on `kg serve` (embedded "
        "Oxigraph), one client, default parameters (the listings: their first page of 100); Virtuoso got the same "
        "query texts at its `/sparql` (before: the texts of then; after: today's); `kg → Virtuoso` is `kg serve "
        "--store sparql` in front of that Virtuoso. Milliseconds.",
        "",
    ]
    for key in (str(10**6), str(10**7)):
        now, then = results["sizes"].get(key), before["sizes"].get(key)
        if not now or not then:
            continue
        lines += [
            f"### {human(int(key))} triples",
            "",
            "| query | before: HTTP p50 | before: Virtuoso p50 | after: HTTP p50 | after: pyoxigraph CPU p50 "
            "| after: Virtuoso p50 | after: kg → Virtuoso p50 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        vq = now.get("virtuoso", {}).get("queries", {})
        kq = now.get("virtuoso", {}).get("kg_sparql", {}).get("queries", {})
        for name in sorted(set(then["queries"]) | set(now.get("http", {}))):
            b = then["queries"].get(name) or {}
            ox = now.get("inprocess", {}).get(name, {}).get("pyoxigraph", {})
            cpu = fmt_ms(ox["cpu_p50_ms"]) if ox.get("cpu_p50_ms") is not None else "–"
            lines.append(
                f"| {name} | {cell_text(b.get('http') or {})} | {cell_text(b.get('virtuoso') or {})} "
                f"| {cell_text(now.get('http', {}).get(name, {}))} | {cpu} | {cell_text(vq.get(name, {}))} "
                f"| {cell_text(kq.get(name, {}))} |"
            )
        lines.append("")
        old = then.get("load", {}).get("kg serve 16")
        new = now.get("load", {}).get("16")
        if old and new:
            lines += [
                f"16 clients over the saved-query mix: {old['throughput_rps']:.2f} req/s before "
                f"({old['errors']} errors), {new['throughput_rps']:.2f} req/s after "
                f"({sum(new['errors'].values())} errors).",
                "",
            ]
        if "server_peak_rss_mb" in then and "server" in now:
            peak = now["server"]["peak"]
            lines += [
                f"Peak server memory while serving: {then['server_peak_rss_mb']:,.0f} MB RSS before "
                f"({then['processes']} processes), {peak['rss_mb']:,.0f} MB RSS (PSS {peak['pss_mb']:,.0f} MB) after "
                f"({peak['processes']} processes).",
                "",
            ]
    return lines


def notes(results: Result) -> list[str]:
    """Observations that explain the numbers, each stated only when the numbers show it."""
    sizes = results["sizes"]
    keys = sorted(sizes, key=int)
    out: list[str] = []
    big = sizes[keys[-1]] if keys else {}
    sv = big.get("server", {})
    startup, idle = sv.get("startup_peak", {}).get("rss_mb", 0), sv.get("idle", {}).get("rss_mb", 0)
    if idle and startup > 3 * idle:
        out.append(
            f"- **Server startup memory.** At {human(int(keys[-1]))} triples the server peaked at {startup:,.0f} MB "
            f"while starting, against {idle:,.0f} MB idle. Every query worker process opens the store through "
            "`open_store`, which checks that the store is current by hashing its sources, and `kg.sources` hashes "
            "a file by reading it whole (`path.read_bytes()`, twice per process): each of the 8 query workers "
            f"(2 gunicorn workers × 4) holds the {big['file']['bytes'] / 1e6:,.0f} MB generated file in memory for "
            "a moment. Hashing in chunks "
            "(`hashlib.file_digest`) and checking once before the workers start would remove the spike."
        )
    slow = [(n, r["timeout_s"]) for n, r in big.get("http", {}).items() if "timeout_s" in r]
    heavy = []
    for k in keys:
        for name, r in sizes[k].get("inprocess", {}).items():
            p50 = r["pyoxigraph"].get("p50_ms") or 0
            if p50 > 5000:
                heavy.append((name, k, p50))
    if heavy:
        names = sorted({h[0] for h in heavy})
        worst = max(heavy, key=lambda h: h[2])
        out.append(
            "- **Saved queries that read the whole graph.** "
            + ", ".join(f"`{n}`" for n in names)
            + f" aggregate over every firm, agreement or term, so their time grows with the data "
            f"(`{worst[0]}` takes {worst[2] / 1000:,.1f} s in pyoxigraph itself at {human(int(worst[1]))} triples); "
            "the load runs cycle over all saved queries, so these few dominate their throughput and p99 on 2 CPUs. "
            "They are reports over the paper's data, not lookups."
            + (
                f" At {human(int(keys[-1]))} triples {len(slow)} saved queries passed the light run's "
                f"{slow[0][1]:.0f} s limit ({', '.join(f'`{n}`' for n, _ in slow)})."
                if slow
                else ""
            )
        )
    small_misses = []
    for k in keys:
        s = sizes[k]
        for name, r in s.get("inprocess", {}).items():
            h = s.get("http", {}).get(name, {})
            ox = r["pyoxigraph"].get("p50_ms")
            if ox is not None and h.get("p50_ms") is not None and h["p50_ms"] > 1.3 * ox + 5 and ox < 20:
                small_misses.append(h["p50_ms"] - ox)
    if small_misses:
        lo, hi = min(small_misses), max(small_misses)
        spread = f"{lo:.1f} ms" if hi - lo < 0.05 else f"{lo:.1f}-{hi:.1f} ms"
        out.append(
            f"- **Fixed cost of HTTP.** {len(small_misses)} miss(es) of the 1.3× + 5 ms target came from queries that "
            f"take under 20 ms in pyoxigraph, where the endpoint adds {spread} (Flask, the hand-off to a query worker "
            "over a pipe, SPARQL JSON serialisation, the client on the same 2 CPUs), slightly more than the 5 ms "
            "allowed. Heavy queries are measured once each (a query longer than half its budget runs once), so their "
            "ratios carry the noise of other work on the machine."
        )
    s6 = sizes.get(str(10**6), {})
    if s6.get("rdflib", {}).get("parse_s") and "build" in s6:
        b, o = s6["build"], s6["ox_bulk"]
        out.append(
            f"- **Build against rdflib.** rdflib 7 parses N-Triples at about "
            f"{s6['file']['triples'] / s6['rdflib']['parse_s'] / 1000:,.0f} k triples/s here; the 6× target "
            f"would need `kg build` to finish in {s6['rdflib']['parse_s'] / 6:.1f} s for 10^6 triples"
            + (
                f", less than pyoxigraph's own bulk load of the file ({o['wall_s']:.1f} s): it cannot be met on this "
                "machine while the build uses that bulk load, whatever `kg build` does around it"
                if o["wall_s"] > s6["rdflib"]["parse_s"] / 6
                else ""
            )
            + f". `kg build` adds {b['wall_s'] - o['wall_s']:.1f} s to the bulk load (interpreter start, hashing the "
            "sources, the repository's Turtle files, the manifest)."
        )
    return out


KEEP_MARK = "<!-- Generated by benchmarks/run.py down to here; sections below this line are kept when it rewrites -->"


def kept_sections(path: Path) -> str:
    """What others added to RESULTS.md after the generated part (after the mark, or after the plot)."""
    if not path.is_file():
        return ""
    text = path.read_text()
    at = text.find(KEEP_MARK)
    if at >= 0:
        tail = text[at + len(KEEP_MARK) :]
    else:
        at = text.find("![latency against size]")
        tail = text[text.find("\n", at) + 1 :] if at >= 0 else ""
    return tail if tail.strip() else ""


def report(results: Result, plot_name: str | None) -> str:
    m = results["machine"]
    sizes = results["sizes"]
    keys = sorted(sizes, key=int)
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `benchmarks/run.py` (see [README.md](README.md)) on {m['date']}; sizes "
        + ", ".join(human(int(k)) for k in keys)
        + f"; command: `{results.get('command', '')}`.",
        "",
        "## Machine",
        "",
        f"- {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, {m['platform']}",
        f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()),
        f"- Virtuoso: {m['virtuoso'] or 'not installed'}"
        + ("" if results.get("virtuoso_endpoint") else " (not benchmarked: no endpoint given)"),
        f"- load average at the start {m['loadavg'][0]:.2f}, at the end {results.get('loadavg_end', [0])[0]:.2f} "
        "(other work on the machine shows up in every number)",
        "",
        "## Targets",
        "",
        "| target | verdict | numbers |",
        "| --- | --- | --- |",
    ]
    for name, ok, text in targets(results):
        lines.append(f"| {name} | {verdict(ok)} | {text} |")
    lines += ["", *before_after(results)]
    lines += [
        "",
        "## Data, build and memory",
        "",
        "| triples | firms | agreements | file MB | generate s | kg build s | build peak RSS MB "
        "| pyoxigraph bulk load s | ratio | rdflib parse s | rdflib / kg build |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for k in keys:
        s = sizes[k]
        f, b, o, r = s["file"], s["build"], s["ox_bulk"], s.get("rdflib", {})
        p = r.get("parse_s")
        speedup = f"{p / b['wall_s']:.1f}×" if p else "–"
        lines.append(
            f"| {f['triples']:,} | {f['firms']:,} | {f['agreements']:,} | {f['bytes'] / 1e6:,.0f} | "
            f"{fmt_s(f['generate_s'])} | {fmt_s(b['wall_s'])} | {b['maxrss_mb']:,.0f} | {fmt_s(o['wall_s'])} | "
            f"{b['wall_s'] / o['wall_s']:.2f}× | {fmt_s(p) if p else 'skipped'} | {speedup} |"
        )
    lines += [
        "",
        "`kg build` is the whole command (ontology + `data/` + the generated file as a named graph, checksums, "
        "manifest) in a child process; pyoxigraph is `Store.bulk_load` of the generated file alone into an "
        "empty on-disk store; rdflib is `Graph.parse(format='nt')` of the file alone. Peak RSS is the child's "
        "`ru_maxrss` from `os.wait4`.",
        "",
    ]
    lines += [
        "## Server",
        "",
        "| triples | start s | startup peak RSS MB | idle RSS MB | lookups peak RSS MB | peak RSS MB | peak PSS MB "
        "| processes | lookup p50 ms | lookup p95 ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for k in keys:
        s = sizes[k]
        if "server" not in s:
            continue
        sv, lk = s["server"], s["lookup"]
        lines.append(
            f"| {human(int(k))} | {fmt_s(sv['start_s'])} | {sv.get('startup_peak', {}).get('rss_mb', 0):,.0f} | "
            f"{sv['idle']['rss_mb']:,.0f} | {sv.get('peak_lookup', {}).get('rss_mb', 0):,.0f} | "
            f"{sv['peak']['rss_mb']:,.0f} | {sv['peak']['pss_mb']:,.0f} | {sv['peak']['processes']} | "
            f"{fmt_ms(lk['p50_ms'])} | {fmt_ms(lk['p95_ms'])} |"
        )
    lines += [
        "",
        "Memory is summed over the gunicorn master, its workers and their query worker processes "
        "(`/proc/*/status` VmRSS; PSS from `smaps_rollup` counts shared pages once); the peak is sampled every "
        "0.5 s from the launch until every query worker has answered (startup), during the lookups, and over the "
        "whole run (lookups, saved queries and load runs). Lookup is "
        "`GET /resource?iri=...&format=nt` of generated firms and agreements.",
        "",
    ]
    for k in keys:
        s = sizes[k]
        if "http" not in s:
            continue
        lines += [f"## Saved queries at {human(int(k))} triples (milliseconds)", ""]
        if not s["full"]:
            lines += ["Without the load runs and the other servers but Virtuoso; one client.", ""]
        head = "| query | rows | pyoxigraph p50 | pyoxigraph CPU p50 | kg API p50 | HTTP p50 | HTTP p95 "
        head += "| HTTP / (1.3 × ox + 5 ms) | rdflib p50 | rdflib-endpoint p50 | Virtuoso p50 | kg → Virtuoso p50 |"
        lines += [head, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        ip = s.get("inprocess", {})
        rq = s.get("rdflib", {}).get("queries", {})
        re_q = s.get("rdflib_endpoint", {}).get("queries", {})
        vq = s.get("virtuoso", {}).get("queries", {})
        kq = s.get("virtuoso", {}).get("kg_sparql", {}).get("queries", {})
        for name in sorted(s["http"]):
            h = s["http"][name]
            ox = ip.get(name, {}).get("pyoxigraph", {})
            api = ip.get(name, {}).get("kg_api", {})
            ratio = "–"
            if ox.get("p50_ms") is not None and h.get("p50_ms") is not None:
                ratio = f"{h['p50_ms'] / (1.3 * ox['p50_ms'] + 5):.2f}"
            rows = ox.get("rows", h.get("rows", "–"))
            trunc = f" (HTTP cut: {h['truncated']})" if h.get("truncated") else ""

            def cell(d: Result, key: str = "p50_ms") -> str:
                if d.get(key) is not None:
                    return fmt_ms(d[key])
                if "timeout_s" in d:
                    return f"> {d['timeout_s']:.0f} s"
                return "–" if not d or key != "p50_ms" else "skipped" if "skipped" in d else "error"

            lines.append(
                f"| {name} | {rows}{trunc} | {cell(ox)} | {cell(ox, 'cpu_p50_ms')} | {cell(api)} | {cell(h)} "
                f"| {cell(h, 'p95_ms')} | {ratio} | {cell(rq.get(name, {}))} | {cell(re_q.get(name, {}))} "
                f"| {cell(vq.get(name, {}))} | {cell(kq.get(name, {}))} |"
            )
        lines.append("")
        if "load" in s:
            lines += [
                "| server | clients | requests OK | errors | throughput req/s | p50 ms | p99 ms |",
                "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
            ]
            rows = [("kg serve", s["load"][c]) for c in ("1", "4", "16")]
            if "load16" in s.get("rdflib_endpoint", {}):
                rows.append(("rdflib-endpoint", s["rdflib_endpoint"]["load16"]))
            if "load16" in s.get("virtuoso", {}):
                rows.append(("Virtuoso", s["virtuoso"]["load16"]))
            if "load16" in s.get("virtuoso", {}).get("kg_sparql", {}):
                rows.append(("kg serve --store sparql → Virtuoso", s["virtuoso"]["kg_sparql"]["load16"]))
            for server, r in rows:
                errs = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "0"
                lines.append(
                    f"| {server} | {r['clients']} | {r['ok']} | {errs} | {r['throughput_rps']:.2f} | "
                    f"{fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} |"
                )
            lines += [
                "",
                f"Each client cycles over the {len(s['http'])} saved queries (default parameters) for "
                f"{results.get('duration', 15):.0f} s; kg is asked `GET /queries/NAME`, the other servers the same "
                "text with the defaults in a VALUES clause at their SPARQL endpoint. `kg → Virtuoso` is `kg serve "
                "--store sparql` in front of the same Virtuoso, asked `GET /queries/NAME`.",
                "",
            ]
        extra = []
        re_ = s.get("rdflib_endpoint", {})
        if "start_s" in re_:
            n_re = re_.get("restarts", 0)
            restarted = f", restarted {n_re} time{'s' * (n_re != 1)} (after timed-out queries, and before the load run)"
            extra.append(
                f"rdflib-endpoint loaded the repository and the file in {re_['start_s']:.1f} s"
                f"{restarted if re_.get('restarts') else ''} and held "
                f"{re_.get('memory_peak', re_.get('memory', {})).get('rss_mb', 0):,.0f} MB"
            )
        elif re_:
            extra.append(f"rdflib-endpoint: {re_.get('skipped') or re_.get('error')}")
        vi = s.get("virtuoso", {})
        if "bulk_load_s" in vi:
            extra.append(
                f"Virtuoso got the repository by `kg push` ({vi['push_s']:.1f} s) and the generated file by its bulk "
                f"loader ({vi['bulk_load_s']:.1f} s)"
            )
        elif "push_s" in vi:
            extra.append(f"`kg push` into Virtuoso took {vi['push_s']:.1f} s")
        elif vi:
            extra.append(f"Virtuoso: {vi.get('error')}")
        r = s.get("rdflib", {})
        if "parse_s" in r:
            extra.append(f"rdflib in memory held {r['maxrss_mb']:,.0f} MB after parsing and querying")
        if extra:
            lines += ["; ".join(extra) + ".", ""]
    skipped = [
        f"{human(int(k))}: {sizes[k]['rdflib']['skipped']}" for k in keys if "skipped" in sizes[k].get("rdflib", {})
    ]
    light = [human(int(k)) for k in keys if not sizes[k]["full"]]
    found = notes(results)
    if found:
        lines += ["## Notes", "", *found, ""]
    lines += ["## Left out", ""]
    lines.append("- The federated saved queries (tag `federated`): their SERVICE calls go to Wikidata.")
    if light:
        lines.append(
            f"- At {', '.join(light)} triples the load runs, rdflib and rdflib-endpoint were left out (Virtuoso and "
            "`kg serve --store sparql` in front of it answer the saved queries one client at a time), to keep the "
            "whole run within about 40 minutes."
        )
    for s in skipped:
        lines.append(f"- rdflib (parse, in-memory queries and rdflib-endpoint): {s}.")
    if not results.get("virtuoso_endpoint"):
        lines.append("- Virtuoso: no endpoint was given (`KG_TEST_VIRTUOSO_ENDPOINT` or `--virtuoso-dir`).")
    lines.append("")
    if plot_name:
        lines += [f"![latency against size]({plot_name})", ""]
    lines.append(KEEP_MARK)
    return "\n".join(lines)


def plot(results: Result, path: Path) -> bool:
    """Latency against size (log-log): each saved query's HTTP p50, lookup p50; build time on the right."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sizes = results["sizes"]
    keys = sorted(sizes, key=int)
    if not keys:
        return False
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 7), gridspec_kw={"width_ratios": [2, 1]})
    ax.set_prop_cycle(color=[plt.get_cmap("tab20")(i) for i in range(20)])
    names = sorted({q for k in keys for q in sizes[k].get("http", {})})
    for name in names:
        xs = [sizes[k]["file"]["triples"] for k in keys if sizes[k].get("http", {}).get(name, {}).get("p50_ms")]
        ys = [sizes[k]["http"][name]["p50_ms"] for k in keys if sizes[k].get("http", {}).get(name, {}).get("p50_ms")]
        if xs:
            ax.plot(xs, ys, marker="o", linewidth=1, alpha=0.7, label=name)
    xs = [sizes[k]["file"]["triples"] for k in keys if sizes[k].get("lookup", {}).get("p50_ms")]
    ys = [sizes[k]["lookup"]["p50_ms"] for k in keys if sizes[k].get("lookup", {}).get("p50_ms")]
    ax.plot(xs, ys, marker="s", color="black", linewidth=2.5, label="lookup by IRI")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("generated triples")
    ax.set_ylabel("HTTP p50 latency (ms)")
    ax.set_title("kg serve: saved queries and lookups")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4)
    for key, label in (("build", "kg build"), ("ox_bulk", "pyoxigraph bulk load")):
        xs = [sizes[k]["file"]["triples"] for k in keys]
        ax2.plot(xs, [sizes[k][key]["wall_s"] for k in keys], marker="o", label=label)
    xs = [sizes[k]["file"]["triples"] for k in keys if sizes[k].get("rdflib", {}).get("parse_s")]
    if xs:
        ax2.plot(
            xs,
            [sizes[k]["rdflib"]["parse_s"] for k in keys if sizes[k].get("rdflib", {}).get("parse_s")],
            marker="o",
            label="rdflib parse",
        )
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("generated triples")
    ax2.set_ylabel("seconds")
    ax2.set_title("loading")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---- main -------------------------------------------------------------------------------------------------------


def start_virtuoso(folder: Path) -> str:
    env = dict(os.environ, KG_VIRTUOSO_SQL_PORT=str(free_port()), KG_VIRTUOSO_HTTP_PORT=str(free_port()))
    proc = subprocess.run(
        ["bash", str(ROOT / "tests" / "virtuoso" / "virtuoso.sh"), "start", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    if proc.returncode != 0:
        raise RuntimeError("Virtuoso did not start: " + proc.stderr[-500:])
    os.environ["KG_VIRTUOSO_SQL_PORT"] = env["KG_VIRTUOSO_SQL_PORT"]  # for the stop
    return proc.stdout.strip().splitlines()[-1]


def stop_virtuoso(folder: Path) -> None:
    subprocess.run(
        ["bash", str(ROOT / "tests" / "virtuoso" / "virtuoso.sh"), "stop", str(folder)],
        capture_output=True,
        timeout=120,
        env=dict(os.environ),
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_rdflib":
        f, budget, timeout, reps, total, store = argv[1:7]
        result = child_rdflib(Path(f), float(budget), float(timeout), int(reps), float(total), Path(store))
        print("RESULT " + json.dumps(result))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1e5,1e6,1e7", help="comma-separated triple counts (default 1e5,1e6,1e7)")
    ap.add_argument(
        "--full-max",
        type=parse_size,
        default=10**6,
        help="largest size measured in full; larger ones get build, lookups and memory only",
    )
    ap.add_argument("--rdflib-max", type=parse_size, default=10**6, help="largest size given to rdflib")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds of each load run (default 15)")
    ap.add_argument("--query-budget", type=float, default=3.0, help="seconds per query and mode (default 3)")
    ap.add_argument("--max-reps", type=int, default=15, help="repetitions per query and mode (default 15)")
    ap.add_argument("--endpoint-budget", type=float, default=120.0, help="seconds for all queries on one server")
    ap.add_argument("--light-budget", type=float, default=150.0, help="seconds for the one-run queries of big sizes")
    ap.add_argument("--rdflib-budget", type=float, default=90.0, help="seconds for all rdflib in-memory queries")
    ap.add_argument("--rdflib-query-timeout", type=float, default=15.0, help="seconds before an rdflib query stops")
    ap.add_argument("--request-timeout", type=float, default=60.0, help="HTTP request timeout in seconds")
    ap.add_argument("--slow-request-timeout", type=float, default=30.0, help="request timeout for rdflib-endpoint")
    ap.add_argument("--light-request-timeout", type=float, default=20.0, help="request timeout at the big sizes")
    ap.add_argument("--virtuoso-push-timeout", type=float, default=900.0)
    ap.add_argument("--virtuoso-max", type=parse_size, default=10**7, help="largest size loaded into Virtuoso")
    ap.add_argument("--lookups", type=int, default=100, help="lookups by IRI per size")
    ap.add_argument("--no-rdflib-endpoint", dest="rdflib_endpoint", action="store_false")
    ap.add_argument(
        "--virtuoso-dir",
        type=Path,
        default=None,
        help="start Virtuoso (tests/virtuoso/virtuoso.sh) with its data in this folder",
    )
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/kg-bench"))
    ap.add_argument("--keep", action="store_true", help="keep generated files and stores")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    ap.add_argument(
        "--report-only",
        type=Path,
        default=None,
        metavar="JSON",
        help="rewrite RESULTS.md and the plot from a results JSON of an earlier run",
    )
    args = ap.parse_args(argv)
    png = args.out.with_name("latency.png")
    if args.report_only:
        results = json.loads(args.report_only.read_text())
    else:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
        args.workdir.mkdir(parents=True, exist_ok=True)
        results = {
            "machine": machine(),
            "sizes": {},
            "duration": args.duration,
            "command": "benchmarks/run.py " + " ".join(argv),
        }
        virtuoso = os.environ.get("KG_TEST_VIRTUOSO_ENDPOINT") or None
        started_virtuoso = False
        if virtuoso is None and args.virtuoso_dir is not None:
            log("starting Virtuoso")
            virtuoso = start_virtuoso(args.virtuoso_dir)
            started_virtuoso = True
        results["virtuoso_endpoint"] = virtuoso
        raw = args.workdir / "results.json"
        try:
            for n in sizes:
                t = time.perf_counter()
                results["sizes"][str(n)] = bench_size(n, args.workdir, args, virtuoso)
                results["sizes"][str(n)]["bench_s"] = time.perf_counter() - t
                raw.write_text(json.dumps(results, indent=1))
                log(f"{human(n)} done in {time.perf_counter() - t:.0f} s; raw numbers in {raw}")
        finally:
            if started_virtuoso:
                stop_virtuoso(args.virtuoso_dir)
        results["loadavg_end"] = os.getloadavg()
        raw.write_text(json.dumps(results, indent=1))
    has_plot = plot(results, png)
    args.out.write_text(report(results, png.name if has_plot else None) + kept_sections(args.out))
    log(f"wrote {args.out}" + (f" and {png}" if has_plot else " (no plot: no sizes, or matplotlib is missing)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
