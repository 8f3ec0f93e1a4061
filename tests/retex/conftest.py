"""Fixtures of the RETEX tests: a fiche, a guard that finds nothing (our own seam, for tests
that are not about personal data), and the real PII guard loaded once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from territoria.retex import Commons
from territoria.settings import Settings

MARKERS = {
    "contact": "Zorglub-Contact-7731",
    "budget_detail": "Budget-Interne-Q9Z4",
    "internal_notes": "Note-Secrete-K2P8",
}


def fiche(fiche_id: str = "velo-test-01", **changes: Any) -> dict[str, Any]:
    """A valid fiche whose restricted fields hold unique markers."""
    data: dict[str, Any] = {
        "id": fiche_id,
        "title": "Location de vélos électriques",
        "summary": "Le Pays loue des vélos à assistance électrique pour trois mois.",
        "collectivite": {"name": "Pays de Test", "siren": "200045128", "type": "pays"},
        "status": "deploye",
        "themes": ["mobilité", "vélo"],
        "lessons": {"worked": ["La location longue"], "did_not_work": ["Les côtes en hiver"]},
        "contact": {"name": MARKERS["contact"], "email": "x@example.org"},
        "budget_detail": MARKERS["budget_detail"],
        "internal_notes": MARKERS["internal_notes"],
    }
    data.update(changes)
    return data


@dataclass(frozen=True)
class _Masked:
    text: str


class NoPII:
    """A guard that finds no personal data (for tests about something else)."""

    def detect(self, text: str) -> list[Any]:
        return []

    def detect_batch(self, texts: Sequence[str], *, batch_size: int = 64) -> list[list[Any]]:
        return [[] for _ in texts]

    def pseudonymize(
        self, text: str, *, tenant: str = "default", entities: Sequence[Any] | None = None
    ) -> _Masked:
        return _Masked(text)


@pytest.fixture
def make_commons(tmp_path: Path) -> Any:
    """Commons(home) on a fresh home per name, no PII found, no main store."""
    made: list[Commons] = []

    def make(name: str = "a", **kwargs: Any) -> Commons:
        settings = Settings(home=tmp_path / name, embedder="fake", title_embedder="fake")
        kwargs.setdefault("guard", NoPII())
        commons = Commons(settings, **kwargs)
        made.append(commons)
        return commons

    yield make
    for commons in made:
        commons.close()


@pytest.fixture(scope="session")
def pii_guard(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real PII guard (spaCy + French recognizers), loaded once."""
    from territoria.guard.pii import PIIGuard

    return PIIGuard(Settings(home=tmp_path_factory.mktemp("pii") / "home"))
