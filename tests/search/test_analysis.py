"""The French analyzer: elisions, stop words, stemming, accent folding, identifiers."""

from __future__ import annotations

from territoria.search.analysis import FrenchAnalyzer, fold


def terms(text: str) -> list[str]:
    return FrenchAnalyzer().analyze(text)


def test_accents_do_not_matter() -> None:
    assert terms("déchetterie") == terms("dechetterie") == terms("DÉCHETTERIE")
    assert terms("indemnités") == terms("indemnites")


def test_plural_and_singular_share_a_stem() -> None:
    assert terms("licenciements") == terms("licenciement")
    assert terms("déchetteries") == terms("déchetterie")


def test_elisions_with_both_apostrophes() -> None:
    assert terms("l'inscription") == terms("l’inscription") == terms("inscription")
    assert terms("jusqu’au lundi") == terms("lundi")
    assert terms("lorsqu'il part") == terms("part")
    assert terms("qu'est-ce qu'un contrat") == terms("contrat")


def test_stop_words_are_dropped() -> None:
    assert terms("le la les de des du et ou à pour dans") == []
    assert terms("la mairie de la commune") == terms("mairie commune")


def test_identifiers_are_kept_whole() -> None:
    assert "2024-117" in terms("Délibération n° 2024-117 du conseil municipal")
    assert "l2212-2" in terms("article L2212-2 du CGCT")
    # written with a dot or a space, the article number still meets the indexed form
    assert "l2212-2" in terms("L.2212-2")
    assert "2212-2" in terms("L. 2212-2")
    assert "2212-2" in terms("L2212-2")
    assert "12/03/2020" in terms("le 12/03/2020")


def test_hyphenated_words_are_split() -> None:
    assert terms("porte-monnaie") == terms("porte monnaie")


def test_ligatures_and_nfkc() -> None:
    assert fold("œuvre cœur") == "oeuvre coeur"
    assert terms("ŒUVRES") == terms("oeuvres")
    assert terms("ﬁche") == terms("fiche")  # the 'fi' ligature, NFKC


def test_the_summer_is_a_topic_word() -> None:
    # "été" folded is also the participle of "être": it stays a term (its idf keeps it light)
    assert "ete" in terms("Quels sont les horaires pendant l'été ?")
    assert terms("vous êtes") == []
