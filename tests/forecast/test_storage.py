from __future__ import annotations

import pytest

from territoria.errors import NotFound
from territoria.forecast.storage import SQLiteRunStore, StoredRun
from territoria.settings import Settings


def run(run_id: str, tenant: str, created: str) -> StoredRun:
    document = {"inputs": {"files": [{"name": "a.csv"}]}, "series": [{"series_id": "x"}]}
    return StoredRun(run_id, tenant, "agent1", created, "0" * 64, document)


def test_runs_are_kept_per_tenant(settings: Settings) -> None:
    store = SQLiteRunStore(settings)
    try:
        store.save(run("r1", "default", "2026-01-01T00:00:00+00:00"))
        store.save(run("r2", "default", "2026-01-02T00:00:00+00:00"))
        store.save(run("r3", "autre", "2026-01-03T00:00:00+00:00"))
        assert [r.run_id for r in store.list("default")] == ["r2", "r1"]
        assert store.get("default", "r1").title == "a.csv"
        assert store.get("default", "r1").series_count == 1
        with pytest.raises(NotFound):
            store.get("default", "r3")  # another tenant's run is not disclosed
    finally:
        store.close()
