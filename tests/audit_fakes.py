"""Fakes for the governance tests: a PII guard, a settable clock, answers without a corpus;
and the audit tests' helpers (a filled log, a reopened one, its problems, its anchor)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from territoria.audit import AuditLog
from territoria.settings import Settings
from territoria.types import Access, Answer, Citation, Energy, Hit, Passage, Verification


@dataclass(frozen=True)
class Masked:
    text: str


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    type: str


_NAMES = re.compile(r"\b(Dupont|Martin)\b")


class FakePII:
    """Masks the names Dupont and Martin and counts its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def pseudonymize(self, text: str, *, tenant: str = "default") -> Masked:
        self.calls.append((text, tenant))
        return Masked(_NAMES.sub("[PERSONNE_abc123]", text))

    def detect(self, text: str) -> list[Found]:
        return [Found(m.start(), m.end(), "PERSON") for m in _NAMES.finditer(text)]

    def load(self) -> None:
        """Nothing to load (the real guard loads spaCy here)."""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make_answer(
    question: str = "Horaires de la mairie ?",
    n: int = 2,
    abstained: bool = False,
    mode: Literal["extractive", "generative"] = "extractive",
    text: str | None = None,
) -> Answer:
    passages = [
        Passage(passage_id=f"p{i}", doc_id=f"d{i}", title=f"Doc {i}", text=f"Texte {i}.")
        for i in range(n)
    ]
    hits = tuple(
        Hit(p, score=1.0 / (i + 1), lexical_score=0.5, dense_score=None)
        for i, p in enumerate(passages)
    )
    citations = (
        ()
        if abstained
        else (
            Citation(
                n=1, doc_id="d0", passage_id="p0", title="Doc 0", source="doc0.md", quote="Texte 0."
            ),
        )
    )
    return Answer(
        question=question,
        answer=text or ("Je ne trouve pas." if abstained else "Texte 0. [1]"),
        abstained=abstained,
        citations=citations,
        verification=Verification(method=mode),
        energy=Energy(wh=0.0012, gco2e=0.0000624, method="estimation"),
        latency_ms=12.5,
        mode="abstention" if abstained else mode,
        hits=hits,
        confidence=0.8,
    )


def tamper(path: Path, *statements: str | tuple[str, tuple[object, ...]]) -> None:
    """Run raw SQL on a database file, as an intruder with write access to it would."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for statement in statements:
            sql, params = (statement, ()) if isinstance(statement, str) else statement
            conn.execute(sql, params)


# --- audit log helpers ----------------------------------------------------------------------

AGENT = Access(role="agent", tenant="val-fleuri")


def fill(log: AuditLog, clock: Clock, n: int = 5, subject: str = "alice") -> None:
    for i in range(n):
        log.record(make_answer(f"Je suis Dupont, question {i}"), AGENT, subject=subject)
        clock.advance(days=1)


def reopened(settings: Settings) -> AuditLog:
    return AuditLog(settings, pii=FakePII())


def problems(settings: Settings, anchor: Path | None = None) -> list[tuple[str, str]]:
    with reopened(settings) as log:
        result = log.verify(anchor=anchor)
    assert result.ok is (not result.problems)
    return [(p.kind, p.message) for p in result.problems]


def anchor_path(settings: Settings) -> Path:
    return settings.home / "audit.anchor"
