"""Sentence verification of generated answers (the mini corpus, its real analyzer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import write_corpus
from territoria.answer.generative import figures, verify
from territoria.ingest import ingest_paths
from territoria.runtime import Runtime
from territoria.types import Hit


@pytest.fixture
def loaded(runtime: Runtime, tmp_path: Path) -> Runtime:
    ingest_paths([write_corpus(tmp_path / "docs")], settings=runtime.settings, store=runtime.store)
    return runtime


def hits_for(runtime: Runtime, *doc_ids: str) -> list[Hit]:
    passages = {p.doc_id: p for p in runtime.store.iter_passages(tenant="default")}
    return [Hit(passages[d], 1.0) for d in doc_ids]


def test_figures_keep_the_pairs_a_range_or_an_hour_states() -> None:
    assert figures("de 8 h 30 à 17 h 30") == {"8", "30", "17", "8>30", "30>17", "17>30"}
    assert figures("3.10 euros") == {"3,10"}
    # Figures far apart in a sentence are not a pair.
    assert "4,20>3,10" not in figures("4,20 euros pour la tranche B et pour la A 3,10 euros")


def test_every_figure_must_be_stated_as_the_passage_states_it(loaded: Runtime) -> None:
    analyze = loaded.retriever.index().analyze
    hits = hits_for(loaded, "mairie")
    right = "La mairie est ouverte du lundi au vendredi de 8 h 30 à 17 h 30. [1]"
    # Every figure is in the passage, but not this range: the model mixed two of them.
    mixed = "La mairie est ouverte du lundi au vendredi de 8 heures à 12 heures. [1]"
    unknown = "La mairie est ouverte du lundi au vendredi de 7 h à 19 h. [1]"
    result = verify(" ".join((right, mixed, unknown)), hits, analyze)
    assert [s for s, _ in result.kept] == [right.removesuffix(" [1]")]
    assert len(result.dropped) == 2


def test_sources_are_assigned_by_the_verification(loaded: Runtime) -> None:
    analyze = loaded.retriever.index().analyze
    hits = hits_for(loaded, "cantine", "dechets")
    uncited = "La déchetterie est ouverte du lundi au samedi de 9 heures à 18 heures."
    wrong = "Le bac jaune des emballages est collecté le mardi matin. [1]"
    result = verify(f"{uncited} {wrong}", hits, analyze)
    assert result.kept == ((uncited, (2,)), (wrong.removesuffix(" [1]"), (2,)))
    assert result.attributed == 2 and not result.dropped


def test_questions_are_dropped_and_repeats_counted(loaded: Runtime) -> None:
    analyze = loaded.retriever.index().analyze
    hits = hits_for(loaded, "dechets")
    fact = "Le bac jaune des emballages est collecté le mardi matin. [1]"
    result = verify(f"Quand passe le bac jaune des emballages ? {fact} {fact}", hits, analyze)
    assert len(result.kept) == 1 and result.repeated == 1
    # The question shares the markers of its run (the fact after it).
    assert result.dropped == ("Quand passe le bac jaune des emballages ? [1]",)
