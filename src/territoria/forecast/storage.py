"""Where forecast runs are kept: one narrow seam (`RunStore`) on a `Database`
(store/database.py): `<home>/forecast.sqlite3` on the embedded default, the deployment's
PostgreSQL database when `store=postgres`.

A run is the whole report document (`forecast.json` plus the history the charts need), its
owner (tenant, user) and the digest of its inputs; the uploaded files themselves are not kept.

    runs = open_run_store(settings)
    runs.save(run); runs.get("default", run.run_id); runs.list("default")
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Protocol

from territoria.errors import NotFound
from territoria.settings import Settings
from territoria.store.database import Database, Schema, open_database
from territoria.store.migrations import run_script


@dataclass(frozen=True)
class StoredRun:
    run_id: str
    tenant: str
    user: str
    created_at: str  # ISO 8601, UTC
    inputs_sha256: str
    document: dict[str, Any]  # the report document (see `territoria.forecast.report`)

    @property
    def title(self) -> str:
        files = self.document.get("inputs", {}).get("files", [])
        return ", ".join(f["name"] for f in files) or self.run_id

    @property
    def series_count(self) -> int:
        return len(self.document.get("series", []))


class RunStore(Protocol):
    def save(self, run: StoredRun) -> None: ...

    def get(self, tenant: str, run_id: str) -> StoredRun:
        """The run of `tenant` (NotFound otherwise: another tenant's run is not disclosed)."""
        ...

    def list(self, tenant: str, *, limit: int = 20) -> list[StoredRun]:
        """The latest runs of `tenant`, newest first."""
        ...

    def close(self) -> None: ...


run_schema = Schema("territoria.forecast")


@run_schema.sqlite
def m001_runs(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE forecast_runs (
            run_id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            user TEXT NOT NULL,
            created_at TEXT NOT NULL,
            inputs_sha256 TEXT NOT NULL,
            document TEXT NOT NULL
        );
        CREATE INDEX forecast_runs_tenant ON forecast_runs(tenant, created_at)
        """,
    )


@run_schema.postgres
def pg001_runs(conn: Any) -> None:
    conn.execute(
        """
        CREATE TABLE forecast_runs (
            run_id TEXT COLLATE "C" PRIMARY KEY,
            tenant TEXT NOT NULL,
            "user" TEXT NOT NULL,
            created_at TEXT COLLATE "C" NOT NULL,
            inputs_sha256 TEXT NOT NULL,
            document TEXT NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX forecast_runs_tenant ON forecast_runs(tenant, created_at)")


_COLUMNS = 'run_id, tenant, "user", created_at, inputs_sha256, document'


class DatabaseRunStore:
    """Runs in `<home>/forecast.sqlite3` (embedded default) or in the deployment's
    PostgreSQL database (`store=postgres`: a run made through one replica is read through
    any other)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, run: StoredRun) -> None:
        self.db.execute(
            f"INSERT INTO forecast_runs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                run.run_id,
                run.tenant,
                run.user,
                run.created_at,
                run.inputs_sha256,
                json.dumps(run.document, ensure_ascii=False),
            ),
        )

    def get(self, tenant: str, run_id: str) -> StoredRun:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM forecast_runs WHERE run_id = ? AND tenant = ?",
            (run_id, tenant),
        ).fetchone()
        if row is None:
            raise NotFound("Prévision introuvable.")
        return _run(row)

    def list(self, tenant: str, *, limit: int = 20) -> list[StoredRun]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM forecast_runs WHERE tenant = ? "
            "ORDER BY created_at DESC, run_id LIMIT ?",
            (tenant, int(limit)),
        )
        return [_run(tuple(row)) for row in rows]

    def close(self) -> None:
        self.db.close()


def _run(row: tuple[Any, ...]) -> StoredRun:
    run_id, tenant, user, created_at, digest, document = row
    return StoredRun(run_id, tenant, user, created_at, digest, json.loads(document))


def open_run_store(settings: Settings) -> RunStore:
    """The run store of this deployment (SQLite in the home, or PostgreSQL)."""
    return DatabaseRunStore(open_database(settings, run_schema, "forecast.sqlite3"))
