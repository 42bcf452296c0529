"""A clone stands alone: no file of the project refers to anything outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# a path that climbs out of the repository, or names a folder of the machine the project was written on; the
# folder names are assembled here so that this file, read by the same check elsewhere, names no such path itself
_SHARED, _WORK, _UP = "sha" + "red", "wo" + "rk", r"\.\."
OUTSIDE = re.compile(
    rf"{_UP}/{_SHARED}|(?<![\w.])/{_SHARED}/|/{_WORK}/|\bROOT\.parent\b|parent\s*/\s*\"{_SHARED}\""
    rf"|{_UP}[/\\]{_UP}[/\\]"
)
SKIP_SUFFIXES = {".png", ".jpg", ".gz", ".zip", ".ico", ".woff", ".woff2"}


def _project_files() -> list[Path]:
    """The files a clone holds (git's index), or every file outside build folders when this is no checkout."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", ".kg", "__pycache__", ".pytest_cache", ".ruff_cache", "dist"}
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]
    return [ROOT / n for n in names if (ROOT / n).is_file()]


def test_no_file_refers_outside_the_repository() -> None:
    this = Path(__file__).resolve()
    found = []
    for path in _project_files():
        if path.suffix in SKIP_SUFFIXES or path.name.endswith(".min.js") or path.resolve() == this:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not found, "files refer to paths outside the repository:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "path",
    [
        "sources/unctad-ite-eds-2.txt",
        "sources/README.md",
        "tests/w3c/manifest.ttl",
        "tests/w3c/LICENSE.md",
        "LICENSE",
        "LICENSE-DATA",
    ],
)
def test_what_the_tests_and_users_need_is_in_the_repository(path: str) -> None:
    assert (ROOT / path).is_file(), f"{path} is missing from the repository"


def test_the_paper_is_the_one_the_graph_cites() -> None:
    text = (ROOT / "sources" / "unctad-ite-eds-2.txt").read_text(encoding="utf-8")
    assert "UNCTAD/ITE/EDS/2" in text and "6 October 1997" in text
    assert "Table 2" in text and "(k) What types of technical cooperation" in text
