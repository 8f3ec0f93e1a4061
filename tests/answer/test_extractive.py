from __future__ import annotations

import pytest

from territoria.answer.extractive import Extract, compose
from territoria.answer.sentences import split_sentences
from territoria.search.analysis import make_analyzer
from territoria.types import Hit, Passage

analyze = make_analyzer()


def hit(pid: str, text: str, title: str = "Titre", score: float = 1.0) -> Hit:
    doc = pid.split("#")[0]
    return Hit(Passage(pid, doc, title, text, source=f"{doc}.pdf"), score)


HITS = [
    hit(
        "cantine#0",
        "Restauration scolaire. Le prix du repas est de 3,10 euros pour la tranche A du "
        "quotient familial. Le prix du repas est de 4,20 euros pour la tranche B. "
        "Les menus sont affichés à l'entrée de l'école.",
        "Cantine",
    ),
    hit(
        "dechets#2", "Le bac jaune est collecté le mardi. Les verres vont au conteneur.", "Déchets"
    ),
]


def test_sentences_keep_offsets() -> None:
    text = "Le tarif est de 3 €. M. Dupont signe l'arrêté.\n- bac jaune : mardi"
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "Le tarif est de 3 €.",
        "M. Dupont signe l'arrêté.",
        "- bac jaune : mardi",
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_answer_quotes_verbatim_and_cites_every_sentence() -> None:
    extract = compose(
        "Quel est le prix du repas à la cantine pour le quotient familial ?",
        HITS,
        analyze=analyze,
        idf=lambda term: 1.0,
        max_words=80,
    )
    assert extract.citations and extract.citations[0].doc_id == "cantine"
    assert "3,10 euros" in extract.text
    numbers = {c.n for c in extract.citations}
    for n, sentence in extract.sentences:
        assert n in numbers
        cited = next(c for c in extract.citations if c.n == n)
        source = next(h for h in HITS if h.passage.passage_id == cited.passage_id)
        assert sentence in source.passage.text  # verbatim
        assert f"{sentence} [{n}]" in extract.text
    assert len(extract.text.split()) <= 80 + len(extract.sentences)


def test_word_budget_is_respected() -> None:
    extract = compose(
        "prix du repas tranche", HITS, analyze=analyze, idf=lambda t: 1.0, max_words=12
    )
    assert sum(len(s.split()) for _, s in extract.sentences) <= 16


def test_no_overlap_gives_no_answer() -> None:
    extract = compose(
        "Qui a gagné la coupe du monde de rugby ?",
        HITS,
        analyze=analyze,
        idf=lambda t: 1.0,
        max_words=80,
    )
    assert extract.citations == () and extract.coverage == 0.0


TARIFS = hit(
    "tarifs#0",
    "Les tarifs dépendent du quotient familial.\n"
    "Quotient familial | Prix du repas\n"
    "QF inférieur ou égal à 400 € | 1,00 €\n"
    "QF de 401 € à 700 € | 2,10 €\n"
    "QF de 701 € à 1 000 € | 3,10 €\n"
    "QF supérieur à 1 000 € | 4,50 €",
    "Restauration scolaire",
)


def test_a_table_row_is_quoted_with_its_headers_and_the_range_that_holds_the_number() -> None:
    extract = compose(
        "Combien coûte un repas à la cantine avec un quotient familial de 850 € ?",
        [TARIFS],
        analyze=analyze,
        idf=lambda t: 1.0,
        max_words=80,
    )
    first = extract.sentences[0][1]
    assert first == "Quotient familial : QF de 701 € à 1 000 € ; Prix du repas : 3,10 €"
    assert extract.citations[0].quote.startswith("Quotient familial | Prix du repas\n")
    assert "QF de 701 € à 1 000 € | 3,10 €" in extract.citations[0].quote


PIECES = hit(
    "mariage#3",
    "Le dossier est déposé en mairie deux mois avant.\n\nPièces à fournir :\n"
    "- une copie intégrale de l'acte de naissance ;\n- une pièce d'identité ;\n"
    "- un justificatif de domicile.",
    "Mariage",
)


def test_a_list_question_gets_the_whole_list_without_markers() -> None:
    extract = compose(
        "Quelles pièces fournir pour un mariage ?",
        [PIECES],
        analyze=analyze,
        idf=lambda t: 1.0,
        max_words=80,
    )
    text = extract.sentences[0][1]
    assert text.startswith("Pièces à fournir :\n")
    assert "une pièce d'identité" in text and "- " not in text


def test_a_single_item_loses_its_marker() -> None:
    extract = compose(
        "Faut-il un justificatif de domicile ?",
        [PIECES],
        analyze=analyze,
        idf=lambda t: 1.0,
        max_words=80,
    )
    assert not extract.text.startswith("-")
    assert "justificatif de domicile" in extract.sentences[0][1]


def test_a_sentence_leaning_on_its_heading_carries_it() -> None:
    passage = Passage(
        "ec#11",
        "ec",
        "État civil",
        "La carte est gratuite. En cas de perte, son renouvellement coûte 25 € en timbre fiscal.",
        headings=("État civil", "Carte nationale d'identité"),
    )
    extract = compose(
        "Combien coûte le renouvellement de la carte d'identité perdue ?",
        [Hit(passage, 1.0)],
        analyze=analyze,
        idf=lambda t: 1.0,
        max_words=80,
    )
    assert extract.sentences[0][1] == (
        "« Carte nationale d'identité » : En cas de perte, son renouvellement coûte 25 € "
        "en timbre fiscal."
    )


def test_at_most_one_supporting_part_and_only_if_it_adds_something() -> None:
    extract = compose(
        "Quel est le prix du repas à la cantine pour le quotient familial ?",
        HITS,
        analyze=analyze,
        idf=lambda t: 1.0,
        max_words=80,
    )
    assert 1 <= len(extract.sentences) <= 2
    assert "menus" not in extract.text


def test_table_cut_between_passages_keeps_its_header() -> None:
    from territoria.answer.parts import table_header

    first = (
        "Les tarifs sont fixés par délibération.\n"
        "Quotient familial (QF) | Prix du repas\n"
        "QF de 401 € à 700 € | 2,10 €"
    )
    rest = "QF de 701 € à 1 000 € | 3,10 €\nQF supérieur à 1 000 € | 4,50 €"
    header = table_header([first], rest)
    assert header == "Quotient familial (QF) | Prix du repas"
    assert table_header(["Un paragraphe sans tableau."], rest) is None
    assert table_header([first], "Un paragraphe.\nA | B") is None  # not cut mid-table
    # a table over three passages: the header is in the first one
    assert table_header([first, rest], "Enfant non domicilié | 5,60 €") == header
    extract = compose(
        "Combien coûte le repas avec un quotient familial de 850 € ?",
        [hit("cantine#1", rest, "Restauration scolaire")],
        analyze=analyze,
        idf=lambda term: 1.0,
        max_words=80,
        headers={"cantine#1": header},
    )
    assert extract.text.startswith(
        "Quotient familial (QF) : QF de 701 € à 1 000 € ; Prix du repas : 3,10 €"
    )
    assert extract.citations[0].quote in rest  # the quote stays verbatim from the passage


def test_number_in_an_answered_range_is_a_value_not_a_missing_word() -> None:
    rows = (
        "Quotient familial | Prix du repas\n"
        "QF de 1 001 € à 1 400 € | 3,85 €\n"
        "QF supérieur à 1 400 € | 4,50 €"
    )
    extract = compose(
        "prix du repas avec un QF de 1200",
        [hit("cantine#3", rows, "Restauration scolaire")],
        analyze=analyze,
        idf=lambda term: 1.0,
        max_words=80,
    )
    assert "3,85 €" in extract.text
    assert extract.values == {"1200"}
    assert extract.coverage > 0.7  # 1200 is matched by the range, not missing from the text
    other = compose(
        "prix du repas pour 2 enfants",
        [hit("cantine#3", rows, "Restauration scolaire")],
        analyze=analyze,
        idf=lambda term: 1.0,
        max_words=80,
    )
    assert not other.values


def _article(n: int, heading: str, text: str) -> Hit:
    return Hit(
        Passage(
            f"reglement#{n}",
            "reglement",
            "Règlement de la déchetterie",
            text,
            headings=("Règlement de la déchetterie", heading),
        ),
        1.0,
    )


def test_a_named_article_is_quoted_from_its_start_under_its_heading() -> None:
    items = "\n".join(
        f"- déchet interdit numéro {i} avec une longue explication" for i in range(12)
    )
    hits = [
        _article(9, "Article 7 - Déchets refusés", "Cette liste n'est pas limitative."),
        _article(1, "Article 1 - Objet", "Le présent règlement définit l'accès à la déchetterie."),
        _article(8, "Article 7 - Déchets refusés", f"Sont interdits :\n{items}"),
    ]
    extract = compose(
        "Que dit l'article 7 du règlement de la déchetterie ?",
        hits,
        analyze=analyze,
        idf=lambda term: 1.0,
        max_words=40,
    )
    assert extract.text.startswith("« Article 7 - Déchets refusés » : Sont interdits :")
    assert "Article 1" not in extract.text
    # the list is too long to give whole: cut after the items that fit, marked as cut
    shown = extract.sentences[0][1]
    assert shown.endswith("…") and len(shown.split()) <= 40 + 8
    quote = extract.citations[0].quote
    assert (
        quote.startswith("Sont interdits :\n- déchet interdit numéro 0")
        and quote in hits[2].passage.text
    )
    assert "numéro 11" not in quote


def test_a_table_row_whose_key_cell_states_the_number_asked_is_the_answer() -> None:
    table = hit(
        "parking#0",
        "Durée de stationnement | Tarif\n"
        "30 premières minutes | Gratuit\n"
        "1 heure | 1,00 €\n"
        "2 heures | 2,00 €\n"
        "4 heures | 5,00 €",
        "Stationnement payant",
    )
    extract = compose(
        "tarif du parking pour 2h", [table], analyze=analyze, idf=lambda t: 1.0, max_words=80
    )
    first = extract.sentences[0][1]
    assert first == "Durée de stationnement : 2 heures ; Tarif : 2,00 €"


def test_how_long_is_answered_by_a_length_of_time() -> None:
    passage = hit(
        "pacs#0",
        "Le PACS est enregistré en mairie sur rendez-vous, après dépôt du dossier complet. "
        "Le rendez-vous est fixé dans un délai de 3 semaines environ.",
        "PACS",
    )
    extract = compose(
        "ça prend combien de temps pour avoir le rendez-vous du PACS",
        [passage],
        analyze=analyze,
        idf=lambda t: 1.0,
        max_words=80,
    )
    assert extract.sentences[0][1].startswith("Le rendez-vous est fixé dans un délai de 3 semaines")


def test_a_follow_up_is_answered_about_its_own_subject() -> None:
    market = hit(
        "marche#0",
        "Le marché du samedi matin se tient chaque samedi de 8h00 à 13h00, place de la Halle.",
        "Marchés",
    )
    library = hit("biblio#0", "Samedi : 10h00 - 17h00 (journée continue)", "Bibliothèque")
    question = "À quelle heure a lieu le marché du samedi ? et la bibliothèque, le samedi ?"
    terms = {"bibliothequ": 1.0, "samed": 1.0, "heur": 0.5, "march": 0.5}

    def first(subject: frozenset[str]) -> str:
        extract = compose(
            question,
            [market, library],
            analyze=analyze,
            idf=lambda t: 1.0,
            max_words=80,
            terms=terms,
            subject=subject,
        )
        return extract.citations[0].doc_id

    assert first(frozenset()) == "marche"  # the earlier subject's words and rank win
    assert first(frozenset({"bibliothequ"})) == "biblio"


# --- on the demo's own documents, parsed by the real loaders ---------------------------------


def demo_passages(name: str) -> dict[int, Passage]:
    """The passages of a demo document, by their place in it (`<doc>#<n>`)."""
    from territoria.cli.documents import demo_corpus
    from territoria.ingest import to_passages
    from territoria.ingest.loaders import load_path
    from territoria.settings import Settings

    path = demo_corpus() / name
    settings = Settings()
    passages = to_passages(path.stem, load_path(path, settings).documents[0], settings)
    return {int(p.passage_id.rpartition("#")[2]): p for p in passages}


def ask(question: str, passages: dict[int, Passage], order: list[int]) -> str:
    """The first part quoted for `question` over the passages in this retrieval order (the
    order the demo's search gives); every quote checked verbatim against its passage."""
    hits = [Hit(passages[n], 1.0) for n in order]
    extract = compose(question, hits, analyze=analyze, idf=lambda t: 1.0, max_words=80)
    for c in extract.citations:
        source = next(h.passage for h in hits if h.passage.passage_id == c.passage_id)
        assert all(piece in source.text for piece in c.quote.split("\n"))
    return extract.sentences[0][1]


def test_a_price_question_naming_no_row_gets_the_price_table_not_a_sentence_beside_it() -> None:
    # "cantine" is only in the sentence after the table ("…tarification sociale des
    # cantines"), which the search ranks first; the table's rows never say it
    cantine = demo_passages("restauration-scolaire.pdf")
    first = ask("Combien coûte la cantine ?", cantine, [5, 4, 3])
    assert first.startswith("« Tarifs à compter du 1er septembre 2025 » : ")
    assert "Quotient familial (QF) | Prix du repas\n" in first
    assert "QF de 701 € à 1 000 € | 3,10 €" in first
    # a question that names a row is answered with that row
    row = ask("Combien coûte la cantine avec un quotient familial de 850 € ?", cantine, [5, 4, 3])
    assert row == "Quotient familial (QF) : QF de 701 € à 1 000 € ; Prix du repas : 3,10 €"


def test_the_weekly_timetable_answers_for_the_hours_and_the_summer_ones_for_the_summer() -> None:
    mairie = demo_passages("horaires-mairie.html")
    first = ask("Quels sont les horaires de la mairie ?", mairie, [0, 2, 4, 1, 3])
    assert "Lundi, mardi, mercredi et vendredi : de 8h30 à 12h00 et de 13h30 à 17h30" in first
    assert "Jeudi : de 8h30 à 12h00 et de 13h30 à 19h00" in first
    assert "juillet au 29 août" not in first
    summer = ask("Quels sont les horaires de la mairie pendant l'été ?", mairie, [2, 0, 1, 4, 3])
    assert "Du 7 juillet au 29 août 2025" in summer and "13h30 à 17h00" in summer
    saturday = ask("la mairie est ouverte le samedi ?", mairie, [2, 1, 0, 4, 3])
    assert saturday.startswith("Samedi : de 9h00 à 12h00")


def test_the_passport_stamp_not_the_identity_card_one() -> None:
    # both in the section « Carte nationale d'identité et passeport », cut into two passages
    etat_civil = demo_passages("etat-civil.md")
    first = ask(
        "Quel est le prix du timbre fiscal pour un passeport adulte ?", etat_civil, [11, 10, 9]
    )
    assert "86 € pour un majeur" in first


def test_a_row_the_question_names_by_its_words_beats_the_whole_table() -> None:
    # every row of the services' table states hours, but the question names one service
    mairie = demo_passages("horaires-mairie.html")
    first = ask("Quels sont les horaires du CCAS ?", mairie, [3, 0, 1])
    assert first.startswith("Service : Centre communal d’action sociale (CCAS) ; ")
    assert "Horaires d’accueil : Mardi et vendredi de 9h00 à 12h00" in first


def test_a_row_answer_is_not_supported_by_another_row_of_its_table() -> None:
    mairie = demo_passages("horaires-mairie.html")
    hits = [Hit(mairie[n], 1.0) for n in (3, 1, 0)]
    extract = compose(
        "Quelle est l'adresse des services techniques municipaux ?",
        hits,
        analyze=analyze,
        idf=lambda t: 1.0,
        max_words=80,
    )
    assert extract.sentences[0][1].startswith("Service : Services techniques ; ")
    assert "5 rue des Ateliers" in extract.sentences[0][1]
    assert not any(text.startswith("Service : ") for _, text in extract.sentences[1:])


def test_a_faq_title_that_is_the_question_counts_whole() -> None:
    question = "Qui peut exercer le droit d'accès aux informations publiques ?"
    text = "Toute personne peut le demander, sans avoir à justifier de sa demande."
    other = hit(
        "autre#0",
        "Toute personne peut exercer le droit d'accès aux informations publiques dans les "
        "conditions prévues par la loi, auprès de l'administration qui les détient.",
        "Conditions",
    )

    def first(title: str) -> str:
        hits = [hit("faq#0", text, title), other]
        extract = compose(question, hits, analyze=analyze, idf=lambda t: 1.0, max_words=60)
        return extract.citations[0].doc_id

    assert first(question) == "faq"  # the passage answers the very question its title asks
    assert first(question.rstrip(" ?")) == "autre"  # a title that is no question counts half


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Qui peut exercer le droit d'accès des informations publiques ?", "Toute personne"),
        ("Est-ce que l'accès à l'information publique est un droit ?", "oui"),
    ],
)
def test_a_faq_answer_of_a_few_words_answers_its_question(question: str, answer: str) -> None:
    # crpa-faq: the whole answer under the question is "Toute personne", or "oui"; it shares
    # no word with the question, which its title asks
    other = hit(
        "autre#0",
        "Ce droit s'exerce par la liberté d'accès aux documents administratifs prévue au "
        "livre III du code des relations entre le public et l'administration.",
        "Comment s'exerce le droit à l'information des personnes privées ?",
    )
    hits = [hit("faq#0", answer, question), other]
    extract = compose(question, hits, analyze=analyze, idf=lambda t: 1.0, max_words=60)
    assert extract.citations[0].doc_id == "faq"
    assert extract.sentences[0][1] == answer
    # under a title that asks something else, the few words answer nothing
    hits = [hit("faq#0", answer, "Qui décide de la publication ?"), other]
    extract = compose(question, hits, analyze=analyze, idf=lambda t: 1.0, max_words=60)
    assert extract.citations[0].doc_id == "autre"


def test_the_rental_price_row_of_the_hall_named_not_a_sentence_that_names_it() -> None:
    # a row with many cells is one record: it is not "long" as prose is
    salles = demo_passages("location-salles.docx")
    first = ask("Combien coûte la location de la salle des fêtes ?", salles, [4, 3, 1])
    assert first.startswith("Salle : Salle des fêtes Lucie-Aubrac ; Résidents : week-end : ")


def test_a_follow_up_naming_a_number_replaces_the_number_of_the_question_it_continues() -> None:
    cantine = demo_passages("restauration-scolaire.pdf")
    hits = [Hit(cantine[n], 1.0) for n in (4, 5, 3)]
    earlier = "Combien coûte un repas à la cantine pour un quotient familial de 600 € ?"
    follow_up = "et pour un QF de 1200 ?"

    def first(own: str | None) -> str:
        extract = compose(
            f"{earlier} {follow_up}",
            hits,
            analyze=analyze,
            idf=lambda t: 1.0,
            max_words=80,
            own=own,
        )
        return extract.sentences[0][1]

    assert "QF de 1 001 € à 1 400 € ; Prix du repas : 3,85 €" in first(follow_up)
    assert "3,85 €" not in first(None)  # both numbers read: the first row in range wins


def test_a_follow_up_asking_its_own_kind_of_fact_is_not_answered_with_the_earlier_kind() -> None:
    fine = hit(
        "stationnement#3",
        "En zone bleue, le dépassement de la durée autorisée est sanctionné par une amende de "
        "35 €. Pour contester une amende de zone bleue, adressez une requête à l'officier du "
        "ministère public.",
        "Stationnement",
    )

    def first(own: str | None) -> str:
        extract = compose(
            "Combien coûte une amende en zone bleue ? comment la contester ?",
            [fine],
            analyze=analyze,
            idf=lambda t: 1.0,
            max_words=80,
            own=own,
            # as the rewriter weighs them: the earlier question's terms count half
            terms={"comment": 1, "contest": 1, **dict.fromkeys(analyze(earlier), 0.5)},
        )
        return extract.sentences[0][1]

    earlier = "Combien coûte une amende en zone bleue ?"
    assert first("comment la contester ?").startswith("Pour contester une amende")
    assert first(None).startswith("En zone bleue")  # both read: the amount asked first wins
    # a follow-up naming no kind of its own keeps the earlier one
    assert first("et en zone bleue ?").startswith("En zone bleue")


def test_an_item_completing_the_line_introducing_its_list_is_shown_after_it() -> None:
    rules = hit(
        "dechetterie#3",
        "Horaires et consignes.\nSont strictement interdits à la déchetterie :\n"
        "- les déchets contenant de l'amiante ;\n- les bouteilles de gaz ;\n"
        "- Les pneus de poids lourds. Ils sont repris par les garages.",
    )

    def answer(question: str) -> Extract:
        return compose(question, [rules], analyze=analyze, idf=lambda t: 1.0, max_words=80)

    asbestos = answer("Puis-je apporter des plaques en amiante ?")
    assert asbestos.sentences[0][1] == (
        "« Sont strictement interdits à la déchetterie » : les déchets contenant de l'amiante"
    )
    # the line introducing the list is passage text: it is quoted in the citation too
    assert asbestos.citations[0].quote.split("\n") == [
        "Sont strictement interdits à la déchetterie :",
        "les déchets contenant de l'amiante ;",
    ]
    for line in asbestos.citations[0].quote.split("\n"):
        assert line in rules.passage.text
    # an item that is a sentence of its own stands alone
    assert answer("Que faire des pneus de poids lourds ?").sentences[0][1].startswith("Les pneus")


def test_the_narrowest_range_holding_the_number_states_the_rule_for_it() -> None:
    tax = hit(
        "urbanisme#11",
        "Les abris de jardin de moins de 20 m² sont exonérés de la taxe d'aménagement.",
    )
    rule = hit(
        "urbanisme#1",
        "Une déclaration préalable est exigée pour :\n"
        "- une construction créant une emprise au sol comprise entre 5 m² et 20 m² ;\n"
        "- une piscine dont le bassin dépasse 10 m².",
    )
    extract = compose(
        "Faut-il une autorisation pour un abri de jardin de 15 m² ?",
        [tax, rule],
        analyze=analyze,
        idf=lambda t: 1.0,
        max_words=80,
    )
    assert extract.sentences[0][1] == (
        "« Une déclaration préalable est exigée pour » : une construction créant une emprise "
        "au sol comprise entre 5 m² et 20 m²"
    )
