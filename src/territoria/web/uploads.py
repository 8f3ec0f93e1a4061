"""Documents from the admin page and the API: upload, ingest, delete, re-index.

An uploaded file is streamed to a temporary file under `<home>/uploads/.tmp`, then moved
(atomically) to `<home>/uploads/<tenant>/<name>`, which stays the document's original (the
"original file" link), and ingested with `territoria.ingest.ingest_paths`. Every file's result,
failures included, is written to a journal (`<home>/governance.sqlite3`, migration set
"territoria.uploads"), so the document list can show what failed and why.
"""

from __future__ import annotations

import re
import secrets
import shutil
import sqlite3
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from territoria.errors import InvalidRequest, NotFound
from territoria.ingest import ingest_paths, slugify
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.store import StoredDocument
from territoria.store.migrations import Migrations, run_script
from territoria.store.sqlite import connect, transaction
from territoria.types import Visibility

upload_migrations = Migrations("territoria.uploads")
_CHUNK = 1 << 20
_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@upload_migrations
def m001_uploads(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE uploads (
            upload_id TEXT PRIMARY KEY,
            time TEXT NOT NULL,
            tenant TEXT NOT NULL,
            user TEXT NOT NULL,
            file_name TEXT NOT NULL,
            status TEXT NOT NULL,
            doc_ids TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX uploads_time ON uploads(time)
        """,
    )


@dataclass(frozen=True)
class FileResult:
    """What became of one uploaded file. status: ingested, replaced, unchanged or failed."""

    file_name: str
    status: str
    doc_ids: tuple[str, ...] = ()
    reason: str = ""
    time: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file_name,
            "status": self.status,
            "doc_ids": list(self.doc_ids),
            "reason": self.reason,
        }


class UploadJournal:
    def __init__(self, settings: Settings) -> None:
        self._conn = connect(settings.home / "governance.sqlite3", upload_migrations)
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> UploadJournal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def add(self, result: FileResult, *, tenant: str, user: str) -> None:
        with self._lock, transaction(self._conn):
            self._conn.execute(
                "INSERT INTO uploads (upload_id, time, tenant, user, file_name, status, doc_ids,"
                " reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    secrets.token_hex(8),
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    tenant,
                    user,
                    result.file_name,
                    result.status,
                    " ".join(result.doc_ids),
                    result.reason,
                ),
            )

    def failures(self, *, tenant: str, limit: int = 50) -> list[FileResult]:
        """Latest result per file name, where that result is a failure (newest first)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT file_name, status, doc_ids, reason, MAX(time) FROM uploads"
                " WHERE tenant = ? GROUP BY file_name ORDER BY MAX(time) DESC",
                (tenant,),
            ).fetchall()
        failed = [
            FileResult(r[0], r[1], tuple(r[2].split()), r[3], r[4])
            for r in rows
            if r[1] == "failed"
        ]
        return failed[:limit]


def safe_name(name: str) -> str:
    """A plain file name (no folders, no odd characters), keeping its extension."""
    base = Path(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base).strip().lstrip(".")
    folded = "".join(c for c in unicodedata.normalize("NFKD", base) if not unicodedata.combining(c))
    cleaned = _SAFE.sub("-", folded).strip(" -")
    if not cleaned or not Path(cleaned).stem:
        raise InvalidRequest(f"Nom de fichier invalide : {name!r}.")
    return cleaned[:120]


def upload_dir(settings: Settings, tenant: str) -> Path:
    return settings.home / "uploads" / tenant


def save_upload(settings: Settings, tenant: str, name: str, data: BinaryIO) -> Path:
    """Copy an uploaded stream to a temporary file, then move it into the tenant's folder."""
    target_dir = upload_dir(settings, tenant)
    tmp_dir = settings.home / "uploads" / ".tmp"
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    limit = int(settings.max_file_mb * 1024 * 1024)
    tmp = tmp_dir / f"{secrets.token_hex(8)}-{name}"
    size = 0
    try:
        with tmp.open("wb") as out:
            while chunk := data.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise InvalidRequest(
                        f"Fichier trop volumineux (plus de {settings.max_file_mb:g} Mo)."
                    )
                out.write(chunk)
        target = target_dir / name
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def ingest_upload(
    runtime: Runtime,
    name: str,
    data: BinaryIO,
    *,
    collection: str,
    visibility: Visibility,
    tenant: str,
) -> FileResult:
    """Save and ingest one file (the index is refreshed by the caller, once per batch)."""
    try:
        clean = safe_name(name)
    except InvalidRequest as exc:
        return FileResult(name or "(sans nom)", "failed", reason=exc.message)
    doc_id = slugify(Path(clean).stem)
    existing = runtime.store.get_document(doc_id)
    if existing is not None and existing.tenant != tenant:
        return FileResult(
            clean,
            "failed",
            reason="Un document du même nom appartient à une autre collectivité : "
            "renommez le fichier.",
        )
    try:
        path = save_upload(runtime.settings, tenant, clean, data)
    except InvalidRequest as exc:
        return FileResult(clean, "failed", reason=exc.message)
    report = ingest_paths(
        [path],
        settings=runtime.settings,
        store=runtime.store,
        collection=collection,
        visibility=visibility,
        tenant=tenant,
    )
    if not report.documents:
        reason = "; ".join(r for _, r in report.failed) or "aucun texte à indexer"
        path.unlink(missing_ok=True)
        return FileResult(clean, "failed", reason=reason)
    statuses = {status for _, _, status in report.documents}
    status = "ingested" if "ingested" in statuses else next(iter(sorted(statuses)))
    return FileResult(clean, status, tuple(d for _, d, _ in report.documents))


def tenant_document(runtime: Runtime, doc_id: str, tenant: str) -> StoredDocument:
    doc = runtime.store.get_document(doc_id)
    if doc is None or doc.tenant != tenant:
        raise NotFound("Document introuvable.")
    return doc


def delete_document(runtime: Runtime, doc_id: str, tenant: str) -> None:
    """Delete a document of `tenant`, and its original when it was uploaded here."""
    doc = tenant_document(runtime, doc_id, tenant)
    runtime.store.delete_document(doc_id)
    source = Path(doc.source)
    uploads = (runtime.settings.home / "uploads").resolve()
    if source.is_file() and source.resolve().is_relative_to(uploads):
        source.unlink()


def reindex_document(runtime: Runtime, doc_id: str, tenant: str) -> FileResult:
    """Read a document's original again (a changed file replaces the indexed version)."""
    doc = tenant_document(runtime, doc_id, tenant)
    source = Path(doc.source)
    if not source.is_file():
        raise NotFound("Le fichier d'origine n'est plus disponible : déposez-le à nouveau.")
    report = ingest_paths(
        [source],
        settings=runtime.settings,
        store=runtime.store,
        collection=doc.collection,
        visibility=doc.visibility,
        tenant=doc.tenant,
    )
    if not report.documents:
        reason = "; ".join(r for _, r in report.failed) or "aucun texte à indexer"
        return FileResult(source.name, "failed", reason=reason)
    return FileResult(source.name, report.documents[0][2], tuple(d for _, d, _ in report.documents))


def collections(docs: Sequence[StoredDocument]) -> list[dict[str, object]]:
    counts: dict[str, dict[str, int]] = {}
    for d in docs:
        entry = counts.setdefault(d.collection, {"documents": 0, "passages": 0})
        entry["documents"] += 1
        entry["passages"] += d.n_passages
    return [{"name": name, **counts[name]} for name in sorted(counts)]


def clear_tmp(settings: Settings) -> None:
    """Remove temporary files left by an interrupted upload."""
    shutil.rmtree(settings.home / "uploads" / ".tmp", ignore_errors=True)
