"""Where the RETEX commons keeps its state: the fiches (this instance's, whole; other
instances', public part only, with their signed entry), the trusted keys, the followed
feeds, and (on PostgreSQL) the instance's signing key. `RetexStore` is the narrow seam;
`DatabaseRetexStore` keeps it in a `Database` (store/database.py): `<home>/retex.sqlite3` on
the embedded default, the PostgreSQL database of the deployment when `store=postgres`, where
every replica reads and writes the same fiches and signs with the same key.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from territoria.settings import Settings
from territoria.store.database import Database, Schema, open_database
from territoria.store.migrations import run_script

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

    def signing_key(self, candidate: bytes) -> bytes:
        """The instance's private key kept in the store: `candidate` is kept when none is
        yet (the first replica to ask), and the kept one is returned to every caller."""
        ...


retex_schema = Schema("territoria.retex")


@retex_schema.sqlite
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


@retex_schema.sqlite
def m002_shared_names(conn: sqlite3.Connection) -> None:
    """The tables named as on PostgreSQL, where they share one database with the other
    capabilities; the signing key's table exists on both engines, but the embedded default
    keeps its key in `<home>/retex.key` (mode 0600) and leaves it empty."""
    for table in ("fiches", "trusted_keys", "follows", "meta"):
        conn.execute(f"ALTER TABLE {table} RENAME TO retex_{table}")
    conn.execute("CREATE TABLE retex_signing_key (id INTEGER PRIMARY KEY CHECK (id = 1), pem TEXT)")


@retex_schema.postgres
def pg001_retex(conn: Any) -> None:
    for statement in (
        """CREATE TABLE retex_fiches (
            seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            id TEXT COLLATE "C" NOT NULL UNIQUE,
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
            received_at TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE retex_trusted_keys (
            key TEXT COLLATE "C" PRIMARY KEY,
            name TEXT COLLATE "C" NOT NULL,
            added_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC',
                'YYYY-MM-DD HH24:MI:SS'))""",
        """CREATE TABLE retex_follows (
            url TEXT COLLATE "C" PRIMARY KEY,
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            last_pull TEXT NOT NULL DEFAULT '',
            last_result TEXT NOT NULL DEFAULT '{}')""",
        'CREATE TABLE retex_meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL)',
        "INSERT INTO retex_meta VALUES ('generation', '0')",
        "CREATE TABLE retex_signing_key (id INTEGER PRIMARY KEY CHECK (id = 1), pem TEXT)",
    ):
        conn.execute(statement)


_COLUMNS = (
    "id, origin, key, instance, url, tenant, updated, content_hash, supersedes, withdrawn,"
    " published, body, entry, received_at"
)
_UPSERT = (
    f"INSERT INTO retex_fiches ({_COLUMNS}) VALUES ({', '.join('?' * len(_COLUMNS.split(',')))})"
    " ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _COLUMNS.split(",")[1:])
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


class DatabaseRetexStore:
    """`RetexStore` on a `Database` (SQLite file or PostgreSQL): SQL written once. Writers
    that read before they write take the `retex` lock (an advisory lock on PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def close(self) -> None:
        self.db.close()

    def get(self, fiche_id: str) -> StoredFiche | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM retex_fiches WHERE id = ?", (fiche_id,)
        ).fetchone()
        return _fiche(row) if row else None

    def put_many(self, fiches: Sequence[StoredFiche]) -> None:
        if not fiches:
            return
        with self.db.transaction(lock="retex") as tx:
            tx.executemany(_UPSERT, [_row(f) for f in fiches])
            tx.execute(
                "UPDATE retex_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
                " WHERE key = 'generation'"
            )

    def iter(self, *, origin: Origin | None = None) -> Iterator[StoredFiche]:
        where, params = ("WHERE origin = ?", (origin,)) if origin else ("", ())
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM retex_fiches {where} ORDER BY seq", params)
        for row in rows:
            yield _fiche(row)

    def generation(self) -> int:
        row = self.db.execute("SELECT value FROM retex_meta WHERE key = 'generation'").fetchone()
        return int(row[0])

    def trusted(self) -> dict[str, str]:
        rows = self.db.execute("SELECT key, name FROM retex_trusted_keys ORDER BY name, key").rows
        return dict(rows)

    def trust(self, key: str, name: str) -> None:
        self.db.execute(
            "INSERT INTO retex_trusted_keys (key, name) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET name = excluded.name",
            (key, name),
        )

    def untrust(self, key: str) -> bool:
        return self.db.execute("DELETE FROM retex_trusted_keys WHERE key = ?", (key,)).rowcount > 0

    def follows(self) -> list[Follow]:
        rows = self.db.execute(
            "SELECT url, key, name, last_pull, last_result FROM retex_follows ORDER BY url"
        )
        return [Follow(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def follow(self, item: Follow) -> None:
        self.db.execute(
            "INSERT INTO retex_follows (url, key, name, last_pull, last_result)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET key = excluded.key,"
            " name = excluded.name, last_pull = excluded.last_pull,"
            " last_result = excluded.last_result",
            (item.url, item.key, item.name, item.last_pull, json.dumps(item.last_result)),
        )

    def unfollow(self, url: str) -> bool:
        return self.db.execute("DELETE FROM retex_follows WHERE url = ?", (url,)).rowcount > 0

    def signing_key(self, candidate: bytes) -> bytes:
        with self.db.transaction(lock="retex-key") as tx:
            tx.execute(
                "INSERT INTO retex_signing_key (id, pem) VALUES (1, ?) ON CONFLICT(id) DO NOTHING",
                (candidate.decode("ascii"),),
            )
            (pem,) = tx.execute("SELECT pem FROM retex_signing_key WHERE id = 1").fetchone()
        return str(pem).encode("ascii")


def open_retex_store(settings: Settings) -> RetexStore:
    """The RETEX store of a deployment: `<home>/retex.sqlite3`, or PostgreSQL."""
    return DatabaseRetexStore(open_database(settings, retex_schema, "retex.sqlite3"))
