"""The evidence behind an answer weighs the question's topic, not the words that only say
which kind of fact is asked ("combien coûte", "horaires")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from territoria.answer.abstain import weigh
from territoria.answer.question import analyse_question, cue_terms
from territoria.ingest.library import ingest_files
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access


def _runtime(tmp_path: Path) -> Runtime:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "cantine.md").write_text(
        "# Restauration scolaire\n\nLe repas à la cantine est facturé 3,10 € par enfant.\n"
    )
    (docs / "police.md").write_text(
        "# Police municipale\n\nHoraires d'accueil : du lundi au samedi de 8h00 à 12h00.\n"
    )
    (docs / "stade.md").write_text(
        "# Stade\n\nLe stade municipal accueille les clubs sportifs de la commune.\n"
    )
    runtime = Runtime(Settings(home=tmp_path / "h", embedder="fake", title_embedder="none"))
    ingest_files(runtime, [docs])
    runtime.retriever.refresh()
    return runtime


def _evidence(runtime: Runtime, question: str) -> tuple[float, float]:
    index = runtime.retriever.index()
    hits = runtime.retriever.search(question, k=5, access=Access())
    found = weigh(
        question,
        hits,
        index,
        coverage=1.0,
        holds_kind=True,
        answered=True,
        cue_terms=cue_terms(analyse_question(question), index.analyze),
    )
    return found.lexical, found.passage_coverage


def test_the_words_naming_the_kind_of_fact_do_not_count_against_the_answer(
    tmp_path: Path,
) -> None:
    runtime = _runtime(tmp_path)
    try:
        asked = _evidence(runtime, "Combien coûte la cantine ?")
        topic = _evidence(runtime, "cantine")
        assert asked == topic
        assert asked[1] == 1.0  # "cantine" is in the passage: the topic is fully covered
    finally:
        runtime.close()


def test_the_modal_verb_opening_a_yes_no_question_only_marks_it(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        asked = _evidence(runtime, "Peut-on accueillir un club au stade municipal ?")
        topic = _evidence(runtime, "accueillir un club au stade municipal")
        assert asked == pytest.approx(topic)
        assert asked[1] == 1.0
    finally:
        runtime.close()


def test_sharing_only_the_kind_of_fact_is_no_evidence(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        lexical, passage = _evidence(runtime, "Quels sont les horaires de la patinoire ?")
        assert lexical == 0.0 and passage == 0.0  # only "horaires" matched
    finally:
        runtime.close()


def test_row_scores_are_the_full_scores_of_those_rows(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        lexical = runtime.retriever.index().lexical
        rows = list(range(lexical.size))
        query = "cantine repas horaires stade"
        assert np.allclose(lexical.row_scores(query, rows), lexical.scores(query))
        weighted = dict.fromkeys(runtime.retriever.index().analyze(query), 0.5)
        assert np.allclose(lexical.row_scores(weighted, rows), lexical.scores(weighted))
    finally:
        runtime.close()
