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
