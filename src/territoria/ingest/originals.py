"""The originals of ingested files: the bytes the server read, kept under `<home>/originals`.

A document's "original file" link serves only what this module stored: a copy of the file
that was ingested (upload or `territoria ingest`), named by its SHA-256 in a folder the server
owns. No path from a document's metadata (`source`, a JSONL field) is ever opened: the
document row holds the hash, and a hash names a file here or nothing.

Copies are shared (two documents with the same bytes keep one file) and removed with the last
document that names them.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from territoria.errors import StoreError

_HASH = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class Originals:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def keep(self, source: Path) -> str:
        """Copy `source` here (once per content); return its SHA-256."""
        try:
            digest = _sha256(source)
            target = self._path(digest)
            if target.is_file():
                return digest
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".tmp-{secrets.token_hex(8)}")
            try:
                with source.open("rb") as src, tmp.open("wb") as out:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                tmp.replace(target)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Copie du fichier d'origine impossible ({source.name}) : {exc.strerror or exc}"
            ) from exc
        return digest

    def path(self, digest: str) -> Path | None:
        """The stored copy named by `digest`, or None (unknown hash, or not a hash at all)."""
        if not _HASH.match(digest):
            return None
        path = self._path(digest)
        return path if path.is_file() and not path.is_symlink() else None

    def discard(self, digest: str) -> None:
        """Remove a copy no document names any more."""
        path = self.path(digest)
        if path is not None:
            path.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
