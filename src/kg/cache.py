"""A disk cache of derived values (compiled shapes, parsed SPARQL) beside the store, keyed by what they derive from.

Parsing SPARQL with rdflib (pyparsing) costs tens of milliseconds per query, and compiling the shapes reads
every SPARQL constraint: most of what a short `kg validate FILE` would spend. Values are pickled into
`<store dir>/../cache/<name>.pickle`; a file that is missing, unreadable or written by another version is
ignored and rewritten, and a cache that cannot be written is simply not kept.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from kg import __version__
from kg.settings import Settings


def folder(settings: Settings) -> Path:
    return settings.store_path.parent / "cache"


def digest(*parts: object) -> str:
    """A key for values derived from `parts` by this code: the package's version and source (a value pickled by
    other code is never read back), and the versions of its libraries."""
    import pyshacl
    import rdflib

    h = hashlib.sha256(f"{__version__}\0{rdflib.__version__}\0{pyshacl.__version__}\0{_source()}".encode())
    for part in parts:
        h.update(b"\0" + (part if isinstance(part, bytes) else repr(part).encode()))
    return h.hexdigest()


_SOURCE: list[str] = []


def _source() -> str:
    """A hash of the package's own modules (what pickled values were made by)."""
    if not _SOURCE:
        h = hashlib.sha256()
        for path in sorted(Path(__file__).parent.rglob("*.py")):
            h.update(path.read_bytes())
        _SOURCE.append(h.hexdigest())
    return _SOURCE[0]


def load(path: Path) -> Any:
    """The value pickled at `path`, or None."""
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # missing, truncated, or pickled by other code: recompute
        return None


def save(path: Path, value: Any) -> None:
    """Pickle `value` to `path` atomically, removing the files of the same kind made by other code (`<kind>-<key>`
    names); silently nothing when that fails."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        kind = path.name.split("-", 1)[0]
        for old in path.parent.glob(f"{kind}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
        with open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except Exception:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
