"""How a part is scored: the rules of `answer.scoring`, seen through the composer."""

from __future__ import annotations

from territoria.answer.extractive import compose
from territoria.search.analysis import make_analyzer
from territoria.types import Hit, Passage

analyze = make_analyzer()


def hit(pid: str, text: str, headings: tuple[str, ...] = (), title: str = "État civil") -> Hit:
    doc = pid.split("#")[0]
    return Hit(Passage(pid, doc, title, text, source=f"{doc}.md", headings=headings), 1.0)


def first(question: str, hits: list[Hit]) -> str:
    extract = compose(question, hits, analyze=analyze, idf=lambda t: 1.0, max_words=80)
    return extract.sentences[0][1]


def test_a_heading_that_is_a_question_counts_as_the_question_its_section_answers() -> None:
    kinds = hit(
        "etat-civil#1",
        "Trois types de documents peuvent être délivrés :\n- la copie intégrale de l'acte ;\n"
        "- l'extrait avec filiation ;\n- l'extrait sans filiation.",
        ("État civil",),
    )

    def how(heading: str) -> str:
        steps = hit(
            "etat-civil#2",
            "- En ligne, sur le site service-public.fr ;\n- Par courrier, à la mairie ;\n"
            "- Au guichet, muni d'une pièce d'identité.",
            ("État civil", heading),
        )
        return first("Comment faire la demande d'une copie de mon acte ?", [kinds, steps])

    asked = how("Comment faire la demande ?")
    assert asked.startswith("« Comment faire la demande ? » : En ligne, sur le site")
    # the same words in a heading that asks nothing count half, as before
    assert how("Comment faire la demande").startswith("Trois types de documents")


def test_a_request_verb_does_not_make_a_list_the_answer_to_when() -> None:
    who = hit(
        "ecole#0",
        "L'inscription est nécessaire :\n- pour une première entrée à l'école maternelle ;\n"
        "- pour l'entrée au CP ;\n- en cas d'emménagement.",
    )
    when = hit(
        "ecole#1",
        "Les inscriptions pour l'école sont ouvertes du 3 mars au 30 avril.",
    )
    answer = first("Quand inscrire mon enfant à l'école maternelle ?", [who, when])
    assert answer.startswith("Les inscriptions pour l'école sont ouvertes du 3 mars")


def test_a_section_whose_heading_asks_another_question_answers_that_one() -> None:
    def when(heading: str) -> str:
        who = hit(
            "ecole#1",
            "L'inscription est nécessaire :\n- pour un enfant admis en petite section à la "
            "rentrée 2025 ;\n- pour l'entrée au CP.",
            ("Inscriptions scolaires", heading),
        )
        dates = hit(
            "ecole#2",
            "Pour la rentrée 2025, les inscriptions sont ouvertes du 3 mars au 30 avril.",
            ("Inscriptions scolaires", "L'inscription en mairie"),
        )
        question = "Quand inscrire mon enfant en petite section pour la rentrée 2025 ?"
        return first(question, [who, dates])

    assert when("Qui doit être inscrit ?").startswith("Pour la rentrée 2025, les inscriptions")
    # the same section under a heading that asks nothing: its words weigh as before
    assert "pour un enfant admis en petite section" in when("Les enfants concernés")


def test_where_the_question_looks_is_held_by_the_document_not_the_sentence() -> None:
    prices = hit(
        "cantine#5",
        "Le tarif bénéficie du soutien de l'État au titre de la tarification sociale des cantines.",
        ("Restauration scolaire", "Tarifs"),
        title="Restauration scolaire",
    )
    menus = hit(
        "cantine#7",
        "Les menus sont affichés à l'école. Un menu végétarien est proposé une fois par semaine.",
        ("Restauration scolaire", "Les menus"),
        title="Restauration scolaire",
    )
    question = "Y a-t-il des repas végétariens à la cantine ?"
    assert first(question, [prices, menus]).startswith("Un menu végétarien est proposé")
    # without the place, the two sentences cover as much: the better-ranked comes first
    assert first("végétariens cantine", [prices, menus]).startswith("Le tarif")


def test_every_word_of_how_long_in_advance_is_answered_by_a_length_of_time() -> None:
    lent = hit(
        "associations#0",
        "La commune prête aux associations des tables, des chaises et des barnums pour leurs "
        "manifestations. La demande doit parvenir au service au moins 15 jours avant.",
        title="Matériel",
    )
    question = (
        "Combien de temps à l'avance demander des tables, des chaises et des barnums pour une "
        "manifestation associative ?"
    )
    answer = first(question, [lent])
    assert answer.startswith("La demande doit parvenir au service au moins 15 jours avant")


def test_days_without_hours_do_not_answer_a_question_on_hours() -> None:
    closed = hit(
        "mairie#0",
        "En 2025, la mairie sera également fermée le vendredi 30 mai et le vendredi 26 décembre.",
        ("Jours de fermeture",),
        title="Horaires de la mairie",
    )
    week = hit(
        "mairie#1",
        "- Lundi, mardi et vendredi : de 8h30 à 12h00\n- Jeudi : de 8h30 à 19h00",
        ("Horaires d'ouverture",),
        title="Horaires de la mairie",
    )
    access = hit(
        "mairie#2",
        "L'Hôtel de ville est situé place de la République.",
        ("Accès",),
        title="Horaires de la mairie",
    )
    answer = first("les horaires de la mairie", [closed, access, week])
    assert "Lundi, mardi et vendredi : de 8h30" in answer


def test_a_share_of_the_weight_is_summed_in_the_query_order_not_a_sets() -> None:
    from territoria.answer.scoring import share

    weights = {"a": 0.1, "b": 0.2, "c": 0.3}
    expected = (0.1 + 0.2) + 0.3  # 0.6000000000000001: the query's order
    for terms in ({"c", "b", "a"}, ["c", "a", "b"], frozenset("bca")):
        assert share(weights, terms, 1.0) == expected
