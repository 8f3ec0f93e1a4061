"""The anchor kept outside the audit database: a wiped, replaced, truncated or rolled-back log
is detected, and an anchor kept elsewhere by an operator checks the log too."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from audit_fakes import AGENT, Clock, FakePII, anchor_path, fill, make_answer, problems, tamper
from territoria.audit import AuditLog
from territoria.audit.anchor import Anchor, read_anchor, write_anchor
from territoria.audit.retention import read_head, write_head
from territoria.errors import InvalidRequest
from territoria.settings import Settings


def replace_database(path: Path) -> None:
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        (path.parent / name).unlink(missing_ok=True)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("VACUUM")


# --- a wiped log is detected --------------------------------------------------------------


def test_deleting_every_record_and_the_head_is_detected(
    log: AuditLog, clock: Clock, settings: Settings
) -> None:
    fill(log, clock)
    log.close()
    tamper(log.path, "DELETE FROM records", "DELETE FROM head")
    found = problems(settings)
    assert found and {kind for kind, _ in found} <= {"anchor", "head"}
    assert any("n° 5" in message for _, message in found)


def test_deleting_records_head_and_events_is_detected(
    log: AuditLog, clock: Clock, settings: Settings
) -> None:
    fill(log, clock)
    log.purge_older_than(timedelta(days=2))
    log.close()
    tamper(log.path, "DELETE FROM records", "DELETE FROM head", "DELETE FROM events")
    assert any(kind == "anchor" for kind, _ in problems(settings))


def test_a_database_replaced_by_an_empty_one_is_detected(
    log: AuditLog, clock: Clock, settings: Settings
) -> None:
    fill(log, clock)
    log.close()
    replace_database(log.path)
    found = problems(settings)
    assert any(kind == "anchor" and "n° 5" in message for kind, message in found)


def test_a_deleted_database_is_detected(log: AuditLog, clock: Clock, settings: Settings) -> None:
    fill(log, clock)
    log.close()
    for path in settings.home.glob("audit.sqlite3*"):
        path.unlink()
    assert any(kind == "anchor" for kind, _ in problems(settings))


def test_a_truncated_tail_with_a_rewritten_head_is_detected(
    log: AuditLog, clock: Clock, settings: Settings
) -> None:
    fill(log, clock)
    third = next(r.hash for r in log.records() if r.seq == 3)
    log.close()
    tamper(
        log.path,
        "DELETE FROM records WHERE seq > 3",
        ("UPDATE head SET last_seq = 3, last_hash = ?", (third,)),
    )
    found = problems(settings)
    assert ("anchor" in {kind for kind, _ in found}) and ("head" in {kind for kind, _ in found})


def test_records_without_an_anchor_are_detected(
    log: AuditLog, clock: Clock, settings: Settings
) -> None:
    fill(log, clock)
    log.close()
    anchor_path(settings).unlink()
    found = problems(settings)
    assert [kind for kind, _ in found] == ["anchor"] and "ancre absente" in found[0][1].lower()


def test_a_wiped_log_without_its_anchor_is_still_detected(
    log: AuditLog, clock: Clock, settings: Settings
) -> None:
    """The database remembers it was anchored: deleting the anchor and the rows is seen."""
    fill(log, clock)
    log.close()
    anchor_path(settings).unlink()
    tamper(log.path, "DELETE FROM records", "DELETE FROM head")
    assert [kind for kind, _ in problems(settings)] == ["anchor"]


def test_a_forged_anchor_is_detected(log: AuditLog, clock: Clock, settings: Settings) -> None:
    fill(log, clock)
    log.close()
    data = json.loads(anchor_path(settings).read_text(encoding="utf-8"))
    anchor_path(settings).write_text(json.dumps({**data, "last_seq": 2}), encoding="utf-8")
    assert any("signature" in message for kind, message in problems(settings) if kind == "anchor")
    anchor_path(settings).write_text("pas du JSON", encoding="utf-8")
    assert any("illisible" in message for _, message in problems(settings))


# --- what stays green ---------------------------------------------------------------------


def test_purge_and_redaction_move_the_anchor_and_stay_green(
    log: AuditLog, clock: Clock, settings: Settings
) -> None:
    fill(log, clock, 6)
    log.purge_older_than(timedelta(days=3))  # records 1..3 go
    anchor = read_anchor(anchor_path(settings))
    assert (anchor.last_seq, anchor.purged_total, anchor.records, anchor.last_event) == (6, 3, 3, 1)
    assert log.redact_subject(log.subject_of("alice")) == 3
    anchor = read_anchor(anchor_path(settings))
    assert anchor.last_event == 2
    assert log.verify().ok
    log.purge_older_than(timedelta(hours=1))  # everything goes
    result = log.verify()
    assert result.ok and result.records == 0
    assert read_anchor(anchor_path(settings)).records == 0


def test_purged_records_are_explained_by_the_checkpoint(
    log: AuditLog, clock: Clock, settings: Settings
) -> None:
    """Fewer rows than the anchor says is fine when a signed checkpoint explains them, not when
    rows go without one."""
    fill(log, clock, 6)
    log.purge_older_than(timedelta(days=2))
    assert log.verify().ok
    log.close()
    tamper(log.path, "DELETE FROM records")
    assert any(kind == "anchor" for kind, _ in problems(settings))


# --- external anchor ----------------------------------------------------------------------


def test_an_exported_anchor_checks_the_log(
    log: AuditLog, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    fill(log, clock, 4)
    kept = tmp_path / "ancre.json"
    kept.write_text(json.dumps(log.anchor()), encoding="utf-8")
    fill(log, clock, 3)
    log.purge_older_than(timedelta(days=5))  # purges n° 1 and 2, before the kept n° 4
    log.redact_subject(log.subject_of("alice"))
    assert problems(settings, kept) == []
    third = next(r.hash for r in log.records() if r.seq == 3)
    log.close()
    # An intruder who also holds the key cuts the tail and re-signs the head and the local
    # anchor: the log checks out locally, only the anchor kept elsewhere sees the cut.
    tamper(log.path, "DELETE FROM records WHERE seq >= 4")
    with closing(sqlite3.connect(log.path, isolation_level=None)) as conn:
        head = read_head(conn)
        assert head is not None
        write_head(
            conn,
            log._sign_key,
            last_seq=3,
            last_hash=third,
            last_event=head["last_event"],
            event_hash_=head["event_hash"],
        )
    forged = Anchor.signed(
        log._sign_key,
        last_seq=3,
        last_hash=third,
        last_event=head["last_event"],
        event_hash=head["event_hash"],
        purged_total=2,
        time="2025-01-01T00:00:00.000000+00:00",
    )
    write_anchor(anchor_path(settings), forged)
    assert problems(settings) == []
    found = problems(settings, kept)
    assert found and all(kind == "anchor" and "externe" in message for kind, message in found)
    assert "n° 4" in found[0][1]


def test_an_exported_anchor_sees_a_replaced_record(
    log: AuditLog, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    fill(log, clock, 3)
    kept = tmp_path / "ancre.json"
    kept.write_text(json.dumps(log.anchor()), encoding="utf-8")
    log.close()
    tamper(log.path, "UPDATE records SET hash = 'x' WHERE seq = 3")
    found = problems(settings, kept)
    assert any(kind == "anchor" and "n° 3" in message for kind, message in found)


def test_an_anchor_of_another_home_is_refused(
    log: AuditLog, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    fill(log, clock, 2)
    other = Settings(home=tmp_path / "other", embedder="fake", title_embedder="fake")
    with AuditLog(other, pii=FakePII()) as foreign:
        foreign.record(make_answer(), AGENT)
        kept = tmp_path / "ancre.json"
        kept.write_text(json.dumps(foreign.anchor()), encoding="utf-8")
    assert any("signature" in message for _, message in problems(settings, kept))
    with pytest.raises(InvalidRequest, match="introuvable"):
        problems(settings, tmp_path / "absente.json")


def test_anchor_export_is_refused_on_a_tampered_log(log: AuditLog, clock: Clock) -> None:
    fill(log, clock, 3)
    tamper(log.path, "UPDATE records SET tenant = 'autre' WHERE seq = 2")
    with pytest.raises(InvalidRequest, match="ancre"):
        log.anchor()
