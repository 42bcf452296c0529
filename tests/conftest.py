"""Shared fixtures: the repository's settings, and a store per backend built from the repository."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.settings import Settings
from kg.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
PAPER = ROOT / "sources" / "unctad-ite-eds-2.txt"
BACKENDS = ["oxigraph", "memory"]


def make_settings(**overrides: object) -> Settings:
    """Settings for the repository, ignoring the caller's KG_* environment; SERVICE is off (no test may need the
    internet) unless a test allows it."""
    overrides.setdefault("allowed_services", ())
    return Settings.from_env(environ={}, root=ROOT, **overrides)


def tmp_settings(tmp: Path, kind: str, **overrides: object) -> Settings:
    """`make_settings` with the store, the ingests and the updates journal under `tmp` (one thread)."""
    return make_settings(
        store=kind,
        store_dir=tmp / "store",
        ingest_dir=tmp / "ingest",
        updates_dir=tmp / "updates",
        threads=1,
        **overrides,
    )


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings(store="memory")


@pytest.fixture(scope="session", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The repository's graph in each backend (behaviour tests run against both)."""
    s = make_settings(store=request.param, store_dir=tmp_path_factory.mktemp(request.param) / "store")
    st = open_store(s)
    yield st
    st.close()


@pytest.fixture(scope="session")
def paper_text() -> str:
    """The source paper (sources/), the ground truth for expected values."""
    if not PAPER.is_file():
        pytest.fail(f"the source paper is missing at {PAPER}; the tests check the data against it")
    return PAPER.read_text(encoding="utf-8")
