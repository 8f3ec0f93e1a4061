"""Writing audit records, and catching every kind of tampering with raw SQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from audit_fakes import Clock, FakePII, make_answer, tamper
from territoria.audit import QUESTION_WITHHELD, AuditLog
from territoria.audit.chain import GENESIS, record_hash
from territoria.errors import ConfigError, InvalidRequest, NotFound
from territoria.settings import Settings
from territoria.types import Access, Verification

AGENT = Access(role="agent", tenant="val-fleuri")


def fill(log: AuditLog, clock: Clock, n: int = 5) -> list[str]:
    ids = []
    for i in range(n):
        ids.append(log.record(make_answer(f"Je suis Dupont, question {i}"), AGENT, subject="alice"))
        clock.advance(hours=1)
    return ids


def problems(log: AuditLog) -> list[tuple[str, int | None]]:
    result = log.verify()
    assert result.ok is (not result.problems)
    return [(p.kind, p.seq) for p in result.problems]


def test_record_stores_a_pseudonymised_question_and_the_evidence(
    log: AuditLog, pii: FakePII
) -> None:
    rid = log.record(
        make_answer("Je suis Dupont, horaires ?"), AGENT, subject="alice", request_id="req-1"
    )
    record = log.get(rid)
    assert record.question == "Je suis [PERSONNE_abc123], horaires ?"
    assert pii.calls == [("Je suis Dupont, horaires ?", "val-fleuri")]
    assert (record.tenant, record.role, record.mode, record.request_id) == (
        "val-fleuri",
        "agent",
        "extractive",
        "req-1",
    )
    assert record.subject == log.subject_of("alice") and "alice" not in record.subject
    assert [(p["passage_id"], p["score"], p["cited"]) for p in record.passages] == [
        ("p0", 1.0, True),
        ("p1", 0.5, False),
    ]
    assert record.versions["embedder"] == "fake" and record.versions["territoria"]
    assert record.energy_wh == 0.0012 and record.latency_ms == 12.5
    assert record.prev_hash == GENESIS and record.hash == record_hash(record.as_dict(), GENESIS)
    assert log.get(rid[:8]).record_id == rid


def test_the_database_holds_no_clear_name(log: AuditLog) -> None:
    log.record(make_answer("Je suis Dupont, horaires ?"), AGENT, subject="alice")
    log.close()
    data = b"".join(p.read_bytes() for p in log.path.parent.glob("audit.sqlite3*"))
    assert b"Dupont" not in data and b"alice" not in data
    assert b"PERSONNE_abc123" in data


def test_generative_answers_are_pseudonymised_extractive_ones_are_kept(log: AuditLog) -> None:
    gen = log.get(
        log.record(make_answer(mode="generative", text="M. Martin habite ici [1]"), AGENT)
    )
    ext = log.get(log.record(make_answer(text="Le maire, M. Martin, reçoit le lundi. [1]"), AGENT))
    assert gen.answer == "M. [PERSONNE_abc123] habite ici [1]"
    assert ext.answer == "Le maire, M. Martin, reçoit le lundi. [1]"


def test_dropped_model_sentences_are_pseudonymised_whatever_the_final_mode(
    log: AuditLog,
) -> None:
    # A generative request that fell back to the extractive answer (or abstained) keeps the
    # model's dropped sentences for review: masked like a generative answer's text.
    dropped = ("M. Dupont habite ici.",)
    fallback = Verification("extractive", requested_mode="generative", dropped=dropped)
    declined = Verification("generative", declined=True, dropped=dropped)
    for abstained, verification in ((False, fallback), (True, declined)):
        answer = dataclasses.replace(make_answer(abstained=abstained), verification=verification)
        record = log.get(log.record(answer, AGENT, mode="generative"))
        assert record.verification["dropped"] == ["M. [PERSONNE_abc123] habite ici."]


def test_abstention_is_logged_with_the_mode_asked_for(log: AuditLog) -> None:
    record = log.get(log.record(make_answer(abstained=True), AGENT, mode="generative"))
    assert record.abstained and record.mode == "generative" and record.cited == ()
    assert log.get(log.record(make_answer(abstained=True), AGENT)).mode == "extractive"


def test_question_is_withheld_when_pseudonymisation_is_unavailable(settings: Settings) -> None:
    class Broken:
        def pseudonymize(self, text: str, *, tenant: str = "default") -> FakePII:
            raise ConfigError("extra pii absent")

    with AuditLog(settings, pii=Broken()) as log:  # type: ignore[arg-type]
        record = log.get(log.record(make_answer("Je suis Dupont"), AGENT))
        assert record.question == QUESTION_WITHHELD
        assert log.verify().ok


def test_unknown_or_short_ids_are_refused(log: AuditLog) -> None:
    with pytest.raises(NotFound):
        log.get("ffffffffffff")
    with pytest.raises(InvalidRequest):
        log.get("ab")


def test_records_filters(log: AuditLog, clock: Clock) -> None:
    fill(log, clock, 3)
    log.record(make_answer(), Access(role="public", tenant="autre"), subject="bob")
    assert [r.seq for r in log.records()] == [1, 2, 3, 4]
    assert [r.seq for r in log.records(tenant="autre")] == [4]
    assert [r.seq for r in log.records(subject=log.subject_of("alice"))] == [1, 2, 3]
    assert [r.seq for r in log.records(since=clock.now)] == [4]
    assert [r.seq for r in log.records(limit=2, newest_first=True)] == [4, 3]


def test_fresh_and_filled_logs_verify(log: AuditLog, clock: Clock) -> None:
    assert log.verify().ok and log.verify().records == 0
    fill(log, clock)
    result = log.verify()
    assert (
        result.ok
        and result.records == 5
        and result.head_hash == log.get(next(log.records(newest_first=True)).record_id).hash
    )


def test_appends_from_two_handles_keep_one_chain(
    settings: Settings, pii: FakePII, clock: Clock
) -> None:
    with (
        AuditLog(settings, pii=pii, clock=clock) as a,
        AuditLog(settings, pii=pii, clock=clock) as b,
    ):
        for i in range(6):
            (a if i % 2 else b).record(make_answer(), AGENT)
        assert a.verify().ok and [r.seq for r in b.records()] == [1, 2, 3, 4, 5, 6]


# --- tampering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "kind"),
    [
        ("tenant", "'autre'", "content"),
        ("time", "'2020-01-01T00:00:00.000000+00:00'", "content"),
        ("abstained", "1", "content"),
        ("passages", "'[]'", "content"),
        ("energy_wh", "0.0", "content"),
        ("question", "'Question réécrite'", "personal"),
        ("answer", "'Réponse réécrite'", "personal"),
        ("subject", "NULL", "personal"),
    ],
)
def test_an_edited_field_is_caught_on_its_record(
    log: AuditLog, clock: Clock, column: str, value: str, kind: str
) -> None:
    fill(log, clock)
    tamper(log.path, f"UPDATE records SET {column} = {value} WHERE seq = 3")
    assert problems(log) == [(kind, 3)]


def test_a_deleted_record_is_caught(log: AuditLog, clock: Clock) -> None:
    fill(log, clock)
    tamper(log.path, "DELETE FROM records WHERE seq = 2")
    assert problems(log) == [("missing", 3), ("anchor", None)]  # the anchor counts 5 rows


def test_a_deleted_last_record_is_caught_by_the_head(log: AuditLog, clock: Clock) -> None:
    fill(log, clock)
    tamper(log.path, "DELETE FROM records WHERE seq = 5")
    assert problems(log) == [("head", None), ("anchor", 5)]


def test_a_deleted_head_is_caught(log: AuditLog, clock: Clock) -> None:
    fill(log, clock)
    tamper(log.path, "DELETE FROM head")
    assert [kind for kind, _ in problems(log)] == ["head"]


def test_swapped_records_are_caught(log: AuditLog, clock: Clock) -> None:
    fill(log, clock)
    tamper(
        log.path,
        "UPDATE records SET seq = -1 WHERE seq = 2",
        "UPDATE records SET seq = 2 WHERE seq = 3",
        "UPDATE records SET seq = 3 WHERE seq = -1",
    )
    found = problems(log)
    assert ("link", 2) in found and ("content", 2) in found and ("content", 3) in found


def test_a_deleted_first_record_is_caught(log: AuditLog, clock: Clock) -> None:
    fill(log, clock)
    tamper(log.path, "DELETE FROM records WHERE seq = 1")
    assert problems(log) == [("checkpoint", 2), ("anchor", None)]


def test_a_rewritten_chain_is_caught_by_the_head_signature(log: AuditLog, clock: Clock) -> None:
    """An intruder who recomputes every hash after an edit still lacks the signing key."""
    fill(log, clock)
    tamper(log.path, "UPDATE records SET tenant = 'autre' WHERE seq = 4")
    prev = next(r.hash for r in log.records() if r.seq == 3)
    rewrites: list[tuple[str, tuple[object, ...]]] = []
    for record in log.records():
        if record.seq >= 4:
            new = record_hash(record.as_dict(), prev)
            rewrites.append(
                (
                    "UPDATE records SET prev_hash = ?, hash = ? WHERE seq = ?",
                    (prev, new, record.seq),
                )
            )
            prev = new
    tamper(log.path, *rewrites, ("UPDATE head SET last_hash = ?", (prev,)))
    assert [r.prev_hash for r in log.records()][4] == rewrites[-1][1][0]  # the rewrite took
    assert problems(log) == [("head", None), ("anchor", 5)]  # the anchor names the old n° 5


def test_a_record_faked_as_redacted_is_caught(log: AuditLog, clock: Clock) -> None:
    fill(log, clock)
    tamper(
        log.path,
        "UPDATE records SET question = NULL, answer = NULL, redacted_at = '2025' WHERE seq = 2",
    )
    assert problems(log) == [("redaction", 2)]


def test_the_key_is_not_in_the_database(log: AuditLog, settings: Settings) -> None:
    assert (settings.home / "pii.key").exists()
    assert not any(
        (settings.home / "pii.key").read_text().strip().encode() in p.read_bytes()
        for p in Path(log.path).parent.glob("audit.sqlite3*")
    )


def test_the_real_pii_guard_is_the_default(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import territoria.guard.pii as pii_module

    built: list[Settings] = []

    class Guard(FakePII):
        def __init__(self, settings: Settings) -> None:
            super().__init__()
            built.append(settings)

    monkeypatch.setattr(pii_module, "PIIGuard", Guard)
    with AuditLog(settings) as log:
        record = log.get(log.record(make_answer("Je suis Dupont"), AGENT))
    assert built == [settings] and record.question == "Je suis [PERSONNE_abc123]"


def test_records_are_read_in_batches(
    log: AuditLog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import territoria.audit.log as log_module

    monkeypatch.setattr(log_module, "_BATCH", 2)
    fill(log, clock, 7)
    assert [r.seq for r in log.records()] == [1, 2, 3, 4, 5, 6, 7]
    assert [r.seq for r in log.records(newest_first=True, limit=5)] == [7, 6, 5, 4, 3]
    assert [r.seq for r in log.records(since=clock.now - timedelta(hours=3))] == [5, 6, 7]
    assert log.verify().records == 7


def test_logging_goes_on_after_a_deleted_head_and_the_deletion_stays_visible(
    log: AuditLog, clock: Clock
) -> None:
    fill(log, clock, 4)
    tamper(log.path, "DELETE FROM records WHERE seq = 4", "DELETE FROM head")
    rid = log.record(make_answer(), AGENT)
    assert log.get(rid).seq == 4
    fill(log, clock, 2)
    found = problems(log)
    assert found == [("head", None), ("anchor", None)]  # the anchor confirms the cut tail
    messages = [p.message for p in log.verify().problems]
    assert "reconstruite" in messages[0] and "n° 4" in messages[1]
