"""The state of a home besides documents (accounts, tokens, sessions, failed logins, feedback,
the upload journal, the audit chain), run on every backend: SQLite files and a real PostgreSQL
server. What only one engine does is tested beside its module; this is what both must do the
same way, including what replicas rely on: two handles on one PostgreSQL database (two homes,
as two replicas have) see the same accounts and append to one audit chain. The fixture
`replicas` (tests/conftest.py) gives the two homes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from audit_fakes import Clock, FakePII, make_answer
from territoria.accounts import Accounts
from territoria.audit import AuditLog
from territoria.errors import AuthenticationFailed, Conflict, NotFound
from territoria.feedback import FeedbackStore
from territoria.ingest import FileResult
from territoria.ingest.journal import IngestJournal
from territoria.settings import Settings
from territoria.types import Access

PASSWORD = "correct horse battery"
AGENT = Access(role="agent", tenant="ville")


@pytest.fixture
def one(replicas: tuple[Settings, Settings]) -> Settings:
    return replicas[0]


def test_a_user_created_on_one_replica_signs_in_on_the_other(
    replicas: tuple[Settings, Settings],
) -> None:
    first, second = replicas
    with Accounts(first) as a, Accounts(second) as b:
        a.add_user("alice", tenant="ville", role="agent", password=PASSWORD)
        with pytest.raises(Conflict):
            b.add_user("alice", tenant="autre", role="agent")
        principal = b.authenticate_password("alice", PASSWORD)
        assert (principal.user, principal.tenant, principal.role) == ("alice", "ville", "agent")
        session = a.start_session(principal)
        assert b.resolve_session(session) == principal
        assert b.end_session(session)
        assert a.resolve_session(session) is None
        issued = b.create_token("alice", expires_in=timedelta(days=1))
        assert a.authenticate_token(issued.token) == principal
        a.revoke_token(issued.token_id)
        assert b.authenticate_token(issued.token) is None
        assert [u.name for u in b.list_users(tenant="ville")] == ["alice"]
        assert len(b.list_users()[0].tokens) == 1


def test_failed_logins_lock_a_name_on_every_replica(replicas: tuple[Settings, Settings]) -> None:
    first, second = replicas
    with Accounts(first) as a, Accounts(second) as b:
        a.add_user("bob", tenant="ville", role="agent", password=PASSWORD)
        for accounts in (a, b, a, b, a):
            with pytest.raises(AuthenticationFailed):
                accounts.authenticate_password("bob", "wrong password!!")
        assert b.login_state("bob").locked_until is not None
        assert a.unlock("bob")
        assert b.login_state("bob").failures == 0


def test_deleting_a_user_ends_their_sessions_and_tokens(one: Settings) -> None:
    with Accounts(one) as accounts:
        accounts.add_user("carol", tenant="ville", role="admin", password=PASSWORD)
        principal = accounts.authenticate_password("carol", PASSWORD)
        session = accounts.start_session(principal)
        accounts.create_token("carol")
        assert accounts.delete_user("carol") == 1
        assert accounts.resolve_session(session) is None
        assert accounts.sessions.count() == 0
        with pytest.raises(NotFound):
            accounts.delete_user("carol")


def test_users_are_listed_by_tenant_then_name_in_code_point_order(one: Settings) -> None:
    with Accounts(one) as accounts:
        for name, tenant in (("b", "t2"), ("a", "t1"), ("Z", "t1")):
            accounts.add_user(name, tenant=tenant, role="agent")
        assert [(u.tenant, u.name) for u in accounts.list_users()] == [
            ("t1", "Z"),
            ("t1", "a"),
            ("t2", "b"),
        ]


def test_feedback_and_the_upload_journal(replicas: tuple[Settings, Settings]) -> None:
    first, second = replicas
    with FeedbackStore(first, pii=FakePII()) as a, FeedbackStore(second, pii=FakePII()) as b:
        a.add("r1", useful=False, reason="M. Dupont n'a pas eu sa réponse", tenant="ville")
        b.add("r2", useful=True, tenant="autre")
        items = list(b.items(tenant="ville"))
        assert [(f.request_id, f.useful) for f in items] == [("r1", False)]
        assert items[0].reason is not None and "Dupont" not in items[0].reason
        assert {f.request_id for f in a.items()} == {"r1", "r2"}
    with IngestJournal(first) as a, IngestJournal(second) as b:
        a.add(FileResult("x.pdf", "failed", (), "PDF sans texte"), tenant="ville", user="alice")
        b.add(FileResult("y.md", "failed", (), "vide"), tenant="ville", user="bob")
        b.add(FileResult("y.md", "ingested", ("y",), ""), tenant="ville", user="bob")
        b.add(FileResult("z.md", "failed", (), "vide"), tenant="autre", user="bob")
        failed = a.failures(tenant="ville")
        assert [(f.file_name, f.reason) for f in failed] == [("x.pdf", "PDF sans texte")]


def test_two_replicas_append_to_one_chain(replicas: tuple[Settings, Settings]) -> None:
    first, second = replicas
    clock = Clock()
    with (
        AuditLog(first, pii=FakePII(), clock=clock) as a,
        AuditLog(second, pii=FakePII(), clock=clock) as b,
    ):

        def write(log: AuditLog, n: int) -> None:
            for _ in range(n):
                log.record(make_answer("Je suis M. Dupont, horaires ?"), AGENT, subject="alice")

        with ThreadPoolExecutor(max_workers=2) as pool:
            for done in [pool.submit(write, log, 15) for log in (a, b)]:
                done.result()
        assert [r.seq for r in a.records()] == list(range(1, 31))
        for log in (a, b):
            result = log.verify()
            assert result.ok, result.problems
            assert result.records == 30
        clock.advance(days=2)
        write(b, 2)
        assert a.purge_older_than(timedelta(days=1)) is not None
        assert a.redact_subject(a.subject_of("alice")) == 2
        assert b.verify().ok and a.verify().ok
        record = next(iter(b.records()))
        assert record.seq == 31 and record.question is None
