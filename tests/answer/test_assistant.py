"""The question path end to end on a small real store (fake embedder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit_fakes import FakePII, Found
from helpers import write_corpus, write_internal
from territoria.answer import Assistant, without_strangers
from territoria.errors import ConfigError, InvalidRequest
from territoria.ingest import ingest_paths
from territoria.llm.fake import FakeLLM
from territoria.runtime import Runtime
from territoria.types import Access


@pytest.fixture
def loaded(runtime: Runtime, tmp_path: Path) -> Runtime:
    ingest_paths([write_corpus(tmp_path / "docs")], settings=runtime.settings, store=runtime.store)
    ingest_paths(
        [write_internal(tmp_path / "internal")],
        settings=runtime.settings,
        store=runtime.store,
        visibility="internal",
    )
    return runtime


def test_answer_cites_the_right_document(loaded: Runtime) -> None:
    answer = loaded.assistant.ask("Quel est le prix du repas à la cantine ?")
    assert not answer.abstained
    assert answer.citations[0].doc_id == "cantine"
    assert "3,10 euros" in answer.answer
    assert answer.energy.wh > 0 and answer.latency_ms > 0
    retrieved = {h.passage.passage_id for h in answer.hits}
    assert {c.passage_id for c in answer.citations} <= retrieved


def test_a_stranger_s_name_is_left_out_of_the_search(loaded: Runtime) -> None:
    plain = loaded.assistant.ask("Quel est le prix du repas à la cantine ?")
    named = loaded.assistant.ask(
        "Bonjour, je suis Marie Dupont : quel est le prix du repas à la cantine ?"
    )
    assert not named.abstained and named.answer == plain.answer
    assert named.query is not None and not {"mari", "dupont"} & set(named.query.weights())
    assert "Marie Dupont" in named.question  # kept as asked (the audit pseudonymises it)


class _Lexicon:
    def __init__(self, words: set[str]) -> None:
        self.words = words

    def analyze(self, text: str) -> list[str]:
        return [w.lower() for w in re.findall(r"\w+", text)]

    def knows(self, term: str) -> bool:
        return term in self.words


def test_only_identifiers_the_corpus_does_not_hold_are_left_out() -> None:
    question = "M. Durand a voté le budget ? Appelez Paul Martin au 06 12 34 56 78, 3 rue Haute"
    found = [
        Found(question.index("Durand"), question.index("Durand") + 6, "PERSON"),
        Found(question.index("Paul"), question.index("Martin") + 6, "PERSON"),
        Found(question.index("06"), question.index("78") + 2, "PHONE"),
        Found(question.index("3 rue"), len(question), "ADDRESS"),
    ]
    corpus = {"durand", "budget", "paul"}  # the minutes name Mr Durand; Paul Martin is unknown
    out = without_strangers(question, found, _Lexicon(corpus))  # type: ignore[arg-type]
    assert out == "M. Durand a voté le budget ? Appelez au , 3 rue Haute"


def test_out_of_scope_question_abstains_with_contact(loaded: Runtime) -> None:
    answer = loaded.assistant.ask("Qui a remporté la coupe du monde de football en 1998 ?")
    assert answer.abstained
    assert answer.citations == ()
    assert loaded.settings.contact in answer.answer


def test_public_role_never_gets_internal_passages(loaded: Runtime) -> None:
    question = "code d'accès du local des archives état civil"
    public = loaded.assistant.ask(question, access=Access(role="public"))
    assert all(c.doc_id != "procedure-accueil" for c in public.citations)
    assert all(h.passage.visibility == "public" for h in public.hits)
    agent = loaded.assistant.ask(question, access=Access(role="agent"))
    assert agent.citations and agent.citations[0].doc_id == "procedure-accueil"


def test_empty_and_huge_questions_are_refused(loaded: Runtime) -> None:
    with pytest.raises(InvalidRequest):
        loaded.assistant.ask("   ")
    with pytest.raises(InvalidRequest):
        loaded.assistant.ask("a" * 5000)


def test_generative_mode_keeps_only_verified_sentences(loaded: Runtime) -> None:
    llm = FakeLLM(invent="Le maire offre un vélo électrique à chaque habitant [1].")
    assistant = Assistant(loaded.settings, loaded.retriever, llm, pii=FakePII())
    answer = assistant.ask("Quel est le prix du repas à la cantine ?", mode="generative")
    assert not answer.abstained
    assert "vélo" not in answer.answer
    assert answer.verification.dropped == (
        "Le maire offre un vélo électrique à chaque habitant [1]",
    )
    assert answer.citations and answer.verification.method == "generative"


def test_question_is_pseudonymised_before_a_remote_model(loaded: Runtime) -> None:
    llm = FakeLLM()
    answering = loaded.settings.model_copy(update={"abstain_threshold": 0.0})  # always answer
    assistant = Assistant(answering, loaded.retriever, llm, pii=FakePII())
    assistant.ask("Quel est le prix du repas à la cantine pour Dupont ?", mode="generative")
    prompt = llm.calls[-1][-1].content
    assert "Dupont" not in prompt and "[PERSONNE_abc123]" in prompt
    with pytest.raises(ConfigError):  # no guard, remote server: refused, never sent in clear
        Assistant(answering, loaded.retriever, FakeLLM()).ask(
            "Quel est le prix du repas à la cantine pour Dupont ?", mode="generative"
        )


def test_generative_mode_needs_a_configured_server(loaded: Runtime) -> None:
    with pytest.raises(InvalidRequest):
        loaded.assistant.ask("Horaires de la mairie ?", mode="generative")


def test_row_of_a_long_table_cut_between_passages_keeps_its_header(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "tarifs"
    folder.mkdir()
    rows = "\n".join(
        f"| Salle municipale numéro {n} du quartier {n} | {100 + n} € |" for n in range(60)
    )
    (folder / "salles.md").write_text(
        "# Tarifs des salles municipales\n\n| Salle | Tarif journée |\n|---|---|\n" + rows + "\n",
        encoding="utf-8",
    )
    ingest_paths([folder], settings=runtime.settings, store=runtime.store)
    first = runtime.retriever.passages(Access().tenant)
    assert len(first) >= 2  # the table is cut between passages
    _, extract, _ = runtime.assistant.evidence(
        "Tarif journée de la salle municipale numéro 57 ?", access=Access()
    )
    assert "Tarif journée : 157 €" in extract.text
    assert extract.citations[0].passage_id != "salles#0"  # the row is in a later passage
    before = runtime.retriever.passages_before("salles#1", Access().tenant, n=3)
    assert [p.passage_id for p in before] == ["salles#0"]
