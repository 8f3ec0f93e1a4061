from __future__ import annotations

from typing import Any

import numpy as np

from territoria.embed.fake import FakeEmbedder
from territoria.participation.keywords import Tokenizer, label_from, theme_keywords
from territoria.participation.themes import OTHER, cluster, k_grid, lsa, represent

BUS = [
    "Plus de bus le soir vers la gare",
    "Le bus de la ligne 3 passe trop rarement",
    "Des bus plus fréquents le dimanche",
    "Un bus direct vers l'hôpital",
    "Les horaires du bus ne collent pas aux trains",
    "Des abris aux arrêts de bus",
]
PARCS = [
    "Planter des arbres dans le parc municipal",
    "Ouvrir le parc plus tard en été",
    "Des jeux pour enfants dans le parc",
    "Nettoyer le parc et ses allées",
    "Plus de bancs confortables dans le parc",
    "Un parc canin séparé du parc pour enfants",
]
IMPOTS = [
    "Baisser la taxe foncière des propriétaires",
    "La taxe foncière a trop augmenté",
    "Moins d'impôts locaux et de taxe foncière",
    "Geler la taxe foncière cette année",
    "Expliquer l'usage de la taxe foncière",
    "Une taxe foncière plus juste pour les familles",
]


def test_tokenizer_drops_stop_words_and_pseudonyms() -> None:
    words = [w for _, w in Tokenizer().tokens("Il faut que [PERSONNE_0a1b2c] rénove l'école")]
    assert words == ["rénove", "école"]


def test_three_topics_found_without_labels_and_keywords_name_them(embedder: Any) -> None:
    texts = BUS + PARCS + IMPOTS
    vectors, name = represent(texts, embedder=embedder, max_embedded=100)
    assert name == "plongements (words)"
    found = cluster(vectors, texts, representation=name, seed=0, max_themes=5)
    labels = found.labels.tolist()
    groups = [set(labels[i : i + 6]) for i in (0, 6, 12)]
    assert all(len(g) == 1 for g in groups)
    assert len(set().union(*groups)) == 3
    keywords = theme_keywords(texts, labels)
    named = [[w for w, _, _ in keywords[g.pop()][:2]] for g in groups]
    assert "bus" in named[0] and "parc" in named[1] and "taxe" in named[2]
    assert label_from(keywords[labels[0]]).startswith("bus")


def test_short_texts_and_tiny_themes_are_other(embedder: Any) -> None:
    texts = BUS + PARCS + ["Oui", "Non merci"]
    vectors, name = represent(texts, embedder=embedder, max_embedded=100)
    found = cluster(vectors, texts, representation=name, min_theme_size=3, max_themes=4)
    assert found.labels[-1] == OTHER and found.labels[-2] == OTHER
    assert (found.labels != OTHER).sum() == 12


def test_large_input_uses_lsa_without_embedder() -> None:
    texts = (BUS + PARCS + IMPOTS) * 5
    vectors, name = represent(texts, embedder=FakeEmbedder(), max_embedded=10)
    assert name.startswith("TF-IDF")
    assert vectors.shape[0] == len(texts)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert lsa(["", ""]).shape[0] == 2


def test_k_grid_bounds() -> None:
    assert k_grid(3, 30) == []
    assert k_grid(6, 30) == [2]
    assert k_grid(200, 30) == list(range(2, 15))
    grid = k_grid(100_000, 30)
    assert grid[0] == 2 and grid[-1] == 30 and len(grid) <= 15
