"""Lexical first, vectors after: the index is searchable before its vectors exist, an
embedding job publishes them as it goes, other processes follow, and vectors of different
models never mix."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from filelock import FileLock

from territoria.embed import make_embedder
from territoria.embed.openai_compat import OpenAIEmbedder
from territoria.ingest import ingest_paths
from territoria.search import INLINE_MAX, Retriever
from territoria.search.vectors import read_progress
from territoria.settings import Settings
from territoria.store import open_store
from territoria.types import Access


def corpus(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            line = {
                "id": f"fiche-{i}",
                "title": f"Fiche pratique numéro {i}",
                "text": f"La démarche {i} se fait en mairie ; le tarif {i} est de {i % 40} euros.",
                "source": f"fiche-{i}.txt",
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.write(
            json.dumps(
                {
                    "id": "piscine",
                    "title": "Piscine municipale",
                    "text": "La piscine est ouverte le samedi de 10 heures à 18 heures.",
                    "source": "piscine.txt",
                },
                ensure_ascii=False,
            )
            + "\n"
        )
    return path


def retriever(settings: Settings) -> Retriever:
    embedder = make_embedder(settings)
    return Retriever(settings, open_store(settings), embedder, embedder)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", embedder="fake", title_embedder="fake")


def ingest(settings: Settings, n: int, tmp_path: Path) -> None:
    store = open_store(settings)
    ingest_paths([corpus(tmp_path / "corpus.jsonl", n)], settings=settings, store=store)
    store.close()


def test_searchable_lexically_before_any_vector(settings: Settings, tmp_path: Path) -> None:
    ingest(settings, 400, tmp_path)
    r = retriever(settings)
    index = r.refresh(vectors="none")
    assert index.dense is not None and not index.dense.present.any()
    assert r.missing_count() == 2 * len(index)  # passage and title vectors
    hits = r.search_documents("horaires piscine samedi", k=3, access=Access())
    assert hits and hits[0].passage.doc_id == "piscine"
    status = r.vector_status()
    assert status["complete"] is False and status["passages"] == len(index)


def test_a_job_fills_publishes_and_reports_progress(settings: Settings, tmp_path: Path) -> None:
    ingest(settings, 400, tmp_path)
    first, second = retriever(settings), retriever(settings)
    first.refresh(vectors="none")
    assert not second.index().dense.present.any()  # type: ignore[union-attr]
    embedded = first.fill_vectors()
    assert embedded == 401 + 401  # passage texts + distinct titles
    assert first.index().dense.present.all()  # type: ignore[union-attr]
    progress = read_progress(settings.index_dir)
    assert progress is not None and progress.state == "done"
    assert progress.done == progress.total == embedded and not progress.running
    # another process (here: another retriever) takes the published vectors
    second._followed = 0.0
    assert second.index().dense.present.all()  # type: ignore[union-attr]
    assert second.missing_count() == 0
    assert first.fill_vectors() == 0  # nothing left


def test_small_jobs_are_done_at_once_big_ones_left(settings: Settings, tmp_path: Path) -> None:
    ingest(settings, INLINE_MAX // 4, tmp_path)
    small = retriever(settings)
    assert small.index().dense.present.all()  # type: ignore[union-attr]
    big = Settings(home=settings.home.parent / "big", embedder="fake", title_embedder="fake")
    ingest(big, INLINE_MAX, tmp_path)
    r = retriever(big)
    assert not r.index().dense.present.any()  # type: ignore[union-attr]


def test_one_job_at_a_time(settings: Settings, tmp_path: Path) -> None:
    ingest(settings, 50, tmp_path)
    r = retriever(settings)
    r.refresh(vectors="none")
    held = FileLock(str(settings.index_dir / "vectors.lock"))
    with held.acquire(timeout=1):
        assert r.fill_vectors() == 0  # another process holds it: left to that one
    assert r.fill_vectors() > 0


def test_a_stopped_job_keeps_what_it_computed(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(settings, 300, tmp_path)
    r = retriever(settings)
    r.refresh(vectors="none")
    assert r.embedder is not None
    real = r.embedder.embed_passages
    calls = {"n": 0}

    def interrupted(texts: list[str]) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(texts)

    monkeypatch.setattr(r.embedder, "embed_passages", interrupted)
    with pytest.raises(KeyboardInterrupt):
        r.fill_vectors()
    progress = read_progress(settings.index_dir)
    assert progress is not None and progress.state == "stopped" and progress.done == 128
    assert int(r.index().dense.present.sum()) > 0  # type: ignore[union-attr]
    monkeypatch.setattr(r.embedder, "embed_passages", real)
    assert r.fill_vectors() == 301 + 301 - 128  # goes on from there
    assert r.missing_count() == 0


def embeddings_server(dims: dict[str, int]) -> httpx.MockTransport:
    """An OpenAI-compatible server with one model per name, of different dimensions."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        dim = dims[body["model"]]
        rng = np.random.default_rng(len(body["model"]))
        data = [
            {"index": i, "embedding": (rng.random(dim) + len(text)).tolist()}
            for i, text in enumerate(body["input"])
        ]
        return httpx.Response(200, json={"data": data, "model": body["model"]})

    return httpx.MockTransport(handler)


def test_vectors_of_different_models_never_mix(tmp_path: Path) -> None:
    """Changing the model rebuilds the index; the new model only ever reads its own
    vectors (none at first: the documents stay searchable lexically)."""
    transport = embeddings_server({"petit-modele": 8, "grand-modele": 16})
    home = tmp_path / "home"
    ingest(Settings(home=home), 30, tmp_path)

    def with_model(model: str) -> Retriever:
        settings = Settings(
            home=home,
            embedder="openai",
            title_embedder="openai",
            embeddings_url="http://embed.local/v1",
            embeddings_model=model,
        )
        embedder = OpenAIEmbedder(settings, transport=transport)
        return Retriever(settings, open_store(settings), embedder, embedder)

    small = with_model("petit-modele")
    small.refresh()
    assert small.index().dense is not None and small.index().dense.dim == 8  # type: ignore[union-attr]
    large = with_model("grand-modele")
    index = large.refresh(vectors="none")
    assert index.dense is None  # no vector of this model yet (not the other model's)
    assert large.search_documents("piscine samedi", k=1)[0].passage.doc_id == "piscine"
    large.fill_vectors()
    assert large.index().dense.dim == 16  # type: ignore[union-attr]
    assert large.index().dense.present.all()  # type: ignore[union-attr]
    # both models' vectors are kept apart in the store, each under its own name
    assert {"openai:petit-modele", "openai:grand-modele"} <= set(large.store.vector_models())
    small_again = with_model("petit-modele")
    assert small_again.refresh(vectors="none").dense.dim == 8  # type: ignore[union-attr]
    assert small_again.missing_count() == 0
