"""The `kg` command line: build, validate, query, export, stats, fmt, reason, ingest, update, serve, push."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg import formatting, reasoning, results, stats
from kg.errors import InputError, KgError
from kg.queries import QueryCatalog, SavedQuery, parse_query_text
from kg.settings import Settings
from kg.sources import extra_sources
from kg.store import open_store


class KgGroup(click.Group):
    """Maps KgError to its exit code and a one-paragraph message; never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KgError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # the last line of defence: no traceback reaches a user
            click.echo(f"internal error ({type(exc).__name__}): {exc}", err=True)
            sys.exit(3)


@click.group(cls=KgGroup)
@click.option(
    "--store",
    type=click.Choice(["oxigraph", "memory", "sparql"]),
    default=None,
    help="Store backend (default oxigraph; env KG_STORE).",
)
@click.option("--endpoint", default=None, help="SPARQL endpoint of the sparql store (env KG_ENDPOINT).")
@click.option(
    "--store-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of the on-disk store (default .kg/store; env KG_STORE_DIR).",
)
@click.version_option(package_name="interfirm-kg")
@click.pass_context
def main(ctx: click.Context, store: str | None, endpoint: str | None, store_dir: Path | None) -> None:
    """interfirm-kg: the UNCTAD inter-firm cooperation knowledge graph."""
    ctx.obj = Settings.from_env(store=store, store_dir=store_dir, endpoint=endpoint)


@main.command()
@click.option("--force", is_flag=True, help="Rebuild even when no source changed.")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
def build(settings: Settings, force: bool, files: tuple[Path, ...]) -> None:
    """Build the store from the ontology, data/ and any extra FILES (skipped when nothing changed)."""
    from kg.build import rebuild

    if settings.store == "memory":
        click.echo("the memory store is built on every command; nothing to do")
        return
    built = rebuild(settings, force=force, extra=extra_sources(list(files)))
    click.echo(("built" if built else "up to date") + f": {settings.store_path}")


@main.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, allow_dash=True))
@click.option("-e", "--expression", default=None, help="The update text itself, instead of FILE.")
@click.option("--using-graph-uri", "using", multiple=True, help="A graph for the WHERE clauses' default graph.")
@click.option("--using-named-graph-uri", "using_named", multiple=True, help="A named graph for the WHERE clauses.")
@click.option("--agent", default=None, help="Who makes the change (recorded with PROV; default: the user).")
@click.option("--list", "list_", is_flag=True, help="List the accepted updates (the journal) and change nothing.")
@click.pass_obj
def update(
    settings: Settings,
    file: Path | None,
    expression: str | None,
    using: tuple[str, ...],
    using_named: tuple[str, ...],
    agent: str | None,
    list_: bool,
) -> None:
    """Apply a SPARQL 1.1 Update from FILE (- for standard input) all or nothing, and keep it in the journal
    that every build replays. WHERE clauses see the union of the named graphs; triples go into named graphs.

    Exit 0: applied; 2: it does not parse, fails, or writes the default graph; 4: LOAD (refused).
    """
    from kg.ingest import whoami
    from kg.updates import commit, journal

    if list_:
        entries = journal(settings)
        for e in entries:
            first = " ".join(e.text.split())[:80]
            click.echo(f"{e.seq:>6}  {e.time}  {e.agent}  {first}")
        if not entries:
            click.echo(f"no updates in the journal ({settings.updates_path})")
        return
    if (file is None) == (expression is None):
        raise InputError("give the update as FILE (or - for standard input) or with -e TEXT, not both")
    text = expression or ""
    if file is not None and str(file) == "-":
        text = sys.stdin.read()
    elif file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the update: {exc}", source=str(file)) from exc
    result = commit(settings, text, using=using, using_named=using_named, agent=agent or whoami())
    if result.seq is None:
        click.echo(f"applied by the remote store in {result.seconds:g} s")
    else:
        click.echo(f"applied: update {result.seq} <{result.graph}>, the store now holds {result.quads} quads")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and show what would be added; change nothing.")
@click.option("--agent", default=None, help="Who is adding the data (recorded with PROV; default: the user).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def ingest(settings: Settings, files: tuple[Path, ...], dry_run: bool, agent: str | None, fmt: str) -> None:
    """Validate FILES as new case data and add them, all or nothing, as one named graph with provenance.

    Exit 0: added (or would be, with --dry-run); 1: violations, nothing added; 2: unreadable input.
    """
    import json

    from kg.ingest import ingest_files

    result = ingest_files(settings, list(files), agent=agent, dry_run=dry_run)
    verb = "would add" if dry_run else ("added" if result.committed else "did not add")
    if not result.report.conforms:
        verb = "did not add"
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "graph": str(result.graph),
                    "triples": result.triples,
                    "committed": result.committed,
                    "dry_run": dry_run,
                    "conforms": result.report.conforms,
                    "violations": len(result.report.violations),
                }
            )
        )
    else:
        if not result.report.conforms:
            click.echo(result.report.render("text"), nl=False)
        elif result.path is not None and not result.committed:
            verb = "already present"
        click.echo(f"{verb}: {result.triples} triples in <{result.graph}>")
    sys.exit(0 if result.report.conforms else 1)


@main.command()
@click.option("--endpoint", default=None, help="Query endpoint of the remote store (env KG_ENDPOINT).")
@click.option("--update-endpoint", default=None, help="Update endpoint, when it differs (env KG_UPDATE_ENDPOINT).")
@click.option("--user", default=None, help="User for HTTP Basic authentication (env KG_ENDPOINT_USER).")
@click.option(
    "--password", default=None, help="Password for HTTP Basic authentication (env KG_ENDPOINT_PASSWORD; safer)."
)
@click.option(
    "--token",
    default=None,
    help="Bearer token, e.g. another kg server's update token (env KG_ENDPOINT_TOKEN; safer).",
)
@click.pass_obj
def push(
    settings: Settings,
    endpoint: str | None,
    update_endpoint: str | None,
    user: str | None,
    password: str | None,
    token: str | None,
) -> None:
    """Load the built graphs into a remote SPARQL 1.1 store as named graphs (replacing them), with
    SPARQL Update (DROP SILENT GRAPH, INSERT DATA): Virtuoso, Fuseki, GraphDB, or another kg server.

    Exit 0: pushed; 3: the remote store failed; 4: it refused (credentials).
    """
    import dataclasses

    from kg.build import push as run

    changes = {
        k: v
        for k, v in {
            "endpoint": endpoint,
            "update_endpoint": update_endpoint,
            "endpoint_user": user,
            "endpoint_password": password,
            "endpoint_token": token,
        }.items()
        if v
    }
    target = dataclasses.replace(settings, store="sparql", **changes)
    if not target.endpoint:
        raise InputError("kg push needs --endpoint URL (or KG_ENDPOINT)")
    if target.endpoint_token and target.endpoint_user:
        raise InputError("give either --token or --user/--password, not both")
    counts = run(
        target,
        progress=lambda graph: click.echo(f"pushed {graph}", err=True),
        skipped=lambda graph, why: click.echo(f"not pushed: <{graph}>: {why}", err=True),
    )
    click.echo(
        f"pushed {sum(counts.values())} triples in {len(counts)} graphs to {target.update_endpoint or target.endpoint}"
    )


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "turtle", "json", "jsonld"]), default="text")
@click.pass_obj
def validate(settings: Settings, files: tuple[Path, ...], fmt: str) -> None:
    """Validate the repository's data, or FILES as new case data together with it.

    Exit 0: conforms (warnings allowed); 1: violations; 2: unreadable input.
    """
    from kg.validation import validate as run

    report = run(settings, list(files) or None)
    click.echo(report.render(fmt), nl=False)
    sys.exit(0 if report.conforms else 1)


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(f"--param {pair!r} is not NAME=VALUE", hint="write --param firm=https://...")
        values[name] = value
    return values


_QUERY_SUFFIXES = (".rq", ".sparql", ".txt", ".ru")


def _query_source(settings: Settings, name: str | None, expression: str | None) -> SavedQuery:
    """The query to run: inline text (-e), standard input (-), a file, or a saved query by name."""
    if (name is None) == (expression is None):
        raise InputError(
            "give one query: a saved query NAME, a FILE, - for standard input, or -e TEXT",
            hint="kg queries lists the saved queries",
        )
    if expression is not None:
        return parse_query_text(expression, name="expression", source="-e", require_summary=False)
    assert name is not None
    if name == "-":
        return parse_query_text(sys.stdin.read(), name="stdin", source="standard input", require_summary=False)
    path = Path(name)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the query: {exc}", source=str(path)) from exc
        return parse_query_text(text, name=path.stem, source=str(path), path=path, require_summary=False)
    catalog = QueryCatalog(settings.queries_dir)
    if name in catalog.names():
        return catalog.get(name)
    if path.suffix.lower() in _QUERY_SUFFIXES or "/" in name or "\\" in name or path.exists():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise InputError(f"the query file {name} {what}", source=name, hint="check the path, or kg queries")
    raise InputError(
        f"no saved query named {name!r} and no file {name}",
        hint=f"kg queries lists the saved queries ({', '.join(catalog.names()[:5])}, ...); "
        "a query file, - (standard input) or -e TEXT run any SPARQL query",
    )


@main.command()
@click.argument("name", required=False, metavar="NAME|FILE|-")
@click.option("-e", "--expression", default=None, metavar="TEXT", help="The query text itself.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A query parameter (repeatable).")
@click.option(
    "--format",
    "fmt",
    default="table",
    type=click.Choice(["table", "csv", "tsv", "json", "xml", "turtle", "nt", "jsonld"]),
)
@click.pass_obj
def query(settings: Settings, name: str | None, expression: str | None, params: tuple[str, ...], fmt: str) -> None:
    """Run a saved query (NAME), any SPARQL query FILE, a query on standard input (-) or -e TEXT.

    Parameters (--param) bind variables by the engine: a saved query's declared ones, typed; in any other
    query the `#+ params:` it declares, if any. A listing pages with --param limit=N and --param offset=M.
    """
    saved = _query_source(settings, name, expression)
    text, bindings = saved.prepare(_parse_params(params))
    store = open_store(settings)
    try:
        result = store.query(text, bindings=bindings)
    finally:
        store.close()
    sys.stdout.buffer.write(results.serialize(result, fmt))


@main.command("queries")
@click.pass_obj
def list_queries(settings: Settings) -> None:
    """List the saved queries and their parameters."""
    for q in QueryCatalog(settings.queries_dir):
        params = ", ".join(f"{p.name}:{p.type}" for p in q.params)
        click.echo(f"{q.name}{f' ({params})' if params else ''}\n    {q.summary}")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["ttl", "nt", "nq", "trig", "jsonld"]), default="trig")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None)
@click.pass_obj
def export(settings: Settings, fmt: str, output: Path | None) -> None:
    """Export the whole graph: ttl/nt as the union, nq/trig/jsonld with named graphs."""
    from kg.namespaces import PREFIXES

    store = open_store(settings)
    try:
        if fmt in ("nq", "trig", "jsonld"):
            data = store.dataset()
        else:
            data = store.graph()
        for prefix, ns in PREFIXES.items():
            data.bind(prefix, ns)
        name = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "jsonld": "json-ld"}[fmt]
        payload = data.serialize(format=name, encoding="utf-8")
    finally:
        store.close()
    if output is None:
        sys.stdout.buffer.write(payload)
    else:
        tmp = output.with_name(output.name + ".partial")
        tmp.write_bytes(payload)
        tmp.replace(output)
        click.echo(f"wrote {output} ({len(payload)} bytes)", err=True)


@main.command("stats")
@click.pass_obj
def stats_cmd(settings: Settings) -> None:
    """Print the graph's statistics."""
    store = open_store(settings)
    try:
        click.echo(stats.compute(store).render(), nl=False)
    finally:
        store.close()


@main.command()
@click.option("--check", is_flag=True, help="Only report files that are not in canonical layout (exit 1).")
@click.pass_obj
def fmt(settings: Settings, check: bool) -> None:
    """Rewrite ontology, data and shapes in the canonical Turtle layout."""
    paths = formatting.turtle_files(settings)
    if check:
        bad = formatting.check(paths)
        for p in bad:
            click.echo(f"not canonical: {p} (run kg fmt)")
        if not bad:
            click.echo(f"all {len(paths)} Turtle files are in canonical layout")
        sys.exit(1 if bad else 0)
    for p in formatting.rewrite(paths):
        click.echo(f"reformatted {p}")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1; env KG_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8000; env KG_PORT or PORT).")
@click.option("--query-timeout", type=float, default=None, help="Seconds before a query is stopped (default 30).")
@click.option("--workers", type=int, default=None, help="Server worker processes (default 2).")
@click.option("--extra", "extra", multiple=True, metavar="[GRAPH=]FILE", help="Extra data file to serve (repeatable).")
@click.pass_obj
def serve(
    settings: Settings,
    host: str | None,
    port: int | None,
    query_timeout: float | None,
    workers: int | None,
    extra: tuple[str, ...],
) -> None:
    """Serve the SPARQL endpoint, saved queries, validation, Linked Data pages and the UI."""
    import dataclasses
    import os

    from kg.server import serve as run

    if port is None and os.environ.get("PORT") and not os.environ.get("KG_PORT"):
        port = int(os.environ["PORT"])
    changes = {
        k: v
        for k, v in {"host": host, "port": port, "query_timeout": query_timeout, "workers": workers}.items()
        if v is not None
    }
    if extra:
        changes["extra_files"] = tuple(settings.extra_files) + extra
    run(dataclasses.replace(settings, **changes))


@main.command()
@click.option("-n", "--triples", required=True, metavar="N", help="Stop once N triples are written (1e6 is fine).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Same seed, same bytes.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="FILE.nt (N-Triples, recommended for large N) or FILE.ttl (Turtle).",
)
@click.pass_obj
def generate(settings: Settings, triples: str, seed: int, output: Path) -> None:
    """Write synthetic firms, clusters, networks and agreements that conform to the shapes (for benchmarks)."""
    import time

    from kg.generate import generate as run
    from kg.generate import load_vocabulary, parse_count

    target = parse_count(triples)
    vocabulary = load_vocabulary(settings.data_dir)
    started = time.monotonic()
    bar: list = []  # the progress bar, shown once a run takes more than two seconds
    done = [0]

    def progress(step: int) -> None:
        done[0] += step
        if not bar and time.monotonic() - started > 2:
            bar.append(click.progressbar(length=target, label="generating", file=sys.stderr))
            bar[0].__enter__()
            bar[0].update(done[0])
        elif bar:
            bar[0].update(step)

    try:
        summary = run(output, target, seed, vocabulary, progress=progress)
    finally:
        if bar:
            bar[0].__exit__(None, None, None)
    click.echo(
        f"wrote {summary.triples} triples to {output} ({summary.firms} firms, {summary.agreements} agreements, "
        f"{summary.clusters} clusters, {summary.networks} networks, {summary.cases} cases; seed {seed})"
    )


@main.command()
@click.pass_obj
def reason(settings: Settings) -> None:
    """Check with HermiT that the ontology and all data are consistent with no unsatisfiable class."""
    verdict = reasoning.check(settings)
    if not verdict.consistent:
        click.echo(f"inconsistent: {verdict.explanation}")
    for iri in verdict.unsatisfiable:
        click.echo(f"unsatisfiable class: {iri}")
    if verdict.ok:
        click.echo("consistent; no unsatisfiable class")
    sys.exit(0 if verdict.ok else 1)
