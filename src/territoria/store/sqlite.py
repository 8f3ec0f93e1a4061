"""SQLite: the embedded default store (one file, WAL, one transaction per document)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from territoria.errors import StoreError
from territoria.store import (
    DOCUMENT_COLUMNS,
    PASSAGE_COLUMNS,
    PASSAGES_JOIN,
    StoredDocument,
    document_row,
    passage_from_row,
)
from territoria.store.database import connect_sqlite, sqlite_transaction
from territoria.store.migrations import Migrations, run_script
from territoria.types import Passage

# The connection helpers every SQLite file of a home uses (kept here under their old names).
connect = connect_sqlite
transaction = sqlite_transaction

sqlite_migrations = Migrations("territoria.sqlite")


@sqlite_migrations
def m001_documents_passages(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE documents (
            doc_id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            source TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            collection TEXT NOT NULL DEFAULT 'default',
            visibility TEXT NOT NULL DEFAULT 'public'
                CHECK (visibility IN ('public', 'internal')),
            tenant TEXT NOT NULL DEFAULT 'default',
            format TEXT NOT NULL DEFAULT '',
            pages INTEGER,
            n_passages INTEGER NOT NULL DEFAULT 0,
            ingested_at TEXT NOT NULL
        );
        CREATE TABLE passages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            passage_id TEXT NOT NULL UNIQUE,
            doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            text TEXT NOT NULL,
            headings TEXT NOT NULL DEFAULT '[]',
            page INTEGER,
            start INTEGER NOT NULL DEFAULT 0,
            "end" INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX passages_doc ON passages(doc_id);
        CREATE TABLE vectors (
            model TEXT NOT NULL,
            key TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (model, key)
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('generation', '0');
        """,
    )


@sqlite_migrations
def m002_passage_flags(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        ALTER TABLE passages ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE passages ADD COLUMN approved INTEGER NOT NULL DEFAULT 0
        """,
    )


@sqlite_migrations
def m003_tenant_scoped_ids(conn: sqlite3.Connection) -> None:
    """Documents keyed by (tenant, doc_id), passages by (tenant, passage_id); the original
    file is named by its hash, never by a path (`source` becomes metadata only)."""
    run_script(
        conn,
        """
        CREATE TABLE documents_v3 (
            tenant TEXT NOT NULL,
            doc_id TEXT NOT NULL,
            title TEXT NOT NULL,
            source TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            collection TEXT NOT NULL DEFAULT 'default',
            visibility TEXT NOT NULL DEFAULT 'public'
                CHECK (visibility IN ('public', 'internal')),
            format TEXT NOT NULL DEFAULT '',
            pages INTEGER,
            n_passages INTEGER NOT NULL DEFAULT 0,
            ingested_at TEXT NOT NULL,
            original TEXT NOT NULL DEFAULT '',
            file_name TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (tenant, doc_id)
        );
        INSERT INTO documents_v3 (tenant, doc_id, title, source, content_hash, collection,
            visibility, format, pages, n_passages, ingested_at)
            SELECT tenant, doc_id, title, source, content_hash, collection, visibility, format,
                pages, n_passages, ingested_at FROM documents;
        CREATE TABLE passages_v3 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL,
            passage_id TEXT NOT NULL,
            doc_id TEXT NOT NULL,
            ord INTEGER NOT NULL,
            text TEXT NOT NULL,
            headings TEXT NOT NULL DEFAULT '[]',
            page INTEGER,
            start INTEGER NOT NULL DEFAULT 0,
            "end" INTEGER NOT NULL DEFAULT 0,
            flags TEXT NOT NULL DEFAULT '[]',
            approved INTEGER NOT NULL DEFAULT 0,
            UNIQUE (tenant, passage_id),
            FOREIGN KEY (tenant, doc_id) REFERENCES documents_v3(tenant, doc_id)
                ON DELETE CASCADE
        );
        INSERT INTO passages_v3 (seq, tenant, passage_id, doc_id, ord, text, headings, page,
            start, "end", flags, approved)
            SELECT p.seq, d.tenant, p.passage_id, p.doc_id, p.ord, p.text, p.headings, p.page,
                p.start, p."end", p.flags, p.approved
            FROM passages p JOIN documents d USING (doc_id);
        DROP TABLE passages;
        DROP TABLE documents;
        ALTER TABLE documents_v3 RENAME TO documents;
        ALTER TABLE passages_v3 RENAME TO passages;
        CREATE INDEX passages_doc ON passages(tenant, doc_id)
        """,
    )


def _passage(row: Sequence[Any]) -> Passage:
    return passage_from_row(row, json.loads)


def _tenant_clause(tenant: str | None, column: str) -> tuple[str, list[str]]:
    return ("", []) if tenant is None else (f" WHERE {column} = ?", [tenant])


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = connect(path, sqlite_migrations)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _bump(self) -> None:
        self._conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
        )

    def get_document(self, doc_id: str, *, tenant: str) -> StoredDocument | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE tenant = ? AND doc_id = ?",
                (tenant, doc_id),
            ).fetchone()
        return StoredDocument(*row) if row else None

    def list_documents(self, *, tenant: str | None = None) -> list[StoredDocument]:
        where, params = _tenant_clause(tenant, "tenant")
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {DOCUMENT_COLUMNS} FROM documents{where} ORDER BY tenant, doc_id",
                params,
            ).fetchall()
        return [StoredDocument(*row) for row in rows]

    def put_document(self, doc: StoredDocument, passages: Sequence[Passage]) -> None:
        now = doc.ingested_at or datetime.now(UTC).isoformat(timespec="seconds")
        marks = ", ".join("?" * len(DOCUMENT_COLUMNS.split(",")))
        with self._lock:
            try:
                with transaction(self._conn):
                    self._conn.execute(
                        "DELETE FROM documents WHERE tenant = ? AND doc_id = ?",
                        (doc.tenant, doc.doc_id),
                    )
                    self._conn.execute(
                        f"INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ({marks})",
                        document_row(doc, len(passages), now),
                    )
                    self._conn.executemany(
                        "INSERT INTO passages (tenant, passage_id, doc_id, ord, text, headings,"
                        ' page, start, "end", flags, approved)'
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                doc.tenant,
                                p.passage_id,
                                doc.doc_id,
                                i,
                                p.text,
                                json.dumps(list(p.headings), ensure_ascii=False),
                                p.page,
                                p.start,
                                p.end,
                                json.dumps(list(p.flags), ensure_ascii=False),
                                int(p.approved),
                            )
                            for i, p in enumerate(passages)
                        ],
                    )
                    self._bump()
            except sqlite3.Error as exc:
                raise StoreError(f"Écriture du document {doc.doc_id} impossible : {exc}") from exc

    def delete_document(self, doc_id: str, *, tenant: str) -> bool:
        with self._lock, transaction(self._conn):
            cur = self._conn.execute(
                "DELETE FROM documents WHERE tenant = ? AND doc_id = ?", (tenant, doc_id)
            )
            if cur.rowcount:
                self._bump()
            return cur.rowcount > 0

    def approve_passage(self, passage_id: str, *, tenant: str) -> bool:
        with self._lock, transaction(self._conn):
            cur = self._conn.execute(
                "UPDATE passages SET approved = 1"
                " WHERE tenant = ? AND passage_id = ? AND flags != '[]'",
                (tenant, passage_id),
            )
            return cur.rowcount > 0

    def iter_passages(self, *, tenant: str | None = None) -> Iterator[Passage]:
        where, params = _tenant_clause(tenant, "p.tenant")
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {PASSAGE_COLUMNS} FROM {PASSAGES_JOIN}{where} ORDER BY p.seq", params
            ).fetchall()
        return (_passage(row) for row in rows)

    def get_passages(self, passage_ids: Sequence[str], *, tenant: str) -> dict[str, Passage]:
        if not passage_ids:
            return {}
        found: dict[str, Passage] = {}
        with self._lock:
            for i in range(0, len(passage_ids), 500):
                batch = list(passage_ids[i : i + 500])
                marks = ",".join("?" * len(batch))
                rows = self._conn.execute(
                    f"SELECT {PASSAGE_COLUMNS} FROM {PASSAGES_JOIN}"
                    f" WHERE p.tenant = ? AND p.passage_id IN ({marks})",
                    [tenant, *batch],
                ).fetchall()
                found.update((row[0], _passage(row)) for row in rows)
        return found

    def generation(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0])

    def get_vectors(self, model: str, keys: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        wanted = list(keys)
        found: dict[str, npt.NDArray[np.float32]] = {}
        with self._lock:
            for i in range(0, len(wanted), 500):
                batch = wanted[i : i + 500]
                marks = ",".join("?" * len(batch))
                for key, blob in self._conn.execute(
                    f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})",
                    [model, *batch],
                ):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_vectors(self, model: str, vectors: Mapping[str, npt.NDArray[np.float32]]) -> None:
        with self._lock, transaction(self._conn):
            self._conn.executemany(
                "INSERT OR REPLACE INTO vectors (model, key, vector) VALUES (?, ?, ?)",
                [
                    (model, key, np.asarray(vec, dtype=np.float32).tobytes())
                    for key, vec in vectors.items()
                ],
            )

    def vector_models(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT DISTINCT model FROM vectors ORDER BY model")
            return [str(m) for (m,) in rows]

    def vector_keys(self, model: str) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key FROM vectors WHERE model = ? ORDER BY key", (model,)
            )
            return [str(k) for (k,) in rows]
