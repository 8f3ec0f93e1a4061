"""Hybrid search over the store: French BM25 + dense vectors + rank fusion.

`Retriever` keeps the derived index in step with the store: passages are searchable
lexically as soon as they are stored, missing vectors are filled (cached by passage-text hash
and model), and the on-disk index is rebuilt when the store's generation moves.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeAlias

import numpy as np

from territoria.embed import Embedder, Matrix, make_embedder
from territoria.search.index import (
    INDEX_FORMAT,
    IndexHit,
    SearchIndex,
    fusion_params,
    index_settings,
)
from territoria.search.query import Query
from territoria.search.rewrite import Rewriter
from territoria.search.synonyms import EmbeddedNeighbours
from territoria.settings import Settings
from territoria.store import Store, open_store
from territoria.types import Access, Hit, Passage

if TYPE_CHECKING:
    from territoria.search.postgres import PostgresIndex

Progress = Callable[[int, int, str], None]
AnyIndex: TypeAlias = "SearchIndex | PostgresIndex"


def postgres_search(settings: Settings) -> bool:
    """Whether search runs inside PostgreSQL (`search_backend`)."""
    if settings.search_backend == "postgres":
        return True
    return settings.search_backend == "auto" and settings.store == "postgres"


_EMBED_BATCH = 64
_QUERY_VECTORS_CACHED = 512  # (1.8 MB with both default models)
_PARALLEL_MIN = 500  # below this many texts, a second process costs more than it saves


def embedding_text(passage: Passage) -> str:
    """What a passage vector encodes: its title, heading path and text."""
    parts = [passage.title, passage.heading_path, passage.text]
    return "\n".join(p for p in parts if p)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def vector_key(passage: Passage) -> str:
    return text_key(embedding_text(passage))


def missing_texts(store: Store, embedder: Embedder, texts: dict[str, str]) -> dict[str, str]:
    """The texts (by key) that have no cached vector of this model yet."""
    cached = store.get_vectors(embedder.name, texts)
    return {k: t for k, t in texts.items() if k not in cached}


def embed_texts(
    store: Store, embedder: Embedder, texts: dict[str, str], progress: Progress | None = None
) -> int:
    """Embed `texts` in batches, each batch stored as soon as it is computed."""
    items = list(texts.items())
    for start in range(0, len(items), _EMBED_BATCH):
        batch = items[start : start + _EMBED_BATCH]
        vectors = embedder.embed_passages([t for _, t in batch])
        store.put_vectors(embedder.name, {k: v for (k, _), v in zip(batch, vectors, strict=True)})
        if progress:
            done = min(start + _EMBED_BATCH, len(items))
            progress(done, len(items), f"vecteurs {embedder.name}")
    return len(items)


_PARENT_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def exit_with_parent(parent: int) -> None:
    """In a child process: exit as soon as the process `parent` is gone, even when it was
    killed (SIGKILL gives it no chance to stop its children). On Linux the kernel sends
    SIGKILL when the parent dies (PR_SET_PDEATHSIG: strictly, when the parent's thread that
    started the child ends; `fill_vectors` starts and shuts down its pool in one call, so
    that thread outlives the child); everywhere, a daemon thread also watches for the child
    being re-parented (it runs between the model's batches)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the thread below still watches
            pass
    if os.getppid() != parent:  # the parent died before we could watch it
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="territoria-parent-watch", daemon=True).start()


def _embed_in_subprocess(
    settings: Settings, model: str, texts: dict[str, str], parent: int | None = None
) -> int:
    """Runs in a spawned process: its own store connection and model; it exits if the
    process that started it (`parent`) dies."""
    if parent is not None:
        exit_with_parent(parent)
    embedder = make_embedder(settings, model)
    if embedder is None:
        return 0
    store = open_store(settings)
    try:
        return embed_texts(store, embedder, texts)
    finally:
        store.close()


class Lexicon(Protocol):
    """The French analysis and term statistics of the corpus searched (`Retriever.lexicon`):
    what the answer needs to weigh a passage against a question."""

    def analyze(self, text: str) -> list[str]: ...

    def idf(self, term: str) -> float: ...

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
        document titles only: titles are short, so a slower and better model fits."""
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.title_embedder = title_embedder
        self._index: SearchIndex | None = None
        self._stamp: dict[str, object] | None = None
        self._lock = threading.Lock()
        self._rewriter: tuple[AnyIndex, Rewriter] | None = None
        self._query_vectors_cache: OrderedDict[str, tuple[Matrix | None, Matrix | None]] = (
            OrderedDict()
        )
        self._query_vectors_lock = threading.Lock()
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

    def _wanted_stamp(self) -> dict[str, object]:
        params = index_settings(self.settings)
        return {"generation": self.store.generation(), "params": params, "format": INDEX_FORMAT}

    def fill_vectors(self, progress: Progress | None = None) -> int:
        """Embed the passages and titles that have no cached vector yet; return how many
        texts were embedded. When both models have much to do, the titles are embedded in a
        second process meanwhile (the models hold the GIL, so threads would not overlap)."""
        passages = list(self.store.iter_passages())
        jobs: list[tuple[Embedder, dict[str, str]]] = []
        if self.embedder is not None:
            texts = {vector_key(p): embedding_text(p) for p in passages}
            jobs.append((self.embedder, missing_texts(self.store, self.embedder, texts)))
        if self.title_embedder is not None:
            titles = {text_key(p.title): p.title for p in passages}
            jobs.append(
                (self.title_embedder, missing_texts(self.store, self.title_embedder, titles))
            )
        if len(jobs) == 2 and min(len(todo) for _, todo in jobs) >= _PARALLEL_MIN:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                titles_done = pool.submit(
                    _embed_in_subprocess,
                    self.settings,
                    self.settings.title_embedder,
                    jobs[1][1],
                    os.getpid(),
                )
                done = embed_texts(self.store, jobs[0][0], jobs[0][1], progress)
                return done + titles_done.result()
        return sum(embed_texts(self.store, model, todo, progress) for model, todo in jobs)

    def refresh(self, progress: Progress | None = None) -> AnyIndex:
        """Bring the index in step with the store: embed what is missing, rebuild if stale."""
        if self._pg is not None:
            return self._refresh_postgres(self._pg, progress)
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

    def _refresh_postgres(self, index: PostgresIndex, progress: Progress | None) -> AnyIndex:
        """Index the new passages in PostgreSQL, embed the missing vectors, make sure each
        model's vectors have their HNSW index; read the vocabulary."""
        with self._lock:
            index.sync(lambda p: (vector_key(p), text_key(p.title)), progress=progress)
            for embedder, key in ((self.embedder, "vector_key"), (self.title_embedder, "title")):
                if embedder is None:
                    continue
                todo = index.missing_vectors(embedder.name, key)
                while todo:
                    embed_texts(self.store, embedder, todo, progress)
                    todo = index.missing_vectors(embedder.name, key)
                index.ensure_vector_index(embedder.name, embedder.dim)
            index.load(self.store.generation())
            return index

    def index(self) -> AnyIndex:
        """The current index, refreshed if the store moved since it was built."""
        if self._pg is not None:
            self._pg.load(self.store.generation())
            return self._pg
        if self._index is None or self._stamp != self._wanted_stamp():
            return self.refresh()
        return self._index

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

    def rewriter(self) -> Rewriter:
        """The query rewriter of the current index (spelling vocabulary of its corpus)."""
        index = self.index()
        if self._rewriter is None or self._rewriter[0] is not index:
            related = None
            if self.settings.synonyms and self.embedder is not None:
                related = EmbeddedNeighbours(
                    self.embedder,
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
            self._rewriter = (index, rewriter)
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
        qv, tv = self._query_vectors(q.dense_text)
        found = index.search(
            q, k=k, access=access, exclude=exclude, query_vector=qv, title_query_vector=tv
        )
        return self._hits(found, access)

    def _query_vectors(self, query: str) -> tuple[Matrix | None, Matrix | None]:
        """The query's passage-model and title-model vectors (None without the model).

        The last few hundred are kept: a question asked again (a frequent one, a question
        searched then answered, the calibration's two searches of each question) is not
        embedded again (e5 alone costs ~25 ms of CPU a query)."""
        with self._query_vectors_lock:
            cached = self._query_vectors_cache.get(query)
            if cached is not None:
                self._query_vectors_cache.move_to_end(query)
                return cached
        vectors = (
            self.embedder.embed_queries([query]) if self.embedder else None,
            self.title_embedder.embed_queries([query]) if self.title_embedder else None,
        )
        for matrix in vectors:
            if matrix is not None:
                matrix.flags.writeable = False  # shared by the requests that reuse it
        with self._query_vectors_lock:
            self._query_vectors_cache[query] = vectors
            while len(self._query_vectors_cache) > _QUERY_VECTORS_CACHED:
                self._query_vectors_cache.popitem(last=False)
        return vectors

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
        qv, tv = self._query_vectors(q.dense_text)
        found = index.search_documents(
            q, k=k, access=access, query_vector=qv, title_query_vector=tv
        )
        return self._hits(found, access)
