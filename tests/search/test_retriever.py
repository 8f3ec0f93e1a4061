"""What the assistant asks of the retriever besides a search: the corpus's analysis, sizes
and documents (so that it never reaches into the index or the store itself), and its cache
of query vectors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from helpers import MINI_CORPUS, write_corpus
from territoria.embed import Matrix
from territoria.ingest import ingest_paths
from territoria.runtime import Runtime


def test_the_retriever_answers_for_its_corpus(runtime: Runtime, tmp_path: Path) -> None:
    ingest_paths([write_corpus(tmp_path / "docs")], settings=runtime.settings, store=runtime.store)
    retriever = runtime.retriever
    before = retriever.generation()
    counts = retriever.passage_counts()
    assert set(counts) == {"default"} and counts["default"] == len(retriever.passages("default"))
    assert retriever.passages("ailleurs") == [] and len(MINI_CORPUS) <= counts["default"]
    lexicon = retriever.lexicon()
    assert lexicon.analyze("Les cantines") == lexicon.analyze("cantine")
    # a rarer term weighs more; a term absent from the corpus, most
    assert 0 < lexicon.idf(lexicon.analyze("repas")[0]) < lexicon.idf("motinconnu")
    assert lexicon.documents_with_all_terms("déchetterie samedi", "default") == {"dechets"}
    parts = retriever.document_passages("cantine", "default")
    assert [p.passage_id for p in parts] == [f"cantine#{i}" for i in range(len(parts))]
    assert retriever.document_passages("cantine", "ailleurs") == []
    (tmp_path / "docs" / "mairie.md").write_text("# Mairie\n\nFermée en août.\n", encoding="utf-8")
    ingest_paths([tmp_path / "docs"], settings=runtime.settings, store=runtime.store)
    assert retriever.generation() > before


def test_a_question_asked_again_is_not_embedded_again(runtime: Runtime, tmp_path: Path) -> None:
    ingest_paths([write_corpus(tmp_path / "docs")], settings=runtime.settings, store=runtime.store)
    retriever = runtime.retriever
    assert retriever.embedder is not None and retriever.title_embedder is not None
    embedded: list[str] = []
    for model in (retriever.embedder, retriever.title_embedder):
        real = model.embed_queries

        def counting(texts: Sequence[str], real: Callable[..., Matrix] = real) -> Matrix:
            embedded.extend(texts)
            return real(texts)

        model.embed_queries = counting  # type: ignore[method-assign]
    first = retriever.search("prix du repas à la cantine", k=3)
    again = retriever.search("prix du repas à la cantine", k=3)
    assert [h.passage.passage_id for h in first] == [h.passage.passage_id for h in again]
    assert [h.score for h in first] == [h.score for h in again]
    assert len(embedded) == 2  # once per model
    retriever.search("horaires de la déchetterie", k=3)
    assert len(embedded) == 4
