"""The generative mode against a real OpenAI-compatible server (llama.cpp, SmolLM2-135M).

The model is tiny and says many things its sources do not: these tests check the plumbing and
the verification contract (what is kept is supported and cited, what is not is dropped, a
failing server falls back to the extractive answer), never the model's quality. Generation is
deterministic (temperature 0, fixed seed, one thread, pinned model and server).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from audit_fakes import FakePII
from helpers import write_corpus
from territoria.answer import Assistant
from territoria.answer.generative import cited_sentences, verify
from territoria.ingest import ingest_paths
from territoria.llm import LLM, Completion, Message, Options
from territoria.llm.openai_compat import OpenAICompatLLM
from territoria.runtime import Runtime
from territoria.settings import Settings

# Short one-fact documents beside the mini corpus: a 135M model copies some of them, and
# garbles others, so both sides of the verification are exercised.
SIMPLE = {
    "piscine.md": "# Piscine municipale\n\nLa piscine municipale est fermée le lundi.\n",
    "bibliotheque.md": "# Bibliothèque\n\nLa bibliothèque prête dix livres par personne.\n",
    "marche.md": "# Marché\n\nLe marché a lieu le samedi matin sur la place de l'église.\n",
}
QUESTIONS = (
    "Quel est le prix du repas à la cantine ?",
    "Quels sont les horaires de la mairie ?",
    "Combien de livres prête la bibliothèque ?",
    "Quand a lieu le marché ?",
)


class Recording:
    """A real LLM client, passed through: keeps what was sent and what came back."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner
        self.name = inner.name
        self.sent: list[list[Message]] = []
        self.received: list[Completion] = []

    def complete(self, messages: Sequence[Message], *, options: Options) -> Completion:
        self.sent.append(list(messages))
        completion = self.inner.complete(messages, options=options)
        self.received.append(completion)
        return completion


@pytest.fixture
def loaded(runtime: Runtime, tmp_path: Path) -> Runtime:
    docs = write_corpus(tmp_path / "docs")
    for name, text in SIMPLE.items():
        (docs / name).write_text(text, encoding="utf-8")
    ingest_paths([docs], settings=runtime.settings, store=runtime.store)
    return runtime


def server_settings(settings: Settings, url: str, **update: object) -> Settings:
    """`settings` pointed at the server (declared local unless told). The abstention
    threshold is 0 so that every question reaches the model: the plumbing is under test."""
    base: dict[str, object] = {
        "llm_url": url,
        "llm_model": "smollm2-135m-instruct",
        "llm_local": True,
        "llm_max_tokens": 48,
        "llm_timeout_s": 120.0,
        "abstain_threshold": 0.0,
    }
    return settings.model_copy(update=base | update)


@pytest.fixture
def client(loaded: Runtime, llm_server: str) -> Iterator[OpenAICompatLLM]:
    llm = OpenAICompatLLM(server_settings(loaded.settings, llm_server))
    yield llm
    llm.close()


def test_real_model_answers_are_verified_sentence_by_sentence(
    loaded: Runtime, llm_server: str, client: OpenAICompatLLM
) -> None:
    settings = server_settings(loaded.settings, llm_server)
    recording = Recording(client)
    assistant = Assistant(settings, loaded.retriever, recording)
    index = loaded.retriever.index()
    kept = dropped = 0
    for question in QUESTIONS:
        answer = assistant.ask(question, mode="generative")
        completion = recording.received[-1]
        assert completion.text and completion.completion_tokens > 0
        assert completion.completion_tokens <= settings.llm_max_tokens
        v = answer.verification
        assert not answer.abstained and answer.citations
        written = cited_sentences(completion.text, len(answer.hits))
        if answer.mode == "generative":
            # Every sentence the model wrote is kept, dropped or a repeat of a kept one.
            assert v.sentences == v.supported + len(v.dropped)
            assert len(written) == v.supported + len(v.dropped) + v.repeated
            # Each kept sentence ends with its markers, and the passage those cite supports it.
            by_n = {c.n: c for c in answer.citations}
            for sentence, marks in re.findall(r"(.+?)\s((?:\[\d+\])+)(?:\s|$)", answer.answer):
                cited = [by_n[int(n)] for n in re.findall(r"\d+", marks)]
                hits = [h for h in answer.hits if h.passage.passage_id == cited[0].passage_id]
                assert verify(f"{sentence} [1]", hits, index.analyze).kept
            kept += v.supported
        else:
            # Nothing could be verified: the extractive answer, saying why.
            assert answer.mode == "extractive" and v.requested_mode == "generative"
            assert "Mode génératif indisponible" in v.fallback
            assert v.dropped and len(v.dropped) == len(written)
        for sentence in v.dropped:
            assert str(sentence).rstrip(" [0123456789]") not in answer.answer
        dropped += len(v.dropped)
    # The tiny model both copies its sources and invents (deterministic for the pinned
    # model): both sides of the contract are exercised.
    assert kept and dropped


def test_question_sent_to_a_non_local_server_is_pseudonymised(
    loaded: Runtime, llm_server: str, client: OpenAICompatLLM
) -> None:
    settings = server_settings(loaded.settings, llm_server, llm_local=False)
    recording = Recording(client)
    assistant = Assistant(settings, loaded.retriever, recording, pii=FakePII())
    answer = assistant.ask(
        "Quel est le prix du repas à la cantine pour Dupont ?", mode="generative"
    )
    prompt = recording.sent[-1][-1].content
    assert "Dupont" not in prompt and "[PERSONNE_abc123]" in prompt
    assert recording.received[-1].text and answer.citations


def test_timeout_gives_a_french_reason_and_the_extractive_answer(
    loaded: Runtime, llm_server: str
) -> None:
    settings = server_settings(loaded.settings, llm_server, llm_timeout_s=0.001)
    llm = OpenAICompatLLM(settings)
    try:
        answer = Assistant(settings, loaded.retriever, llm).ask(
            "Quel est le prix du repas à la cantine ?", mode="generative"
        )
    finally:
        llm.close()
    extractive = loaded.assistant.ask("Quel est le prix du repas à la cantine ?")
    assert answer.mode == "extractive" and not answer.abstained
    assert answer.answer == extractive.answer and answer.citations == extractive.citations
    v = answer.verification
    assert v.requested_mode == "generative" and v.llm_error == "LLMTimeout"
    assert "pas répondu dans le délai fixé (0.001 s)" in v.fallback
    assert "Voici la réponse extractive" in v.fallback
