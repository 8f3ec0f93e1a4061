from __future__ import annotations

from territoria.answer.extractive import compose
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
