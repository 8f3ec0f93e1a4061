"""Feedback on answers: useful / not useful, with an optional reason.

Stored in the governance database (`<home>/governance.sqlite3`, or PostgreSQL when
`store=postgres`; migration set "territoria.feedback"), one row per vote,
tied to the audit record of the answer (`request_id`). The reason is free text typed by a
citizen, so it is pseudonymised (`territoria.guard.pii`) before it is written: the raw text
never reaches the disk. When pseudonymisation is unavailable (the `pii` extra is not
installed), the reason is withheld rather than stored in clear.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from territoria.audit import Pseudonymizer
from territoria.errors import ConfigError, InvalidRequest
from territoria.settings import Settings
from territoria.store.database import Schema, open_database
from territoria.store.migrations import run_script

REASON_WITHHELD = "[motif non conservé : pseudonymisation indisponible]"
MAX_REASON_CHARS = 1000

feedback_schema = Schema("territoria.feedback")


@feedback_schema.sqlite
def m001_feedback(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE feedback (
            feedback_id TEXT PRIMARY KEY,
            time TEXT NOT NULL,
            tenant TEXT NOT NULL,
            request_id TEXT NOT NULL,
            useful INTEGER NOT NULL CHECK (useful IN (0, 1)),
            reason TEXT
        );
        CREATE INDEX feedback_time ON feedback(time);
        CREATE INDEX feedback_request ON feedback(request_id)
        """,
    )


@feedback_schema.postgres
def pg001_feedback(conn: Any) -> None:
    conn.execute(
        """
        CREATE TABLE feedback (
            feedback_id TEXT COLLATE "C" PRIMARY KEY,
            time TEXT NOT NULL,
            tenant TEXT NOT NULL,
            request_id TEXT NOT NULL,
            useful INTEGER NOT NULL CHECK (useful IN (0, 1)),
            reason TEXT
        )
        """
    )
    conn.execute("CREATE INDEX feedback_time ON feedback(time)")
    conn.execute("CREATE INDEX feedback_request ON feedback(request_id)")


@dataclass(frozen=True)
class Feedback:
    feedback_id: str
    time: str
    tenant: str
    request_id: str
    useful: bool
    reason: str | None  # pseudonymised, or REASON_WITHHELD


class FeedbackStore:
    """Votes on answers of one home. Thread-safe; close it (or use `with`)."""

    def __init__(self, settings: Settings, *, pii: Pseudonymizer | None = None) -> None:
        self.settings = settings
        self.path = settings.home / "governance.sqlite3"
        self._pii = pii
        self._db = open_database(settings, feedback_schema, "governance.sqlite3")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def pseudonymize(self, text: str, tenant: str) -> str:
        if self._pii is None:
            from territoria.guard.pii import PIIGuard

            self._pii = PIIGuard(self.settings)
        try:
            return self._pii.pseudonymize(text, tenant=tenant).text
        except (ConfigError, ImportError):  # the `pii` extra is not installed
            return REASON_WITHHELD

    def add(
        self, request_id: str, *, useful: bool, reason: str = "", tenant: str = "default"
    ) -> Feedback:
        """Record one vote on the answer logged as `request_id`; return it as stored."""
        request_id = request_id.strip()
        if not request_id:
            raise InvalidRequest("Identifiant de réponse manquant.")
        reason = " ".join(reason.split())
        if len(reason) > MAX_REASON_CHARS:
            raise InvalidRequest(
                f"Le motif est trop long ({len(reason)} caractères, {MAX_REASON_CHARS} au plus)."
            )
        stored = self.pseudonymize(reason, tenant) if reason else None
        item = Feedback(
            feedback_id=secrets.token_hex(8),
            time=datetime.now(UTC).isoformat(timespec="seconds"),
            tenant=tenant,
            request_id=request_id,
            useful=useful,
            reason=stored,
        )
        self._db.execute(
            "INSERT INTO feedback (feedback_id, time, tenant, request_id, useful, reason)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (item.feedback_id, item.time, tenant, request_id, int(useful), stored),
        )
        return item

    def items(
        self,
        *,
        tenant: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[Feedback]:
        """Votes, newest first."""
        where, params = [], []
        if tenant is not None:
            where.append("tenant = ?")
            params.append(tenant)
        if since is not None:
            where.append("time >= ?")
            params.append(since.astimezone(UTC).isoformat(timespec="seconds"))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self._db.execute(
            "SELECT feedback_id, time, tenant, request_id, useful, reason FROM feedback"
            f"{clause} ORDER BY time DESC, feedback_id{tail}",
            params,
        ).fetchall()
        for row in rows:
            yield Feedback(row[0], row[1], row[2], row[3], bool(row[4]), row[5])


__all__ = ["MAX_REASON_CHARS", "REASON_WITHHELD", "Feedback", "FeedbackStore"]
