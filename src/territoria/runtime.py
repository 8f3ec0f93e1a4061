"""The services of one running product (store, embedder, retriever, assistant, audit log),
built once from Settings by the CLI and the web app and closed together.

`Runtime.ask` is the one question path that every interface uses:
screen the question -> search with the caller's access -> answer -> audit record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from territoria.answer import Assistant
from territoria.embed import Embedder, make_embedder
from territoria.llm import LLM, make_llm
from territoria.search import Retriever
from territoria.settings import Settings
from territoria.store import Store, open_store
from territoria.types import Access, Answer

if TYPE_CHECKING:
    from territoria.audit import AuditLog
    from territoria.guard.pii import PIIGuard
    from territoria.ingest.journal import IngestJournal


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def store(self) -> Store:
        return open_store(self.settings)

    @cached_property
    def embedder(self) -> Embedder | None:
        return make_embedder(self.settings)

    @cached_property
    def llm(self) -> LLM | None:
        return make_llm(self.settings)

    @cached_property
    def title_embedder(self) -> Embedder | None:
        return make_embedder(self.settings, self.settings.title_embedder)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.settings, self.store, self.embedder, self.title_embedder)

    @cached_property
    def pii(self) -> PIIGuard:
        from territoria.guard.pii import PIIGuard

        return PIIGuard(self.settings)

    @cached_property
    def assistant(self) -> Assistant:
        return Assistant(self.settings, self.retriever, self.llm, pii=self.pii)

    @cached_property
    def journal(self) -> IngestJournal:
        from territoria.ingest.journal import IngestJournal

        return IngestJournal(self.settings)

    @cached_property
    def audit(self) -> AuditLog:
        from territoria.audit import AuditLog

        return AuditLog(self.settings, pii=self.pii)

    def ask(
        self,
        question: str,
        *,
        access: Access | None = None,
        mode: Literal["extractive", "generative"] = "extractive",
        subject: str | None = None,
        previous: Sequence[str] = (),
        previous_ids: Sequence[str] = (),
    ) -> Answer:
        """Answer a question and append it to the audit log; the Answer carries the record id.

        `previous` are the conversation's earlier questions (most recent last): a follow-up is
        understood with the one it continues. `previous_ids` are the request ids of their
        answers: the audit record of a follow-up keeps these ids, never the earlier text.

        A question flagged by injection screening is answered in extractive mode only: quotes
        of the official text cannot be steered by it, and it never reaches a model.
        """
        from territoria.guard.injection import screen_question

        access = access or Access()
        screening = screen_question(question)
        if screening.flagged:
            mode = "extractive"
        answer = self.assistant.ask(question, access=access, mode=mode, previous=previous)
        if screening.flagged:
            verification = {**answer.verification, "question_flags": list(screening.reasons)}
            answer = dataclasses.replace(answer, verification=verification)
        record_id = self.audit.record(
            answer, access, subject=subject, mode=mode, previous_ids=previous_ids
        )
        return dataclasses.replace(answer, request_id=record_id)

    def close(self) -> None:
        for name in ("store", "audit", "journal"):
            if name in self.__dict__:
                self.__dict__[name].close()
