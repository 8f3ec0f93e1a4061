"""Users, roles per tenant, API tokens: hashed secrets, right token in, wrong token out."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta

import pytest

from territoria.accounts import Accounts, Principal
from territoria.errors import InvalidRequest, NotFound
from territoria.settings import Settings
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
    assert principal == Principal("alice", "val-fleuri", "agent")
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
    accounts.add_user("alice", tenant="t", role="admin", password=PASSWORD)
    accounts.add_user("bob", tenant="t", role="agent")
    assert accounts.authenticate_password("alice", PASSWORD) == Principal("alice", "t", "admin")
    assert accounts.authenticate_password("alice", PASSWORD + "!") is None
    assert accounts.authenticate_password("bob", PASSWORD) is None  # token-only account
    assert accounts.authenticate_password("nobody", PASSWORD) is None


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
