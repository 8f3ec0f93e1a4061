"""The governance database: tenants, users, API tokens, web sessions and failed logins
(accounts.py, sessions.py, throttle.py), in `<home>/governance.sqlite3` or in PostgreSQL.

The SQLite migrations are the history of embedded homes (each applied once, in order); a
PostgreSQL database starts from the schema they lead to. Times are ISO 8601 UTC text on both
engines, so the same SQL compares and orders them; names and ids sort by code point
(`COLLATE "C"` on PostgreSQL, as SQLite does).
"""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from territoria.settings import Settings
from territoria.store.database import Database, Schema, open_database
from territoria.store.migrations import run_script


def new_user_id() -> str:
    return secrets.token_hex(16)


governance = Schema("territoria.governance")


@governance.sqlite
def m001_accounts(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE tenants (
            tenant TEXT PRIMARY KEY,
            created_at TEXT NOT NULL
        );
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            tenant TEXT NOT NULL REFERENCES tenants(tenant),
            role TEXT NOT NULL CHECK (role IN ('public', 'agent', 'admin')),
            password_hash TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE tokens (
            token_id TEXT PRIMARY KEY,
            user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
            secret_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT,
            last_used_at TEXT,
            revoked_at TEXT
        );
        CREATE INDEX tokens_user ON tokens(user)
        """,
    )


@governance.sqlite
def m002_user_ids(conn: sqlite3.Connection) -> None:
    """Users get a stable random id; tokens point to it instead of the name."""
    run_script(
        conn,
        """
        CREATE TABLE users_new (
            user_id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            tenant TEXT NOT NULL REFERENCES tenants(tenant),
            role TEXT NOT NULL CHECK (role IN ('public', 'agent', 'admin')),
            password_hash TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE tokens_new (
            token_id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users_new(user_id) ON DELETE CASCADE,
            secret_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT,
            last_used_at TEXT,
            revoked_at TEXT
        )
        """,
    )
    for (name,) in conn.execute("SELECT name FROM users").fetchall():
        conn.execute(
            "INSERT INTO users_new (user_id, name, tenant, role, password_hash, created_at)"
            " SELECT ?, name, tenant, role, password_hash, created_at FROM users WHERE name = ?",
            (new_user_id(), name),
        )
    # Children first: dropping `users` with its tokens still there would cascade to them.
    run_script(
        conn,
        """
        INSERT INTO tokens_new
            SELECT t.token_id, u.user_id, t.secret_hash, t.created_at, t.expires_at,
                   t.last_used_at, t.revoked_at
            FROM tokens t JOIN users_new u ON u.name = t.user;
        DROP TABLE tokens;
        DROP TABLE users;
        ALTER TABLE users_new RENAME TO users;
        ALTER TABLE tokens_new RENAME TO tokens;
        CREATE INDEX tokens_user ON tokens(user_id)
        """,
    )


@governance.sqlite
def m003_sessions(conn: sqlite3.Connection) -> None:
    """Server-side web sessions (sessions.py): the id is stored hashed."""
    run_script(
        conn,
        """
        CREATE TABLE sessions (
            session_hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
            tenant TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE INDEX sessions_user ON sessions(user_id);
        CREATE INDEX sessions_expires ON sessions(expires_at)
        """,
    )


@governance.sqlite
def m004_login_failures(conn: sqlite3.Connection) -> None:
    """Consecutive failed logins per name (known or not) and the lock they caused."""
    run_script(
        conn,
        """
        CREATE TABLE login_failures (
            name TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_failure_at TEXT NOT NULL,
            locked_until TEXT
        );
        CREATE INDEX login_failures_last ON login_failures(last_failure_at)
        """,
    )


@governance.postgres
def pg001_governance(conn: Any) -> None:
    for statement in (
        """
        CREATE TABLE tenants (
            tenant TEXT COLLATE "C" PRIMARY KEY,
            created_at TEXT NOT NULL
        )""",
        """
        CREATE TABLE users (
            user_id TEXT PRIMARY KEY,
            name TEXT COLLATE "C" NOT NULL UNIQUE,
            tenant TEXT COLLATE "C" NOT NULL REFERENCES tenants(tenant),
            role TEXT NOT NULL CHECK (role IN ('public', 'agent', 'admin')),
            password_hash TEXT,
            created_at TEXT NOT NULL
        )""",
        """
        CREATE TABLE tokens (
            token_id TEXT COLLATE "C" PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
            secret_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT,
            last_used_at TEXT,
            revoked_at TEXT
        )""",
        "CREATE INDEX tokens_user ON tokens(user_id)",
        """
        CREATE TABLE sessions (
            session_hash TEXT COLLATE "C" PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
            tenant TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            revoked_at TEXT
        )""",
        "CREATE INDEX sessions_user ON sessions(user_id)",
        "CREATE INDEX sessions_expires ON sessions(expires_at)",
        """
        CREATE TABLE login_failures (
            name TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_failure_at TEXT NOT NULL,
            locked_until TEXT
        )""",
        "CREATE INDEX login_failures_last ON login_failures(last_failure_at)",
    ):
        conn.execute(statement)


def open_governance(settings: Settings) -> Database:
    """The governance database of `settings`."""
    return open_database(settings, governance, "governance.sqlite3")
