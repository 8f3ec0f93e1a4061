from __future__ import annotations

from territoria.participation.dedupe import find_duplicates, jaccard, shingles


def test_exact_and_near_duplicates_grouped_unrelated_kept_apart() -> None:
    texts = [
        "Il faut plus de pistes cyclables dans le centre-ville de Lille, vraiment.",
        "Rien à voir : ouvrir la piscine municipale le dimanche matin.",
        "il faut plus de pistes cyclables dans le centre ville de Lille, vraiment !!",
        "Il faut plus de pistes cyclables dans le centre-ville de Lille, vraiment et partout.",
        "Oui",
        "oui.",
        "Il faut moins de voitures dans le centre-ville de Roubaix le samedi.",
    ]
    found = find_duplicates(texts)
    assert found.canonical == (0, 1, 0, 0, 4, 4, 6)
    assert found.groups == ((0, 2, 3), (4, 5))
    assert found.unique_indices == [0, 1, 4, 6]


def test_campaign_of_many_copies_is_one_group() -> None:
    campaign = "Non au projet de rocade qui détruirait le bois de la Deûle et ses sentiers."
    texts = [campaign] * 120 + [
        f"Contribution différente numéro {i} sur la cantine" for i in range(5)
    ]
    found = find_duplicates(texts)
    assert found.groups[0] == tuple(range(120))
    assert len(found.unique_indices) == 6


def test_jaccard_on_shingles() -> None:
    a = shingles(["le", "bus", "de", "la", "gare"])
    assert jaccard(a, a) == 1.0
    assert jaccard(a, shingles(["un", "tout", "autre", "texte", "ici"])) == 0.0
