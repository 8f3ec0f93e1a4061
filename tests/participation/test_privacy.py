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
    mask,
    protect_contributions,
)
from territoria.settings import Settings


def test_texts_pseudonymised_once_per_distinct_text(guard: Any) -> None:
    texts = [
        "Appelez Jean Dupont au 06 12 34 56 78",
        "Appelez Jean Dupont au 06 12 34 56 78",
        "Rien",
    ]
    out = mask(texts, guard).texts
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
    assert mask(["a", "b"], guard, tenant="mairie").texts == ["A", "B"]
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
    parallel = mask(texts, guard, workers=2).texts
    assert parallel == mask(texts, guard, workers=1).texts
    assert parallel[599] == "[PERSONNE_0a1b2c] a écrit le message numéro 599"


class _Entities:
    def __init__(self, text: str, entities: list[Any]) -> None:
        self.entities = tuple(entities)
        for e in sorted(entities, key=lambda e: -e.start):
            text = text[: e.start] + f"[{e.type}]" + text[e.end :]
        self.text = text


class LanguageAwareFake:
    """Finds "Karl" as a person in French texts only (its NER); masks what it is given."""

    def __init__(self) -> None:
        self.french: list[str] = []

    def detect_batch(self, texts: Any) -> list[Any]:
        from territoria.guard.pii import PIIEntity

        self.french.extend(texts)
        return [
            [PIIEntity(t.index("Karl"), t.index("Karl") + 4, "PERSON", "Karl", 0.9)]
            if "Karl" in t
            else []
            for t in texts
        ]

    def pseudonymize(self, text: str, *, tenant: str, entities: Any = None) -> _Entities:
        return _Entities(text, list(entities or []))


def test_texts_in_another_language_skip_the_french_names() -> None:
    guard = LanguageAwareFake()
    texts = [
        "Karl habite ici et demande un banc.",
        "Umverteilung von Wohlstand, schreiben Sie an karl.berger@example.at oder +43 660 1234567",
    ]
    result = mask(texts, guard, languages=["fr", "de"])
    assert guard.french == [texts[0]]  # the German text never met the French NER
    assert result.texts[0].startswith("[PERSON]")
    assert "Umverteilung von Wohlstand" in result.texts[1]  # ordinary nouns untouched
    assert "karl.berger@example.at" not in result.texts[1]
    assert result.masked["PERSON"] == 1 and result.masked["EMAIL"] == 1
    assert result.person_search == {"de": "patterns", "fr": "ner"}
