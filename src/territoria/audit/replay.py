"""Replay a logged request on the current index and say what changed.

The logged question is the pseudonymised one, asked again with the same tenant, role and
mode (and, for a follow-up, after the pseudonymised earlier questions it was understood with,
read from their own records: the record of a follow-up keeps only their ids). A generative
answer is pseudonymised before the comparison, as it was when logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from territoria.errors import InvalidRequest, NotFound
from territoria.types import Access, Answer, Role

if TYPE_CHECKING:
    from territoria.audit.log import AuditLog, AuditRecord

Mode = Literal["extractive", "generative"]


class Asker(Protocol):
    """What replay needs of `territoria.answer.Assistant`."""

    def ask(
        self,
        question: str,
        *,
        access: Access | None = None,
        mode: Mode = "extractive",
        previous: Sequence[str] = (),
    ) -> Answer: ...


@dataclass(frozen=True)
class ReplayResult:
    record_id: str
    question: str
    before: dict[str, Any]
    after: dict[str, Any]
    answer_changed: bool
    abstained_changed: bool
    citations_added: tuple[str, ...]
    citations_removed: tuple[str, ...]
    scores: tuple[dict[str, Any], ...]
    versions_changed: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return (
            self.answer_changed
            or self.abstained_changed
            or bool(self.citations_added or self.citations_removed)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "question": self.question,
            "changed": self.changed,
            "answer_changed": self.answer_changed,
            "abstained_changed": self.abstained_changed,
            "citations_added": list(self.citations_added),
            "citations_removed": list(self.citations_removed),
            "scores": list(self.scores),
            "versions_changed": self.versions_changed,
            "before": self.before,
            "after": self.after,
        }


def replay(log: AuditLog, record_id: str, assistant: Asker) -> ReplayResult:
    record = log.get(record_id)
    if record.mode not in ("extractive", "generative"):
        digest = record.verification.get("inputs_sha256", "")
        raise InvalidRequest(
            f"Enregistrement d'un traitement « {record.mode} », pas d'une question : relancez-le "
            "sur les mêmes fichiers"
            + (f" (empreinte SHA-256 des entrées : {digest})." if digest else ".")
        )
    if record.question is None:
        raise InvalidRequest(
            "Cet enregistrement a été effacé à la demande de la personne : rejeu impossible."
        )
    from territoria.audit.log import QUESTION_WITHHELD

    if record.question == QUESTION_WITHHELD:
        raise InvalidRequest("La question de cet enregistrement n'a pas été conservée.")
    mode = cast(Mode, record.mode if record.mode in ("extractive", "generative") else "extractive")
    answer = assistant.ask(
        record.question,
        access=Access(role=cast(Role, record.role), tenant=record.tenant),
        mode=mode,
        previous=earlier_questions(log, record),
    )
    text = answer.answer
    if answer.mode == "generative":
        text = log.pseudonymize(text, record.tenant) or text
    return compare(record, answer, text, log.versions)


def earlier_questions(log: AuditLog, record: AuditRecord) -> list[str]:
    """The pseudonymised questions a follow-up was understood with, read from their own
    records (those erased or not found are left out)."""
    from territoria.audit.log import QUESTION_WITHHELD

    out: list[str] = []
    for record_id in record.verification.get("previous_ids") or []:
        try:
            earlier = log.get(str(record_id))
        except NotFound:
            continue
        if earlier.tenant == record.tenant and earlier.question not in (None, QUESTION_WITHHELD):
            out.append(str(earlier.question))
    return out


def compare(
    record: AuditRecord, answer: Answer, text: str, versions: dict[str, Any]
) -> ReplayResult:
    """The difference between a logged record and a new answer (`text`: its logged form)."""
    before_cited = record.cited
    after_cited = tuple(c.passage_id for c in answer.citations)
    before_scores = {p["passage_id"]: p["score"] for p in record.passages}
    after_scores = {h.passage.passage_id: round(float(h.score), 6) for h in answer.hits}
    scores = []
    for pid in dict.fromkeys([*before_scores, *after_scores]):
        old, new = before_scores.get(pid), after_scores.get(pid)
        delta = None if old is None or new is None else round(new - old, 6)
        scores.append({"passage_id": pid, "before": old, "after": new, "delta": delta})
    changed_versions = {
        name: {"before": record.versions.get(name), "after": versions.get(name)}
        for name in sorted({*record.versions, *versions})
        if record.versions.get(name) != versions.get(name)
    }
    return ReplayResult(
        record_id=record.record_id,
        question=record.question or "",
        before={
            "answer": record.answer,
            "abstained": record.abstained,
            "citations": list(before_cited),
            "time": record.time,
        },
        after={
            "answer": text,
            "abstained": answer.abstained,
            "citations": list(after_cited),
        },
        answer_changed=(record.answer or "") != text,
        abstained_changed=record.abstained != answer.abstained,
        citations_added=tuple(p for p in after_cited if p not in before_cited),
        citations_removed=tuple(p for p in before_cited if p not in after_cited),
        scores=tuple(scores),
        versions_changed=changed_versions,
    )
