"""Complete dumps of the store, in five syntaxes, streamed from the store (never through a query's row cap).

`write` streams one syntax to a binary file (`kg export`). For the server, `produce` writes every syntax once
per store generation, gzipped, into `<store>/dumps/` with a `meta.json` of byte sizes and SHA-256 checksums
(of the data and of the gzip file) for VoID and DCAT; `ready` reads them back when they belong to the store
as it is now. N-Triples and Turtle hold the union of the named graphs (the default graph of the endpoint);
N-Quads, TriG and JSON-LD keep the named graphs.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from kg.settings import Settings
from kg.store.base import Store


@dataclass(frozen=True)
class Syntax:
    """One dump syntax: its file extension, media type, and whether it keeps the named graphs."""

    ext: str
    media_type: str
    datasets: bool
    title: str


SYNTAXES: dict[str, Syntax] = {
    s.ext: s
    for s in (
        Syntax("nt", "application/n-triples", False, "N-Triples (the union of the named graphs)"),
        Syntax("nq", "application/n-quads", True, "N-Quads (with the named graphs)"),
        Syntax("ttl", "text/turtle", False, "Turtle (the union of the named graphs)"),
        Syntax("trig", "application/trig", True, "TriG (with the named graphs)"),
        Syntax("jsonld", "application/ld+json", True, "JSON-LD (with the named graphs)"),
    )
}
META = "meta.json"
log = logging.getLogger("kg.dumps")


@dataclass(frozen=True)
class Dump:
    """A dump file: the data's byte size and checksum, and those of its gzip file (`path`)."""

    ext: str
    bytes: int
    sha256: str
    gzip_bytes: int
    gzip_sha256: str
    path: Path

    @property
    def syntax(self) -> Syntax:
        return SYNTAXES[self.ext]


class _Tee:
    """A binary sink that counts and hashes what it is given, and passes it on compressed."""

    def __init__(self, out: BinaryIO) -> None:
        self.size = 0
        self.hash = hashlib.sha256()
        self._gz = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0)

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.hash.update(data)
        self._gz.write(data)
        return len(data)

    def flush(self) -> None:
        self._gz.flush()

    def close(self) -> None:
        self._gz.close()


def write(store: Store, ext: str, out: BinaryIO) -> None:
    """The whole store in syntax `ext` (see SYNTAXES), streamed to `out`."""
    store.write(out, ext)


def folder(settings: Settings) -> Path:
    """Where the server keeps the dumps: beside the database, inside the store folder (a rebuild replaces both)."""
    return settings.store_path / "dumps"


def generation_key(settings: Settings) -> str | None:
    """What identifies the store's content now (None when there is nothing to dump: a remote store)."""
    if settings.store == "sparql":
        return None
    from kg.build import content_fingerprint, current_sources, read_manifest
    from kg.updates import journal

    if settings.store == "oxigraph":
        return str(read_manifest(settings.store_path).get("fingerprint") or "") or None
    sources, _ = current_sources(settings)
    return "memory:" + content_fingerprint(sources, journal(settings), settings.root)


def ready(settings: Settings) -> dict[str, Dump] | None:
    """The dumps of the store as it is now, or None when they are not written (yet)."""
    key = generation_key(settings)
    if key is None:
        return None
    where = folder(settings)
    try:
        meta = json.loads((where / META).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("key") != key:
        return None
    out = {}
    for ext in SYNTAXES:
        d = meta.get("dumps", {}).get(ext)
        path = where / f"interfirm.{ext}.gz"
        if not isinstance(d, dict) or not path.is_file():
            return None
        out[ext] = Dump(ext, int(d["bytes"]), str(d["sha256"]), int(d["gzip_bytes"]), str(d["gzip_sha256"]), path)
    return out


def _lock_path(settings: Settings) -> Path:
    return settings.store_path.parent / f".{settings.store_path.name}.dumps.lock"


def writing(settings: Settings) -> bool:
    """Whether a process is writing the dumps now (it holds the lock)."""
    try:
        with open(_lock_path(settings), "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(lock, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def produce(settings: Settings) -> dict[str, Dump] | None:
    """Write every dump of the current store unless they exist; None when another process is writing them
    (or there is nothing to dump). One writer at a time (a lock file beside the store)."""
    if settings.store == "sparql":
        return None
    settings.store_path.parent.mkdir(parents=True, exist_ok=True)
    with open(_lock_path(settings), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        done = ready(settings)
        if done is not None:
            return done
        from kg.store import open_store

        key = generation_key(settings)
        store = open_store(settings)
        try:
            if generation_key(settings) != key:  # built again meanwhile: the next caller writes those
                return None
            where = folder(settings)
            tmp = where.parent / f".dumps.{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            meta: dict[str, Any] = {"key": key, "quads": len(store), "dumps": {}}
            for ext in SYNTAXES:
                path = tmp / f"interfirm.{ext}.gz"
                with open(path, "wb") as fh:
                    tee = _Tee(fh)
                    if ext in _DERIVED:  # from a dump just written: reading the store is the slow part
                        _convert(tmp / f"interfirm.{_DERIVED[ext]}.gz", _DERIVED[ext], ext, tee)
                    else:
                        store.write(tee, ext)  # type: ignore[arg-type]
                    tee.close()
                meta["dumps"][ext] = {
                    "bytes": tee.size,
                    "sha256": tee.hash.hexdigest(),
                    "gzip_bytes": path.stat().st_size,
                    "gzip_sha256": _sha256(path),
                }
            (tmp / META).write_text(json.dumps(meta, indent=2))
        finally:
            store.close()
        old = where.parent / f".dumps.old.{os.getpid()}"
        if where.exists():
            where.rename(old)
        tmp.rename(where)
        shutil.rmtree(old, ignore_errors=True)
        log.info("wrote the dumps of %s quads to %s", meta["quads"], where)
        return ready(settings)


_DERIVED = {"ttl": "nt", "trig": "nq", "jsonld": "nq"}  # syntax -> the dump it is converted from


def _convert(source: Path, source_ext: str, ext: str, out: _Tee) -> None:
    """Write dump `ext` by reading the gzip dump `source` back (the same triples or quads, labels and order)."""
    import pyoxigraph as ox

    from kg.store.base import dump_format, dump_prefixes

    with gzip.open(source, "rb") as fh:
        ox.serialize(ox.parse(fh, format=dump_format(source_ext)), out, dump_format(ext), prefixes=dump_prefixes(ext))


def produce_quietly(settings: Settings) -> None:
    """`produce` for a background process: a failure is logged, never raised."""
    try:
        produce(settings)
    except Exception as exc:  # a background writer must not die with a traceback; the next request retries
        log.warning("the dumps could not be written: %s: %s", type(exc).__name__, exc)


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
