"""The services of one running product (store, embedder, retriever, assistant, audit log),
built once from Settings by the CLI and the web app and closed together.

`Runtime.ask` is the one question path that every interface uses, metered as a whole:
screen the question -> search with the caller's access -> answer -> output guard -> audit record.
An answer that the audit log could not record is not given (the log is a legal record).

`Runtime.warm_up` loads what a question needs (store, index, models, PII guard, audit log) and
runs one question through that path without recording it, so that the first real question
finds everything loaded; a server calls it before it reports ready.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from territoria.answer import Assistant
from territoria.embed import Embedder, make_embedder
from territoria.energy import Meter
from territoria.errors import (
    ConfigError,
    StorageFull,
    StorageUnavailable,
    StoreError,
    TerritoriaError,
    storage_error,
)
from territoria.llm import LLM, make_llm
from territoria.search import BackgroundVectors, Progress, Retriever
from territoria.settings import Settings
from territoria.store import Store, open_store
from territoria.types import Access, Answer

if TYPE_CHECKING:
    from territoria.audit import AuditLog
    from territoria.forecast.storage import RunStore
    from territoria.guard.pii import PIIGuard
    from territoria.ingest.journal import IngestJournal
    from territoria.participation.storage import ReportStore
    from territoria.retex import Commons

WARM_UP_QUESTION = "Quels sont les horaires d'ouverture de la mairie ?"
WITHHELD = (
    "Réponse retenue : elle citait un passage que votre accès ne permet pas de consulter. "
    "L'incident est une erreur du service ; signalez-le à son administrateur."
)
UNAUDITED = (
    "Question non traitée : le journal d'audit n'a pas pu l'enregistrer ({why}). Aucune "
    "réponse n'est donnée sans être journalisée ; réessayez plus tard."
)


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
        if self.settings.title_embedder == self.settings.embedder:
            return self.embedder  # one model, loaded once, one query vector
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

    @cached_property
    def retex(self) -> Commons:
        """The RETEX commons: fiches mirrored into the store, free text pseudonymised by the
        PII guard, imports and exports noted in the audit log."""
        from territoria.retex import Commons

        return Commons(self.settings, documents=self.store, guard=self.pii, audit=self.audit)

    @cached_property
    def reports(self) -> ReportStore:
        """The participation syntheses of the web page (those of earlier versions, folders
        under `<home>/participation`, are moved in on opening)."""
        from territoria.participation.storage import import_folders, open_report_store

        reports = open_report_store(self.settings)
        import_folders(reports, self.settings.home / "participation")
        return reports

    @cached_property
    def runs(self) -> RunStore:
        """The forecast runs of the decision-support page (forecast/storage.py)."""
        from territoria.forecast.storage import open_run_store

        return open_run_store(self.settings)

    @cached_property
    def background(self) -> BackgroundVectors:
        return BackgroundVectors(self.settings)

    def refresh(
        self,
        progress: Progress | None = None,
        *,
        vectors: Literal["all", "background"] = "all",
    ) -> None:
        """Bring the index in step with the store, then the abstention calibration (both
        cost nothing when nothing changed). The documents are searchable lexically at once;
        their vectors are computed here (`"all"`, with progress) or, beyond a few, by a
        background process (`"background"`: a server; the index takes them as they come)."""
        if vectors == "all":
            self.retriever.refresh(progress)
        else:
            self.retriever.refresh(progress, vectors="small")
            if self.retriever.missing_count():
                self.background.start()
        self.assistant.thresholds.calibrations(progress)

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

        The whole request, under one `Meter`: input guard (injection screening), search and
        answer, output guard (`released`), the audit record with its personal data
        pseudonymised; only the write of that record is outside the energy it holds.

        `previous` are the conversation's earlier questions (most recent last): a follow-up is
        understood with the one it continues. `previous_ids` are the request ids of their
        answers: the audit record of a follow-up keeps these ids, never the earlier text.

        A question flagged by injection screening is answered in extractive mode only: quotes
        of the official text cannot be steered by it, and it never reaches a model.
        """
        from territoria.guard.injection import screen_question

        access = access or Access()
        with Meter(self.settings) as meter:
            screening = screen_question(question)
            if screening.flagged:
                mode = "extractive"
            answer = self.assistant.answer(question, access=access, mode=mode, previous=previous)
            if screening.flagged:
                flags = tuple(screening.reasons)
                answer = replace(
                    answer, verification=replace(answer.verification, question_flags=flags)
                )
            released(answer, access)
            try:
                entry = self.audit.entry(
                    answer, access, subject=subject, mode=mode, previous_ids=previous_ids
                )
                answer = meter.stamp(answer)
                record_id = self.audit.append(entry, answer.energy, answer.latency_ms)
            except (OSError, sqlite3.Error, StoreError) as exc:
                raise unaudited(exc, self.settings.home / "audit.sqlite3") from exc
        return replace(answer, request_id=record_id)

    def warm_up(self, question: str = WARM_UP_QUESTION) -> dict[str, Any]:
        """Load everything a question needs and run `question` through the real path
        (screening, search, answer, PII pseudonymisation) without recording it in the audit
        log; return what is loaded (`loaded`)."""
        from territoria.guard.injection import screen_question

        started = time.perf_counter()
        # the store, the index, a few missing vectors (the others in the background), the
        # abstention calibration
        self.refresh(vectors="background")
        index = self.retriever.index()
        audit = self.audit  # its database and anchor, checked on opening
        screen_question(question)
        answer = self.assistant.answer(question, access=Access())  # loads the embedders
        speller = self.retriever.rewriter().speller  # else built on the first unknown word
        pii = audit.pseudonymize(answer.question, Access().tenant) is not None
        try:  # spaCy, which only a question holding a name needs (`PIIGuard.detect`)
            self.pii.load()
        except (ConfigError, ImportError):  # the `pii` extra is not installed
            pii = False
        return {
            **self.loaded(),
            "index": True,
            "passages": len(index),
            "spelling_words": len(speller),  # the corpus's and French's (0.2 s)
            "pii": pii,
            "warm_up_s": round(time.perf_counter() - started, 3),
        }

    def loaded(self) -> dict[str, Any]:
        """Which services are loaded, without loading any."""
        built = self.__dict__
        return {
            "store": "store" in built,
            "embedder": self.settings.embedder if built.get("embedder") else None,
            "title_embedder": (
                self.settings.title_embedder if built.get("title_embedder") else None
            ),
            "pii": "pii" in built,
            "audit": "audit" in built,
        }

    def close(self) -> None:
        if "background" in self.__dict__:
            self.background.close()
        for name in ("retex", "reports", "runs", "assistant", "store", "audit", "journal"):
            if name in self.__dict__:
                self.__dict__[name].close()


def released(answer: Answer, access: Access) -> None:
    """The output guard: an answer may cite only passages its own search returned, within
    `access` (tenant, visibility, collections). Access is applied inside retrieval; this
    checks it again on what leaves, and refuses the answer rather than show a passage the
    caller may not read."""
    allowed = {
        hit.passage.passage_id
        for hit in answer.hits
        if hit.passage.tenant == access.tenant
        and hit.passage.visibility in access.visibilities
        and (access.collections is None or hit.passage.collection in access.collections)
    }
    if any(c.passage_id not in allowed for c in answer.citations):
        raise TerritoriaError(WITHHELD)


def unaudited(exc: BaseException, path: Path) -> StoreError:
    """The error for a question whose audit record (in `path`) could not be written."""
    found = exc if isinstance(exc, StorageFull | StorageUnavailable) else storage_error(exc, path)
    kind: type[StoreError] = StoreError
    why = "erreur d'écriture"
    if isinstance(found, StorageFull):
        kind, why = StorageFull, "espace disque insuffisant sur le serveur"
    elif isinstance(found, StorageUnavailable):
        kind, why = StorageUnavailable, "dossier de données illisible, protégé ou endommagé"
    public = UNAUDITED.format(why=why)
    detail = found.message if found else getattr(exc, "message", str(exc))
    return kind(f"{public} {detail}", public=public)
