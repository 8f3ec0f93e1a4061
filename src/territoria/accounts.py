"""Accounts: tenants (collectivités), users with one role in their tenant, API tokens.

Stored in the governance database (governance.py): `<home>/governance.sqlite3` on the embedded
default, PostgreSQL when `store=postgres` (then every replica sees the same accounts).
Secrets are never stored: passwords are argon2id hashes (argon2-cffi defaults, RFC 9106);
API tokens look like `terr_<id>_<secret>`, where `<id>` is a non-secret lookup key and only an
argon2id hash of `<secret>` is kept. A token secret carries 256 random bits, so its hash uses a
light argon2 profile (8 MiB, 1 pass, ~4 ms) instead of the password profile (~250 ms here):
guessing is hopeless either way, and a token is checked on every API request.
A token is shown once, when it is created.

Each user has a stable random id (`user_id`); tokens and web sessions (sessions.py) point
to it, never to the name, so an account deleted and re-created under the same name inherits
nothing. Failed logins are throttled (throttle.py): per login name, stored here
(`login_failures`), and per client address, in process.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from territoria.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound
from territoria.governance import new_user_id, open_governance
from territoria.sessions import DatabaseSessions, SessionRecord, SessionStore
from territoria.settings import Settings
from territoria.throttle import FailureBuckets, LoginFailures, LoginState
from territoria.types import Access, Role

ROLES: tuple[Role, ...] = ("public", "agent", "admin")
TOKEN_PREFIX = "terr"
MIN_PASSWORD_CHARS = 12
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_TOKEN = re.compile(r"^terr_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Principal:
    """An authenticated user, as seen by the access rules."""

    user: str
    tenant: str
    role: Role
    user_id: str

    @property
    def access(self) -> Access:
        return Access(role=self.role, tenant=self.tenant)


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


@dataclass(frozen=True)
class User:
    name: str
    tenant: str
    role: Role
    created_at: str
    has_password: bool
    user_id: str
    tokens: tuple[TokenInfo, ...] = ()


@dataclass(frozen=True)
class IssuedToken:
    """A new token: `token` is the secret, shown once and never stored."""

    token_id: str
    token: str
    user: str
    expires_at: str | None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_WRONG = "Identifiant ou mot de passe incorrect."


def check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise InvalidRequest(
            f"{what} invalide : {value!r} (lettres, chiffres, « . _ @ - », 64 caractères au plus)."
        )
    return value


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise InvalidRequest(f"Rôle inconnu : {role!r} (public, agent, admin).")
    return role


class Accounts:
    """Users, tokens and web sessions of one home. Thread-safe; close it (or use `with`).

    `clock` (tests) gives the time of sessions and login locks: an aware UTC datetime."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = settings.home / "governance.sqlite3"
        self.settings = settings
        self._db = open_governance(settings)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._passwords = PasswordHasher()
        self._tokens = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
        self._dummy_hash: str | None = None
        self.sessions: SessionStore = DatabaseSessions(
            self._db,
            lifetime=timedelta(hours=settings.session_hours),
            clock=self._clock,
        )
        self._name_failures = LoginFailures(self._db, settings, self._clock)
        self._address_failures = FailureBuckets(
            settings.auth_failures_per_minute, settings.auth_failures_burst
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- users -----------------------------------------------------------------------------

    def add_user(self, name: str, *, tenant: str, role: str, password: str | None = None) -> User:
        check_name(name, "Nom d'utilisateur")
        check_name(tenant, "Collectivité")
        checked_role = check_role(role)
        hashed = self._passwords.hash(check_password(password)) if password is not None else None
        now = now_iso()
        user_id = new_user_id()
        with self._db.transaction(lock="accounts") as tx:
            if tx.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"L'utilisateur {name!r} existe déjà.")
            tx.execute(
                "INSERT INTO tenants (tenant, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (tenant, now),
            )
            tx.execute(
                "INSERT INTO users (user_id, name, tenant, role, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, name, tenant, checked_role, hashed, now),
            )
        return User(name, tenant, checked_role, now, hashed is not None, user_id)

    def set_password(self, name: str, password: str, *, keep_session: str | None = None) -> int:
        """Set a user's password and sign them out everywhere, except in the session
        `keep_session` (the one that changed it, if any); return how many sessions ended."""
        hashed = self._passwords.hash(check_password(password))
        user_id = self._user_id(name)
        self._store_hash(user_id, hashed)
        return self.sessions.revoke_user(user_id, keep=keep_session)

    def _store_hash(self, user_id: str, hashed: str) -> None:
        self._db.execute("UPDATE users SET password_hash = ? WHERE user_id = ?", (hashed, user_id))

    def _user_id(self, name: str) -> str:
        row = self._db.execute("SELECT user_id FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"Utilisateur inconnu : {name!r}.")
        return str(row[0])

    def get_user(self, name: str) -> User | None:
        users = self.list_users(name=name)
        return users[0] if users else None

    def list_users(self, *, tenant: str | None = None, name: str | None = None) -> list[User]:
        where, params = [], []
        if tenant is not None:
            where.append("tenant = ?")
            params.append(tenant)
        if name is not None:
            where.append("name = ?")
            params.append(name)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._db.snapshot() as view:
            rows = view.execute(
                "SELECT name, tenant, role, created_at, password_hash IS NOT NULL, user_id"
                f" FROM users{clause} ORDER BY tenant, name",
                params,
            ).fetchall()
            tokens: dict[str, list[TokenInfo]] = {}
            for row in view.execute(
                "SELECT user_id, token_id, created_at, expires_at, last_used_at, revoked_at"
                " FROM tokens ORDER BY created_at, token_id"
            ):
                tokens.setdefault(row[0], []).append(TokenInfo(*row[1:]))
        return [
            User(r[0], r[1], cast(Role, r[2]), r[3], bool(r[4]), r[5], tuple(tokens.get(r[5], ())))
            for r in rows
        ]

    def delete_user(self, name: str) -> int:
        """Delete a user with their tokens and sessions; return how many tokens went."""
        with self._db.transaction(lock="accounts") as tx:
            (count,) = tx.execute(
                "SELECT COUNT(*) FROM tokens t JOIN users u ON u.user_id = t.user_id"
                " WHERE u.name = ?",
                (name,),
            ).fetchone() or (0,)
            cursor = tx.execute("DELETE FROM users WHERE name = ?", (name,))
        if cursor.rowcount == 0:
            raise NotFound(f"Utilisateur inconnu : {name!r}.")
        return int(count)

    # --- tokens ----------------------------------------------------------------------------

    def create_token(self, name: str, *, expires_in: timedelta | None = None) -> IssuedToken:
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        expires_at = (
            (datetime.now(UTC) + expires_in).isoformat(timespec="seconds") if expires_in else None
        )
        hashed = self._tokens.hash(secret)
        with self._db.transaction(lock="accounts") as tx:
            row = tx.execute("SELECT user_id FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise NotFound(f"Utilisateur inconnu : {name!r}.")
            tx.execute(
                "INSERT INTO tokens (token_id, user_id, secret_hash, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_id, row[0], hashed, now_iso(), expires_at),
            )
        return IssuedToken(token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}", name, expires_at)

    def revoke_token(self, token_id: str) -> None:
        cursor = self._db.execute(
            "UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
            (now_iso(), token_id),
        )
        if cursor.rowcount == 0:
            raise NotFound(f"Jeton inconnu ou déjà révoqué : {token_id!r}.")

    # --- authentication --------------------------------------------------------------------

    def authenticate_token(self, token: str, *, client: str = "") -> Principal | None:
        """The token's user, or None when the token is malformed, unknown, revoked or expired.

        `client` (a client address) counts failures: past its limit it gets TooManyAttempts,
        even with a good token, until its failures have drained."""
        self._address_failures.check(client)
        principal = self._check_token(token)
        if principal is None:
            self._address_failures.fail(client)
        return principal

    def _check_token(self, token: str) -> Principal | None:
        match = _TOKEN.match(token.strip())
        if match is None:
            return None
        token_id, secret = match.groups()
        row = self._db.execute(
            "SELECT t.secret_hash, t.expires_at, t.revoked_at, u.name, u.tenant, u.role,"
            " u.user_id FROM tokens t JOIN users u ON u.user_id = t.user_id"
            " WHERE t.token_id = ?",
            (token_id,),
        ).fetchone()
        if row is None:
            return None
        secret_hash, expires_at, revoked_at, user, tenant, role, user_id = row
        if not _verify(self._tokens, secret_hash, secret) or revoked_at is not None:
            return None
        now = now_iso()
        if expires_at is not None and expires_at <= now:
            return None
        self._db.execute("UPDATE tokens SET last_used_at = ? WHERE token_id = ?", (now, token_id))
        return Principal(user, tenant, cast(Role, role), user_id)

    def authenticate_password(self, name: str, password: str, *, client: str = "") -> Principal:
        """The user with this name and password.

        Raises AuthenticationFailed (the same message whatever was wrong; `reason` tells the
        operator) or TooManyAttempts (this name is locked after repeated failures, known or
        not; or `client` made too many failed attempts)."""
        self._address_failures.check(client)
        self._name_failures.check(name)
        row = self._db.execute(
            "SELECT password_hash, tenant, role, user_id FROM users WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            self._burn(password)  # same cost as a wrong password: no user enumeration
            reason = "identifiant inconnu"
        elif row[0] is None:
            self._burn(password)
            reason = (
                "compte sans mot de passe (accès par jeton d'API seulement) : "
                "un administrateur peut en définir un avec `territoria users password`"
            )
        elif not _verify(self._passwords, row[0], password):
            reason = "mot de passe incorrect"
        else:
            hashed, tenant, role, user_id = row
            self._name_failures.clear(name)
            if self._passwords.check_needs_rehash(hashed):
                self._store_hash(user_id, self._passwords.hash(password))
            return Principal(name, tenant, cast(Role, role), user_id)
        self._address_failures.fail(client)
        self._name_failures.fail(name)
        raise AuthenticationFailed(_WRONG, reason)

    def login_state(self, name: str) -> LoginState:
        """Failed logins of `name` (known or not), and the lock they caused."""
        return self._name_failures.state(name)

    def unlock(self, name: str) -> bool:
        """Forget the failed logins of a user (lifting a lock); False when there were none."""
        self._user_id(name)
        return self._name_failures.clear(name)

    # --- web sessions ----------------------------------------------------------------------

    def start_session(self, principal: Principal, *, replacing: str | None = None) -> str:
        """A new session id for `principal` (a fresh one at each login: no fixation); the
        session `replacing` (the browser's previous one, if any) is revoked."""
        if replacing:
            self.sessions.revoke(replacing)
        return self.sessions.start(principal.user_id, principal.tenant)

    def resolve_session(self, session_id: str) -> Principal | None:
        """The user of a live session, read from their row now (a changed role applies at
        once); None when the session is unknown, revoked, expired or its user is gone."""
        record = self.sessions.resolve(session_id)
        if record is None:
            return None
        row = self._db.execute(
            "SELECT name, tenant, role FROM users WHERE user_id = ?", (record.user_id,)
        ).fetchone()
        if row is None or row[1] != record.tenant:
            return None
        return Principal(row[0], row[1], cast(Role, row[2]), record.user_id)

    def end_session(self, session_id: str) -> bool:
        """Revoke one session (logout); False when it was not live."""
        return self.sessions.revoke(session_id)

    def list_sessions(self, name: str) -> list[SessionRecord]:
        return self.sessions.list_user(self._user_id(name))

    def revoke_sessions(self, name: str) -> int:
        """Sign a user out everywhere; return how many sessions ended."""
        return self.sessions.revoke_user(self._user_id(name))

    def _burn(self, password: str) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = self._passwords.hash(secrets.token_urlsafe(16))
        _verify(self._passwords, self._dummy_hash, password)


def check_password(password: str | None) -> str:
    if password is None or len(password) < MIN_PASSWORD_CHARS:
        raise InvalidRequest(f"Mot de passe trop court : au moins {MIN_PASSWORD_CHARS} caractères.")
    return password


def _verify(hasher: PasswordHasher, hashed: str, secret: str) -> bool:
    try:
        return hasher.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False
