from __future__ import annotations

from territoria.participation.language import detect
from territoria.participation.method import plural, privacy_notes


def test_language_of_each_text_and_of_the_set() -> None:
    texts = [
        "Il faut plus de pistes cyclables dans le quartier et des bus le soir.",
        "Umverteilung von Wohlstand ist wichtig für den Klimaschutz in Österreich.",
        "ok",  # too short to judge: takes the main language
        "Nous voulons des commerces de proximité et un marché le dimanche matin.",
    ]
    languages = detect(texts)
    assert languages.per_text == ("fr", "de", "fr", "fr")
    assert languages.main == "fr" and languages.shares["de"] == 0.25
    assert languages.as_dict()["main_name"] == "français"


def test_french_plurals() -> None:
    assert plural(1, "fichier") == "1 fichier"
    assert plural(0, "contribution") == "0 contribution"
    assert plural(2, "fichier") == "2 fichiers"
    assert plural(3, "réseau") == "3 réseaux"
    assert plural(2, "groupe d’atelier", "groupes d’atelier") == "2 groupes d’atelier"


def test_privacy_notes_say_what_was_masked_and_how_names_were_sought() -> None:
    notes = privacy_notes(
        {"PERSON": 1, "PHONE": 2}, {"de": "patterns", "fr": "ner"}, min_group_size=5
    )
    assert notes[0] == (
        "Données personnelles masquées dans les textes : 2 numéros de téléphone, 1 nom de personne."
    )
    assert any("allemand" in n and "noms de personnes n'ont pas été recherchés" in n for n in notes)
    assert privacy_notes({}, {"fr": "ner"}, min_group_size=5)[0].startswith("Aucune")
