"""Replaying a logged request: the diff on a scripted assistant, then end to end."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from audit_fakes import FakePII, make_answer
from helpers import write_corpus
from territoria.audit import AuditLog, replay
from territoria.errors import InvalidRequest
from territoria.ingest import ingest_paths
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access, Answer, Citation, Hit

AGENT = Access(role="agent", tenant="val-fleuri")


class Scripted:
    """An assistant whose next answer the test sets; records how it was asked."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.asked: list[tuple[str, Access | None, str]] = []

    def ask(
        self,
        question: str,
        *,
        access: Access | None = None,
        mode: str = "extractive",
        previous: Sequence[str] = (),
    ) -> Answer:
        self.asked.append((question, access, mode))
        self.previous = list(previous)
        return self.answer


def test_replay_asks_the_pseudonymised_question_with_the_same_access(log: AuditLog) -> None:
    logged = make_answer("Je suis Dupont, horaires ?")
    rid = log.record(logged, AGENT, mode="generative")
    assistant = Scripted(logged)
    result = replay(log, rid, assistant)
    assert assistant.asked == [("Je suis [PERSONNE_abc123], horaires ?", AGENT, "generative")]
    assert not result.changed and result.versions_changed == {}
    assert all(s["delta"] == 0 for s in result.scores)


def test_replay_reports_answer_citations_and_scores(log: AuditLog) -> None:
    logged = make_answer(n=2)
    rid = log.record(logged, AGENT)
    new_hits = (Hit(logged.hits[1].passage, score=0.9),)
    new = replace(
        logged,
        answer="Texte 1. [1]",
        hits=new_hits,
        citations=(Citation(1, "d1", "p1", "Doc 1", "doc1.md", "Texte 1."),),
    )
    result = replay(log, rid, Scripted(new))
    assert result.answer_changed and result.changed
    assert result.citations_added == ("p1",) and result.citations_removed == ("p0",)
    scores = {s["passage_id"]: s for s in result.scores}
    assert scores["p0"] == {"passage_id": "p0", "before": 1.0, "after": None, "delta": None}
    assert scores["p1"]["delta"] == pytest.approx(0.4)


def test_replay_pseudonymises_a_new_generative_answer(log: AuditLog) -> None:
    logged = make_answer(mode="generative", text="M. Dupont est reçu le lundi [1]")
    rid = log.record(logged, AGENT)
    result = replay(log, rid, Scripted(logged))
    assert not result.answer_changed
    assert result.after["answer"] == "M. [PERSONNE_abc123] est reçu le lundi [1]"


def test_replay_reports_changed_versions(settings: Settings, log: AuditLog) -> None:
    rid = log.record(make_answer(), AGENT)
    changed = settings.model_copy(update={"abstain_threshold": 0.99})
    with AuditLog(changed, pii=FakePII()) as other:
        result = replay(other, rid, Scripted(make_answer(abstained=True)))
    assert result.abstained_changed and result.after["abstained"]
    assert result.versions_changed["answer"]["after"]["abstain_threshold"] == 0.99


def test_a_redacted_record_cannot_be_replayed(log: AuditLog) -> None:
    rid = log.record(make_answer(), AGENT, subject="alice")
    log.redact_subject(log.subject_of("alice"))
    with pytest.raises(InvalidRequest, match="effacé"):
        replay(log, rid, Scripted(make_answer()))


# --- end to end -------------------------------------------------------------------------------

QUESTION = "Quel est le prix du repas à la cantine ?"


@pytest.fixture
def loaded(runtime: Runtime, tmp_path: Path) -> Runtime:
    ingest_paths([write_corpus(tmp_path / "docs")], settings=runtime.settings, store=runtime.store)
    return runtime


@pytest.fixture
def audit(loaded: Runtime, pii: FakePII) -> Iterator[AuditLog]:
    with AuditLog(loaded.settings, pii=pii) as log:
        yield log


def test_replay_on_the_real_assistant(loaded: Runtime, audit: AuditLog, tmp_path: Path) -> None:
    rid = audit.record(loaded.assistant.ask(QUESTION), Access())
    same = replay(audit, rid, loaded.assistant)
    assert not same.changed and same.before["citations"] != []
    docs = tmp_path / "docs"
    (docs / "cantine.md").write_text(
        "# Restauration scolaire\n\n## Tarifs\n\nLe prix du repas à la cantine est de 3,50 "
        "euros pour tous les enfants de la commune.\n",
        encoding="utf-8",
    )
    ingest_paths([docs], settings=loaded.settings, store=loaded.store)
    changed = replay(audit, rid, loaded.assistant)
    assert changed.answer_changed and "3,50 euros" in changed.after["answer"]
    assert "3,10 euros" in changed.before["answer"]
