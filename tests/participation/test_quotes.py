from __future__ import annotations

import numpy as np

from territoria.participation.keywords import Tokenizer
from territoria.participation.quotes import (
    Quote,
    best_sentence,
    make_quote,
    representatives,
    sentence_spans,
    verify,
)

TEXT = (
    "Bonjour.  Je vis à Fives depuis dix ans !\n"
    "Il faudrait des pistes cyclables séparées des voitures sur le boulevard. "
    "Merci [PERSONNE_0a1b2c] pour l'écoute…"
)


def test_sentence_spans_are_trimmed_substrings() -> None:
    spans = sentence_spans(TEXT)
    pieces = [TEXT[s:e] for s, e in spans]
    assert pieces == [
        "Bonjour.",
        "Je vis à Fives depuis dix ans !",
        "Il faudrait des pistes cyclables séparées des voitures sur le boulevard.",
        "Merci [PERSONNE_0a1b2c] pour l'écoute…",
    ]


def test_quote_is_the_sentence_carrying_the_keywords_verbatim_at_its_offsets() -> None:
    stems = Tokenizer().stems("pistes cyclables")
    quote = make_quote("c-7", TEXT, stems)
    assert quote.text == "Il faudrait des pistes cyclables séparées des voitures sur le boulevard."
    assert TEXT[quote.start : quote.end] == quote.text
    assert verify([quote], {"c-7": TEXT}) == []


def test_long_sentence_cut_at_a_word_boundary_stays_verbatim() -> None:
    text = "Il faut " + "vraiment " * 60 + "des bus."
    start, end = best_sentence(text, set(), max_chars=80)
    assert end - start <= 80
    assert text[start:end] == text[start:end].strip()
    assert text[end] == " "


def test_verify_flags_wrong_offsets_and_unknown_ids() -> None:
    good = make_quote("a", TEXT, set())
    shifted = Quote("a", good.start + 1, good.end + 1, good.text)
    problems = verify([shifted, Quote("zz", 0, 3, "Bon")], {"a": TEXT})
    assert len(problems) == 2


def test_verify_compares_after_nfc() -> None:
    decomposed = "Cafe\u0301 ouvert le soir."
    composed = "Café ouvert le soir."
    assert verify([Quote("a", 0, 4, "Café")], {"a": decomposed.replace("Cafe\u0301", "Café")}) == []
    assert verify([Quote("a", 0, 4, "Cafe\u0301")], {"a": composed}) == []


def test_representatives_skip_duplicates_same_author_and_redundant_texts() -> None:
    vectors = np.array(
        [[1, 0], [0.99, 0.141], [0.98, 0.199], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    centre = np.array([1.0, 0.0], dtype=np.float32)
    chosen = representatives(
        [0, 1, 2, 3, 4],
        vectors,
        centre,
        authors=["a", "a", "b", "c", "d"],
        canonical=[0, 1, 0, 3, 4],
        count=3,
    )
    # 1: same author as 0; 2: a duplicate of 0; then 3 and 4 in order of similarity.
    assert chosen == [0, 3, 4]
