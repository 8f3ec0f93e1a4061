"""The ingestion journal: every file's result, failures included, per tenant, whether it
came from the admin page, the API or `territoria ingest`, so the document list can show what
failed and why. In `<home>/governance.sqlite3` (migration set "territoria.uploads")."""

from __future__ import annotations

import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from types import TracebackType

from territoria.ingest import FileResult
from territoria.settings import Settings
from territoria.store.migrations import Migrations, run_script
from territoria.store.sqlite import connect, transaction

upload_migrations = Migrations("territoria.uploads")


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


class IngestJournal:
    def __init__(self, settings: Settings) -> None:
        self._conn = connect(settings.home / "governance.sqlite3", upload_migrations)
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> IngestJournal:
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
            FileResult(r[0], "failed", tuple(r[2].split()), r[3], r[4])
            for r in rows
            if r[1] == "failed"
        ]
        return failed[:limit]
