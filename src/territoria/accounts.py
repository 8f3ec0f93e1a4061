"""Accounts: tenants (collectivités), users with one role in their tenant, API tokens.

Stored in `<home>/governance.sqlite3` (WAL, migration set "territoria.governance").
Secrets are never stored: passwords are argon2id hashes (argon2-cffi defaults, RFC 9106);
API tokens look like `terr_<id>_<secret>`, where `<id>` is a non-secret lookup key and only an
argon2id hash of `<secret>` is kept. A token secret carries 256 random bits, so its hash uses a
light argon2 profile (8 MiB, 1 pass, ~4 ms) instead of the password profile (~250 ms here):
guessing is hopeless either way, and a token is checked on every API request.
A token is shown once, when it is created.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from territoria.errors import Conflict, InvalidRequest, NotFound
from territoria.settings import Settings
from territoria.store.migrations import Migrations, run_script
from territoria.store.sqlite import connect, transaction
from territoria.types import Access, Role

ROLES: tuple[Role, ...] = ("public", "agent", "admin")
TOKEN_PREFIX = "terr"
MIN_PASSWORD_CHARS = 12
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_TOKEN = re.compile(r"^terr_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")

governance_migrations = Migrations("territoria.governance")


@governance_migrations
def m001_accounts(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE tenants (
            tenant TEXT PRIMARY KEY,
            created_at TEXT NOT NULL
        );
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            tenant TEXT NOT NULL REFERENCES tenants(tenant),
            role TEXT NOT NULL CHECK (role IN ('public', 'agent', 'admin')),
            password_hash TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE tokens (
            token_id TEXT PRIMARY KEY,
            user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
            secret_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT,
            last_used_at TEXT,
            revoked_at TEXT
        );
        CREATE INDEX tokens_user ON tokens(user)
        """,
    )


@dataclass(frozen=True)
class Principal:
    """An authenticated user, as seen by the access rules."""

    user: str
    tenant: str
    role: Role

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
    """Users and tokens of one home. Thread-safe; close it (or use `with`)."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.home / "governance.sqlite3"
        self._conn = connect(self.path, governance_migrations)
        self._lock = threading.RLock()
        self._passwords = PasswordHasher()
        self._tokens = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
        self._dummy_hash: str | None = None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

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
        with self._lock, transaction(self._conn):
            if self._conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"L'utilisateur {name!r} existe déjà.")
            self._conn.execute(
                "INSERT OR IGNORE INTO tenants (tenant, created_at) VALUES (?, ?)", (tenant, now)
            )
            self._conn.execute(
                "INSERT INTO users (name, tenant, role, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, tenant, checked_role, hashed, now),
            )
        return User(name, tenant, checked_role, now, hashed is not None)

    def set_password(self, name: str, password: str) -> None:
        hashed = self._passwords.hash(check_password(password))
        with self._lock, transaction(self._conn):
            cursor = self._conn.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (hashed, name)
            )
        if cursor.rowcount == 0:
            raise NotFound(f"Utilisateur inconnu : {name!r}.")

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
        with self._lock:
            rows = self._conn.execute(
                "SELECT name, tenant, role, created_at, password_hash IS NOT NULL FROM users"
                f"{clause} ORDER BY tenant, name",
                params,
            ).fetchall()
            tokens: dict[str, list[TokenInfo]] = {}
            for row in self._conn.execute(
                "SELECT user, token_id, created_at, expires_at, last_used_at, revoked_at"
                " FROM tokens ORDER BY created_at, token_id"
            ):
                tokens.setdefault(row[0], []).append(TokenInfo(*row[1:]))
        return [
            User(r[0], r[1], cast(Role, r[2]), r[3], bool(r[4]), tuple(tokens.get(r[0], ())))
            for r in rows
        ]

    def delete_user(self, name: str) -> int:
        """Delete a user and their tokens; return how many tokens went with them."""
        with self._lock, transaction(self._conn):
            (count,) = self._conn.execute(
                "SELECT COUNT(*) FROM tokens WHERE user = ?", (name,)
            ).fetchone()
            cursor = self._conn.execute("DELETE FROM users WHERE name = ?", (name,))
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
        with self._lock, transaction(self._conn):
            if not self._conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise NotFound(f"Utilisateur inconnu : {name!r}.")
            self._conn.execute(
                "INSERT INTO tokens (token_id, user, secret_hash, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_id, name, hashed, now_iso(), expires_at),
            )
        return IssuedToken(token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}", name, expires_at)

    def revoke_token(self, token_id: str) -> None:
        with self._lock, transaction(self._conn):
            cursor = self._conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                (now_iso(), token_id),
            )
        if cursor.rowcount == 0:
            raise NotFound(f"Jeton inconnu ou déjà révoqué : {token_id!r}.")

    # --- authentication --------------------------------------------------------------------

    def authenticate_token(self, token: str) -> Principal | None:
        """The token's user, or None when the token is malformed, unknown, revoked or expired."""
        match = _TOKEN.match(token.strip())
        if match is None:
            return None
        token_id, secret = match.groups()
        with self._lock:
            row = self._conn.execute(
                "SELECT t.secret_hash, t.expires_at, t.revoked_at, u.name, u.tenant, u.role"
                " FROM tokens t JOIN users u ON u.name = t.user WHERE t.token_id = ?",
                (token_id,),
            ).fetchone()
        if row is None:
            return None
        secret_hash, expires_at, revoked_at, user, tenant, role = row
        if not _verify(self._tokens, secret_hash, secret) or revoked_at is not None:
            return None
        now = now_iso()
        if expires_at is not None and expires_at <= now:
            return None
        with self._lock, transaction(self._conn):
            self._conn.execute(
                "UPDATE tokens SET last_used_at = ? WHERE token_id = ?", (now, token_id)
            )
        return Principal(user, tenant, cast(Role, role))

    def authenticate_password(self, name: str, password: str) -> Principal | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT password_hash, tenant, role FROM users WHERE name = ?", (name,)
            ).fetchone()
        if row is None or row[0] is None:
            self._burn(password)  # same cost as a wrong password: no user enumeration
            return None
        hashed, tenant, role = row
        if not _verify(self._passwords, hashed, password):
            return None
        if self._passwords.check_needs_rehash(hashed):
            self.set_password(name, password)
        return Principal(name, tenant, cast(Role, role))

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
