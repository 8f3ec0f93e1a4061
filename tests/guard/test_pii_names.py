"""Person names of every origin: INSEE's first names in context (`guard.pii_names`).

These run the name finder alone (no spaCy entities given); tests/guard/test_pii.py checks the
same names through the whole guard.
"""

from __future__ import annotations

import pytest

from territoria.guard.name_lexicon import FirstNames
from territoria.guard.pii_names import find_names, name_may_occur


def found(text: str, names: FirstNames) -> list[str]:
    return [text[start:end] for start, end, _ in find_names(text, names)]


def test_names_from_a_small_list() -> None:
    names = FirstNames.from_names([("Sylvie", 0), ("Karim", 0), ("Zéphyrine", 3), ("de", 0)])
    assert names.tier("SYLVIE") == 0 and names.tier("zephyrine") == 3
    assert names.tier("de") is None  # stop words and particles are never first names
    assert found("Dossier suivi par ROBERT Sylvie, instructrice.", names) == ["ROBERT Sylvie"]


# The three failures of the audit (finding 9), then one case per format and context.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dossier suivi par ROBERT Sylvie, instructrice au service urbanisme.", ["ROBERT Sylvie"]),
        (
            "Pour le covoiturage, appeler Karim au 06 18 27 36 45 ou Samia au 07 81 92 03 14.",
            ["Karim", "Samia"],
        ),
        ("Le dossier de Sylvie ROBERT est complet.", ["Sylvie ROBERT"]),
        ("Le courrier de M. ROBERT est arrivé.", ["ROBERT"]),
        (
            "Présents : S. Benhamou, J.-P. Lacaze et Robert S.",
            ["S. Benhamou", "J.-P. Lacaze", "Robert S."],
        ),
        ("La déclaration est signée par Mme BEN SALEM Nadia.", ["BEN SALEM Nadia"]),
        ("Bonjour, je suis Gwenaëlle Le Bihan, du comité.", ["Gwenaëlle Le Bihan"]),
        (
            "La famille Ould Ahmed et Joaquim Pereira da Costa.",
            ["Ould Ahmed", "Joaquim Pereira da Costa"],
        ),
        (
            "Le président, Jean-Claude N'Guessan, sollicite une subvention.",
            ["Jean-Claude N'Guessan"],
        ),
        ("Madame Ngozi Okafor-Mensah est convoquée.", ["Ngozi Okafor-Mensah"]),
        (
            "Présents : Małgorzata Nowak et Tomasz Wiśniewski.",
            ["Małgorzata Nowak", "Tomasz Wiśniewski"],
        ),
        ("Vu la demande de NGUYEN Thi Hoa, l'extrait est délivré.", ["NGUYEN Thi Hoa"]),
        (
            "Les enfants Lucas, Chaïma et Bilal Haddad sont inscrits.",
            ["Lucas", "Chaïma", "Bilal Haddad"],
        ),
        ("Merci de rappeler mme khadija el idrissi au 06 71 62 53 44.", ["khadija el idrissi"]),
        ("Appel de sylvie robert au 05 62 11 22 33, rappel souhaité.", ["sylvie robert"]),
        ("Joindre Dieynaba (07 66 77 88 99) en cas d'urgence.", ["Dieynaba"]),
        ("Je vous transmets le numéro de Hassan : 06 45 56 67 78.", ["Hassan"]),
        ("Courriel de thi.mai.pham@exemple.fr, signé Pham Thi Mai.", ["Pham Thi Mai"]),
        ("NOM : MARTINEZ, prénom : Lucía.", ["MARTINEZ", "Lucía"]),
        ("L'école a convoqué Karim Benali et ses parents.", ["Karim Benali"]),
        ("La salle louée par Sophie Lambert est réservée.", ["Sophie Lambert"]),
        ("Quelles aides pour Germaine, 85 ans, qui vit seule ?", ["Germaine"]),
    ],
)
def test_names_are_found(names: FirstNames, text: str, expected: list[str]) -> None:
    assert found(text, names) == expected


# Places and institutions named after people, and capitalised words that are first names too.
@pytest.mark.parametrize(
    "text",
    [
        "Les élèves de l'école Jules-Ferry visiteront le musée Toulouse-Lautrec en mai.",
        "La circulation sera interdite avenue Jean-Jaurès et rue Victor Hugo.",
        "L'hôpital Robert-Debré et la clinique Pasteur participent à la journée.",
        "Le gymnase Alain Colas et la salle Nelson Paillou accueillent le tournoi.",
        "La fête de la Saint-Jean aura lieu au parc Émile-Zola, place Saint-Martin.",
        "France Services et la Caisse d'allocations familiales tiennent une permanence.",
        "Le CHU Purpan et l'hôpital Rangueil sont à Toulouse.",
        "Le magasin Leroy Merlin ouvre une enseigne à Muret.",
        "Florence, Nancy et Valence sont des villes jumelées.",
        "Marine nationale : recrutement ouvert aux jeunes de 17 à 30 ans.",
        "Pascal est une unité de pression.",
        "POUR L ACCÈS A L EMPLOI LA RÈGLE DEVRAIT ETRE LA MÊME POUR TOUT LE MONDE.",
        "Retard de la remise STC et du CDD prime de précarité.",
        "Un salarié en CDI lié par le mariage.",
    ],
)
def test_places_institutions_and_words_are_not_names(names: FirstNames, text: str) -> None:
    assert found(text, names) == []


def test_spacy_labels_confirm_or_veto_a_lone_first_name(names: FirstNames) -> None:
    text = "La tempête Alex a touché les vallées."
    start = text.index("Alex")
    place = [(start, start + 4)]
    assert [text[s:e] for s, e, _ in find_names(text, names, not_persons=place)] == []
    text = "Réunion avec Nadia demain."
    start = text.index("Nadia")
    person = [(start, start + 5)]
    assert [text[s:e] for s, e, _ in find_names(text, names, persons=person)] == ["Nadia"]


@pytest.mark.parametrize(
    ("text", "may"),
    [
        ("Combien coûte la cantine ?", False),
        ("Horaires de la mairie de Val-Fleuri ?", False),  # a lone capitalised word
        ("Quel est le montant du RSA ? et le QF ?", False),
        ("la salle du Moulin est-elle libre ?", False),
        ("je suis marie, combien coûte la cantine", False),  # lower case: no NER either
        ("Je suis Marie, combien coûte la cantine ?", True),  # a first name
        ("M. Dupont demande la salle.", True),  # a title before
        ("ma voisine Germaine se plaint du bruit", True),
        ("Dupont de Nemours a écrit.", True),  # side by side, a particle between
        ("Dossier DUPONT MARTIN", True),
        ("Signé : J. Dupont", True),  # an initial
        ("Le courrier de LEROY Jean", True),
    ],
)
def test_where_a_name_may_occur(names: FirstNames, text: str, may: bool) -> None:
    assert name_may_occur(text, names) is may
