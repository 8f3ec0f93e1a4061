"""An abstention that helps: closest documents, and the contact the documents name."""

from __future__ import annotations

from pathlib import Path

from territoria.ingest.library import ingest_files
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access

DOC = (
    "# Restauration scolaire\n\n## Menus\n\nLes menus sont affichés à l'entrée de l'école.\n\n"
    "## Contact\n\nService Enfance-Éducation, Hôtel de ville.\n"
    "Téléphone : 05 11 22 33 44. Courriel : enfance@mairie-exemple.fr.\n"
)


def _runtime(tmp_path: Path, threshold: float) -> Runtime:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "cantine.md").write_text(DOC)
    (docs / "stade.md").write_text("# Stade\n\nLe stade municipal ouvre le samedi.\n")
    settings = Settings(
        home=tmp_path / "h", embedder="fake", title_embedder="none", abstain_threshold=threshold
    )
    runtime = Runtime(settings)
    ingest_files(runtime, [docs])
    runtime.retriever.refresh()
    return runtime


def test_a_near_miss_offers_the_closest_document_and_its_contact(tmp_path: Path) -> None:
    question = "Quels sont les menus sans gluten à la cantine scolaire ?"
    runtime = _runtime(tmp_path, threshold=0.0)
    try:
        conf = runtime.assistant.ask(question).confidence
    finally:
        runtime.close()
    runtime = _runtime(tmp_path, threshold=conf + 0.01)  # just above: a near miss
    try:
        answer = runtime.assistant.ask(question)
        assert answer.abstained and answer.citations == ()
        assert [s.doc_id for s in answer.suggestions] == ["cantine"]
        assert "05 11 22 33 44" in answer.contact and "Restauration scolaire" in answer.contact
        assert "Documents les plus proches : « Restauration scolaire »" in answer.answer
        assert answer.suggestions[0].excerpt  # agents see the matching passage
    finally:
        runtime.close()


def test_an_unrelated_question_gets_no_suggestion_and_the_operator_contact(
    tmp_path: Path,
) -> None:
    runtime = _runtime(tmp_path, threshold=0.5)
    try:
        answer = runtime.assistant.ask("Qui a gagné la coupe du monde de rugby ?", access=Access())
        assert answer.abstained and answer.suggestions == ()
        assert answer.contact == runtime.settings.contact
    finally:
        runtime.close()
