"""Abstention calibrated per deployment: the threshold comes from the corpus itself, is
stored beside the index, follows the corpus when it changes, and yields to the operator."""

from __future__ import annotations

import random
from pathlib import Path

from territoria.answer.calibration import (
    FALLBACK_THRESHOLD,
    CalibrationSet,
    choose_threshold,
    citizen_form,
    describe,
    everyday_words,
    near_miss_threshold,
    rates,
    synthetic_questions,
)
from territoria.ingest.library import ingest_files
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access


def _corpus(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    topics = ["piscine", "cimetière", "marché", "bibliothèque", "stade", "crèche", "déchets",
              "voirie", "cantine", "urbanisme", "élections", "associations"]  # fmt: skip
    for i, topic in enumerate(topics[:n]):
        (root / f"{i:02d}-{topic}.md").write_text(
            f"# Le service {topic}\n\nLe service {topic} de la commune accueille le public du "
            f"lundi au vendredi. Les demandes concernant {topic} se font au guichet numéro {i} "
            f"avec une pièce justificative. Le tarif {topic} est de {i + 2} euros par an.\n"
        )
    return root


def test_choose_threshold_separates() -> None:
    assert choose_threshold([0.6, 0.7, 0.8], [0.1, 0.2, 0.3]) == 0.6
    assert choose_threshold([], [0.1]) == 0.0


def test_near_miss_threshold_declines_its_share_of_the_near_misses() -> None:
    near_misses = [i / 100 for i in range(100)]
    threshold = near_miss_threshold(near_misses, 0.85)
    _, declined = rates(threshold, [1.0], near_misses)
    assert declined == 0.85
    assert near_miss_threshold(near_misses, 0.95) > threshold  # declining more: a higher bar
    assert near_miss_threshold([], 0.85) == 0.0


def test_synthetic_questions_are_reproducible_and_from_the_corpus(tmp_path: Path) -> None:
    runtime = Runtime(Settings(home=tmp_path / "h", embedder="fake", title_embedder="none"))
    try:
        ingest_files(runtime, [_corpus(tmp_path / "c", 8)])
        index = runtime.retriever.index()
        passages = list(runtime.store.iter_passages())
        first = synthetic_questions(passages, index.analyze, index.idf, n=30, seed=1)
        again = synthetic_questions(passages, index.analyze, index.idf, n=30, seed=1)
        assert first == again and len(first) == 30
        assert {doc for doc, _ in first} <= {p.doc_id for p in passages}
    finally:
        runtime.close()


def test_citizen_forms_add_everyday_french_not_corpus_words() -> None:
    everyday = everyday_words()
    assert {"demain", "travail"} <= set(everyday) and "de" not in everyday
    rng = random.Random(0)
    forms = [citizen_form("Tarif cantine quotient familial", rng, everyday) for _ in range(200)]
    assert len(set(forms)) > 100  # frames, everyday words, accents, case and typos vary
    assert any(f.startswith("bonjour") for f in forms)
    assert any(f == f.lower() for f in forms) and any("Tarif" in f for f in forms)
    added = {w for f in forms for w in f.split()} - {"tarif", "cantine", "quotient", "familial"}
    assert added & set(everyday)
    again = [citizen_form("Tarif cantine quotient familial", random.Random(0), everyday)]
    assert again[0] == forms[0]


def test_the_threshold_is_calibrated_stored_and_shown_in_answers(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "h", embedder="fake", title_embedder="none", calibration_questions=40
    )
    runtime = Runtime(settings)
    try:
        ingest_files(runtime, [_corpus(tmp_path / "c", 12)])
        runtime.retriever.refresh()
        assert [s.source for s in runtime.assistant.thresholds.threshold_states()] == ["à calculer"]
        answer = runtime.assistant.ask("Quel est le tarif de la piscine ?")
        assert answer.verification.threshold_source == "corpus"
        (state,) = (
            runtime.assistant.thresholds.threshold_states()
        )  # shown to operators, not recomputed
        assert (state.source, state.threshold) == ("corpus", answer.verification.threshold)
        assert "calibré sur ce corpus (12 documents" in describe(state)
        stored = CalibrationSet.load(runtime.assistant.thresholds.calibration_path)
        assert stored is not None and stored.tenants["default"].questions == 40
        assert answer.verification.threshold == stored.tenants["default"].threshold
        assert 0 < stored.tenants["default"].threshold < 1
    finally:
        runtime.close()
    # a new process reads it back instead of recomputing
    again = Runtime(settings)
    try:
        assert (
            again.assistant.thresholds.threshold(Access())[0] == stored.tenants["default"].threshold
        )
    finally:
        again.close()


def test_a_tiny_corpus_falls_back_and_the_operator_overrides(tmp_path: Path) -> None:
    runtime = Runtime(Settings(home=tmp_path / "h", embedder="fake", title_embedder="none"))
    try:
        ingest_files(runtime, [_corpus(tmp_path / "c", 2)])
        assert runtime.assistant.thresholds.threshold(Access()) == (FALLBACK_THRESHOLD, "défaut")
    finally:
        runtime.close()
    fixed = Settings(
        home=tmp_path / "h", embedder="fake", title_embedder="none", abstain_threshold=0.9
    )
    runtime = Runtime(fixed)
    try:
        assert runtime.assistant.thresholds.threshold(Access()) == (0.9, "réglage")
        assert runtime.assistant.ask("Quel est le tarif de la piscine ?").abstained
    finally:
        runtime.close()


def test_each_tenant_gets_its_own_and_a_grown_corpus_is_recalibrated(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "h", embedder="fake", title_embedder="none", calibration_questions=20
    )
    runtime = Runtime(settings)
    try:
        ingest_files(runtime, [_corpus(tmp_path / "a", 11)])
        ingest_files(runtime, [_corpus(tmp_path / "b", 12)], tenant="ville-b")
        runtime.retriever.refresh()
        first = runtime.assistant.thresholds.calibrations()
        assert set(first.tenants) == {"default", "ville-b"}
        assert first.tenants["ville-b"].documents == 12
        ingest_files(runtime, [_corpus(tmp_path / "c", 12)])  # default: 6 -> 12 documents
        runtime.retriever.refresh()
        again = runtime.assistant.thresholds.calibrations()
        assert again.tenants["default"].documents == 12
        assert again.tenants["ville-b"] == first.tenants["ville-b"]  # unchanged: kept
    finally:
        runtime.close()
