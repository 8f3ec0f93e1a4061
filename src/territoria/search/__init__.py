"""Hybrid search over the store: French BM25F + dense vectors + fusion.

`Retriever` keeps the derived index in step with the store. When the store's documents
change, the index is rebuilt at once with the vectors already cached, so new documents are
searchable lexically within seconds; their vectors are then computed by an embedding job
(`fill_vectors`: in the foreground with progress, or by a background process,
`BackgroundVectors`) that publishes them to the index as it goes (`vectors.py`). Every process
using the same index follows them: the index on disk carries a stamp that says which
documents and settings it was built for, and how many vectors it holds.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TypeAlias

import numpy as np

from territoria.embed import Embedder, Matrix
from territoria.search.dense import DenseIndex
from territoria.search.index import IndexHit, SearchIndex
from territoria.search.parameters import INDEX_FORMAT, fusion_params, index_settings
from territoria.search.query import Query
from territoria.search.query_vectors import QueryVectors
from territoria.search.rewrite import Rewriter
from territoria.search.vectors import (
    EMBED_BATCH,
    BackgroundVectors,
    Job,
    Progress,
    embed_texts,
    embedding_lock,
    embedding_text,
    read_progress,
    text_key,
    vector_key,
)
from territoria.search.word_vectors import VectorNeighbours, french_vectors
from territoria.settings import Settings
from territoria.store import Store
from territoria.types import Access, Hit, Passage

__all__ = [
    "INLINE_MAX",
    "BackgroundVectors",
    "Progress",
    "Retriever",
    "embedding_text",
    "text_key",
    "vector_key",
]

if TYPE_CHECKING:
    from territoria.search.postgres import PostgresIndex

AnyIndex: TypeAlias = "SearchIndex | PostgresIndex"


def postgres_search(settings: Settings) -> bool:
    """Whether search runs inside PostgreSQL (`search_backend`)."""
    if settings.search_backend == "postgres":
        return True
    return settings.search_backend == "auto" and settings.store == "postgres"


Vectors = Literal["all", "small", "none"]
INLINE_MAX = 256  # missing vectors a refresh computes at once (an uploaded file or two)
PUBLISH_S = 30.0  # a running embedding job publishes its vectors to the index this often
_FOLLOW_S = 1.0  # how often a process looks for vectors published by another one
_STAMP = "stamp.json"


class Lexicon(Protocol):
    """The French analysis and term statistics of the corpus searched (`Retriever.lexicon`):
    what the answer needs to weigh a passage against a question."""

    def analyze(self, text: str) -> list[str]: ...

    def idf(self, term: str) -> float: ...

    def knows(self, term: str) -> bool: ...

    def lexical_ceiling(self, query: str | Mapping[str, float]) -> float: ...

    def lexical_scores(
        self, query: str | Mapping[str, float], passage_ids: Sequence[str], tenant: str
    ) -> list[float]: ...

    def documents_with_all_terms(self, query: str, tenant: str) -> set[str]: ...


class Retriever:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder | None,
        title_embedder: Embedder | None = None,
    ) -> None:
        """`embedder` encodes passages (title, headings, text); `title_embedder` encodes
        document titles only (by default the same model: one query vector serves both)."""
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.title_embedder = title_embedder
        self._index: SearchIndex | None = None
        self._stamp: dict[str, object] | None = None
        self._lock = threading.RLock()
        self._rewriter: tuple[object, Rewriter] | None = None
        self._disk_mtime = 0
        self._followed = 0.0
        self.vectors = QueryVectors(embedder, title_embedder)
        self._pg: PostgresIndex | None = None
        if postgres_search(settings):
            from territoria.search.postgres import PostgresIndex
            from territoria.store.postgres import PostgresStore

            if not isinstance(store, PostgresStore):
                from territoria.errors import ConfigError

                raise ConfigError("La recherche dans PostgreSQL demande le stockage postgres.")
            self._pg = PostgresIndex(
                settings,
                store.db,
                model=embedder.name if embedder else None,
                title_model=title_embedder.name if title_embedder else None,
            )

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    # --- the index -----------------------------------------------------------------------

    def refresh(self, progress: Progress | None = None, *, vectors: Vectors = "all") -> AnyIndex:
        """Bring the index in step with the store: rebuilt at once with the vectors already
        cached (the documents are searchable lexically), then the missing vectors computed:
        all of them, only when they are few (`"small"`: up to INLINE_MAX texts), or none
        (a background job computes them)."""
        if self._pg is not None:
            return self._refresh_postgres(self._pg, progress, vectors != "none")
        with self._lock:
            index = self._sync()
        if vectors != "none":
            missing = self.missing_count()
            if missing and (vectors == "all" or missing <= INLINE_MAX):
                self.fill_vectors(progress)
        return self._index or index

    def index(self) -> AnyIndex:
        """The current index: rebuilt if the store's documents moved (with at most a few
        vectors computed on the way), with the vectors other processes published since."""
        if self._pg is not None:
            self._pg.load(self.store.generation())
            return self._pg
        if self._index is None or self._stamp != self._wanted_stamp():
            return self.refresh(vectors="small")
        self._follow()
        return self._index

    def _wanted_stamp(self) -> dict[str, object]:
        params = index_settings(self.settings)
        return {"generation": self.store.generation(), "params": params, "format": INDEX_FORMAT}

    def _read_stamp(self) -> tuple[dict[str, object] | None, int]:
        path = self.index_dir / _STAMP
        try:
            return json.loads(path.read_text()), path.stat().st_mtime_ns
        except (OSError, ValueError):
            return None, 0

    def _write_stamp(self, wanted: dict[str, object], index: SearchIndex) -> None:
        counts = {
            name: int(part.present.sum())
            for name, part in (("vectors", index.dense), ("titles", index.titles))
            if part is not None
        }
        tmp = self.index_dir / f".{_STAMP}.{os.getpid()}"
        tmp.write_text(json.dumps({**wanted, "rows": len(index), "present": counts}))
        os.replace(tmp, self.index_dir / _STAMP)
        self._disk_mtime = (self.index_dir / _STAMP).stat().st_mtime_ns

    def _sync(self) -> SearchIndex:
        """Load the index from disk if it was built for the current documents and settings,
        else rebuild it (cached vectors only) and save it."""
        wanted = self._wanted_stamp()
        if self._index is not None and self._stamp == wanted:
            return self._index
        disk, mtime = self._read_stamp()
        if disk is not None and {k: disk.get(k) for k in wanted} == wanted:
            index = SearchIndex.load(self.index_dir)
            self._disk_mtime = mtime
        else:
            index = self._build()
            self.index_dir.mkdir(parents=True, exist_ok=True)
            (self.index_dir / _STAMP).unlink(missing_ok=True)
            index.save(self.index_dir)
            self._write_stamp(wanted, index)
        # fusion weights are query-time settings: take the current ones
        index.fusion = fusion_params(self.settings)
        self._index, self._stamp = index, wanted
        return index

    def _follow(self) -> None:
        """Take the vectors another process published (at most one look a second)."""
        now = time.monotonic()
        if now - self._followed < _FOLLOW_S:
            return
        self._followed = now
        disk, mtime = self._read_stamp()
        if disk is None or mtime == self._disk_mtime or self._stamp is None:
            return
        if {k: disk.get(k) for k in self._stamp} != self._stamp:
            return  # built for other documents: `index()` rebuilds when the store says so
        with self._lock:
            if self._index is not None:
                self._index = self._index.with_parts(**SearchIndex.load_vectors(self.index_dir))
                self._disk_mtime = mtime

    def _matrix(self, embedder: Embedder | None, keys: list[str]) -> Matrix | None:
        """Cached vectors row-aligned with `keys`; zero rows where none is cached yet. None
        without a model, or while a remote model's dimension is unknown (nothing cached)."""
        if embedder is None:
            return None
        cached = self.store.get_vectors(embedder.name, keys)
        dim = embedder.dim or next((len(v) for v in cached.values()), 0)
        if not dim:
            return None
        matrix = np.zeros((len(keys), dim), dtype=np.float32)
        for row, key in enumerate(keys):
            vec = cached.get(key)
            if vec is not None and len(vec) == dim:
                matrix[row] = vec
        return matrix

    def _dense_parts(self, passages: Sequence[Passage]) -> dict[str, DenseIndex | None]:
        vectors = self._matrix(self.embedder, [vector_key(p) for p in passages])
        titles = self._matrix(self.title_embedder, [text_key(p.title) for p in passages])
        return {
            "dense": None if vectors is None else DenseIndex.build(vectors),
            "titles": None if titles is None else DenseIndex.build(titles, dedupe=True),
        }

    def _build(self) -> SearchIndex:
        passages = list(self.store.iter_passages())
        parts = self._dense_parts(passages)
        index = SearchIndex.build(passages, None, self.settings)
        return index.with_parts(**parts)

    def _refresh_postgres(
        self, index: PostgresIndex, progress: Progress | None, embed: bool
    ) -> AnyIndex:
        """Index the new passages in PostgreSQL, embed the missing vectors, make sure each
        model's vectors have their HNSW index; read the vocabulary."""
        with self._lock:
            index.sync(lambda p: (vector_key(p), text_key(p.title)), progress=progress)
            for embedder, key in ((self.embedder, "vector_key"), (self.title_embedder, "title")):
                if embedder is None:
                    continue
                todo = index.missing_vectors(embedder.name, key)
                while todo and embed:
                    embed_texts(self.store, embedder, todo, progress)
                    todo = index.missing_vectors(embedder.name, key)
                index.ensure_vector_index(embedder.name, embedder.dim)
            index.load(self.store.generation())
            return index

    def lexicon(self) -> Lexicon:
        """The analysis and term statistics of the current index (take it once per question:
        it stays consistent with the hits of that question's search)."""
        return self.index()

    def generation(self) -> int:
        """The store's generation: it moves whenever a document is added, changed or removed."""
        return self.store.generation()

    def passage_counts(self) -> dict[str, int]:
        """Passages stored per tenant."""
        counts: dict[str, int] = {}
        for doc in self.store.list_documents():
            counts[doc.tenant] = counts.get(doc.tenant, 0) + doc.n_passages
        return counts

    def passages(self, tenant: str) -> list[Passage]:
        """Every passage of a tenant (any visibility)."""
        return list(self.store.iter_passages(tenant=tenant))

    def document_passages(self, doc_id: str, tenant: str) -> list[Passage]:
        """The passages of one document of a tenant, in reading order (none if unknown)."""
        doc = self.store.get_document(doc_id, tenant=tenant)
        if doc is None:
            return []
        ids = [f"{doc_id}#{i}" for i in range(doc.n_passages)]
        found = self.store.get_passages(ids, tenant=tenant)
        return [found[i] for i in ids if i in found]

    def passages_before(self, passage_id: str, tenant: str, *, n: int) -> list[Passage]:
        """Up to `n` passages of the same document just before `passage_id`, in reading
        order (a long table cut between passages: its header is in an earlier one)."""
        doc_id, _, ordinal = passage_id.rpartition("#")
        if not ordinal.isdigit():
            return []
        ids = [f"{doc_id}#{i}" for i in range(max(0, int(ordinal) - n), int(ordinal))]
        found = self.store.get_passages(ids, tenant=tenant)
        return [found[i] for i in ids if i in found]

    # --- vectors -------------------------------------------------------------------------

    def _models(self) -> list[tuple[str, Embedder]]:
        """The index's dense channels and their models (one model may serve both)."""
        return [
            (name, model)
            for name, model in (("dense", self.embedder), ("titles", self.title_embedder))
            if model is not None
        ]

    def missing(self) -> list[tuple[Embedder, dict[str, str]]]:
        """Per model, the texts (by key) of the index's rows that have no vector yet."""
        if self._pg is not None:
            return []
        with self._lock:
            index = self._sync()
        wanted: dict[str, tuple[Embedder, dict[str, str]]] = {}
        for name, model in self._models():
            part = getattr(index, name)
            rows = np.arange(len(index)) if part is None else np.flatnonzero(~part.present)
            if not len(rows):
                continue
            texts = wanted.setdefault(model.name, (model, {}))[1]
            for passage in self._passages(index, rows):
                text = embedding_text(passage) if name == "dense" else passage.title
                texts[text_key(text)] = text
        out = []
        for model, texts in wanted.values():
            cached = self.store.get_vectors(model.name, texts)
            todo = {k: t for k, t in texts.items() if k not in cached}
            if todo:
                out.append((model, todo))
        return out

    def missing_count(self) -> int:
        """Rows without their vectors (0 with PostgreSQL: its refresh computes them)."""
        index = self._index
        if index is None:
            return 0
        return sum(
            len(index)
            if getattr(index, name) is None
            else int((~getattr(index, name).present).sum())
            for name, _ in self._models()
        )

    def _passages(self, index: SearchIndex, rows: np.ndarray) -> list[Passage]:
        by_tenant: dict[str, list[str]] = {}
        for row in rows.tolist():
            tenant = index.tenants[int(index.row_tenant[row])]
            by_tenant.setdefault(tenant, []).append(index.passage_ids[row])
        out: list[Passage] = []
        for tenant, ids in by_tenant.items():
            out.extend(self.store.get_passages(ids, tenant=tenant).values())
        return out

    def fill_vectors(self, progress: Progress | None = None) -> int:
        """Embed the rows that have no vector yet, batch after batch (each stored at once),
        publishing them to the index every PUBLISH_S seconds and at the end; return how many
        texts were embedded. Does nothing when another process is embedding this index."""
        lock = embedding_lock(self.index_dir)
        if lock is None:
            return 0
        try:
            with self._lock:
                self._sync()
            todo = self.missing()
            total = sum(len(texts) for _, texts in todo)
            if not total:
                return 0
            job = Job(self.index_dir, tuple(m.name for m, _ in todo), total, progress)
            job.start()
            state: Literal["done", "stopped"] = "stopped"
            published = time.monotonic()
            try:
                for model, texts in todo:
                    items = list(texts.items())
                    for start in range(0, len(items), EMBED_BATCH):
                        batch = items[start : start + EMBED_BATCH]
                        vectors = model.embed_passages([t for _, t in batch])
                        self.store.put_vectors(
                            model.name, {k: v for (k, _), v in zip(batch, vectors, strict=True)}
                        )
                        job.advance(len(batch), f"vecteurs {model.name}")
                        if time.monotonic() - published >= PUBLISH_S:
                            self.publish_vectors()
                            published = time.monotonic()
                state = "done"
            finally:  # stopped or not, what was computed becomes searchable
                self.publish_vectors()
                job.end(state)
            return total
        finally:
            lock.release()

    def publish_vectors(self) -> None:
        """Give the index the vectors cached for its rows, and save them for the other
        processes."""
        with self._lock:
            index = self._sync()
            passages = self._passages(index, np.arange(len(index)))
            order = {p.passage_id: p for p in passages}
            rows = [order[pid] for pid in index.passage_ids if pid in order]
            if len(rows) != len(index):
                return  # the documents moved meanwhile: the next refresh rebuilds
            index = index.with_parts(**self._dense_parts(rows))
            index.save_vectors(self.index_dir)
            assert self._stamp is not None
            self._write_stamp(self._stamp, index)
            self._index = index

    def vector_status(self) -> dict[str, object]:
        """How many of the index's rows have their vectors, and the last embedding job.
        With PostgreSQL the refresh computes every vector before the index is used."""
        if self._pg is not None:
            rows = len(self.index())
            return {
                "passages": rows,
                "complete": True,
                "channels": {
                    name: {"model": model.name, "present": rows, "rows": rows}
                    for name, model in self._models()
                },
                "job": None,
            }
        index = self.index()
        job = read_progress(self.index_dir)
        channels = {
            name: {
                "model": model.name,
                "present": 0
                if getattr(index, name) is None
                else int(getattr(index, name).present.sum()),
                "rows": len(index),
            }
            for name, model in self._models()
        }
        return {
            "passages": len(index),
            "complete": all(c["present"] == c["rows"] for c in channels.values()),
            "channels": channels,
            "job": None if job is None else job.to_json(),
        }

    def version(self) -> tuple[int, bool]:
        """What answers depend on: the store's documents, and whether every row has its
        vectors (the abstention calibration is computed again when that changes)."""
        self.index()
        return self.store.generation(), self.missing_count() == 0

    def rewriter(self) -> Rewriter:
        """The query rewriter of the current index (spelling vocabulary of its corpus)."""
        index = self.index()
        if self._rewriter is None or self._rewriter[0] is not index.lexical:
            related = None
            if self.settings.synonyms:
                related = VectorNeighbours(
                    french_vectors,
                    index.lexical.words,
                    min_similarity=self.settings.synonym_min_similarity,
                    weight=self.settings.synonym_weight,
                )
            rewriter = Rewriter(
                index.lexical,
                spelling=self.settings.spelling_correction,
                related=related,
                context_weight=self.settings.context_weight,
            )
            self._rewriter = (index.lexical, rewriter)
        return self._rewriter[1]

    def query(self, text: str, *, previous: Sequence[str] = ()) -> Query:
        """What `text` is searched by: its analysed terms, corrections of the words the corpus
        does not know, and, when it continues one of the `previous` questions (most recent
        last), that question's terms. Each term has a weight and a source (query.py)."""
        return self.rewriter().query(text, previous)

    def query_terms(self, text: str, *, previous: Sequence[str] = ()) -> dict[str, float]:
        """Analysed term -> weight of the query of `text` (for sentence scoring)."""
        return self.query(text, previous=previous).weights()

    def _as_query(self, query: str | Query) -> Query:
        return query if isinstance(query, Query) else self.query(query)

    def search(
        self,
        query: str | Query,
        *,
        k: int = 10,
        access: Access | None = None,
        exclude: Collection[str] = (),
    ) -> list[Hit]:
        """The k best passages `access` may see for a question (rewritten, see `query`) or a
        `Query`; `exclude` names documents to leave out."""
        index = self.index()
        access = access or Access()
        q = self._as_query(query)
        qv, tv = self.vectors.queries(q.dense_text)
        found = index.search(
            q, k=k, access=access, exclude=exclude, query_vector=qv, title_query_vector=tv
        )
        return self._hits(found, access)

    def query_vector(self, query: str | Query) -> Matrix | None:
        """The passage embedder's vector of a question (None without a passage embedder)."""
        q = self._as_query(query)
        vectors = self.vectors.queries(q.dense_text)[0]
        return None if vectors is None else vectors[0]

    def text_vectors(self, texts: Sequence[str]) -> Matrix:
        """Passage-embedder vectors of short texts (`QueryVectors.texts`)."""
        return self.vectors.texts(texts)

    def _hits(self, found: Sequence[IndexHit], access: Access) -> list[Hit]:
        passages = self.store.get_passages([h.passage_id for h in found], tenant=access.tenant)
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
        self, query: str | Query, *, k: int = 10, access: Access | None = None
    ) -> list[Hit]:
        """The k best documents, each as its best passage, best first."""
        index = self.index()
        access = access or Access()
        q = self._as_query(query)
        qv, tv = self.vectors.queries(q.dense_text)
        found = index.search_documents(
            q, k=k, access=access, query_vector=qv, title_query_vector=tv
        )
        return self._hits(found, access)
