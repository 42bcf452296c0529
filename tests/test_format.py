"""Turtle files are kept in the canonical layout, and the code is ruff clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from kg import formatting
from kg.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_turtle_files_are_canonical(settings: Settings) -> None:
    bad = formatting.check(formatting.turtle_files(settings))
    assert not bad, f"run `kg fmt`: {[str(p) for p in bad]}"


def test_canonical_layout_is_idempotent(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "x.ttl"
    path.write_text(formatting.canonical(settings.ontology_file), encoding="utf-8")
    assert formatting.check([path]) == []


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a test dependency"
    proc = subprocess.run([ruff, "check", "src", "tests", "tools"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_turtle_files_use_at_prefix(settings: Settings) -> None:
    """The OWL API (Protege, ROBOT, HermiT's command line) cannot read SPARQL-style PREFIX lines in Turtle."""
    files = formatting.turtle_files(settings) + sorted((ROOT / "tests" / "cases").glob("*/*.ttl"))
    sparql_style = [p for p in files if formatting.turtle_prefixes(p.read_text(encoding="utf-8")) != p.read_text()]
    assert not sparql_style, f"write @prefix, not PREFIX (run `kg fmt`): {[str(p) for p in sparql_style]}"
    assert all("@prefix " in p.read_text(encoding="utf-8") for p in formatting.turtle_files(settings))


def test_canonical_layout_writes_at_prefix(tmp_path: Path) -> None:
    path = tmp_path / "x.ttl"
    path.write_text("PREFIX ex: <https://example.org/>\nex:a ex:b ex:c .\n", encoding="utf-8")
    text = formatting.canonical(path)
    assert "@prefix ex: <https://example.org/> ." in text
    assert "PREFIX" not in text
