"""Throttling failed authentications: a backoff per login name (stored beside the accounts,
so it survives restarts) and a leaky bucket per client address (in process).

Per name (`LoginFailures`): after `Settings.login_lockout_after` consecutive failures the
name is locked for `login_lockout_base_s`, doubling with each further failure up to
`login_lockout_max_s` (`lock_seconds`); a success resets it, so does a day without failure,
and `territoria users unlock`. Unknown names are counted the same way, so a lock says
nothing about which accounts exist. While locked, attempts are refused without checking the
password (and are not counted).

Per address (`FailureBuckets`): each failure (bad token, bad password) fills the address's
bucket by one; it drains at `auth_failures_per_minute`. A full bucket (`auth_failures_burst`)
refuses further attempts, good or bad, until it has drained by one. Successes cost nothing.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from territoria.errors import TooManyAttempts
from territoria.settings import Settings
from territoria.store.database import Database

_MAX_KEYS = 10_000
_MAX_NAME_CHARS = 64
_FORGOTTEN_AFTER = timedelta(days=1)
_NAME_LOCKED = (
    "Trop de tentatives de connexion pour cet identifiant : réessayez dans {wait}, "
    "ou demandez à un administrateur de débloquer le compte."
)
_ADDRESS_LOCKED = (
    "Trop de tentatives d'authentification échouées depuis votre adresse : réessayez dans {wait}."
)


def lock_seconds(failures: int, *, after: int, base_s: float, max_s: float) -> float:
    """How long a name stays locked after `failures` consecutive failures (0: not locked)."""
    if failures < after:
        return 0.0
    return min(max_s, base_s * 2.0 ** min(failures - after, 60))


@dataclass(frozen=True)
class LoginState:
    """Failed logins of one name: consecutive failures, and the lock's end while locked."""

    failures: int
    locked_until: str | None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class LoginFailures:
    """Consecutive failed logins per name, in the `login_failures` table of the governance
    database (governance.py: SQLite, or PostgreSQL shared by every replica)."""

    def __init__(self, db: Database, settings: Settings, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock

    def check(self, name: str) -> None:
        """Raise TooManyAttempts while `name` is locked."""
        locked_until = self.state(name).locked_until
        if locked_until is None:
            return
        wait = math.ceil((datetime.fromisoformat(locked_until) - self._clock()).total_seconds())
        minutes = max(1, math.ceil(wait / 60))  # whole minutes: the same text for every name
        raise TooManyAttempts(_NAME_LOCKED.format(wait=_minutes(minutes)), float(max(1, wait)))

    def fail(self, name: str) -> None:
        """Count one failure of `name`, locking it once there are enough."""
        key, now, settings = name[:_MAX_NAME_CHARS], self._clock(), self._settings
        with self._db.transaction(lock="login_failures") as tx:
            tx.execute(
                "DELETE FROM login_failures WHERE last_failure_at <= ?"
                " AND (locked_until IS NULL OR locked_until <= ?)",
                (_iso(now - _FORGOTTEN_AFTER), _iso(now)),
            )
            row = tx.execute(
                "SELECT failures FROM login_failures WHERE name = ?", (key,)
            ).fetchone()
            failures = (row[0] if row else 0) + 1
            lock = lock_seconds(
                failures,
                after=settings.login_lockout_after,
                base_s=settings.login_lockout_base_s,
                max_s=settings.login_lockout_max_s,
            )
            tx.execute(
                "INSERT INTO login_failures (name, failures, last_failure_at, locked_until)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " failures = excluded.failures, last_failure_at = excluded.last_failure_at,"
                " locked_until = excluded.locked_until",
                (key, failures, _iso(now), _iso(now + timedelta(seconds=lock)) if lock else None),
            )

    def clear(self, name: str) -> bool:
        """Forget the failures of `name` (a success, or an admin's unlock)."""
        cursor = self._db.execute(
            "DELETE FROM login_failures WHERE name = ?", (name[:_MAX_NAME_CHARS],)
        )
        return cursor.rowcount > 0

    def state(self, name: str) -> LoginState:
        """Failed logins of `name` (known or not); `locked_until` only while it is locked."""
        row = self._db.execute(
            "SELECT failures, last_failure_at, locked_until FROM login_failures WHERE name = ?",
            (name[:_MAX_NAME_CHARS],),
        ).fetchone()
        if row is None:
            return LoginState(0, None)
        failures, last_failure_at, locked_until = row
        now = self._clock()
        if locked_until is not None and locked_until > _iso(now):
            return LoginState(failures, locked_until)
        if last_failure_at <= _iso(now - _FORGOTTEN_AFTER):
            return LoginState(0, None)
        return LoginState(failures, None)


@dataclass
class _Level:
    level: float
    updated: float


class FailureBuckets:
    """Failed attempts per key (a client address), thread-safe."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._levels: dict[str, _Level] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raise TooManyAttempts while `key` has failed too often."""
        wait = math.ceil(self.wait(key))
        if wait:
            raise TooManyAttempts(_ADDRESS_LOCKED.format(wait=_duration(wait)), float(wait))

    def wait(self, key: str) -> float:
        """0 when `key` may try again now, else the seconds until it may."""
        if self.rate <= 0 or not key:
            return 0.0
        with self._lock:
            level = self._drained(key, self._clock())
        return 0.0 if level + 1.0 <= self.burst else (level + 1.0 - self.burst) / self.rate

    def fail(self, key: str) -> None:
        """Count one failure of `key`."""
        if self.rate <= 0 or not key:
            return
        now = self._clock()
        with self._lock:
            level = self._drained(key, now)
            if key not in self._levels and len(self._levels) >= _MAX_KEYS:
                self._prune(now)
            self._levels[key] = _Level(level + 1.0, now)

    def _drained(self, key: str, now: float) -> float:
        found = self._levels.get(key)
        return max(0.0, found.level - (now - found.updated) * self.rate) if found else 0.0

    def _prune(self, now: float) -> None:
        """Forget keys that have drained completely (they hold no information)."""
        for key in [k for k in self._levels if self._drained(k, now) == 0.0]:
            del self._levels[key]


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    return _minutes(math.ceil(seconds / 60))


def _minutes(minutes: int) -> str:
    return f"{minutes} minute{'s' if minutes > 1 else ''}"
