"""The storage interface and its backends; everything else reaches data only through `Store`."""

from __future__ import annotations

from kg.settings import Settings
from kg.store.base import QueryResult, Store

__all__ = ["QueryResult", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store the settings name, built from the repository's sources when it is missing or stale."""
    from kg.build import ensure_built

    return ensure_built(settings)
