"""The feedback store (src/territoria/feedback.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from territoria.errors import ConfigError, InvalidRequest
from territoria.feedback import REASON_WITHHELD, FeedbackStore
from territoria.settings import Settings


@dataclass(frozen=True)
class Masked:
    text: str


class FakeGuard:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def pseudonymize(self, text: str, *, tenant: str = "default") -> Masked:
        self.calls.append((text, tenant))
        return Masked(text.replace("Jean Dupont", "<PERSONNE_1>"))


class MissingGuard:
    def pseudonymize(self, text: str, *, tenant: str = "default") -> Masked:
        raise ConfigError("pii extra missing")


def test_reason_is_pseudonymised_before_storage(settings: Settings) -> None:
    guard = FakeGuard()
    with FeedbackStore(settings, pii=guard) as store:
        store.add("abc123abc123abcd", useful=False, reason="Je suis Jean  Dupont", tenant="t1")
        store.add("abc123abc123abcd", useful=True, tenant="t1")
        items = list(store.items(tenant="t1"))
    assert guard.calls == [("Je suis Jean Dupont", "t1")]  # whitespace normalised first
    assert {i.useful for i in items} == {True, False}
    stored = next(i for i in items if not i.useful)
    assert stored.reason == "Je suis <PERSONNE_1>"
    raw = (settings.home / "governance.sqlite3").read_bytes()
    assert b"Dupont" not in raw


def test_reason_withheld_without_pseudonymisation(settings: Settings) -> None:
    with FeedbackStore(settings, pii=MissingGuard()) as store:
        item = store.add("r1", useful=False, reason="appelez-moi au 06 12 34 56 78")
    assert item.reason == REASON_WITHHELD


def test_feedback_is_validated_and_filtered_by_tenant(settings: Settings) -> None:
    with FeedbackStore(settings, pii=FakeGuard()) as store:
        with pytest.raises(InvalidRequest):
            store.add(" ", useful=True)
        with pytest.raises(InvalidRequest, match="trop long"):
            store.add("r1", useful=True, reason="x" * 1001)
        store.add("r1", useful=True, tenant="a")
        store.add("r2", useful=True, tenant="b")
        assert [i.request_id for i in store.items(tenant="a")] == ["r1"]
        assert len(list(store.items())) == 2
