"""Server-side web sessions (src/territoria/sessions.py): stored hashed, bound to the user id,
revoked on logout, password change and deletion, expired ones purged."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from territoria.accounts import Accounts, Principal
from territoria.errors import NotFound
from territoria.settings import Settings

PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(settings: Settings, clock: Clock) -> Iterator[Accounts]:
    with Accounts(settings, clock=clock) as acc:
        acc.add_user("alice", tenant="t", role="admin", password=PASSWORD)
        acc.add_user("bob", tenant="t", role="agent", password=PASSWORD)
        yield acc


def principal(accounts: Accounts, name: str) -> Principal:
    return accounts.authenticate_password(name, PASSWORD)


def test_a_session_resolves_to_its_user_until_revoked(accounts: Accounts) -> None:
    alice = principal(accounts, "alice")
    session_id = accounts.start_session(alice)
    assert len(session_id) >= 43  # 256 random bits
    found = accounts.resolve_session(session_id)
    assert found == alice
    assert accounts.resolve_session(session_id + "x") is None
    assert accounts.resolve_session("") is None
    assert accounts.end_session(session_id) is True
    assert accounts.resolve_session(session_id) is None
    assert accounts.end_session(session_id) is False


def test_session_ids_are_stored_hashed(accounts: Accounts) -> None:
    alice = principal(accounts, "alice")
    session_id = accounts.start_session(alice)
    accounts.close()
    with closing(sqlite3.connect(accounts.path)) as conn:
        dump = "\n".join(conn.iterdump())
    assert session_id not in dump


def test_sessions_expire(accounts: Accounts, clock: Clock, settings: Settings) -> None:
    alice = principal(accounts, "alice")
    session_id = accounts.start_session(alice)
    clock.now += timedelta(hours=settings.session_hours) - timedelta(seconds=1)
    assert accounts.resolve_session(session_id) is not None
    clock.now += timedelta(seconds=1)
    assert accounts.resolve_session(session_id) is None


def test_expired_sessions_are_purged_when_a_session_starts(
    accounts: Accounts, clock: Clock, settings: Settings
) -> None:
    bob = principal(accounts, "bob")
    accounts.start_session(bob)
    accounts.start_session(bob)
    assert accounts.sessions.count() == 2
    clock.now += timedelta(hours=settings.session_hours + 1)
    alice = principal(accounts, "alice")
    accounts.start_session(alice)
    assert accounts.sessions.count() == 1


def test_a_session_follows_the_user_id_not_the_name(accounts: Accounts) -> None:
    bob = principal(accounts, "bob")
    session_id = accounts.start_session(bob)
    accounts.delete_user("bob")
    assert accounts.resolve_session(session_id) is None
    accounts.add_user("bob", tenant="autre", role="admin", password=PASSWORD)
    assert accounts.resolve_session(session_id) is None
    assert accounts.sessions.count() == 0  # deleted with the user


def test_role_comes_from_the_user_row_on_every_lookup(accounts: Accounts) -> None:
    bob = principal(accounts, "bob")
    session_id = accounts.start_session(bob)
    accounts._db.execute("UPDATE users SET role = 'public' WHERE name = 'bob'")
    found = accounts.resolve_session(session_id)
    assert found is not None and found.role == "public"


def test_password_change_revokes_the_other_sessions(accounts: Accounts) -> None:
    bob = principal(accounts, "bob")
    here = accounts.start_session(bob)
    elsewhere = accounts.start_session(bob)
    alice = principal(accounts, "alice")
    other_user = accounts.start_session(alice)
    assert accounts.set_password("bob", "un nouveau mot de passe", keep_session=here) == 1
    assert accounts.resolve_session(here) is not None
    assert accounts.resolve_session(elsewhere) is None
    assert accounts.resolve_session(other_user) is not None
    assert accounts.set_password("bob", "encore un autre mot de passe") == 1
    assert accounts.resolve_session(here) is None


def test_an_admin_lists_and_revokes_a_users_sessions(accounts: Accounts, clock: Clock) -> None:
    bob = principal(accounts, "bob")
    first = accounts.start_session(bob)
    accounts.start_session(bob)
    clock.now += timedelta(minutes=5)
    accounts.resolve_session(first)
    listed = accounts.list_sessions("bob")
    assert len(listed) == 2 and all(s.active for s in listed)
    assert {s.last_seen_at for s in listed} == {
        "2025-03-01T09:00:00+00:00",
        "2025-03-01T09:05:00+00:00",
    }
    assert all(first not in s.ref and len(s.ref) == 12 for s in listed)
    assert accounts.revoke_sessions("bob") == 2
    assert accounts.resolve_session(first) is None
    assert [s.active for s in accounts.list_sessions("bob")] == [False, False]
    assert accounts.revoke_sessions("bob") == 0
    with pytest.raises(NotFound):
        accounts.list_sessions("nobody")
