"""Retention purge and erasure keep the log verifiable, and their own records are guarded."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from audit_fakes import Clock, make_answer, tamper
from territoria.audit import AuditLog, parse_duration
from territoria.audit.chain import canonical, event_hash
from territoria.audit.retention import parse_since
from territoria.errors import InvalidRequest
from territoria.types import Access

AGENT = Access(role="agent", tenant="val-fleuri")


def daily(log: AuditLog, clock: Clock, days: int, subject: str = "alice") -> None:
    for _ in range(days):
        log.record(make_answer("Je suis Dupont"), AGENT, subject=subject)
        clock.advance(days=1)


def kinds(log: AuditLog) -> list[str]:
    return [p.kind for p in log.verify().problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("6m", timedelta(days=180)),
        ("2w", timedelta(days=14)),
        ("1y", timedelta(days=365)),
        (" 30D ", timedelta(days=30)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "90", "d90", "0d", "-3d", "1.5d", "3 jours"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_duration(text)


def test_since_accepts_a_duration_or_a_date(clock: Clock) -> None:
    assert parse_since("7d", clock.now) == clock.now - timedelta(days=7)
    assert parse_since("2024-12-31", clock.now).isoformat() == "2024-12-31T00:00:00+00:00"
    with pytest.raises(InvalidRequest):
        parse_since("hier", clock.now)


def test_since_at_the_edges_of_time_does_not_overflow(log: AuditLog, clock: Clock) -> None:
    """Found by schemathesis on GET /api/audit/export: these were HTTP 500."""
    earliest = datetime.min.replace(tzinfo=UTC)
    assert parse_since("0001-01-01T00:00:00+14:00", clock.now) == earliest
    assert parse_since("999999y", clock.now) == earliest
    assert parse_since("9999-12-31T23:59:59-12:00", clock.now).year == 9999
    assert parse_since("2024-12-31T10:00:00+02:00", clock.now).utcoffset() == timedelta(0)
    daily(log, clock, 2)
    assert len(list(log.records(since=parse_since("0001-01-01T00:00:00+14:00", clock.now)))) == 2


def test_purge_removes_old_records_and_keeps_verify_green(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 10)  # days 0..9, now = day 10
    checkpoint = log.purge_older_than(timedelta(days=4))  # keeps days 6..9
    assert checkpoint is not None and checkpoint["purged"] == 6 and checkpoint["last_seq"] == 6
    assert [r.seq for r in log.records()] == [7, 8, 9, 10]
    result = log.verify()
    assert result.ok and result.records == 4 and result.checkpoint == checkpoint
    daily(log, clock, 2)
    assert log.verify().ok and [r.seq for r in log.records()][-1] == 12


def test_nothing_old_enough_writes_no_checkpoint(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 3)
    assert log.purge_older_than(timedelta(days=30)) is None
    assert log.verify().ok and log.verify().checkpoint is None


def test_successive_purges_and_a_full_purge(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 10)
    log.purge_older_than(timedelta(days=8))
    second = log.purge_older_than(timedelta(days=5))
    assert second is not None and second["purged"] == 3 and second["purged_total"] == 5
    assert log.verify().ok
    last = log.purge_older_than(timedelta(hours=1))
    assert last is not None and last["purged_total"] == 10
    result = log.verify()
    assert result.ok and result.records == 0 and result.head_hash == last["last_hash"]
    daily(log, clock, 1)
    assert log.verify().ok and next(log.records()).seq == 11


def test_a_deleted_checkpoint_is_caught(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 6)
    log.purge_older_than(timedelta(days=3))
    tamper(log.path, "DELETE FROM events")
    assert kinds(log) == ["checkpoint", "head", "anchor", "anchor"]  # event gone, purge gone


def test_an_older_checkpoint_cannot_stand_for_the_latest(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 8)
    log.purge_older_than(timedelta(days=6))
    log.purge_older_than(timedelta(days=3))
    tamper(log.path, "DELETE FROM events WHERE event_seq = 2")
    assert kinds(log) == ["missing", "head", "anchor", "anchor"]


def test_an_edited_checkpoint_is_caught(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 6)
    log.purge_older_than(timedelta(days=3))
    tamper(log.path, "UPDATE events SET body = replace(body, '\"purged\":3', '\"purged\":1')")
    assert "event" in kinds(log)


def test_a_forged_checkpoint_is_caught_by_its_signature(log: AuditLog, clock: Clock) -> None:
    """Rewriting the checkpoint and recomputing its hash is not enough without the key."""
    daily(log, clock, 6)
    log.purge_older_than(timedelta(days=3))
    log.close()
    with closing(sqlite3.connect(log.path)) as conn:
        row = conn.execute("SELECT event_seq, kind, time, body, prev_hash FROM events").fetchone()
    event = dict(zip(("event_seq", "kind", "time", "body", "prev_hash"), row, strict=True))
    event["body"] = {**json.loads(event["body"]), "purged": 1, "purged_total": 1}
    forged = event_hash(event, event["prev_hash"])
    tamper(
        log.path,
        ("UPDATE events SET body = ?, hash = ?", (canonical(event["body"]).decode(), forged)),
        ("UPDATE head SET event_hash = ?", (forged,)),
    )
    reopened = AuditLog(log.settings)
    try:
        messages = [p.message for p in reopened.verify().problems]
    finally:
        reopened.close()
    assert any("signature invalide" in m for m in messages)
    assert any("tête du journal" in m for m in messages)


def test_tampering_after_a_purge_is_still_caught(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 6)
    log.purge_older_than(timedelta(days=3))
    tamper(log.path, "UPDATE records SET tenant = 'autre' WHERE seq = 5")
    assert [(p.kind, p.seq) for p in log.verify().problems] == [("content", 5)]
    tamper(log.path, "DELETE FROM records WHERE seq = 4")  # first record after the checkpoint
    assert ("missing", 5) in [(p.kind, p.seq) for p in log.verify().problems]


def test_purge_refuses_a_tampered_log(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 6)
    tamper(log.path, "UPDATE records SET tenant = 'autre' WHERE seq = 2")
    with pytest.raises(InvalidRequest, match="purge refusée"):
        log.purge_older_than(timedelta(days=1))
    assert len(list(log.records())) == 6


def test_erasure_redacts_one_subject_and_keeps_verify_green(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 2, subject="alice")
    daily(log, clock, 2, subject="bob")
    daily(log, clock, 1, subject="alice")
    assert log.redact_subject(log.subject_of("alice")) == 3
    result = log.verify()
    assert result.ok and result.redacted == 3 and result.records == 5
    redacted = [r for r in log.records() if r.redacted_at]
    assert [r.seq for r in redacted] == [1, 2, 5]
    for r in redacted:
        assert (r.question, r.answer, r.subject, r.request_id, r.nonce) == (None,) * 5
        assert r.passages and r.tenant == "val-fleuri"  # statistics survive
    bob = [r for r in log.records() if not r.redacted_at]
    assert all(r.question == "Je suis [PERSONNE_abc123]" for r in bob)
    assert log.redact_subject(log.subject_of("alice")) == 0


def test_a_deleted_redaction_event_is_caught(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 3)
    log.redact_subject(log.subject_of("alice"))
    tamper(log.path, "DELETE FROM events")
    assert set(kinds(log)) == {"redaction", "head", "anchor"}


def test_purging_redacted_records_keeps_verify_green(log: AuditLog, clock: Clock) -> None:
    daily(log, clock, 6)
    log.redact_subject(log.subject_of("alice"))
    log.purge_older_than(timedelta(days=3))
    assert log.verify().ok and len(list(log.records())) == 3
