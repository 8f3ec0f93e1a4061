"""The report store of the participation page on both backends (`replicas`: one SQLite home,
or two homes on one PostgreSQL database as two replicas have)."""

from __future__ import annotations

from pathlib import Path

import pytest

from territoria.errors import NotFound
from territoria.participation.storage import StoredReport, import_folders, open_report_store
from territoria.settings import Settings


def report(
    report_id: str, tenant: str = "ville", when: str = "2025-03-01T10:00:00Z"
) -> StoredReport:
    return StoredReport(report_id, tenant, "alice", when, '{"contributions": 2}', "<p>é</p>")


def test_a_report_saved_through_one_replica_is_read_through_the_other(
    replicas: tuple[Settings, Settings],
) -> None:
    first, second = replicas
    a, b = open_report_store(first), open_report_store(second)
    try:
        a.save(report("aaaa000000000001"))
        a.save(report("aaaa000000000002", when="2025-03-02T10:00:00Z"))
        a.save(report("aaaa000000000003", tenant="autre"))
        assert b.get("ville", "aaaa000000000001") == report("aaaa000000000001")
        with pytest.raises(NotFound):  # another tenant's report is not disclosed
            b.get("ville", "aaaa000000000003")
        with pytest.raises(NotFound):
            b.get("ville", "ffff000000000000")
        assert [r[0] for r in b.recent("ville")] == ["aaaa000000000002", "aaaa000000000001"]
        assert b.recent("ville", limit=1)[0] == (
            "aaaa000000000002",
            "2025-03-02T10:00:00Z",
            "alice",
        )
    finally:
        a.close()
        b.close()


def test_folders_of_earlier_versions_are_moved_in_once(
    replicas: tuple[Settings, Settings], tmp_path: Path
) -> None:
    root = tmp_path / "participation"
    done, unfinished = root / "0123456789abcdef", root / "fedcba9876543210"
    done.mkdir(parents=True)
    (done / "owner.json").write_text('{"tenant": "ville", "user": "bob"}', encoding="utf-8")
    (done / "report.json").write_text("{}", encoding="utf-8")
    (done / "report.html").write_text("<p>x</p>", encoding="utf-8")
    (unfinished / "input").mkdir(parents=True)
    store = open_report_store(replicas[0])
    try:
        assert import_folders(store, root) == 1
        assert not done.exists() and unfinished.exists()
        got = store.get("ville", "0123456789abcdef")
        assert (got.user, got.data, got.html) == ("bob", "{}", "<p>x</p>")
        assert import_folders(store, root) == 0
    finally:
        store.close()
