"""Users, roles per tenant, API tokens: hashed secrets, right token in, wrong token out."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from territoria.accounts import Accounts, Principal
from territoria.errors import AuthenticationFailed, InvalidRequest, NotFound, TooManyAttempts
from territoria.governance import m001_accounts
from territoria.settings import Settings
from territoria.store.database import connect_sqlite as connect
from territoria.store.migrations import Migrations
from territoria.types import Access

PASSWORD = "correct horse battery staple"


@pytest.fixture
def accounts(settings: Settings) -> Iterator[Accounts]:
    with Accounts(settings) as acc:
        yield acc


def test_token_authenticates_its_user_only(accounts: Accounts) -> None:
    accounts.add_user("alice", tenant="val-fleuri", role="agent")
    accounts.add_user("bob", tenant="autre", role="admin")
    issued = accounts.create_token("alice")
    principal = accounts.authenticate_token(issued.token)
    alice = accounts.get_user("alice")
    assert alice is not None
    assert principal == Principal("alice", "val-fleuri", "agent", alice.user_id)
    assert principal.access == Access(role="agent", tenant="val-fleuri")
    prefix, token_id, secret = issued.token.split("_", 2)
    assert prefix == "terr" and token_id == issued.token_id
    wrong_secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert accounts.authenticate_token(f"terr_{token_id}_{wrong_secret}") is None
    other = accounts.create_token("bob")
    swapped = f"terr_{other.token_id}_{secret}"  # alice's secret under bob's id
    assert accounts.authenticate_token(swapped) is None
    for junk in ("", "terr_", "Bearer x", issued.token + "x", issued.token.upper()):
        assert accounts.authenticate_token(junk) is None


def test_secrets_are_stored_hashed(accounts: Accounts) -> None:
    accounts.add_user("alice", tenant="t", role="agent", password=PASSWORD)
    issued = accounts.create_token("alice")
    secret = issued.token.split("_", 2)[2]
    accounts.close()
    with closing(sqlite3.connect(accounts.path)) as conn:
        (password_hash,) = conn.execute("SELECT password_hash FROM users").fetchone()
        (token_hash,) = conn.execute("SELECT secret_hash FROM tokens").fetchone()
        dump = "\n".join(conn.iterdump())
    assert password_hash.startswith("$argon2id$") and token_hash.startswith("$argon2id$")
    assert PASSWORD not in dump and secret not in dump and issued.token not in dump


def test_revoked_and_expired_tokens_are_refused(accounts: Accounts) -> None:
    accounts.add_user("alice", tenant="t", role="agent")
    revoked = accounts.create_token("alice")
    accounts.revoke_token(revoked.token_id)
    assert accounts.authenticate_token(revoked.token) is None
    with pytest.raises(NotFound):
        accounts.revoke_token(revoked.token_id)
    expired = accounts.create_token("alice", expires_in=timedelta(seconds=-1))
    assert accounts.authenticate_token(expired.token) is None
    valid = accounts.create_token("alice", expires_in=timedelta(days=1))
    assert accounts.authenticate_token(valid.token) is not None


def test_token_use_is_tracked(accounts: Accounts) -> None:
    accounts.add_user("alice", tenant="t", role="agent")
    issued = accounts.create_token("alice")
    user = accounts.get_user("alice")
    assert user is not None and user.tokens[0].last_used_at is None
    accounts.authenticate_token(issued.token)
    user = accounts.get_user("alice")
    assert user is not None and user.tokens[0].last_used_at is not None


def test_password_authentication(accounts: Accounts) -> None:
    alice = accounts.add_user("alice", tenant="t", role="admin", password=PASSWORD)
    accounts.add_user("bob", tenant="t", role="agent")
    principal = accounts.authenticate_password("alice", PASSWORD)
    assert principal == Principal("alice", "t", "admin", alice.user_id)
    reasons = {}
    for name, password in (("alice", PASSWORD + "!"), ("bob", PASSWORD), ("nobody", PASSWORD)):
        with pytest.raises(AuthenticationFailed) as refused:
            accounts.authenticate_password(name, password)
        assert refused.value.status == 401
        assert refused.value.message == "Identifiant ou mot de passe incorrect."
        reasons[name] = refused.value.reason
    assert "sans mot de passe" in reasons["bob"]  # token-only account: said, but not to the web
    assert reasons["nobody"] != reasons["alice"] != reasons["bob"]


def test_validation(accounts: Accounts) -> None:
    with pytest.raises(InvalidRequest):
        accounts.add_user("alice", tenant="t", role="superuser")
    with pytest.raises(InvalidRequest):
        accounts.add_user("alice bob", tenant="t", role="agent")
    with pytest.raises(InvalidRequest):
        accounts.add_user("alice", tenant="t", role="agent", password="court")
    accounts.add_user("alice", tenant="t", role="agent")
    with pytest.raises(InvalidRequest):
        accounts.add_user("alice", tenant="u", role="agent")
    with pytest.raises(NotFound):
        accounts.create_token("nobody")


def test_delete_user_removes_their_tokens(accounts: Accounts) -> None:
    accounts.add_user("alice", tenant="t", role="agent")
    issued = accounts.create_token("alice")
    accounts.create_token("alice")
    assert accounts.delete_user("alice") == 2
    assert accounts.authenticate_token(issued.token) is None
    assert accounts.get_user("alice") is None
    with pytest.raises(NotFound):
        accounts.delete_user("alice")


def test_list_users_by_tenant(accounts: Accounts) -> None:
    accounts.add_user("alice", tenant="a", role="agent")
    accounts.add_user("bob", tenant="b", role="public")
    assert [u.name for u in accounts.list_users()] == ["alice", "bob"]
    assert [u.name for u in accounts.list_users(tenant="b")] == ["bob"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_users_have_a_stable_random_id_that_a_new_account_does_not_reuse(
    accounts: Accounts,
) -> None:
    first = accounts.add_user("alice", tenant="a", role="agent")
    assert len(first.user_id) == 32 and first == accounts.get_user("alice")
    accounts.delete_user("alice")
    again = accounts.add_user("alice", tenant="b", role="admin")
    assert again.user_id != first.user_id


def test_migration_backfills_user_ids_and_keeps_tokens(settings: Settings) -> None:
    """A home created before user ids: users get one, their tokens keep working."""
    before = Migrations("territoria.governance")
    before(m001_accounts)
    path = settings.home / "governance.sqlite3"
    with Accounts(settings) as current:  # only to hash a token secret the current way
        secret_hash = current._tokens.hash("s" * 43)
    path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with closing(connect(path, before)) as conn:
        conn.execute("INSERT INTO tenants VALUES ('t', '2024-01-01')")
        for name in ("alice", "bob"):
            conn.execute("INSERT INTO users VALUES (?, 't', 'agent', NULL, '2024-01-01')", (name,))
        conn.execute(
            "INSERT INTO tokens (token_id, user, secret_hash, created_at)"
            " VALUES ('0123456789ab', 'bob', ?, '2024-01-01')",
            (secret_hash,),
        )
    with Accounts(settings) as accounts:
        ids = {u.name: u.user_id for u in accounts.list_users()}
        principal = accounts.authenticate_token("terr_0123456789ab_" + "s" * 43)
        assert principal is not None and principal.user_id == ids["bob"]
        assert len(set(ids.values())) == 2 and all(len(i) == 32 for i in ids.values())
        assert [t.token_id for t in accounts.list_users()[1].tokens] == ["0123456789ab"]
        assert accounts.delete_user("bob") == 1
    with Accounts(settings) as reopened:  # stable: migrated once
        assert {u.name: u.user_id for u in reopened.list_users()} == {"alice": ids["alice"]}


def test_failed_logins_back_off_exponentially_up_to_a_bound(settings: Settings) -> None:
    clock = Clock()
    with Accounts(settings, clock=clock) as accounts:
        accounts.add_user("alice", tenant="t", role="agent", password=PASSWORD)
        for _ in range(settings.login_lockout_after):
            with pytest.raises(AuthenticationFailed):
                accounts.authenticate_password("alice", "mauvais mot de passe")
        waits = []
        for _ in range(6):
            with pytest.raises(TooManyAttempts) as locked:
                accounts.authenticate_password("alice", PASSWORD)  # even the right one waits
            assert locked.value.status == 429
            waits.append(locked.value.retry_after)
            clock.advance(seconds=locked.value.retry_after)
            with pytest.raises(AuthenticationFailed):
                accounts.authenticate_password("alice", "encore faux")
        assert waits == [60, 120, 240, 480, 900, 900]  # doubles, never past 15 minutes
        state = accounts.login_state("alice")
        assert state.failures == settings.login_lockout_after + 6 and state.locked_until
        clock.advance(seconds=900)
        assert accounts.authenticate_password("alice", PASSWORD).user == "alice"
        assert accounts.login_state("alice").failures == 0  # success resets the count


def test_lockout_survives_a_restart_and_an_admin_can_lift_it(settings: Settings) -> None:
    clock = Clock()
    with Accounts(settings, clock=clock) as accounts:
        accounts.add_user("alice", tenant="t", role="agent", password=PASSWORD)
        for _ in range(settings.login_lockout_after):
            with pytest.raises(AuthenticationFailed):
                accounts.authenticate_password("alice", "mauvais mot de passe")
    with Accounts(settings, clock=clock) as restarted:
        with pytest.raises(TooManyAttempts, match="Trop de tentatives"):
            restarted.authenticate_password("alice", PASSWORD)
        assert restarted.unlock("alice") is True
        assert restarted.authenticate_password("alice", PASSWORD).user == "alice"
        assert restarted.unlock("alice") is False  # nothing left to lift
        with pytest.raises(NotFound):
            restarted.unlock("nobody")


def test_unknown_names_are_locked_like_real_ones(settings: Settings) -> None:
    """The lock does not tell whether an account exists."""
    with Accounts(settings, clock=Clock()) as accounts:
        accounts.add_user("alice", tenant="t", role="agent", password=PASSWORD)
        messages = []
        for name in ("alice", "nobody"):
            for _ in range(settings.login_lockout_after):
                with pytest.raises(AuthenticationFailed):
                    accounts.authenticate_password(name, "mauvais mot de passe")
            with pytest.raises(TooManyAttempts) as locked:
                accounts.authenticate_password(name, PASSWORD)
            messages.append((locked.value.message, locked.value.retry_after))
        assert messages[0] == messages[1]


def test_failed_credentials_are_throttled_per_client(settings: Settings) -> None:
    strict = settings.model_copy(update={"auth_failures_burst": 3, "auth_failures_per_minute": 1})
    with Accounts(strict) as accounts:
        accounts.add_user("alice", tenant="t", role="agent")
        issued = accounts.create_token("alice")
        for _ in range(3):
            assert accounts.authenticate_token("terr_nope", client="ip:1") is None
        with pytest.raises(TooManyAttempts) as refused:
            accounts.authenticate_token(issued.token, client="ip:1")
        assert 0 < refused.value.retry_after <= 60
        with pytest.raises(TooManyAttempts):
            accounts.authenticate_password("bob", PASSWORD, client="ip:1")
        assert accounts.authenticate_token(issued.token, client="ip:2") is not None
        assert accounts.authenticate_token(issued.token) is not None  # no client: the CLI
