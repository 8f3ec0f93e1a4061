"""Real survey exports as collectivités download them (sample files written from each tool's
documented layout) and workshop notes, read without a column mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from territoria.participation import dataset_of

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


@pytest.mark.parametrize(
    ("name", "free_texts", "closed"),
    [
        ("limesurvey_reponses.csv", 11, 4),
        ("framaforms_export.csv", 10, 3),
        ("google_forms_reponses.csv", 10, 2),
        ("microsoft_forms.xlsx", 10, 3),
        ("decidim_enquete.csv", 8, 2),
    ],
)
def test_each_tool_export_gives_free_text_and_scales(
    name: str, free_texts: int, closed: int
) -> None:
    dataset = dataset_of([EXPORTS / name])
    assert len(dataset.contributions) == free_texts
    assert len(dataset.questionnaires) == 1
    assert len(dataset.questionnaires[0].questions) == closed
    assert not dataset.issues
    # Tool columns (IP hashes, tokens, draft flags, names) are never taken for answers.
    for c in dataset.contributions:
        assert len(c.text.split()) >= 4
        assert c.author in ("", c.author) and "anonymous" not in c.author


def test_framaforms_three_line_header_names_grid_rows() -> None:
    questionnaire = dataset_of([EXPORTS / "framaforms_export.csv"]).questionnaires[0]
    assert questionnaire.questions == (
        "Votre satisfaction : Accueil en mairie",
        "Votre satisfaction : Horaires d'ouverture",
        "Votre satisfaction : Démarches en ligne",
    )
    assert questionnaire.ordered[questionnaire.questions[0]][0] == "Très insatisfait"


def test_likert_scales_are_ordered_and_places_found() -> None:
    lime = dataset_of([EXPORTS / "limesurvey_reponses.csv"])
    ordered = lime.questionnaires[0].ordered
    assert ordered["Priorités pour le quartier [Pistes cyclables]"] == (
        "Pas du tout important",
        "Peu important",
        "Assez important",
        "Très important",
    )
    assert {c.territory for c in lime.contributions} == {"Centre", "Les Prés", "La Source"}
    google = dataset_of([EXPORTS / "google_forms_reponses.csv"]).questionnaires[0]
    assert google.ordered["Comment évaluez-vous l'offre de transports en commun ?"] == tuple(
        "12345"
    )
    forms = dataset_of([EXPORTS / "microsoft_forms.xlsx"])
    assert {c.territory for c in forms.contributions} == {"Nord", "Sud", "Centre"}


def test_workshop_notes_are_one_unit_per_group() -> None:
    dataset = dataset_of([EXPORTS / "ateliers"])
    assert [f["participants"] for f in dataset.files] == [10, 9, 12]
    assert {c.group for c in dataset.contributions} == {"Groupe 1", "Groupe 2", "Groupe 3"}
    assert len(dataset.contributions) == 15
    # The group is the author: members are never counted one by one.
    assert len({c.author for c in dataset.contributions}) == 3
    kinds = {c.kind for c in dataset.contributions}
    assert kinds == {"priorité d'atelier", "attente d'atelier"}
    # Lines outside the lists (place, facilitator) are not read.
    assert not any("salle" in c.text for c in dataset.contributions)


def test_workshop_notes_without_lists_are_reported(tmp_path: Path) -> None:
    note = tmp_path / "atelier-vide.md"
    note.write_text("# Atelier Groupe 4\nLieu : mairie\n", encoding="utf-8")
    dataset = dataset_of([note])
    assert not dataset.contributions
    reasons = " ".join(i.reason for i in dataset.issues)
    assert "aucune contribution" in reasons and "participants" in reasons
