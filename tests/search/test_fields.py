"""The lexical fields of a corpus (search/fields.py)."""

from __future__ import annotations

import numpy as np

from territoria.search.analysis import make_analyzer
from territoria.search.fields import build_lexical, document_rows, lexical_text
from territoria.search.lexical import analyze_rows
from territoria.settings import Settings
from territoria.types import Passage

PASSAGES = [
    Passage("p1", "cantine", "Cantine", "Le repas coûte 3,10 euros.", ("Tarifs",)),
    Passage("p2", "cantine", "Cantine", "Inscription en mairie.", ("Inscription", "Pièces")),
    Passage("p3", "piscine", "Piscine", "# Horaires\nOuverte le mercredi.", ("Horaires",)),
]
ROW_DOC = np.asarray([0, 0, 1], dtype=np.int32)


def test_a_passage_text_field_holds_its_headings_once() -> None:
    assert lexical_text(PASSAGES[0]) == "Tarifs\nLe repas coûte 3,10 euros."
    assert lexical_text(PASSAGES[2]) == "# Horaires\nOuverte le mercredi."  # already inline


def test_a_document_is_its_title_its_distinct_headings_and_every_passage_body() -> None:
    analyzer = make_analyzer()
    rows = analyze_rows([p.title for p in PASSAGES], [lexical_text(p) for p in PASSAGES], analyzer)
    cantine, piscine = document_rows(PASSAGES, rows, ROW_DOC, 2, analyzer)
    assert set(cantine.title) == set(analyzer("Cantine"))
    assert set(cantine.headings) == set(analyzer("Tarifs Inscription Pièces"))
    assert set(analyzer("repas mairie")) <= set(cantine.body)
    assert not set(analyzer("mercredi")) & set(cantine.body)
    assert set(analyzer("mercredi")) <= set(piscine.body)


def test_passages_and_documents_share_one_vocabulary() -> None:
    passages, documents = build_lexical(PASSAGES, ROW_DOC, 2, Settings(embedder="fake"))
    assert passages.vocabulary is documents.vocabulary
    assert passages.knows(make_analyzer()("mercredi")[0])
    scores = documents.row_scores("repas", [0, 1])
    assert scores[0] > 0 and scores[1] == 0
