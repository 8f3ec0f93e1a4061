"""Named migrations, registered with a decorator, each applied once in a transaction and
recorded in `_migrations` (one runner for both backends).

    accounts = Migrations("territoria.governance")

    @accounts
    def m001_users(conn): ...

`Migrations.apply(conn)` takes a SQLite connection (`sqlite3.Connection`) or a PostgreSQL one
(psycopg, in autocommit mode): on PostgreSQL an advisory lock serialises processes that
migrate together, and a failing step leaves nothing behind (DDL is transactional there too).
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable
from typing import Any

Migration = Callable[[Any], None]

_CREATE = (
    "CREATE TABLE IF NOT EXISTS _migrations ("
    " migration_set TEXT, name TEXT, applied_at {time_type} DEFAULT {now},"
    " PRIMARY KEY (migration_set, name))"
)


class Migrations:
    def __init__(self, name: str) -> None:
        self.name = name
        self._lock_key = zlib.crc32(name.encode())
        self._steps: list[tuple[str, Migration]] = []

    def __call__(self, fn: Migration) -> Migration:
        self._steps.append((fn.__name__, fn))
        return fn

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._steps]

    def apply(self, conn: Any) -> list[str]:
        """Apply pending migrations; return the names applied."""
        if isinstance(conn, sqlite3.Connection):
            return self._apply_sqlite(conn)
        return self._apply_postgres(conn)

    def _apply_sqlite(self, conn: sqlite3.Connection) -> list[str]:
        conn.execute(_CREATE.format(time_type="TEXT", now="CURRENT_TIMESTAMP"))
        applied = []
        for name, fn in self._steps:
            # BEGIN IMMEDIATE takes the write lock first: a step another process applied
            # meanwhile is seen as done.
            previous, conn.isolation_level = conn.isolation_level, None
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = conn.execute(
                    "SELECT 1 FROM _migrations WHERE migration_set = ? AND name = ?",
                    (self.name, name),
                ).fetchone()
                if not done:
                    fn(conn)
                    conn.execute(
                        "INSERT INTO _migrations (migration_set, name) VALUES (?, ?)",
                        (self.name, name),
                    )
                    applied.append(name)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                conn.isolation_level = previous
        return applied

    def _apply_postgres(self, conn: Any) -> list[str]:
        """`conn` is a psycopg connection in autocommit mode."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            conn.execute(_CREATE.format(time_type="TIMESTAMPTZ", now="now()"))
        applied = []
        for name, fn in self._steps:
            with conn.transaction():
                # Under the lock, a step another process applied meanwhile is seen as done.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                done = conn.execute(
                    "SELECT 1 FROM _migrations WHERE migration_set = %s AND name = %s",
                    (self.name, name),
                ).fetchone()
                if done:
                    continue
                fn(conn)
                conn.execute(
                    "INSERT INTO _migrations (migration_set, name) VALUES (%s, %s)",
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
