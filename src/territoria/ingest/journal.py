"""The ingestion journal: every file's result, failures included, per tenant, whether it
came from the admin page, the API or `territoria ingest`, so the document list can show what
failed and why. In the governance database (`<home>/governance.sqlite3`, or PostgreSQL when
`store=postgres`; migration set "territoria.uploads")."""

from __future__ import annotations

import secrets
import sqlite3
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from territoria.ingest import FileResult
from territoria.settings import Settings
from territoria.store.database import Schema, open_database
from territoria.store.migrations import run_script

upload_schema = Schema("territoria.uploads")


@upload_schema.sqlite
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


@upload_schema.postgres
def pg001_uploads(conn: Any) -> None:
    conn.execute(
        """
        CREATE TABLE uploads (
            upload_id TEXT COLLATE "C" PRIMARY KEY,
            time TEXT NOT NULL,
            tenant TEXT NOT NULL,
            "user" TEXT NOT NULL,
            file_name TEXT NOT NULL,
            status TEXT NOT NULL,
            doc_ids TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT ''
        )
        """
    )
    conn.execute("CREATE INDEX uploads_time ON uploads(time)")
    conn.execute("CREATE INDEX uploads_tenant_file ON uploads(tenant, file_name, time)")


class IngestJournal:
    def __init__(self, settings: Settings) -> None:
        self._db = open_database(settings, upload_schema, "governance.sqlite3")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> IngestJournal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def add(self, result: FileResult, *, tenant: str, user: str) -> None:
        self._db.execute(
            'INSERT INTO uploads (upload_id, time, tenant, "user", file_name, status, doc_ids,'
            " reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                secrets.token_hex(8),
                # microseconds: the latest result of a file is the last written one
                datetime.now(UTC).isoformat(timespec="microseconds"),
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
        # The latest row of each file name.
        rows = self._db.execute(
            "SELECT file_name, status, doc_ids, reason, time FROM ("
            " SELECT file_name, status, doc_ids, reason, time, ROW_NUMBER() OVER ("
            "  PARTITION BY file_name ORDER BY time DESC, upload_id DESC) AS latest"
            " FROM uploads WHERE tenant = ?) AS files"
            " WHERE latest = 1 ORDER BY time DESC, file_name",
            (tenant,),
        ).fetchall()
        failed = [
            FileResult(r[0], "failed", tuple(r[2].split()), r[3], r[4])
            for r in rows
            if r[1] == "failed"
        ]
        return failed[:limit]
