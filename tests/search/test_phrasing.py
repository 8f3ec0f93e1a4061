"""Everyday phrasing: chat abbreviations, spelling correction against the corpus vocabulary,
weighted query terms, and follow-up questions understood with the one they continue."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from territoria.search.context import content_terms, continues, slot
from territoria.search.index import SearchIndex
from territoria.search.lexical import LexicalIndex
from territoria.search.query import Query
from territoria.search.rewrite import UNKNOWN_WEIGHT, Rewriter
from territoria.search.sms import expand
from territoria.search.spelling import Speller, count_words, max_edits
from territoria.search.word_vectors import VectorNeighbours, WordVectors, murmurhash64a
from territoria.settings import Settings
from territoria.types import Access, Passage

TEXTS = [
    "Horaires de la mairie : du lundi au vendredi de 8h30 à 17h30, le samedi de 9h00 à 12h00.",
    "La déchetterie est ouverte du lundi au samedi. Les horaires d'hiver sont réduits.",
    "Les associations demandent une subvention avant le 31 janvier.",
    "La bibliothèque prête des livres pour trois semaines.",
    "Le repas à la cantine coûte 3,10 euros ; l'inscription à la restauration scolaire.",
    "Délibération 2025-019 : droits de place du marché.",
]


def lexical() -> LexicalIndex:
    return LexicalIndex.build(["Mairie"] * len(TEXTS), TEXTS)


def rewriter(**kw: object) -> Rewriter:
    return Rewriter(lexical(), **kw)  # type: ignore[arg-type]


# --- chat abbreviations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("c koi les horaires", "c'est quoi les horaires"),
        ("cb coute la cantine", "combien coute la cantine"),
        ("ouvert kan stp", "ouvert quand"),  # politeness carries no subject
        ("c'est ouvert", "c'est ouvert"),  # "c" glued to an apostrophe is not shorthand
        ("payer par CB", "payer par CB"),  # upper case: a bank card, not "combien"
        ("un tuyau de 10 mm", "un tuyau de 10 mm"),
    ],
)
def test_chat_abbreviations_are_spelled_out(typed: str, expected: str) -> None:
    assert expand(typed) == expected


# --- spelling ---------------------------------------------------------------------------------


def test_edit_distance_grows_with_word_length() -> None:
    assert [max_edits(w) for w in ("kel", "mair", "horaire", "dechetteries")] == [0, 1, 2, 2]


def test_the_vocabulary_holds_words_as_written_without_digits_or_stop_words() -> None:
    words = count_words(["Les Déchetteries et la déchetterie, une dechetterie, 2025-019"])
    assert words == {"déchetteries": 1, "déchetterie": 1, "dechetterie": 1}
    # the speller counts them by folded form
    assert Speller(words).vocabulary == {"dechetteries": 1, "dechetterie": 2}


def test_speller_corrects_unknown_words_and_never_known_ones() -> None:
    speller = Speller(count_words(TEXTS))
    assert speller.correct("horraires") == [("horaires", 1.0)]
    assert speller.correct("decheterie") == [("dechetterie", 1.0)]
    assert speller.correct("mairie") == [("mairie", 1.0)]  # known: unchanged
    assert speller.correct("kel") == []  # too short to guess
    assert speller.correct("combien") == []  # a question word is never "corrected"
    assert speller.correct("zzzzzzzz") == []


def test_truncated_words_are_completed_from_the_corpus() -> None:
    speller = Speller(count_words(TEXTS))
    assert speller.correct("biblio") == [("bibliotheque", 1.0)]
    assert speller.correct("asso") == [("associations", 1.0)]


def test_the_most_frequent_candidate_wins() -> None:
    speller = Speller({"bacs": 10, "bals": 1})
    assert speller.correct("baks") == [("bacs", 1.0)]


def test_lexical_index_saves_its_words(tmp_path: Path) -> None:
    index = lexical()
    index.save(tmp_path)
    assert LexicalIndex.load(tmp_path).words == index.words
    assert index.words["horaires"] == 2
    assert index.words["bibliothèque"] == 1  # as written: word vectors know accented forms


# --- the query --------------------------------------------------------------------------------


def test_a_misspelt_word_is_searched_by_its_correction_and_kept() -> None:
    query = rewriter().query("c koi les horraires de la dechetterie")
    weights = query.weights()
    assert weights["horair"] == 1.0
    assert query.corrections == {"horraires": ("horaires",)}
    original = [t for t in query.terms if t.source == "question" and t.origin == "horraires"]
    assert original and original[0].weight == UNKNOWN_WEIGHT  # kept, at a low weight
    assert query.normalized.startswith("c'est quoi")


def test_spelling_can_be_turned_off() -> None:
    assert rewriter(spelling=False).query("horraires").corrections == {}


def test_identifiers_and_known_words_are_never_rewritten() -> None:
    query = rewriter().query("délibération 2025-019")
    assert query.corrections == {}
    assert {"2025-019", "deliber"} <= set(query.weights())


def test_weighted_terms_score_bm25_in_proportion() -> None:
    index = lexical()
    full = index.scores({"bibliothequ": 1.0})
    half = index.scores({"bibliothequ": 0.5})
    assert full.max() > 0
    assert half.max() == pytest.approx(full.max() / 2, rel=1e-5)
    assert index.scores("bibliothèque").max() == pytest.approx(full.max(), rel=1e-5)


# --- follow-ups -------------------------------------------------------------------------------

HOURS = "Quels sont les horaires de la mairie ?"


@pytest.mark.parametrize(
    "question",
    [
        "et le samedi ?",
        "Et pour un enfant ?",
        "et l'hiver ?",
        "comment la contester ?",
        "on peut le prolonger ?",
        "il faut quoi comme papiers ?",
        "c'est interdit à quelle heure ?",
        "c'est combien ?",
        "samedi ?",
        "Quel est le prix ?",  # a kind of fact, not a subject
        "Et les horaires ?",
        "Où est-elle ?",
        "Le samedi ?",
    ],
)
def test_elliptic_questions_continue_the_previous_one(question: str) -> None:
    r = rewriter()
    assert continues(r.query(question), r.query(HOURS))


@pytest.mark.parametrize(
    "question",
    [
        "Combien coûte la cantine pour un quotient familial de 850 euros ?",
        "Quand la déchetterie est-elle ouverte en hiver ?",
        "Comment demander une subvention pour une association ?",
        "c quoi les tarifs de la cantine",  # presentative "c'est quoi": its subject follows
        "C'est quand le marché des producteurs ?",
        "Où est la déchetterie ?",  # one content term, but a subject of its own
        "Qui est le maire ?",
    ],
)
def test_full_questions_stand_on_their_own(question: str) -> None:
    r = rewriter()
    assert not continues(r.query(question), r.query(HOURS))


def test_nothing_continues_without_an_earlier_question() -> None:
    query = rewriter().query("et le samedi ?")
    assert query.continues == ""
    assert set(query.weights()) == {"samed"}


def test_a_follow_up_adds_the_earlier_terms_at_a_lower_weight() -> None:
    query = rewriter(context_weight=0.5).query("et le samedi ?", previous=[HOURS])
    assert query.continues == HOURS
    weights = query.weights()
    assert weights["samed"] == 1.0
    assert weights["horair"] == weights["mair"] == 0.5
    assert query.dense_text == f"{HOURS} et le samedi ?"


def test_a_new_day_replaces_the_earlier_one() -> None:
    query = rewriter().query("et le samedi ?", previous=["La bibliothèque ouvre-t-elle le mardi ?"])
    assert "mard" not in query.weights()
    assert slot("mard") == "day" and slot("850") == "number" and slot("mair") is None


def test_a_chain_keeps_its_subject() -> None:
    query = rewriter().query("et le samedi ?", previous=[HOURS, "et le jeudi ?"])
    weights = query.weights()
    assert query.continues == "et le jeudi ?"
    assert weights["horair"] == 0.25  # two steps back: 0.5 x 0.5
    assert "jeud" not in weights  # replaced by the new day


def test_a_follow_up_names_its_own_subject_but_not_a_day() -> None:
    from territoria.search.context import follow_up_subject

    market = "À quelle heure a lieu le marché du samedi ?"
    r = rewriter()
    assert follow_up_subject(r.query("et la bibliothèque, le samedi ?", previous=[market])) == {
        "bibliothequ"
    }
    assert follow_up_subject(r.query("et le samedi ?", previous=[HOURS])) == frozenset()
    assert follow_up_subject(r.query("Où est la bibliothèque ?")) == frozenset()


def test_question_words_the_corpus_does_not_know_are_left_out() -> None:
    weights = rewriter().query("combien coute la cantine").weights()
    assert "combien" not in weights and "cantin" in weights


def test_question_words_are_not_content() -> None:
    r = rewriter()
    assert content_terms(r.query("combien ça coûte ?")) == ["cout"]


def test_the_retriever_ranks_a_follow_up_with_its_context(settings: Settings) -> None:
    passages = [
        Passage("m#0", "mairie", "Horaires de la mairie", TEXTS[0]),
        Passage("d#0", "dechetterie", "Déchetterie", TEXTS[1]),
    ]
    index = SearchIndex.build(passages, None, settings)
    r = Rewriter(index.lexical)
    alone = r.query("et le samedi ?")
    follow = r.query("et le samedi ?", previous=["horaires de la mairie ?"])
    top_alone = index.search(alone, k=2, access=Access())
    top_follow = index.search(follow, k=2, access=Access())
    assert {h.passage_id for h in top_alone} == {"m#0", "d#0"}  # "samedi": both
    assert top_follow[0].passage_id == "m#0"


# --- the question sets ------------------------------------------------------------------------


def _lines(name: str) -> list[dict[str, object]]:
    text = (resources.files("territoria") / "demo" / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def test_question_sets_are_complete_and_split() -> None:
    everyday, followups = _lines("everyday.jsonl"), _lines("followups.jsonl")
    assert len(everyday) >= 60 and len(followups) >= 25
    for item in [*everyday, *followups]:
        assert item["split"] in ("dev", "test")
        assert item["relevant_ids"] and item["answer_contains"]
    assert all(item["history"] for item in followups)
    assert len({i["id"] for i in [*everyday, *followups]}) == len(everyday) + len(followups)


def test_earlier_words_the_corpus_does_not_know_are_not_carried_over() -> None:
    query = rewriter().query(
        "et le samedi ?", previous=["Je suis Zorglub, horaires de la mairie ?"]
    )
    weights = query.weights()
    assert weights["horair"] == 0.5
    assert not any("zorglub" in t for t in weights)


# --- synonyms ---------------------------------------------------------------------------------


def table(words: dict[str, tuple[float, float, float]]) -> WordVectors:
    """A fake word-vector table (our own seam): each word a fixed vector."""
    rows = {murmurhash64a(w.encode()): i for i, w in enumerate(words)}
    return WordVectors(np.array(list(words.values()), dtype=np.float32), rows)


VECTORS = table(
    {
        "bibliothèque": (1.0, 0.0, 0.0),
        "médiathèque": (0.95, 0.31, 0.0),
        "mairie": (0.0, 1.0, 0.0),
        "horaires": (0.0, 0.0, 1.0),
        "canapé": (0.6, -0.8, 0.0),
        "canal": (0.0, 1.0, 0.0),
        "arriver": (0.0, 0.6, 0.8),
        "arrivée": (0.0, 0.8, 0.6),
    }
)


def neighbours(vectors: WordVectors | None = VECTORS) -> VectorNeighbours:
    words = {"bibliothèque": 3, "mairie": 5, "horaires": 2, "canal": 2, "arrivée": 1}
    return VectorNeighbours(lambda: vectors, words, min_similarity=0.7, weight=0.5)


def test_neighbours_are_near_corpus_words_at_a_low_weight() -> None:
    related = neighbours()
    # the corpus word comes back folded, the speller's form
    [(word, weight)] = related.related("médiathèque")
    assert word == "bibliotheque"
    assert weight == pytest.approx(0.475, abs=1e-3)
    assert related.related("inconnu") == []  # no vector
    assert related.related("canapé") == []  # nothing near enough
    assert related.similarity("arriver", "arrivee") == pytest.approx(0.96)
    assert related.similarity("arriver", "absent") is None
    assert neighbours(None).related("médiathèque") == []  # no model installed


def test_the_rewriter_asks_for_synonyms_only_when_spelling_finds_nothing() -> None:
    r = rewriter(related=neighbours())
    query = r.query("mediatheque ?")
    synonyms = [t for t in query.terms if t.source == "synonym"]
    assert [(t.term, t.origin) for t in synonyms] == [("bibliothequ", "mediatheque")]
    assert synonyms[0].weight < 1.0
    assert not [t for t in r.query("horraires").terms if t.source == "synonym"]  # spelt
    assert not [t for t in r.query("bibliothèque").terms if t.source == "synonym"]  # known


def test_word_vectors_confirm_the_form_of_a_real_word() -> None:
    corpus = LexicalIndex.build(["Mairie"] * 2, ["Le canal et l'arrivée.", "Le canal."])
    plain = Rewriter(corpus)
    assert plain.query("un canapé").corrections == {"canapé": ("canal",)}
    confirmed = Rewriter(corpus, related=neighbours())
    # "canapé" is no form of "canal": their vectors disagree, so it is not corrected
    assert "canapé" not in confirmed.query("un canapé").corrections
    assert confirmed.query("arriver").corrections == {"arriver": ("arrivee",)}


def test_the_retriever_uses_synonyms_only_when_asked(settings: Settings, tmp_path: Path) -> None:
    from helpers import write_corpus
    from territoria.ingest import ingest_paths
    from territoria.runtime import Runtime

    for synonyms in (False, True):
        rt = Runtime(settings.model_copy(update={"synonyms": synonyms}))
        try:
            if not synonyms:
                ingest_paths(
                    [write_corpus(tmp_path / "docs")], settings=rt.settings, store=rt.store
                )
            related = rt.retriever.rewriter().related
            assert isinstance(related, VectorNeighbours) if synonyms else related is None
        finally:
            rt.close()


def test_everyday_french_words_are_never_corrected_into_corpus_words() -> None:
    from territoria.search.spelling import french_words

    speller = Speller(
        {"film": 40, "chaises": 12, "horaires": 30, "maladie": 5}, language=french_words()
    )
    assert speller.correct("fils") == []  # a son, not a film
    assert speller.correct("chasser") == []
    assert speller.correct("malade") == [("maladie", 1.0)]  # another form of the word
    assert speller.correct("horraires") == [("horaires", 1.0)]  # a typo is still corrected
    assert {"fils", "chasser", "boulot", "ete"} <= french_words()
    assert "horraires" not in french_words()
    query = rewriter().query("mon fils mange a la cantine")
    assert not query.corrections.get("fils")


def test_the_kind_asked_is_read_after_spelling_correction() -> None:
    query = Query(
        text="c koi les horraires de la mairie",
        normalized="c'est quoi les horraires de la mairie",
        corrections={"horraires": ("horaires",)},
    )
    assert query.read_text == "c'est quoi les horaires de la mairie"  # "horaires" asks hours
    assert query.dense_text == "c'est quoi les horraires de la mairie"  # embedded as typed
