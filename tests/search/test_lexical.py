"""BM25 with a weighted title field, saved without pickle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from territoria.errors import StoreError
from territoria.search.lexical import BM25Params, LexicalIndex

TITLES = ["Déchetterie", "Cantine scolaire", "Horaires de la mairie", "État civil"]
TEXTS = [
    "La déchetterie est ouverte du lundi au samedi. Les encombrants y sont acceptés.",
    "Le repas à la cantine coûte 3,10 euros. Inscription au guichet unique.",
    "La mairie est ouverte du lundi au vendredi de 8 h 30 à 17 h 30.",
    "Délibération 2024-117 : tarifs des actes d'état civil. Voir l'article L2212-2.",
]


def build(**params: float) -> LexicalIndex:
    return LexicalIndex.build(TITLES, TEXTS, BM25Params(**params))


def test_best_row_first_and_unmatched_rows_score_zero() -> None:
    scores = build().scores("horaires d'ouverture de la mairie")
    assert int(np.argmax(scores)) == 2
    assert scores[1] == 0.0  # the canteen has none of the words


def test_matches_without_accents() -> None:
    assert int(np.argmax(build().scores("dechetterie encombrants"))) == 0


def test_identifier_is_found() -> None:
    index = build()
    assert np.flatnonzero(index.scores("2024-117")).tolist() == [3]
    assert np.flatnonzero(index.scores("article L. 2212-2")).tolist() == [3]


def test_unknown_words_score_nothing() -> None:
    assert not build().scores("zorglub").any()
    assert not build().scores("").any()


def test_title_weight_moves_title_matches_up() -> None:
    titles = ["Cantine", "Piscine"]
    texts = ["Menus de la semaine.", "La cantine est fermée le mercredi, la piscine ouverte."]
    low = LexicalIndex.build(titles, texts, BM25Params(title_weight=0.0)).scores("cantine")
    high = LexicalIndex.build(titles, texts, BM25Params(title_weight=3.0)).scores("cantine")
    assert low[0] == 0.0 and low[1] > 0
    assert high[0] > high[1]


def test_scores_match_the_bm25_formula() -> None:
    index = LexicalIndex.build(["", ""], ["chat chat chien", "oiseau"], BM25Params(1.2, 0.75, 0))
    # "chat": df 1 of 2 rows; row 0 has tf 2 and length 3; average length 2
    idf = np.log1p((2 - 1 + 0.5) / (1 + 0.5))
    norm = 1.2 * (1 - 0.75 + 0.75 * 3 / 2)
    expected = idf * 2 * 2.2 / (2 + norm)
    assert index.scores("chat")[0] == pytest.approx(expected, rel=1e-5)


def test_repeated_query_terms_count_once() -> None:
    index = build()
    assert np.allclose(index.scores("cantine"), index.scores("cantine cantine cantines"))


def test_save_and_load_round_trip_without_pickle(tmp_path: Path) -> None:
    index = build(k1=1.5, b=0.6, title_weight=4.0)
    index.save(tmp_path / "lex")
    meta = json.loads((tmp_path / "lex" / "lexical.json").read_text())
    assert meta["params"] == {"k1": 1.5, "b": 0.6, "title_weight": 4.0, "heading_weight": 0.0}
    with np.load(tmp_path / "lex" / "lexical.npz", allow_pickle=False) as arrays:
        assert set(arrays.files) == {"data", "indices", "indptr", "shape"}
    loaded = LexicalIndex.load(tmp_path / "lex")
    for query in ["mairie lundi", "cantine", "2024-117"]:
        assert np.array_equal(loaded.scores(query), index.scores(query))
    assert loaded.params == index.params


def test_a_saved_index_is_loaded_and_searched_without_scipy(tmp_path: Path) -> None:
    """scipy builds the matrix; a process that only searches never imports it (cold CLI)."""
    index = build()
    index.save(tmp_path / "lex")
    script = (
        "import sys; from pathlib import Path;"
        "from territoria.search.lexical import LexicalIndex;"
        f"index = LexicalIndex.load(Path({str(tmp_path / 'lex')!r}));"
        "scores = index.scores('mairie lundi');"
        "print(int(scores.argmax()), index.row_scores('cantine', [1])[0] > 0,"
        " any(m.split('.')[0] == 'scipy' for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(int(np.argmax(index.scores("mairie lundi")))), "True", "False"]


def test_a_corrupt_matrix_on_disk_is_a_french_error(tmp_path: Path) -> None:
    build().save(tmp_path / "lex")
    path = tmp_path / "lex" / "lexical.npz"
    with np.load(path, allow_pickle=False) as arrays:
        saved = {name: arrays[name] for name in arrays.files}
    saved["indices"] = saved["indices"] + 100  # rows beyond the matrix
    np.savez(path, **saved)
    with pytest.raises(StoreError, match="illisible"):
        LexicalIndex.load(tmp_path / "lex")


def test_load_of_a_missing_index_is_a_french_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="illisible"):
        LexicalIndex.load(tmp_path / "absent")


def test_idf_of_terms() -> None:
    index = build()
    [mairie] = index.analyzer("mairie")
    [zorglub] = index.analyzer("zorglub")
    # "mairie" is in 1 row of 4; a term absent from the corpus weighs the most
    assert index.idf(mairie) == pytest.approx(np.log1p((4 - 1 + 0.5) / 1.5))
    assert index.idf(zorglub) > index.idf(mairie)


def test_a_long_query_is_scored_by_its_rarest_terms_only() -> None:
    """Finding 4 of issue #8: the work of a query is bounded by MAX_QUERY_TERMS terms."""
    from territoria.search.lexical import MAX_QUERY_TERMS

    words = [f"mot{i:03d}x" for i in range(200)]  # digits: kept whole, not stemmed
    common = "commun"
    titles = [f"Titre {i}" for i in range(len(words))]
    texts = [f"{word} {words[i - 1]} {common}" for i, word in enumerate(words)]  # df 2
    texts[0] += " rare"
    index = LexicalIndex.build(titles, texts)
    query = " ".join([common, *words, "rare"])
    cols = index.term_ids(query)
    assert len(cols) == MAX_QUERY_TERMS
    by_col = {col: term for term, col in index.vocabulary.items()}
    chosen = {by_col[c] for c in cols}
    (rare,) = index.analyzer("rare")
    (commun,) = index.analyzer(common)
    assert commun not in chosen  # in every row: the least telling term goes first
    assert rare in chosen
    assert index.term_ids("commun rare") == [index.vocabulary[commun], index.vocabulary[rare]]
