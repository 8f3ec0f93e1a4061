"""The forecast run store on both backends (`replicas`: one SQLite home, or two homes on one
PostgreSQL database as two replicas have)."""

from __future__ import annotations

import sqlite3

import pytest

from territoria.errors import NotFound
from territoria.forecast.storage import StoredRun, open_run_store
from territoria.settings import Settings


def run(run_id: str, tenant: str, created: str) -> StoredRun:
    document = {"inputs": {"files": [{"name": "a.csv"}]}, "series": [{"series_id": "x"}]}
    return StoredRun(run_id, tenant, "agent1", created, "0" * 64, document)


def test_runs_are_kept_per_tenant(replicas: tuple[Settings, Settings]) -> None:
    first, second = replicas
    a, b = open_run_store(first), open_run_store(second)
    try:
        a.save(run("r1", "default", "2026-01-01T00:00:00+00:00"))
        a.save(run("r2", "default", "2026-01-02T00:00:00+00:00"))
        a.save(run("r3", "autre", "2026-01-03T00:00:00+00:00"))
        assert [r.run_id for r in b.list("default")] == ["r2", "r1"]
        assert [r.run_id for r in b.list("default", limit=1)] == ["r2"]
        assert b.get("default", "r1") == run("r1", "default", "2026-01-01T00:00:00+00:00")
        assert b.get("default", "r1").title == "a.csv"
        assert b.get("default", "r1").series_count == 1
        with pytest.raises(NotFound):
            b.get("default", "r3")  # another tenant's run is not disclosed
    finally:
        a.close()
        b.close()


def test_runs_of_an_earlier_version_are_read(settings: Settings) -> None:
    """forecast.sqlite3 files written before the store moved to store/database.py (same
    migration set and step name) open without a migration and keep their runs."""
    from territoria.store.migrations import Migrations

    old = Migrations("territoria.forecast")
    old(_m001_runs_as_before)
    settings.home.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(settings.home / "forecast.sqlite3")
    old.apply(conn)
    conn.execute(
        "INSERT INTO forecast_runs VALUES ('r0', 'default', 'agent1', '2025-12-01', ?, ?)",
        ("0" * 64, '{"series": []}'),
    )
    conn.commit()
    conn.close()
    store = open_run_store(settings)
    try:
        assert store.get("default", "r0").document == {"series": []}
    finally:
        store.close()


def _m001_runs_as_before(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE forecast_runs (run_id TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
        " user TEXT NOT NULL, created_at TEXT NOT NULL, inputs_sha256 TEXT NOT NULL,"
        " document TEXT NOT NULL)"
    )


_m001_runs_as_before.__name__ = "m001_runs"
