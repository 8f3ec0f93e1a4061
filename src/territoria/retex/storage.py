"""Where the RETEX commons keeps its state: the fiches (this instance's, whole; other
instances', public part only, with their signed entry), the trusted keys and the followed
feeds. `RetexStore` is the narrow seam; `SQLiteRetexStore` (`<home>/retex.sqlite3`) is the
embedded backend.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from territoria.store.migrations import Migrations, run_script
from territoria.store.sqlite import connect, transaction

Origin = Literal["local", "remote"]


@dataclass(frozen=True)
class StoredFiche:
    """One fiche as kept. `body` is the whole fiche for a local one, the public part for a
    remote one (None once withdrawn); `entry` is the signed feed entry (None for a local
    draft). `key` is the public key of the instance that signs it; `instance` and `url`
    say where it comes from."""

    id: str
    origin: Origin
    key: str
    instance: str
    updated: str
    content_hash: str
    body: dict[str, Any] | None
    entry: dict[str, Any] | None = None
    tenant: str = "default"
    url: str = ""
    supersedes: str | None = None
    withdrawn: bool = False
    published: bool = True
    received_at: str = ""


@dataclass(frozen=True)
class Follow:
    url: str
    key: str
    name: str
    last_pull: str = ""
    last_result: dict[str, Any] = field(default_factory=dict)


class RetexStore(Protocol):
    def close(self) -> None: ...

    def get(self, fiche_id: str) -> StoredFiche | None: ...

    def put_many(self, fiches: Sequence[StoredFiche]) -> None:
        """Insert or replace fiches, all in one transaction."""
        ...

    def iter(self, *, origin: Origin | None = None) -> Iterator[StoredFiche]:
        """Every fiche (withdrawn ones included), in a stable order."""
        ...

    def generation(self) -> int:
        """A counter bumped by every write of fiches."""
        ...

    def trusted(self) -> dict[str, str]:
        """Trusted public key -> the name given to it."""
        ...

    def trust(self, key: str, name: str) -> None: ...

    def untrust(self, key: str) -> bool: ...

    def follows(self) -> list[Follow]: ...

    def follow(self, item: Follow) -> None:
        """Add or replace the follow of `item.url`."""
        ...

    def unfollow(self, url: str) -> bool: ...


retex_migrations = Migrations("territoria.retex")


@retex_migrations
def m001_retex(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE fiches (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            origin TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
            key TEXT NOT NULL,
            instance TEXT NOT NULL,
            url TEXT NOT NULL DEFAULT '',
            tenant TEXT NOT NULL DEFAULT 'default',
            updated TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            supersedes TEXT,
            withdrawn INTEGER NOT NULL DEFAULT 0,
            published INTEGER NOT NULL DEFAULT 1,
            body TEXT,
            entry TEXT,
            received_at TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE trusted_keys (
            key TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            added_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
        );
        CREATE TABLE follows (
            url TEXT PRIMARY KEY,
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            last_pull TEXT NOT NULL DEFAULT '',
            last_result TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('generation', '0')
        """,
    )


_COLUMNS = (
    "id, origin, key, instance, url, tenant, updated, content_hash, supersedes, withdrawn,"
    " published, body, entry, received_at"
)


def _dump(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _row(f: StoredFiche) -> tuple[Any, ...]:
    return (
        f.id, f.origin, f.key, f.instance, f.url, f.tenant, f.updated, f.content_hash,
        f.supersedes, int(f.withdrawn), int(f.published), _dump(f.body), _dump(f.entry),
        f.received_at,
    )  # fmt: skip


def _fiche(row: Sequence[Any]) -> StoredFiche:
    return StoredFiche(
        id=row[0],
        origin=row[1],
        key=row[2],
        instance=row[3],
        url=row[4],
        tenant=row[5],
        updated=row[6],
        content_hash=row[7],
        supersedes=row[8],
        withdrawn=bool(row[9]),
        published=bool(row[10]),
        body=json.loads(row[11]) if row[11] is not None else None,
        entry=json.loads(row[12]) if row[12] is not None else None,
        received_at=row[13],
    )


class SQLiteRetexStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path, retex_migrations)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._conn.close()

    def get(self, fiche_id: str) -> StoredFiche | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM fiches WHERE id = ?", (fiche_id,)
            ).fetchone()
        return _fiche(row) if row else None

    def put_many(self, fiches: Sequence[StoredFiche]) -> None:
        if not fiches:
            return
        marks = ", ".join("?" * len(_COLUMNS.split(",")))
        with self._lock, transaction(self._conn) as conn:
            conn.executemany(
                f"INSERT INTO fiches ({_COLUMNS}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET "
                + ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _COLUMNS.split(",")[1:]),
                [_row(f) for f in fiches],
            )
            conn.execute(
                "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
            )

    def iter(self, *, origin: Origin | None = None) -> Iterator[StoredFiche]:
        where, params = ("WHERE origin = ?", (origin,)) if origin else ("", ())
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM fiches {where} ORDER BY seq", params
            ).fetchall()
        for row in rows:
            yield _fiche(row)

    def generation(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0])

    def trusted(self) -> dict[str, str]:
        with self._lock:
            rows = self._conn.execute("SELECT key, name FROM trusted_keys ORDER BY name").fetchall()
        return dict(rows)

    def trust(self, key: str, name: str) -> None:
        with self._lock, transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO trusted_keys (key, name) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET name = excluded.name",
                (key, name),
            )

    def untrust(self, key: str) -> bool:
        with self._lock, transaction(self._conn) as conn:
            return conn.execute("DELETE FROM trusted_keys WHERE key = ?", (key,)).rowcount > 0

    def follows(self) -> list[Follow]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT url, key, name, last_pull, last_result FROM follows ORDER BY url"
            ).fetchall()
        return [Follow(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def follow(self, item: Follow) -> None:
        with self._lock, transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO follows (url, key, name, last_pull, last_result)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET key = excluded.key,"
                " name = excluded.name, last_pull = excluded.last_pull,"
                " last_result = excluded.last_result",
                (item.url, item.key, item.name, item.last_pull, json.dumps(item.last_result)),
            )

    def unfollow(self, url: str) -> bool:
        with self._lock, transaction(self._conn) as conn:
            return conn.execute("DELETE FROM follows WHERE url = ?", (url,)).rowcount > 0


def open_retex_store(home: Path) -> RetexStore:
    return SQLiteRetexStore(home / "retex.sqlite3")
