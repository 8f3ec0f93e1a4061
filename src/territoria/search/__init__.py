"""Hybrid search over the store: French BM25 + dense vectors + rank fusion.

`Retriever` keeps the derived index in step with the store: passages are searchable
lexically as soon as they are stored, missing vectors are filled (cached by passage-text hash
and model), and the on-disk index is rebuilt when the store's generation moves.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from territoria.embed import Embedder, Matrix
from territoria.search.index import SearchIndex
from territoria.settings import Settings
from territoria.store import Store
from territoria.types import Access, Hit, Passage

Progress = Callable[[int, int, str], None]

# Settings that change the index's content: a change forces a rebuild.
_INDEX_FIELDS = ("bm25_k1", "bm25_b", "title_weight", "embedder", "embeddings_model")
_EMBED_BATCH = 64


def embedding_text(passage: Passage) -> str:
    """What a passage vector encodes: its title, heading path and text."""
    parts = [passage.title, passage.heading_path, passage.text]
    return "\n".join(p for p in parts if p)


def vector_key(passage: Passage) -> str:
    return hashlib.sha256(embedding_text(passage).encode("utf-8")).hexdigest()[:32]


class Retriever:
    def __init__(self, settings: Settings, store: Store, embedder: Embedder | None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._index: SearchIndex | None = None
        self._stamp: dict[str, object] | None = None
        self._lock = threading.Lock()

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    def _wanted_stamp(self) -> dict[str, object]:
        params = {name: getattr(self.settings, name) for name in _INDEX_FIELDS}
        return {"generation": self.store.generation(), "params": params}

    def fill_vectors(self, progress: Progress | None = None) -> int:
        """Embed the passages that have no cached vector yet; return how many were embedded."""
        if self.embedder is None:
            return 0
        passages = list(self.store.iter_passages())
        keys = {vector_key(p): p for p in passages}
        cached = self.store.get_vectors(self.embedder.name, keys)
        missing = [(k, p) for k, p in keys.items() if k not in cached]
        for start in range(0, len(missing), _EMBED_BATCH):
            batch = missing[start : start + _EMBED_BATCH]
            vectors = self.embedder.embed_passages([embedding_text(p) for _, p in batch])
            self.store.put_vectors(
                self.embedder.name, {k: v for (k, _), v in zip(batch, vectors, strict=True)}
            )
            if progress:
                progress(min(start + _EMBED_BATCH, len(missing)), len(missing), "vecteurs")
        return len(missing)

    def refresh(self, progress: Progress | None = None) -> SearchIndex:
        """Bring the index in step with the store: embed what is missing, rebuild if stale."""
        with self._lock:
            self.fill_vectors(progress)
            wanted = self._wanted_stamp()
            if self._index is not None and self._stamp == wanted:
                return self._index
            stamp_file = self.index_dir / "stamp.json"
            if stamp_file.exists() and json.loads(stamp_file.read_text()) == wanted:
                self._index = SearchIndex.load(self.index_dir)
            else:
                self._index = self._build()
                self.index_dir.mkdir(parents=True, exist_ok=True)
                stamp_file.unlink(missing_ok=True)
                self._index.save(self.index_dir)
                stamp_file.write_text(json.dumps(wanted))
            self._stamp = wanted
            return self._index

    def _build(self) -> SearchIndex:
        passages = list(self.store.iter_passages())
        vectors: Matrix | None = None
        if self.embedder is not None:
            keys = [vector_key(p) for p in passages]
            cached = self.store.get_vectors(self.embedder.name, keys)
            vectors = np.zeros((len(passages), self.embedder.dim), dtype=np.float32)
            for row, key in enumerate(keys):
                vec = cached.get(key)
                if vec is not None:
                    vectors[row] = vec
        return SearchIndex.build(passages, vectors, self.settings)

    def index(self) -> SearchIndex:
        """The current index, refreshed if the store moved since it was built."""
        if self._index is None or self._stamp != self._wanted_stamp():
            return self.refresh()
        return self._index

    def search(self, query: str, *, k: int = 10, access: Access | None = None) -> list[Hit]:
        access = access or Access()
        index = self.index()
        query_vector = None
        if self.embedder is not None:
            query_vector = self.embedder.embed_queries([query])
        found = index.search(query, k=k, access=access, query_vector=query_vector)
        passages = self.store.get_passages([h.passage_id for h in found])
        return [
            Hit(
                passage=passages[h.passage_id],
                score=h.score,
                lexical_score=h.lexical_score,
                dense_score=h.dense_score,
            )
            for h in found
            if h.passage_id in passages
        ]

    def search_documents(
        self, query: str, *, k: int = 10, access: Access | None = None
    ) -> list[Hit]:
        """Best passage per document, documents ranked, at most k."""
        seen: set[str] = set()
        best: list[Hit] = []
        for hit in self.search(query, k=k * 5, access=access):
            if hit.passage.doc_id not in seen:
                seen.add(hit.passage.doc_id)
                best.append(hit)
            if len(best) == k:
                break
        return best


def rank_documents(hits: Sequence[Hit]) -> list[str]:
    seen: dict[str, None] = {}
    for hit in hits:
        seen.setdefault(hit.passage.doc_id)
    return list(seen)
