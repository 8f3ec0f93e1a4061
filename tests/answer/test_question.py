"""What a question asks for, and whether a text holds that kind of fact."""

from __future__ import annotations

import pytest

from territoria.answer.question import (
    analyse_question,
    asks_another,
    existence_setting,
    holds,
    interrogatives,
    narrowest,
    range_match,
    ranges_in,
    states_period,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Combien coûte la cantine ?", "amount"),
        ("cb ca coute la salle des fetes", "amount"),
        ("À quelle heure ferme la mairie le jeudi ?", "time"),
        ("La bibliothèque est-elle ouverte le lundi ?", "time"),
        ("Dans quel délai déclarer une naissance ?", "date"),
        ("ça prend combien de temps pour avoir le rdv", "duration"),
        ("Faut-il réserver la salle longtemps à l'avance ?", "duration"),
        ("Quand a lieu le forum des associations ?", "date"),
        ("Où se trouve le CCAS ?", "place"),
        ("Quels papiers pour un mariage ?", "list"),
        ("Comment obtenir un acte de naissance ?", "procedure"),
        ("Faut-il un permis pour un abri de jardin ?", "yesno"),
        ("Quel est le numéro de téléphone de la mairie ?", "contact"),
    ],
)
def test_kinds_of_questions(question: str, kind: str) -> None:
    assert kind in analyse_question(question).kinds


def test_words_that_only_say_the_kind_are_cues_and_days_are_values() -> None:
    info = analyse_question("À quelle heure ferme la mairie le jeudi soir ?")
    assert info.days == ("jeudi",)
    assert {word for _, word in info.cues} == {"heure", "ferme", "soir"}
    assert "date" not in analyse_question("Combien coûte la salle quand on habite ici ?").kinds
    assert "place" not in analyse_question("Quand a lieu le marché ?").kinds


def test_numbers_exclude_years() -> None:
    assert analyse_question("Tarif 2025 pour un quotient de 1 250 € ?").numbers == (1250.0,)


def test_holds() -> None:
    assert holds("amount", "Le repas coûte 3,10 €.") and holds("amount", "C'est gratuit.")
    assert holds("time", "Ouvert de 8h30 à 12h00.")
    assert holds("time", "Fermée le lundi.") and not holds(
        "time", "Fermée le lundi.", days_asked=True
    )
    assert holds("date", "avant le 30 juin") and holds("date", "dans les 5 jours")
    assert holds("place", "au 5 rue des Ateliers") and holds("contact", "au 05 00 00 00 00")
    assert not holds("amount", "La salle accueille 300 personnes.")


def test_ranges() -> None:
    text = "QF de 701 € à 1 000 € ; QF inférieur ou égal à 400 € ; QF supérieur à 1 400 €"
    assert ranges_in(text) == [(701.0, 1000.0), (float("-inf"), 400.0), (1400.0, float("inf"))]
    assert range_match((850.0,), "QF de 701 € à 1 000 €") is True
    assert range_match((850.0,), "QF de 401 € à 700 €") is False
    assert range_match((850.0,), "Le repas coûte 3,10 €") is None
    assert range_match((15.0,), "une surface entre 5 m² et 20 m²") is True


def test_the_word_heures_alone_is_no_hour() -> None:
    from territoria.answer.question import holds

    assert not holds("time", "Un élu peut être joint en dehors des heures d'ouverture.")
    assert holds("time", "La salle ferme à 18 heures.")
    assert holds("time", "Jeudi : de 8h30 à 12h00")
    assert holds("time", "Ouvert le samedi")  # a day, when the question names none


def test_how_long_asks_for_a_length_of_time_not_a_date() -> None:
    info = analyse_question("on veut se pacser, ça prend combien de temps pour avoir le rdv")
    assert info.kinds == ("duration",)
    assert "date" in analyse_question("Jusqu'à quand et combien de temps ?").kinds
    assert holds("duration", "fixé dans un délai de 3 semaines environ")
    assert holds("duration", "au moins deux mois avant") and holds(
        "duration", "sous 5 jours ouvrés"
    )
    # "après" says when, not how long; hours of a day are no length of time
    assert not holds("duration", "sur rendez-vous, après dépôt du dossier")
    assert not holds("duration", "de 8h30 à 12h00")
    assert holds("duration", "gratuit mais limité à 1h30") and holds("duration", "pendant 2 h")
    assert not holds("duration", "du lundi au samedi, de 9h00 à 12h00")


def test_a_weekday_answers_when_for_what_recurs() -> None:
    assert holds("date", "Emballages et papiers (bac jaune) : Vendredi des semaines paires")
    assert holds("date", "le premier mercredi de chaque mois")
    assert not holds("date", "Le bac jaune reçoit les emballages en plastique.")


def test_a_period_of_the_year_stated_and_named() -> None:
    assert states_period("Du 7 juillet au 29 août 2025, l'Hôtel de ville est ouvert")
    assert states_period("ouvert de juin à septembre")
    assert not states_period("Samedi : de 9h00 à 12h00 (hors juillet et août)")
    assert analyse_question("Horaires de la mairie pendant l'été ?").period
    assert analyse_question("La piscine est-elle ouverte en août ?").period
    assert not analyse_question("Quels sont les horaires de la mairie ?").period


def test_every_word_of_a_cue_phrase_is_a_cue() -> None:
    info = analyse_question("Combien de temps à l'avance réserver la salle ?")
    assert {word for _, word in info.cues} == {"combien", "temps", "avance"}
    assert {word for _, word in analyse_question("où se trouve le CCAS ?").cues} == {"trouve"}
    # the words before "quand" are the topic, not cues
    info = analyse_question("Le forum des associations c'est quand ?")
    assert {word for _, word in info.cues} == {"quand"}


def test_a_request_verb_asks_how_only_where_no_particular_fact_is_asked() -> None:
    assert analyse_question("Quand inscrire mon enfant en petite section ?").kinds == ("date",)
    assert "procedure" not in analyse_question("Est-ce payant de demander un extrait ?").kinds
    assert "procedure" in analyse_question("Je voudrais inscrire mon fils à la cantine").kinds
    info = analyse_question("Comment obtenir un acte de naissance ?")
    assert info.kinds == ("procedure",)
    assert {word for _, word in info.cues} == {"comment", "obtenir"}


def test_quand_at_the_end_asks_a_date_and_a_delay_in_words_answers_it() -> None:
    assert "date" in analyse_question("la caution de la salle on la récupère quand").kinds
    assert holds("date", "La caution est restituée dans un délai d'un mois.")
    assert holds("date", "sous deux semaines")


def test_some_texts_hold_a_kind_only_weakly() -> None:
    from territoria.answer.question import holds_weakly

    assert holds_weakly("time", "La mairie sera fermée le vendredi 30 mai.")
    assert not holds_weakly("time", "Samedi : de 9h00 à 12h00")
    assert holds_weakly("place", "Prenez contact avec l'accueil de la mairie.")
    assert not holds_weakly("place", "Le CCAS est au 2 rue des Tilleuls.")
    assert not holds_weakly("place", "Service : CCAS ; Adresse : Hôtel de ville, 1er étage")
    assert not holds_weakly("amount", "Le repas coûte 3,10 €.")


def test_apres_midi_is_no_hour() -> None:
    assert not holds("time", "Fermée le dimanche après-midi.", days_asked=True)
    assert holds("time", "Ouverte de 9h à midi.", days_asked=True)


def test_the_words_naming_what_a_list_is_of_stay_the_topic() -> None:
    info = analyse_question("Quels déchets sont acceptés à la déchetterie ?")
    assert info.kinds == ("list",) and not info.cues
    assert {w for _, w in analyse_question("Quels justificatifs faut-il ?").cues} == {
        "justificatifs"
    }


def test_the_question_words_a_question_asks_with() -> None:
    assert interrogatives("Quand inscrire mon enfant ?") == {"quand"}
    assert interrogatives("ou se trouve le ccas") == {"ou"}
    assert interrogatives("Où déposer mes gravats ?") == {"ou"}
    assert interrogatives("cb ca coute, et c kan ?") == {"combien", "quand"}
    # "ou" (or) is no question word; "quel" asks for whatever its noun names
    assert interrogatives("Le matin ou le soir ?") == frozenset()
    assert interrogatives("Quel est le délai ?") == frozenset()


def test_a_heading_asking_with_other_question_words_about_other_facts_asks_another() -> None:
    when = analyse_question("Quand inscrire mon enfant en petite section ?")
    assert asks_another("Qui doit être inscrit ?", when)
    assert not asks_another("Quand s'inscrire ?", when)
    # a heading that asks the same kind of fact, with another word
    assert not asks_another("Quelle est la date limite ?", when)
    assert not asks_another("Combien de temps avant la rentrée faut-il s'inscrire ?", when)
    # a heading that asks nothing, or a question asked with no question word
    assert not asks_another("Qui doit être inscrit", when)
    assert not asks_another("Qui doit être inscrit ?", analyse_question("Inscription école"))


def test_the_width_of_the_narrowest_range_holding_a_number() -> None:
    assert narrowest((15.0,), "une surface comprise entre 5 m² et 20 m²") == 15.0
    assert narrowest((15.0,), "les abris de moins de 20 m²") == float("inf")
    assert narrowest((15.0,), "de 10 à 100 m², ou de 12 à 18 m² en zone urbaine") == 6.0
    assert narrowest((15.0,), "une surface qui dépasse 150 m²") is None
    assert ranges_in("lorsque la surface dépasse 150 m2") == [(150.0, float("inf"))]


def test_a_range_in_another_unit_says_nothing_of_the_number() -> None:
    abri = analyse_question("Faut-il une autorisation pour un abri de 15 m² ?")
    assert abri.numbers == (15.0,) and abri.units == ("m2",)
    assert range_match(abri.numbers, "pour les enfants de 3 à 11 ans", abri.units) is None
    assert range_match(abri.numbers, "de 10 m2 à 20 m2", abri.units) is True
    assert narrowest(abri.numbers, "de 12 à 18 jours ou entre 5 et 20 m²", abri.units) == 15.0
    # a number stated without a unit, or a range without one, may still be held
    assert range_match((850.0,), "QF de 701 € à 1 000 €", ("",)) is True
    assert range_match(abri.numbers, "de 10 à 20", abri.units) is True
    # units of one quantity are compared in one base unit: 3 weeks are less than 30 days
    weeks = analyse_question("si j'annule 3 semaines avant ?")
    assert range_match(weeks.numbers, "moins de 30 jours avant la date", weeks.units) is True
    assert range_match(weeks.numbers, "plus de 30 jours avant la date", weeks.units) is False
    info = analyse_question("Mon fils de 12 ans, QF 850 €, en 2025")
    assert info.numbers == (12.0, 850.0) and info.units == ("an", "€")


def test_where_a_question_asks_whether_something_exists() -> None:
    assert existence_setting("Y a-t-il des repas végétariens à la cantine ?") == "cantine"
    assert existence_setting("ya du bio a la cantine ?") == "cantine"
    assert existence_setting("Est-ce qu'il y a un parking au marché ?") == "marche"
    assert existence_setting("Il y a des toilettes dans la salle des fêtes ?") == "salle des fetes"
    # no existence asked, or no place named
    assert existence_setting("Combien coûte un repas à la cantine ?") == ""
    assert existence_setting("Y a-t-il des repas végétariens ?") == ""


def test_the_modal_verb_opening_a_yes_no_question_is_its_cue() -> None:
    assert ("yesno", "dois") in analyse_question("Dois-je faire une démarche ?").cues
    assert ("yesno", "faut") in analyse_question("Faut-il une autorisation ?").cues
    assert ("yesno", "peut") in analyse_question("Peut-on se garer ici ?").cues
    # the same verb elsewhere says what is asked
    assert not any(k == "yesno" for k, _ in analyse_question("Il faut quoi comme papiers ?").cues)
    assert not any(k == "yesno" for k, _ in analyse_question("Que dois-je fournir ?").cues)
