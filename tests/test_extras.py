"""`kg build FILE` is remembered: extra files are recorded in the store and kept by every later command until the
user drops them (`kg build --remove FILE`, `--only-repository`); a read command never changes the store unless a
source changed, and then says so and why. Run as a user runs them: `kg` as a subprocess."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.live import run_kg

# the data: every graph but the provenance graph (which gains a record per file) and the derived graphs (computed
# from the others: the statistics describe the extra file's graph too)
COUNT = """SELECT (COUNT(*) AS ?n) WHERE {
  GRAPH ?g { ?s ?p ?o }
  FILTER (?g NOT IN (<https://w3id.org/interfirm/graph/meta>, <https://w3id.org/interfirm/graph/inferred>,
                     <https://w3id.org/interfirm/graph/store-statistics>)) }"""


def quads(tmp: Path, **env: str) -> int:
    """The store's asserted data quads (neither provenance nor inferences), as `kg query` counts them (its stderr
    must be empty: nothing was rebuilt)."""
    query = tmp / "count.rq"
    query.write_text(f"#+ summary: quads\n{COUNT}\n", encoding="utf-8")
    proc = run_kg(tmp, "query", str(query), "--format", "csv", env=env)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return int(proc.stdout.split()[-1])


def extras_listed(stats: str) -> list[str]:
    """The extra files `kg stats` lists (the lines under "extra files:" that name a file)."""
    section = stats.split("extra files:", 1)[1].splitlines()[1:]
    return [line.strip() for line in section if line.startswith("  ") and not line.startswith("    ")]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3,000-triple synthetic file, written by `kg generate`."""
    path = tmp_path_factory.mktemp("gen") / "gen.nt"
    proc = run_kg(path.parent, "generate", "-n", "3000", "--seed", "5", "-o", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def test_an_extra_file_is_kept_by_every_later_command(tmp_path: Path, generated: Path) -> None:
    assert run_kg(tmp_path, "build").returncode == 0
    repository = quads(tmp_path)
    built = run_kg(tmp_path, "build", str(generated))
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith(f"built {tmp_path / 'store'}: ") and "(1 extra)" in built.stdout
    assert f"extra file {generated} is new" in built.stderr
    triples = sum(1 for line in generated.read_text().splitlines() if line.strip())
    assert quads(tmp_path) == repository + triples  # the next read command keeps it (it used to drop it)
    stats = run_kg(tmp_path, "stats")
    assert stats.returncode == 0 and stats.stderr == "", stats.stderr  # nothing rebuilt
    assert extras_listed(stats.stdout) == [str(generated)]
    assert re.search(r"graph/extra/gen-[0-9a-f]{16}  " + str(triples), stats.stdout)
    exported = run_kg(tmp_path, "export", "--format", "nq")
    in_graph = re.compile(r"<https://w3id.org/interfirm/graph/extra/gen-[0-9a-f]{16}> \.$")
    assert exported.returncode == 0
    assert sum(bool(in_graph.search(line)) for line in exported.stdout.splitlines()) == triples
    again = run_kg(tmp_path, "build")
    assert again.stdout.startswith("up to date") and "(1 extra)" in again.stdout
    assert quads(tmp_path) == repository + triples


def test_a_changed_extra_file_is_reloaded_and_the_read_command_says_why(tmp_path: Path) -> None:
    notes = tmp_path / "notes.ttl"
    notes.write_text('<https://example.org/n> <https://example.org/says> "one" .\n', encoding="utf-8")
    assert run_kg(tmp_path, "build", f"https://example.org/graph/notes={notes}").returncode == 0
    before = quads(tmp_path)
    notes.write_text(notes.read_text() + '<https://example.org/n> <https://example.org/says> "two" .\n')
    stats = run_kg(tmp_path, "stats")
    assert stats.returncode == 0
    assert f"building the store {tmp_path / 'store'}: extra file {notes} changed" in stats.stderr
    assert "https://example.org/graph/notes  2" in stats.stdout
    assert quads(tmp_path) == before + 1


def test_remove_and_only_repository_drop_extra_files(tmp_path: Path, generated: Path) -> None:
    notes = tmp_path / "notes.nt"
    notes.write_text("<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n")
    assert run_kg(tmp_path, "build").returncode == 0
    repository = quads(tmp_path)
    assert run_kg(tmp_path, "build", str(generated), str(notes)).returncode == 0
    wrong = run_kg(tmp_path, "build", "--remove", str(tmp_path / "other.nt"))
    assert wrong.returncode == 2 and "is not an extra file of this store" in wrong.stderr
    assert str(generated) in wrong.stderr  # the message lists what the store has
    removed = run_kg(tmp_path, "build", "--remove", str(generated))
    assert removed.returncode == 0 and "(1 extra)" in removed.stdout
    assert f"extra file {generated} is no longer included" in removed.stderr
    assert extras_listed(run_kg(tmp_path, "stats").stdout) == [str(notes)]
    assert quads(tmp_path) == repository + 1
    only = run_kg(tmp_path, "build", "--only-repository")
    assert only.returncode == 0 and "(0 extra)" in only.stdout
    assert quads(tmp_path) == repository
    assert extras_listed(run_kg(tmp_path, "stats").stdout) == []


def test_a_gone_extra_file_keeps_its_graphs_even_through_a_rebuild(tmp_path: Path) -> None:
    gone = tmp_path / "gone.nq"
    gone.write_text(
        "<https://example.org/kept> <https://example.org/p> <https://example.org/o> .\n"
        "<https://example.org/kept> <https://example.org/p> <https://example.org/o2> <https://example.org/graph/k> .\n"
    )
    other = tmp_path / "other.nt"
    other.write_text("<https://example.org/x> <https://example.org/p> <https://example.org/o> .\n")
    assert run_kg(tmp_path, "build", str(gone), str(other)).returncode == 0
    total = quads(tmp_path)
    gone.unlink()
    stats = run_kg(tmp_path, "stats")
    assert stats.returncode == 0 and stats.stderr == ""
    assert f"{gone} (the file is gone; its graphs are kept)" in extras_listed(stats.stdout)
    other.write_text(other.read_text() + "<https://example.org/y> <https://example.org/p> <https://example.org/o> .\n")
    rebuilt = run_kg(tmp_path, "stats")  # the other file changed: a rebuild, which keeps the gone file's graphs
    assert f"extra file {other} changed" in rebuilt.stderr
    assert f"{gone} is gone: keeping its graph" in rebuilt.stderr
    assert "    https://example.org/graph/k  1" in rebuilt.stdout
    assert quads(tmp_path) == total + 1
    own = re.search(r"https://w3id.org/interfirm/graph/extra/gone-[0-9a-f]{16}", rebuilt.stdout)
    assert own is not None
    dropped = run_kg(tmp_path, "build", "--remove", own.group(0))  # by its graph IRI
    assert dropped.returncode == 0, dropped.stderr
    assert quads(tmp_path) == total + 1 - 2


def test_kg_extra_files_adds_to_the_record_and_is_kept_without_it(tmp_path: Path, generated: Path) -> None:
    assert run_kg(tmp_path, "build").returncode == 0
    repository = quads(tmp_path)
    stats = run_kg(tmp_path, "stats", env={"KG_EXTRA_FILES": str(generated)})
    assert f"extra file {generated} is new" in stats.stderr
    assert extras_listed(stats.stdout) == [str(generated)]
    assert quads(tmp_path) > repository  # without KG_EXTRA_FILES now: still there
    warned = run_kg(tmp_path, "build", "--only-repository", env={"KG_EXTRA_FILES": str(generated)})
    assert "KG_EXTRA_FILES is set" in warned.stderr


def test_a_missing_or_unreadable_extra_file_is_refused_and_the_store_kept(tmp_path: Path) -> None:
    assert run_kg(tmp_path, "build").returncode == 0
    before = quads(tmp_path)
    missing = run_kg(tmp_path, "build", str(tmp_path / "nope.nt"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    odd = tmp_path / "data.csv"
    odd.write_text("a,b\n")
    refused = run_kg(tmp_path, "build", str(odd))
    assert refused.returncode == 2 and "cannot tell the RDF format" in refused.stderr
    broken = tmp_path / "broken.nq"
    broken.write_text("<https://example.org/a> <https://example.org/b> .\n")
    bad = run_kg(tmp_path, "build", str(broken))
    assert bad.returncode == 2 and str(broken) in bad.stderr and "Traceback" not in bad.stderr
    assert quads(tmp_path) == before
    assert extras_listed(run_kg(tmp_path, "stats").stdout) == []
