"""The `kg` command line: build, validate, query, terms, export, stats, fmt, reason, ingest, update, serve, push."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from kg import formatting, reasoning, results, stats
from kg.errors import InputError, KgError
from kg.queries import QueryCatalog, SavedQuery, parse_query_text
from kg.settings import Settings
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
    _say_on_stderr()
    ctx.obj = Settings.from_env(store=store, store_dir=store_dir, endpoint=endpoint)


def _say_on_stderr() -> None:
    """What the package tells a user while it works (a rebuild and why, a kept file) goes to standard error."""
    import logging

    logger = logging.getLogger("kg")
    if not any(getattr(h, "kg_stderr", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.kg_stderr = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


@main.command()
@click.option("--force", is_flag=True, help="Rebuild even when no source changed.")
@click.option(
    "--remove",
    "remove",
    multiple=True,
    metavar="FILE|GRAPH-IRI",
    help="Drop an extra file the store was built with, by its path or graph (repeatable).",
)
@click.option(
    "--only-repository", is_flag=True, help="Drop every extra file: the ontology, data/, ingests and updates only."
)
@click.argument("files", nargs=-1, metavar="[GRAPH-IRI=]FILE...")
@click.pass_obj
def build(
    settings: Settings, force: bool, remove: tuple[str, ...], only_repository: bool, files: tuple[str, ...]
) -> None:
    """Build the store from the ontology, data/ and extra FILES (Turtle, N-Triples, N-Quads, TriG, JSON-LD,
    RDF/XML); skipped when nothing changed.

    Extra files are recorded in the store and kept by every later command until --remove or --only-repository.
    A FILE goes to a graph named after its content unless GRAPH-IRI= names one; the named graphs of N-Quads and
    TriG keep their names.
    """
    from kg.build import read_manifest, rebuild

    if settings.store == "memory":
        click.echo("the memory store is built on every command; nothing to do")
        return
    if settings.extra_files and (remove or only_repository):
        click.echo("warning: KG_EXTRA_FILES is set: every later command adds its files to the store again", err=True)
    summary = rebuild(settings, force=force, add=files, remove=remove, only_repository=only_repository)
    manifest = read_manifest(settings.store_path)
    extras = manifest.get("extras", [])
    counts = (
        f"{manifest.get('quads', 0):,} quads in {manifest.get('graphs', 0)} named graphs, "
        f"{len(manifest.get('sources', []))} files ({len(extras)} extra)"
    )
    if summary:
        click.echo(f"built {settings.store_path}: {counts} in {summary.seconds:.1f} s")
    else:
        click.echo(f"up to date: {settings.store_path}: {counts}")


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

    Exit 0: added (or would be, with --dry-run); 1: violations, nothing added; 2: unreadable, empty or unstorable
    input.
    """
    import json

    from kg import progress
    from kg.ingest import ingest_files

    with progress.Stages(f"ingesting {len(files)} file(s)") as stages:
        result = ingest_files(
            settings, list(files), agent=agent, dry_run=dry_run, progress=stages, processes=os.cpu_count() or 1
        )
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
    """Load every named graph of the store (files, extra files, ingests, updates, provenance) into a remote
    SPARQL 1.1 store, replacing those graphs there, with SPARQL Update (DROP SILENT GRAPH, INSERT DATA):
    Virtuoso, Fuseki, GraphDB, or another kg server.

    Exit 0: pushed; 3: the remote store failed; 4: it refused (credentials).
    """
    import dataclasses

    from kg import progress
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
    local = settings if settings.store != "sparql" else dataclasses.replace(settings, store="oxigraph")
    timer = progress.Timer()
    with progress.bar(None, "pushing", unit=" triples", scale=True) as bar:
        counts = run(
            target,
            source=local,
            progress_to=bar.update,
            skipped=lambda graph, why: click.echo(f"not pushed: <{graph}>: {why}", err=True),
        )
    click.echo(
        f"pushed {sum(counts.values()):,} triples in {len(counts)} graphs to "
        f"{target.update_endpoint or target.endpoint} in {timer}"
    )


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "turtle", "json", "jsonld"]), default="text")
@click.pass_obj
def validate(settings: Settings, files: tuple[Path, ...], fmt: str) -> None:
    """Validate the repository's data, or FILES as new case data together with it (Turtle, N-Triples, N-Quads,
    TriG, JSON-LD, RDF/XML; the triples of every graph in a file are checked together).

    Exit 0: conforms (warnings allowed); 1: violations; 2: unreadable or empty input.
    """
    from kg import progress
    from kg.validation import validate as run

    timer = progress.Timer()
    with progress.Stages(f"validating {len(files)} file(s)" if files else "validating the store's data") as stages:
        report = run(settings, list(files) or None, progress=stages, processes=os.cpu_count() or 1)
    click.echo(report.render(fmt), nl=False)
    n_v = len(report.violations)
    click.echo(
        f"validated {len(files) if files else 'the repository'}{' file(s)' if files else ''}: "
        f"{n_v} violation(s), {len(report.findings) - n_v} warning(s) in {timer}",
        err=True,
    )
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
    from kg.guard import route_services

    saved = _query_source(settings, name, expression)
    text, bindings = saved.prepare(_parse_params(params))
    store = open_store(settings)
    try:
        result = store.query(route_services(text, settings.service_map), bindings=bindings)
    finally:
        store.close()
    sys.stdout.buffer.write(results.serialize(result, fmt))
    if result.truncated:
        sys.stdout.buffer.flush()
        click.echo(
            f"warning: this result is incomplete: {result.cut_by or 'it was cut at the row limit'}; "
            "page through it with LIMIT and OFFSET, or export the data (kg export)",
            err=True,
        )


@main.command()
@click.argument(
    "kind", type=click.Choice(["countries", "regions", "sectors", "forms", "measures", "units", "references"])
)
@click.option("--format", "fmt", default="table", type=click.Choice(["table", "csv", "tsv", "json"]))
@click.pass_obj
def terms(settings: Settings, kind: str, fmt: str) -> None:
    """List what the graph holds for new case data to reuse: countries (with their economy type), regions,
    sectors, agreement forms, measures, units or references."""
    from kg.terms import listing

    store = open_store(settings)
    try:
        result = listing(store, kind)
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
    """Export the whole graph, streamed from the store: ttl/nt as the union, nq/trig/jsonld with named graphs."""
    from kg import dumps, progress

    timer = progress.Timer()
    store = open_store(settings)
    try:
        quads = len(store)
        with progress.bar(None, f"exporting {fmt}", unit="B", scale=True) as bar:
            if output is None:
                sink = _Counting(sys.stdout.buffer, bar.update)
                dumps.write(store, fmt, sink)  # type: ignore[arg-type]
                sys.stdout.buffer.flush()
            else:
                tmp = output.with_name(output.name + ".partial")
                try:
                    with open(tmp, "wb") as fh:
                        sink = _Counting(fh, bar.update)
                        dumps.write(store, fmt, sink)  # type: ignore[arg-type]
                    tmp.replace(output)
                finally:
                    tmp.unlink(missing_ok=True)
    finally:
        store.close()
    where = "standard output" if output is None else str(output)
    click.echo(f"exported {quads:,} quads as {fmt} to {where} ({sink.size:,} bytes) in {timer}", err=True)


class _Counting:
    """A binary sink that passes writes on and reports their size."""

    def __init__(self, out: object, report: object) -> None:
        self._out = out
        self._report = report
        self.size = 0

    def write(self, data: bytes) -> int:
        self._out.write(data)  # type: ignore[attr-defined]
        self.size += len(data)
        self._report(len(data))  # type: ignore[operator]
        return len(data)

    def flush(self) -> None:
        self._out.flush()  # type: ignore[attr-defined]


@main.command("stats")
@click.pass_obj
def stats_cmd(settings: Settings) -> None:
    """Print the graph's statistics and the extra files the store holds."""
    from kg.build import extra_files_held

    store = open_store(settings)
    try:
        computed = stats.compute(store)
    finally:
        store.close()
    computed.extras = extra_files_held(settings)
    click.echo(computed.render(), nl=False)


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
@click.option(
    "--extra",
    "extra",
    multiple=True,
    metavar="[GRAPH=]FILE",
    help="Extra data file to add to the store and serve, as kg build FILE does (repeatable).",
)
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

    from kg.server import serve as run

    if port is None and os.environ.get("PORT") and not os.environ.get("KG_PORT"):
        port = int(os.environ["PORT"])
    changes = {
        k: v
        for k, v in {"host": host, "port": port, "query_timeout": query_timeout, "workers": workers}.items()
        if v is not None
    }
    if extra:  # like `kg build FILE`: recorded in the store, kept until `kg build --remove FILE`
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
    """Write synthetic firms, clusters, networks and agreements that conform to the shapes (for benchmarks), in
    their own namespace (https://w3id.org/interfirm/synthetic/SEED/)."""
    from kg import progress
    from kg.generate import generate as run
    from kg.generate import load_vocabulary, parse_count

    target = parse_count(triples)
    vocabulary = load_vocabulary(settings.data_dir)
    timer = progress.Timer()
    with progress.bar(target, "generating", unit=" triples", scale=True) as bar:
        summary = run(output, target, seed, vocabulary, progress=bar.update)
    click.echo(
        f"wrote {summary.triples} triples to {output} ({summary.firms} firms, {summary.agreements} agreements, "
        f"{summary.clusters} clusters, {summary.networks} networks, {summary.cases} cases; seed {seed}) in {timer}"
    )


@main.command("release")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write (default dist/ of the repository; replaced).",
)
@click.pass_obj
def release_cmd(settings: Settings, output: Path | None) -> None:
    """Write a citable release: the ontology (Turtle, RDF/XML, JSON-LD), the data and the inferences as separate
    files (N-Quads, TriG, Turtle), VoID and DCAT with checksums, the ontology's HTML documentation with a class
    diagram (Graphviz), and CITATION.cff. The version follows the rule in CHANGELOG.md.

    Exit 0: written; 2: the versions disagree (CHANGELOG.md, ontology, package); 3: Graphviz missing or failed.
    """
    from kg.release import release

    done = release(settings, output)
    total = sum(f.stat().st_size for f in done.files)
    click.echo(f"release {done.version}: {len(done.files)} files, {total:,} bytes in {done.folder}")


@main.command()
@click.option(
    "--explain",
    "explain_iri",
    default=None,
    metavar="IRI",
    help="Explain every inferred triple about IRI (a full IRI or a prefixed name such as ifd:firm-ibm).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output of --explain.")
@click.pass_obj
def reason(settings: Settings, explain_iri: str | None, fmt: str) -> None:
    """Check with HermiT that the ontology and all data are consistent with no unsatisfiable class; with
    --explain, show for each inferred triple about an IRI the rule, its axioms and the premises that fired it.

    The inferred graph itself is computed by every build (OWL 2 RL rules over HermiT's classification).
    Exit 0: consistent (or explained); 1: inconsistent or an unsatisfiable class; 2: bad input.
    """
    if explain_iri is not None:
        _explain(settings, explain_iri, fmt)
        return
    verdict = reasoning.check(settings)
    if not verdict.consistent:
        click.echo(f"inconsistent: {verdict.explanation}")
    for iri in verdict.unsatisfiable:
        click.echo(f"unsatisfiable class: {iri}")
    if verdict.ok:
        click.echo("consistent; no unsatisfiable class")
    sys.exit(0 if verdict.ok else 1)


def _expand(text: str) -> str:
    """A full IRI, or a prefixed name with one of the project's prefixes expanded."""
    from kg.namespaces import PREFIXES
    from kg.sparqltext import is_absolute_iri

    text = text.strip().removeprefix("<").removesuffix(">")
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    if not is_absolute_iri(text):
        raise InputError(f"not an IRI: {text!r}", hint="give a full IRI or a prefixed name such as ifd:firm-ibm")
    return text


def _explain(settings: Settings, iri_text: str, fmt: str) -> None:
    import json

    from rdflib import URIRef

    from kg import inference

    iri = URIRef(_expand(iri_text))
    store = open_store(settings)
    try:
        explanations = inference.explain(store, iri, inference.cache_dir())
    finally:
        store.close()
    if fmt == "json":

        def as_json(e: inference.Explanation) -> dict:
            return {
                "triple": [str(t) for t in e.triple],
                "rule": None
                if e.rule is None
                else {"id": e.rule.id, "kind": e.rule.kind, "rule": e.rule.render(), "axioms": list(e.rule.axioms)},
                "premises": [
                    {
                        "triple": [str(t) for t in p],
                        "graphs": [str(g) for g in graphs],
                        "explanation": None if sub is None else as_json(sub),
                    }
                    for p, graphs, sub in e.premises
                ],
            }

        click.echo(json.dumps([as_json(e) for e in explanations], indent=2))
        return
    for e in explanations:
        click.echo("\n".join(inference.render_explanation(e)))
    if not explanations:
        click.echo(f"no inferred triple about <{iri}>")
