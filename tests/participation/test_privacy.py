from __future__ import annotations

import sys
from typing import Any

import pytest

from territoria.errors import ConfigError
from territoria.participation.model import Contribution
from territoria.participation.privacy import (
    Hasher,
    clean_text,
    coarsen,
    default_pseudonymizer,
    protect_contributions,
    pseudonymize_texts,
)
from territoria.settings import Settings


def test_texts_pseudonymised_once_per_distinct_text(guard: Any) -> None:
    texts = [
        "Appelez Jean Dupont au 06 12 34 56 78",
        "Appelez Jean Dupont au 06 12 34 56 78",
        "Rien",
    ]
    out = pseudonymize_texts(texts, guard)
    assert out[0] == out[1] == "Appelez [PERSONNE_0a1b2c] au [PERSONNE_0a1b2c]"
    assert guard.calls == 2


def test_batch_guard_uses_detect_batch() -> None:
    class Batch:
        def __init__(self) -> None:
            self.batches: list[int] = []

        def detect_batch(self, texts: list[str]) -> list[list[str]]:
            self.batches.append(len(texts))
            return [["x"] for _ in texts]

        def pseudonymize(self, text: str, *, tenant: str, entities: Any = None) -> Any:
            assert entities == ["x"] and tenant == "mairie"
            return type("R", (), {"text": text.upper()})()

    guard = Batch()
    assert pseudonymize_texts(["a", "b"], guard, tenant="mairie") == ["A", "B"]
    assert guard.batches == [2]


def test_clean_text_is_nfc_with_one_newline_style() -> None:
    assert clean_text("Cafe\u0301\r\nfermé  \r") == "Café\nfermé"


def test_missing_guard_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "territoria.guard.pii", None)
    with pytest.raises(ConfigError, match="pseudonymisation"):
        default_pseudonymizer(Settings())


def test_authors_hashed_with_a_key_and_opaque_participant_ids_kept() -> None:
    hasher = Hasher(b"k" * 32)
    assert hasher("marie.martin@example.fr") == hasher("marie.martin@example.fr")
    assert hasher("marie.martin@example.fr") != Hasher(b"z" * 32)("marie.martin@example.fr")
    assert "marie" not in hasher("marie.martin@example.fr")
    assert hasher.participant("1234") == "1234"
    assert hasher.participant("68ebbc116c") == "68ebbc116c"
    assert hasher.participant("Marie Martin").startswith("p-")


def test_small_territories_merged_before_any_count() -> None:
    items = [Contribution(str(i), "t", "s", author=f"a{i}", territory="Lille") for i in range(5)]
    items += [Contribution("x", "t", "s", author="b", territory="Hameau")]
    items += [Contribution(f"y{i}", "t", "s", author="c", territory="Bourg") for i in range(6)]
    out = coarsen(items, "territory", 5, "Autres")
    assert [c.territory for c in out].count("Lille") == 5
    assert {c.territory for c in out[5:]} == {"Autres"}  # Bourg: 6 texts but one person


def test_protect_hashes_authors_and_cuts_dates() -> None:
    items = [Contribution("1", "brut", "s", author="Jean Dupont", date="2019-01-17 10:38:20 +0100")]
    (c,) = protect_contributions(items, ["masqué"], Hasher(b"k" * 32), min_group_size=5)
    assert (c.text, c.date) == ("masqué", "2019-01-17")
    assert c.author.startswith("p-") and "Jean" not in c.author


def test_parallel_workers_give_the_same_texts_in_order(guard: Any) -> None:
    texts = [f"Jean Dupont a écrit le message numéro {i}" for i in range(600)]
    parallel = pseudonymize_texts(texts, guard, workers=2)
    assert parallel == pseudonymize_texts(texts, guard, workers=1)
    assert parallel[599] == "[PERSONNE_0a1b2c] a écrit le message numéro 599"
