"""What one audit record holds, and how it is built from an answer: pseudonymisation of the
personal fields, the keyed pseudonym of the user, the passages and scores, the versions in
force. No database here: `log.py` appends the rows this module builds.

The question is pseudonymised before it is written (the raw question never reaches the disk);
a generative answer is pseudonymised too, since a model may echo the question, while an
extractive answer or an abstention is the collectivité's own published text and is kept as
it is. When pseudonymisation is unavailable (the `pii` extra is not installed), the question
is withheld rather than stored in clear. The user is stored as a keyed pseudonym (`subject`),
so `purge --user NAME` can find their records without the log holding their name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from territoria.audit.chain import canonical
from territoria.errors import ConfigError
from territoria.settings import Settings
from territoria.types import Access, Answer

QUESTION_WITHHELD = "[question non conservée : pseudonymisation indisponible]"
ANSWER_WITHHELD = "[réponse non conservée : pseudonymisation indisponible]"

COLUMNS = (
    "seq", "record_id", "time", "tenant", "role", "mode", "passages", "versions", "abstained",
    "verification", "confidence", "energy_wh", "energy_gco2e", "energy_method", "latency_ms",
    "request_id", "subject", "question", "answer", "nonce", "personal_digest", "redacted_at",
    "prev_hash", "hash",
)  # fmt: skip
JSON_COLUMNS = ("passages", "versions", "verification")
EVENT_COLUMNS = ("event_seq", "kind", "time", "body", "prev_hash", "hash", "signature")


class Masked(Protocol):
    @property
    def text(self) -> str: ...


class Pseudonymizer(Protocol):
    """What the audit log needs of the PII guard (`territoria.guard.pii.PIIGuard`)."""

    def pseudonymize(self, text: str, *, tenant: str = "default") -> Masked: ...


@dataclass(frozen=True)
class AuditRecord:
    """One logged request. `question`/`answer`/`subject`/`request_id` are None once redacted."""

    seq: int
    record_id: str
    time: str
    tenant: str
    role: str
    mode: str
    passages: tuple[dict[str, Any], ...]
    versions: dict[str, Any]
    abstained: bool
    verification: dict[str, Any]
    confidence: float
    energy_wh: float
    energy_gco2e: float
    energy_method: str
    latency_ms: float
    request_id: str | None
    subject: str | None
    question: str | None
    answer: str | None
    nonce: str | None
    personal_digest: str
    redacted_at: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the one hashed by `chain.record_hash`)."""
        data = {name: getattr(self, name) for name in COLUMNS}
        data["passages"] = list(self.passages)
        return data

    @property
    def cited(self) -> tuple[str, ...]:
        return tuple(p["passage_id"] for p in self.passages if p.get("cited"))


def record_from_row(row: Sequence[Any]) -> AuditRecord:
    """An AuditRecord from a row of COLUMNS."""
    data = dict(zip(COLUMNS, row, strict=True))
    for name in JSON_COLUMNS:
        data[name] = json.loads(data[name])
    data["passages"] = tuple(data["passages"])
    data["abstained"] = bool(data["abstained"])
    return AuditRecord(**data)


def row_values(row: dict[str, Any]) -> list[Any]:
    """The values of COLUMNS for an insert (JSON columns as canonical text, booleans as 0/1)."""
    values = {**row, "abstained": int(bool(row["abstained"]))}
    return [
        canonical(values[c]).decode("utf-8") if c in JSON_COLUMNS else values.get(c)
        for c in COLUMNS
    ]


def event_from_row(row: Sequence[Any]) -> dict[str, Any]:
    item = dict(zip(EVENT_COLUMNS, row, strict=True))
    item["body"] = json.loads(item["body"])
    return item


@dataclass(frozen=True)
class Entry:
    """A record built by `AuditLog.entry`, personal data already pseudonymised; the energy
    and latency of its request are added when it is appended."""

    row: dict[str, Any]


def derive_key(settings: Settings, purpose: str) -> bytes:
    """A purpose-bound key derived from the PII key (TERRITORIA_PII_KEY or <home>/pii.key)."""
    from territoria.guard.pii import check_key, load_or_create_key_file

    secret = settings.pii_key.get_secret_value()
    master = check_key(secret) if secret.strip() else load_or_create_key_file(settings.home)
    return hmac.new(master.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()


class RecordBuilder:
    """Builds the personal, pseudonymised part of records: everything but the chain fields
    (`seq`, `time`, `prev_hash`, `hash`), which are set when the record is appended."""

    def __init__(self, settings: Settings, pii: Pseudonymizer | None = None) -> None:
        self.settings = settings
        self._pii = pii
        self._subject_key = derive_key(settings, "territoria/audit-subject/v1")
        self._versions: dict[str, Any] | None = None

    @property
    def versions(self) -> dict[str, Any]:
        """Package, models, index and answer parameters in force (logged with each record)."""
        if self._versions is None:
            from territoria.register import system_versions

            self._versions = system_versions(self.settings)
        return self._versions

    def subject_of(self, name: str) -> str:
        """The keyed pseudonym stored for a user name or session id."""
        digest = hmac.new(self._subject_key, name.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"sujet_{digest[:16]}"

    def pseudonymize(self, text: str, tenant: str) -> str | None:
        """`text` with personal data replaced by pseudonyms; None when the guard is missing."""
        if self._pii is None:
            from territoria.guard.pii import PIIGuard

            self._pii = PIIGuard(self.settings)
        try:
            return self._pii.pseudonymize(text, tenant=tenant).text
        except (ConfigError, ImportError):  # the `pii` extra is not installed
            return None

    def build(
        self,
        answer: Answer,
        access: Access,
        *,
        request_id: str | None,
        subject: str | None,
        mode: str | None,
        previous_ids: Sequence[str],
    ) -> Entry:
        """The fields of one record (see `AuditLog.entry`), without its energy and latency
        and without the chain fields."""
        question = self.pseudonymize(answer.question, access.tenant)
        text: str | None = answer.answer
        verification: dict[str, Any] = answer.verification.to_json()
        if answer.mode == "generative":
            text = self.pseudonymize(answer.answer, access.tenant)
        # Sentences a model generated and the verification dropped, whatever mode the answer
        # ended in (an abstention or the extractive fallback keeps them for review).
        if verification.get("dropped"):
            verification["dropped"] = [
                self.pseudonymize(str(s), access.tenant) for s in verification["dropped"]
            ]
        if answer.continues:
            # A follow-up: the earlier questions are personal data, so only the ids of their
            # own records are kept (the replay reads their pseudonymised questions there).
            verification["continued"] = True
            verification["previous_ids"] = list(previous_ids)
        asked = mode or ("extractive" if answer.mode == "abstention" else answer.mode)
        row: dict[str, Any] = {
            "record_id": secrets.token_hex(8),
            "tenant": access.tenant,
            "role": access.role,
            "mode": asked,
            "passages": _passages(answer),
            "versions": self.versions,
            "abstained": bool(answer.abstained),
            "verification": json.loads(canonical(verification)),
            "confidence": float(round(answer.confidence, 6)),
            "request_id": request_id or secrets.token_hex(8),
            "subject": self.subject_of(subject) if subject else None,
            "question": QUESTION_WITHHELD if question is None else question,
            "answer": ANSWER_WITHHELD if text is None else text,
            "nonce": secrets.token_hex(16),
        }
        return Entry(row)

    def build_run(
        self,
        *,
        kind: str,
        access: Access,
        summary: str,
        outcome: str,
        details: dict[str, Any],
        versions: dict[str, Any],
        abstained: bool,
        subject: str | None,
    ) -> Entry:
        """The record of one run of another capability (see `AuditLog.record_run`): no
        passages, the run's own `versions` beside the package's, its `details` as the
        verification field."""
        from territoria.register import package_version

        row: dict[str, Any] = {
            "record_id": secrets.token_hex(8),
            "tenant": access.tenant,
            "role": access.role,
            "mode": kind,
            "passages": [],
            "versions": {"territoria": package_version("territoria"), **versions},
            "abstained": abstained,
            "verification": json.loads(canonical(details)),
            "confidence": 0.0,
            "request_id": secrets.token_hex(8),
            "subject": self.subject_of(subject) if subject else None,
            "question": summary,
            "answer": outcome,
            "nonce": secrets.token_hex(16),
        }
        return Entry(row)


def _passages(answer: Answer) -> list[dict[str, Any]]:
    """The ranked passages with their scores, then cited passages outside the ranking."""
    cited = {c.passage_id for c in answer.citations}
    passages = [
        {
            "rank": rank,
            "passage_id": hit.passage.passage_id,
            "doc_id": hit.passage.doc_id,
            "score": round(float(hit.score), 6),
            "lexical": _score(hit.lexical_score),
            "dense": _score(hit.dense_score),
            "cited": hit.passage.passage_id in cited,
        }
        for rank, hit in enumerate(answer.hits, start=1)
    ]
    seen = {p["passage_id"] for p in passages}
    missing = {"rank": None, "score": None, "lexical": None, "dense": None, "cited": True}
    return passages + [
        {**missing, "passage_id": c.passage_id, "doc_id": c.doc_id}
        for c in answer.citations
        if c.passage_id not in seen
    ]


def _score(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)
