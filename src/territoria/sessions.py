"""Server-side web sessions: what a session cookie names, kept where it can be revoked.

A session id carries 256 random bits and is shown only to the browser (inside the signed
cookie); only its SHA-256 is stored (a slow hash is pointless for 256 random bits), with the
user's id (not the name: a re-created account with the same name gets nothing), the tenant,
and created / expires / last seen / revoked times. The first 12 hex digits of the hash name a
session in listings (`ref`): they reveal nothing usable.

`SessionStore` is the interface; `DatabaseSessions` keeps the table in the governance database
beside the users (governance.py, SQLite or PostgreSQL), so deleting a user deletes their
sessions, and every replica of a PostgreSQL deployment sees the same sessions. `Accounts`
uses it for everything that knows users by name.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from territoria.store.database import Database

_SEEN_EVERY = timedelta(minutes=1)  # last_seen is written at most this often
_MAX_ID_CHARS = 128


@dataclass(frozen=True)
class SessionRecord:
    ref: str
    user_id: str
    tenant: str
    created_at: str
    expires_at: str
    last_seen_at: str
    revoked_at: str | None
    active: bool  # neither revoked nor expired when read


class SessionStore(Protocol):
    """Sessions of the web UI. Times are ISO 8601 UTC strings."""

    def start(self, user_id: str, tenant: str) -> str:
        """A new session; return its id (the secret, never stored). Purges expired ones."""
        ...

    def resolve(self, session_id: str) -> SessionRecord | None:
        """The live session with this id (marked as seen), or None: unknown, revoked, expired."""
        ...

    def revoke(self, session_id: str) -> bool:
        """Revoke one session; False when it was unknown or already revoked."""
        ...

    def revoke_user(self, user_id: str, *, keep: str | None = None) -> int:
        """Revoke every live session of a user, except the one with id `keep`; return how many."""
        ...

    def list_user(self, user_id: str) -> list[SessionRecord]:
        """A user's sessions not yet purged, oldest first."""
        ...

    def purge_expired(self) -> int:
        """Delete expired sessions; return how many."""
        ...

    def count(self) -> int:
        """How many sessions are stored (live or not yet purged)."""
        ...


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class DatabaseSessions:
    """`SessionStore` on the governance database (shared with `Accounts`)."""

    def __init__(self, db: Database, *, lifetime: timedelta, clock: Callable[[], datetime]) -> None:
        self._db = db
        self.lifetime = lifetime
        self._clock = clock

    def start(self, user_id: str, tenant: str) -> str:
        session_id = secrets.token_urlsafe(32)
        moment = self._clock()
        now, expires = _iso(moment), _iso(moment + self.lifetime)
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            tx.execute(
                "INSERT INTO sessions (session_hash, user_id, tenant, created_at, expires_at,"
                " last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                (digest(session_id), user_id, tenant, now, expires, now),
            )
        return session_id

    def resolve(self, session_id: str) -> SessionRecord | None:
        if not session_id or len(session_id) > _MAX_ID_CHARS:
            return None
        hashed = digest(session_id)
        now = self._clock()
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM sessions WHERE session_hash = ?", (hashed,)
        ).fetchone()
        record = _record(row, _iso(now)) if row else None
        if record is None or not record.active:
            return None
        if record.last_seen_at <= _iso(now - _SEEN_EVERY):
            self._db.execute(
                "UPDATE sessions SET last_seen_at = ? WHERE session_hash = ?", (_iso(now), hashed)
            )
        return record

    def revoke(self, session_id: str) -> bool:
        now = _iso(self._clock())
        cursor = self._db.execute(
            "UPDATE sessions SET revoked_at = ? WHERE session_hash = ? AND revoked_at IS NULL",
            (now, digest(session_id)),
        )
        return cursor.rowcount > 0

    def revoke_user(self, user_id: str, *, keep: str | None = None) -> int:
        now = _iso(self._clock())
        kept = digest(keep) if keep else ""
        cursor = self._db.execute(
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
            " AND expires_at > ? AND session_hash != ?",
            (now, user_id, now, kept),
        )
        return cursor.rowcount

    def list_user(self, user_id: str) -> list[SessionRecord]:
        now = _iso(self._clock())
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM sessions WHERE user_id = ? ORDER BY created_at, session_hash",
            (user_id,),
        ).fetchall()
        return [_record(row, now) for row in rows]

    def purge_expired(self) -> int:
        cursor = self._db.execute(
            "DELETE FROM sessions WHERE expires_at <= ?", (_iso(self._clock()),)
        )
        return cursor.rowcount

    def count(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()
        return int(row[0]) if row else 0


_COLUMNS = "session_hash, user_id, tenant, created_at, expires_at, last_seen_at, revoked_at"


def _record(row: tuple[Any, ...], now: str) -> SessionRecord:
    hashed, user_id, tenant, created_at, expires_at, last_seen_at, revoked_at = row
    active = revoked_at is None and expires_at > now
    return SessionRecord(
        hashed[:12], user_id, tenant, created_at, expires_at, last_seen_at, revoked_at, active
    )
