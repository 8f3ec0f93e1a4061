"""Answering a question: search -> extractive (or verified generative) answer -> abstention.

The default mode is extractive: verbatim sentences with numbered citations. The assistant
abstains, with the configured contact line, when the evidence is weak (see `abstain.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from territoria.answer.abstain import confidence
from territoria.answer.extractive import Analyzer, compose
from territoria.answer.generative import PROMPT_VERSION, generate, prompt_safe
from territoria.energy import Meter
from territoria.errors import ConfigError, InvalidRequest
from territoria.llm import LLM
from territoria.search import Retriever
from territoria.settings import Settings
from territoria.types import Access, Answer, Citation, Hit

Mode = Literal["extractive", "generative"]
_CONTEXT_HITS = 5
MAX_QUESTION_CHARS = 2000
MAX_PREVIOUS = 3  # earlier questions of a conversation taken into account


class Pseudonymizer(Protocol):
    def pseudonymize(self, text: str, *, tenant: str = "default") -> Any: ...


class Assistant:
    """`pii` pseudonymises questions before they reach an LLM server not declared local."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        llm: LLM | None = None,
        pii: Pseudonymizer | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.llm = llm
        self.pii = pii

    def abstention_text(self) -> str:
        return (
            "Je ne trouve pas de réponse à cette question dans les documents de la collectivité. "
            + self.settings.contact
        )

    def ask(
        self,
        question: str,
        *,
        access: Access | None = None,
        mode: Mode = "extractive",
        previous: Sequence[str] = (),
    ) -> Answer:
        """Answer `question`; `previous` are the conversation's earlier questions (most recent
        last, at most 3 used): a follow-up ("et le samedi ?") is searched with the terms of the
        question it continues, and the Answer names that question (`continues`)."""
        question = question.strip()
        if not question:
            raise InvalidRequest("La question est vide.")
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidRequest(
                f"La question est trop longue ({len(question)} caractères, "
                f"{MAX_QUESTION_CHARS} au plus)."
            )
        if mode == "generative" and self.llm is None:
            raise InvalidRequest(
                "Le mode génératif demande un serveur de modèle de langage configuré "
                "(TERRITORIA_LLM_URL)."
            )
        with Meter(self.settings) as meter:
            earlier = [p.strip() for p in previous if p.strip()][-MAX_PREVIOUS:]
            query = self.retriever.query(question, previous=earlier)
            hits = self.retriever.search(query, k=_CONTEXT_HITS, access=access or Access())
            index = self.retriever.index()
            extract = compose(
                question,
                hits,
                analyze=index.analyze,
                idf=index.idf,
                max_words=self.settings.answer_max_words,
                terms=query.weights(),
            )
            conf = confidence(extract.coverage, hits)
            abstained = not extract.citations or conf < self.settings.abstain_threshold
            verification: dict[str, object]
            citations: tuple[Citation, ...] = ()
            if abstained:
                text = self.abstention_text()
                verification = {"method": "abstention", "confidence": round(conf, 4)}
            elif mode == "generative":
                assert self.llm is not None
                text, citations, verification = self._generative(
                    self._outbound(question, access or Access()), hits, index.analyze
                )
                abstained = not citations
                if abstained:
                    text = self.abstention_text()
            else:
                text, citations = extract.text, extract.citations
                verification = {
                    "method": "extractive",
                    "sentences": len(extract.sentences),
                    "supported": len(extract.sentences),
                    "all_supported": True,
                }
            verification["confidence"] = round(conf, 4)
            verification["threshold"] = self.settings.abstain_threshold
        return Answer(
            question=question,
            answer=text,
            abstained=abstained,
            citations=tuple(citations),
            verification=verification,
            energy=meter.energy(),
            latency_ms=meter.elapsed_ms,
            mode="abstention" if abstained else mode,
            hits=tuple(hits),
            confidence=conf,
            continues=query.continues,
            previous=tuple(earlier) if query.continues else (),
            query=query,
        )

    def _outbound(self, question: str, access: Access) -> str:
        """The question as it may leave the machine: unchanged for a local server, else
        pseudonymised (refused if no guard is available)."""
        if self.settings.llm_local:
            return question
        if self.pii is None:
            raise ConfigError(
                "Serveur de modèle distant : la pseudonymisation des questions est requise "
                "(option pii) ou déclarez le serveur local (TERRITORIA_LLM_LOCAL=true)."
            )
        return str(self.pii.pseudonymize(question, tenant=access.tenant).text)

    def _generative(
        self, question: str, hits: list[Hit], analyze: Analyzer
    ) -> tuple[str, tuple[Citation, ...], dict[str, object]]:
        assert self.llm is not None
        safe = prompt_safe(hits)
        excluded = len(hits) - len(safe)
        hits = safe
        verified = generate(self.llm, question, hits, analyze)
        used = sorted({n for _, numbers in verified.kept for n in numbers})
        renumber = {old: new for new, old in enumerate(used, start=1)}
        sentences = [
            sentence + " " + "".join(f"[{renumber[n]}]" for n in numbers)
            for sentence, numbers in verified.kept
        ]
        citations = tuple(
            Citation(
                n=renumber[old],
                doc_id=hits[old - 1].passage.doc_id,
                passage_id=hits[old - 1].passage.passage_id,
                title=hits[old - 1].passage.title,
                source=hits[old - 1].passage.source,
                quote=hits[old - 1].passage.text,
                page=hits[old - 1].passage.page,
                heading=hits[old - 1].passage.heading_path,
            )
            for old in used
        )
        verification: dict[str, object] = {
            "method": "generative",
            "model": self.llm.name,
            "prompt_version": PROMPT_VERSION,
            "sentences": len(verified.kept) + len(verified.dropped),
            "supported": len(verified.kept),
            "dropped": list(verified.dropped),
            "all_supported": not verified.dropped,
            "flagged_passages_excluded": excluded,
        }
        return " ".join(sentences), citations, verification
