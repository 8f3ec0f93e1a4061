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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from territoria.embed import Embedder, Matrix
from territoria.search.index import INDEX_FORMAT, IndexHit, SearchIndex, fusion_params
from territoria.settings import Settings
from territoria.store import Store
from territoria.types import Access, Hit, Passage

Progress = Callable[[int, int, str], None]

# Settings that change the index's content: a change forces a rebuild.
_INDEX_FIELDS = (
    "bm25_k1",
    "bm25_b",
    "title_weight",
    "embedder",
    "title_embedder",
    "embeddings_model",
)
_EMBED_BATCH = 64


def embedding_text(passage: Passage) -> str:
    """What a passage vector encodes: its title, heading path and text."""
    parts = [passage.title, passage.heading_path, passage.text]
    return "\n".join(p for p in parts if p)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def vector_key(passage: Passage) -> str:
    return text_key(embedding_text(passage))


class Retriever:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder | None,
        title_embedder: Embedder | None = None,
    ) -> None:
        """`embedder` encodes passages (title, headings, text); `title_embedder` encodes
        document titles only: titles are short, so a slower and better model fits."""
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.title_embedder = title_embedder
        self._index: SearchIndex | None = None
        self._stamp: dict[str, object] | None = None
        self._lock = threading.Lock()

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    def _wanted_stamp(self) -> dict[str, object]:
        params = {name: getattr(self.settings, name) for name in _INDEX_FIELDS}
        return {"generation": self.store.generation(), "params": params, "format": INDEX_FORMAT}

    def fill_vectors(self, progress: Progress | None = None) -> int:
        """Embed the passages and titles that have no cached vector yet (the two models run
        side by side on two threads); return how many texts were embedded."""
        passages = list(self.store.iter_passages())
        jobs = []
        if self.embedder is not None:
            jobs.append((self.embedder, {vector_key(p): embedding_text(p) for p in passages}))
        if self.title_embedder is not None:
            jobs.append((self.title_embedder, {text_key(p.title): p.title for p in passages}))
        if not jobs:
            return 0
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            done = pool.map(lambda job: self._embed_missing(job[0], job[1], progress), jobs)
            return sum(done)

    def _embed_missing(
        self, embedder: Embedder, texts: dict[str, str], progress: Progress | None
    ) -> int:
        cached = self.store.get_vectors(embedder.name, texts)
        missing = [(k, t) for k, t in texts.items() if k not in cached]
        for start in range(0, len(missing), _EMBED_BATCH):
            batch = missing[start : start + _EMBED_BATCH]
            vectors = embedder.embed_passages([t for _, t in batch])
            self.store.put_vectors(
                embedder.name, {k: v for (k, _), v in zip(batch, vectors, strict=True)}
            )
            if progress:
                done = min(start + _EMBED_BATCH, len(missing))
                progress(done, len(missing), f"vecteurs {embedder.name}")
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
                # Fusion weights are query-time settings: take the current ones.
                self._index.fusion = fusion_params(self.settings)
            else:
                self._index = self._build()
                self.index_dir.mkdir(parents=True, exist_ok=True)
                stamp_file.unlink(missing_ok=True)
                self._index.save(self.index_dir)
                stamp_file.write_text(json.dumps(wanted))
            self._stamp = wanted
            return self._index

    def _matrix(self, embedder: Embedder | None, keys: list[str]) -> Matrix | None:
        """Cached vectors row-aligned with `keys`; zero rows where none is cached yet."""
        if embedder is None:
            return None
        cached = self.store.get_vectors(embedder.name, keys)
        matrix = np.zeros((len(keys), embedder.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            vec = cached.get(key)
            if vec is not None:
                matrix[row] = vec
        return matrix

    def _build(self) -> SearchIndex:
        passages = list(self.store.iter_passages())
        return SearchIndex.build(
            passages,
            self._matrix(self.embedder, [vector_key(p) for p in passages]),
            self.settings,
            title_vectors=self._matrix(self.title_embedder, [text_key(p.title) for p in passages]),
        )

    def index(self) -> SearchIndex:
        """The current index, refreshed if the store moved since it was built."""
        if self._index is None or self._stamp != self._wanted_stamp():
            return self.refresh()
        return self._index

    def search(self, query: str, *, k: int = 10, access: Access | None = None) -> list[Hit]:
        index = self.index()
        found = index.search(query, k=k, access=access or Access(), **self._query_vectors(query))
        return self._hits(found)

    def _query_vectors(self, query: str) -> dict[str, Matrix | None]:
        return {
            "query_vector": self.embedder.embed_queries([query]) if self.embedder else None,
            "title_query_vector": (
                self.title_embedder.embed_queries([query]) if self.title_embedder else None
            ),
        }

    def _hits(self, found: Sequence[IndexHit]) -> list[Hit]:
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
        """The k best documents, each as its best passage, best first."""
        index = self.index()
        found = index.search_documents(
            query, k=k, access=access or Access(), **self._query_vectors(query)
        )
        return self._hits(found)
