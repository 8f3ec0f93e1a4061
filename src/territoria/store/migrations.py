"""Named migrations, registered with a decorator, each applied once in a transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


class Migrations:
    def __init__(self, name: str) -> None:
        self.name = name
        self._steps: list[tuple[str, Migration]] = []

    def __call__(self, fn: Migration) -> Migration:
        self._steps.append((fn.__name__, fn))
        return fn

    def apply(self, conn: sqlite3.Connection) -> list[str]:
        """Apply pending migrations; return the names applied."""
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations ("
            " migration_set TEXT, name TEXT, applied_at TEXT DEFAULT CURRENT_TIMESTAMP,"
            " PRIMARY KEY (migration_set, name))"
        )
        done = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM _migrations WHERE migration_set = ?", (self.name,)
            )
        }
        applied = []
        for name, fn in self._steps:
            if name in done:
                continue
            with conn:
                fn(conn)
                conn.execute(
                    "INSERT INTO _migrations (migration_set, name) VALUES (?, ?)",
                    (self.name, name),
                )
            applied.append(name)
        return applied


def run_script(conn: sqlite3.Connection, sql: str) -> None:
    """Run `;`-separated statements inside the caller's transaction (unlike `executescript`,
    which commits first)."""
    for statement in sql.split(";"):
        if statement.strip():
            conn.execute(statement)


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
