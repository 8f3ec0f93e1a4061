"""Where forecast runs are kept: one narrow seam (`RunStore`) and its SQLite backend.

A run is the whole report document (`forecast.json` plus the history the charts need), its
owner (tenant, user) and the digest of its inputs; the uploaded files themselves are not kept.
Another backend (PostgreSQL) implements the same three methods.

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
from territoria.store.migrations import Migrations, run_script
from territoria.store.sqlite import connect, transaction


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


forecast_migrations = Migrations("territoria.forecast")


@forecast_migrations
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


_COLUMNS = "run_id, tenant, user, created_at, inputs_sha256, document"


class SQLiteRunStore:
    """Runs in `<home>/forecast.sqlite3`."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.home / "forecast.sqlite3"
        self._conn = connect(self.path, forecast_migrations)

    def save(self, run: StoredRun) -> None:
        with transaction(self._conn) as conn:
            conn.execute(
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
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM forecast_runs WHERE run_id = ? AND tenant = ?",
            (run_id, tenant),
        ).fetchone()
        if row is None:
            raise NotFound("Prévision introuvable.")
        return _run(row)

    def list(self, tenant: str, *, limit: int = 20) -> list[StoredRun]:
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM forecast_runs WHERE tenant = ? "
            "ORDER BY created_at DESC, run_id LIMIT ?",
            (tenant, limit),
        ).fetchall()
        return [_run(row) for row in rows]

    def close(self) -> None:
        self._conn.close()


def _run(row: tuple[Any, ...]) -> StoredRun:
    run_id, tenant, user, created_at, digest, document = row
    return StoredRun(run_id, tenant, user, created_at, digest, json.loads(document))


def open_run_store(settings: Settings) -> RunStore:
    """The run store of this deployment (SQLite in the home)."""
    return SQLiteRunStore(settings)
