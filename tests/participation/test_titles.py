from __future__ import annotations

import numpy as np

from territoria.participation.keywords import Tokenizer
from territoria.participation.titles import choose_titles, supported, varied_label

BIKES = [
    "Il faut des pistes cyclables séparées de la route.",
    "Des pistes cyclables continues jusqu'au lycée.",
    "Sécuriser les pistes cyclables près des écoles.",
    "Plus de pistes cyclables et de parkings à vélos.",
]
BUSES = [
    "Des bus plus fréquents le soir.",
    "Les bus sont en retard, il faut plus de bus le matin.",
    "Une ligne de bus directe vers la zone d'activités.",
    "Des abris aux arrêts de bus.",
]


def test_titles_are_phrases_taken_from_the_contributions() -> None:
    texts = BIKES + BUSES
    themes = [[0, 1, 2, 3], [4, 5, 6, 7]]
    weights = [np.ones(4, dtype=np.float32), np.ones(4, dtype=np.float32)]
    titles = choose_titles(texts, [str(i) for i in range(8)], themes, weights, language="xx")
    first, second = titles
    assert first is not None and second is not None
    assert first.text.lower() == "pistes cyclables"
    assert "bus" in second.text.lower()
    # Extractive: the phrase is written as is in the contribution it names.
    assert first.text.lower() in texts[int(first.example_id)].lower()
    assert first.stems.isdisjoint(second.stems)


def test_no_shared_phrase_gives_no_title() -> None:
    texts = ["Le marché du dimanche.", "Réparer la toiture de l'église.", "Un terrain de basket."]
    titles = choose_titles(
        texts + BUSES, [str(i) for i in range(7)], [[0, 1, 2]], [np.ones(3)], language="xx"
    )
    assert titles == [None]
    assert varied_label(["marché", "église"]) == "Sujets variés (marché, église)"


def test_llm_title_needs_support_in_the_contributions() -> None:
    tokenizer = Tokenizer()
    assert supported("Pistes cyclables", BIKES, tokenizer)
    assert not supported("Tramway gratuit", BIKES, tokenizer)
    # A word found in one contribution only is not enough.
    assert not supported("Pistes cyclables sécurisées", BIKES, tokenizer)
