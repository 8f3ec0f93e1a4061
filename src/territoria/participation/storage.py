"""Where the syntheses made on the participation page are kept: one narrow seam
(`ReportStore`) on a `Database` (store/database.py), `<home>/participation.sqlite3` on the
embedded default, the deployment's PostgreSQL database when `store=postgres`, so that a
synthesis made through one replica is read through any other.

A stored report is what `analyze` wrote (`report.json`, `report.html`, both pseudonymised:
the raw uploads are never kept) with its owner (tenant, user). Only its tenant reads it.

Syntheses made by earlier versions were folders `<home>/participation/<id>/` (`owner.json`,
`report.json`, `report.html`); `import_folders` moves them into the store.

    reports = open_report_store(settings)
    reports.save(StoredReport(...)); reports.get("default", report_id)
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from territoria.errors import NotFound
from territoria.settings import Settings
from territoria.store.database import Database, Schema, open_database
from territoria.store.migrations import run_script


@dataclass(frozen=True)
class StoredReport:
    report_id: str
    tenant: str
    user: str
    created_at: str  # ISO 8601, UTC
    data: str  # report.json
    html: str  # report.html


class ReportStore(Protocol):
    def save(self, report: StoredReport) -> None: ...

    def get(self, tenant: str, report_id: str) -> StoredReport:
        """The report of `tenant` (NotFound otherwise: another tenant's is not disclosed)."""
        ...

    def recent(self, tenant: str, *, limit: int = 20) -> list[tuple[str, str, str]]:
        """(report id, created at, user) of the latest reports of `tenant`, newest first."""
        ...

    def close(self) -> None: ...


report_schema = Schema("territoria.participation")


@report_schema.sqlite
def m001_reports(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE participation_reports (
            report_id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            user_name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            data TEXT NOT NULL,
            html TEXT NOT NULL
        );
        CREATE INDEX participation_reports_tenant ON participation_reports(tenant, created_at)
        """,
    )


@report_schema.postgres
def pg001_reports(conn: Any) -> None:
    conn.execute(
        """
        CREATE TABLE participation_reports (
            report_id TEXT COLLATE "C" PRIMARY KEY,
            tenant TEXT NOT NULL,
            user_name TEXT NOT NULL,
            created_at TEXT COLLATE "C" NOT NULL,
            data TEXT NOT NULL,
            html TEXT NOT NULL
        )
        """
    )
    conn.execute(
        "CREATE INDEX participation_reports_tenant ON participation_reports(tenant, created_at)"
    )


_COLUMNS = "report_id, tenant, user_name, created_at, data, html"


class DatabaseReportStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, report: StoredReport) -> None:
        self.db.execute(
            f"INSERT INTO participation_reports ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                report.report_id,
                report.tenant,
                report.user,
                report.created_at,
                report.data,
                report.html,
            ),
        )

    def get(self, tenant: str, report_id: str) -> StoredReport:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM participation_reports WHERE report_id = ? AND tenant = ?",
            (report_id, tenant),
        ).fetchone()
        if row is None:
            raise NotFound("Synthèse introuvable.")
        return StoredReport(*row)

    def recent(self, tenant: str, *, limit: int = 20) -> list[tuple[str, str, str]]:
        rows = self.db.execute(
            "SELECT report_id, created_at, user_name FROM participation_reports"
            " WHERE tenant = ? ORDER BY created_at DESC, report_id LIMIT ?",
            (tenant, int(limit)),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def close(self) -> None:
        self.db.close()


def open_report_store(settings: Settings) -> ReportStore:
    """The report store of this deployment (SQLite in the home, or PostgreSQL)."""
    return DatabaseReportStore(open_database(settings, report_schema, "participation.sqlite3"))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def import_folders(store: ReportStore, root: Path) -> int:
    """Move the finished syntheses of earlier versions (folders holding `owner.json` and both
    reports) from `root` into `store`, then delete them; return how many."""
    moved = 0
    if not root.is_dir():
        return 0
    for folder in sorted(root.iterdir()):
        try:
            owner = json.loads((folder / "owner.json").read_text(encoding="utf-8"))
            data = (folder / "report.json").read_text(encoding="utf-8")
            html = (folder / "report.html").read_text(encoding="utf-8")
            created = datetime.fromtimestamp((folder / "owner.json").stat().st_mtime, UTC)
        except (OSError, ValueError):
            continue  # not a finished synthesis (or one being written): left as it is
        if not isinstance(owner, dict) or not isinstance(owner.get("tenant"), str):
            continue
        when = created.isoformat(timespec="seconds").replace("+00:00", "Z")
        try:
            store.get(owner["tenant"], folder.name)
        except NotFound:
            user = str(owner.get("user") or "")
            store.save(StoredReport(folder.name, owner["tenant"], user, when, data, html))
        shutil.rmtree(folder, ignore_errors=True)
        moved += 1
    return moved
