"""Search inside PostgreSQL (`search_backend=postgres`): no process holds the corpus in memory.

Lexical: French BM25 as in the embedded index (same analyzer, same title weighting, same
idf), kept as impact-ordered postings: one row per (term, passage) with its BM25 term weight
`tf (k1 + 1) / (tf + k1 (1 - b + b len / avgdl))`; the idf is applied at query time from the
document frequencies (`search_terms`, kept by triggers). A query reads, for each of its terms,
the `candidates` heaviest postings the caller may see (a B-tree on (term, tenant, weight DESC)),
then scores the union of candidates exactly. Passage lengths are normalised with the average
length when they were written (a bulk load into empty tables: the final average), and all
recomputed when the average has drifted by more than 5 %.

Dense: the cached vectors (table `vectors`, one row per model and text hash) carry an HNSW
index per model (cosine, pgvector), searched with `hnsw.ef_search` = `pg_ef_search` (chosen by
`bench/bench_pg_search.py` for recall@10 >= 0.98 against exact search) and iterative scans,
joined to the passages the caller may see.

Access: tenant, visibility and collection are in the WHERE clause of every query; candidates
are only ever rows the caller may see. Fusion: the candidates' lexical, passage-vector and
title-vector scores go through the embedded default's `fuse` (search/fusion.py); documents
are ranked by each channel's best passage, as `SearchIndex.search_documents` does.

`PostgresIndex.sync` brings the search tables in step with the store (new passages, missing
vectors' keys; search/pg_tables.py holds the tables and their writing); any process may run
it (an advisory lock serialises them), and every replica searches what is committed at once.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from territoria.embed import Matrix, normalize
from territoria.search.analysis import make_analyzer
from territoria.search.dense import top_k
from territoria.search.fusion import FusionParams, fuse, has_identifier
from territoria.search.index import IndexHit, document_key, fusion_params
from territoria.search.lexical import MAX_QUERY_TERMS, BM25Params
from territoria.search.pg_tables import Keys, Progress, SearchTables
from territoria.search.query import Query
from territoria.settings import Settings
from territoria.store.database import PostgresDatabase
from territoria.types import Access

Vector = Any  # numpy float32 arrays


@dataclass
class _Vocabulary:
    """What the query rewriter needs (search/rewrite.py `Vocabulary`)."""

    analyzer: Any
    words: dict[str, int]
    terms: dict[str, int]

    def knows(self, term: str) -> bool:
        return self.terms.get(term, 0) > 0


@dataclass
class _Candidates:
    seqs: list[int]
    passage_ids: list[str]
    docs: list[str]
    lexical: Any
    channels: list[tuple[Any, Any, float]]
    dense: Any


class PostgresIndex:
    """The search index of a PostgreSQL store: the interface of `SearchIndex` over SQL."""

    def __init__(
        self,
        settings: Settings,
        db: PostgresDatabase,
        *,
        model: str | None,
        title_model: str | None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.model = model
        self.title_model = title_model
        self.params = BM25Params(settings.bm25_k1, settings.bm25_b, settings.title_weight)
        self.fusion: FusionParams = fusion_params(settings)
        self.analyzer = make_analyzer()
        self.tables = SearchTables(settings, db, self.params, self.analyzer)
        self._lock = threading.Lock()
        self._loaded_for: int | None = None
        self._vocabulary = _Vocabulary(self.analyzer, {}, {})
        self._rows = 0

    # --- the vocabulary, per store generation -----------------------------------------------

    def load(self, generation: int) -> None:
        """Read the corpus statistics (term document frequencies, spelling words, row count):
        the vocabulary, not the passages."""
        with self._lock:
            if self._loaded_for == generation:
                return
            with self.db.snapshot() as view:
                terms = {t: int(n) for t, n in view.execute("SELECT term, df FROM search_terms")}
                words = {w: int(n) for w, n in view.execute("SELECT word, n FROM search_words")}
                (rows,) = view.execute("SELECT rows FROM search_stats").fetchone()
            self._vocabulary = _Vocabulary(self.analyzer, words, terms)
            self._rows = int(rows)
            self._loaded_for = generation

    @property
    def lexical(self) -> _Vocabulary:
        return self._vocabulary

    def __len__(self) -> int:
        return self._rows

    def analyze(self, text: str) -> list[str]:
        return self.analyzer(text)

    def idf(self, term: str) -> float:
        df = self._vocabulary.terms.get(term, 0)
        return float(np.log1p((self._rows - df + 0.5) / (df + 0.5)))

    def lexical_ceiling(self, query: str | Mapping[str, float]) -> float:
        weights = self._weights(query)
        return sum(self.idf(t) * w for t, w in weights.items()) * (self.params.k1 + 1.0)

    def _weights(self, query: str | Mapping[str, float] | Query) -> dict[str, float]:
        if isinstance(query, Query):
            query = query.weights()
        weights = dict.fromkeys(self.analyze(query), 1.0) if isinstance(query, str) else query
        known = {t: w for t, w in weights.items() if w > 0 and self._vocabulary.knows(t)}
        if len(known) > MAX_QUERY_TERMS:  # the rarest ones, as the embedded index
            kept = sorted(known, key=lambda t: self._vocabulary.terms[t])[:MAX_QUERY_TERMS]
            known = {t: known[t] for t in kept}
        return known

    def tenants_present(self) -> list[str]:
        return [t for (t,) in self.db.execute("SELECT DISTINCT tenant FROM search_rows")]

    # --- exact scores of given passages ------------------------------------------------------

    def lexical_scores(
        self, query: str | Mapping[str, float], passage_ids: Sequence[str], tenant: str
    ) -> list[float]:
        """BM25 score of `query` for the given passages of `tenant` (0 for an unknown id)."""
        weights = self._weights(query)
        if not weights or not passage_ids:
            return [0.0] * len(passage_ids)
        rows = self.db.execute(
            "SELECT r.passage_id, p.term, p.weight FROM search_rows r"
            " JOIN search_postings p ON p.seq = r.seq"
            " WHERE r.tenant = ? AND r.passage_id = ANY(?) AND p.term = ANY(?)",
            (tenant, list(passage_ids), list(weights)),
        )
        scores: dict[str, float] = {}
        for pid, term, weight in rows:
            scores[pid] = scores.get(pid, 0.0) + self.idf(term) * weights[term] * weight
        return [scores.get(pid, 0.0) for pid in passage_ids]

    def documents_with_all_terms(self, query: str, tenant: str) -> set[str]:
        terms = set(self.analyze(query))
        if not terms or not all(self._vocabulary.knows(t) for t in terms):
            return set()
        rows = self.db.execute(
            "SELECT r.doc_id FROM search_postings p JOIN search_rows r ON r.seq = p.seq"
            " WHERE p.term = ANY(?) AND p.tenant = ? GROUP BY r.doc_id"
            " HAVING count(DISTINCT p.term) = ?",
            (sorted(terms), tenant, len(terms)),
        )
        return {doc for (doc,) in rows}

    # --- search -------------------------------------------------------------------------------

    def _candidates(
        self,
        query: str | Query,
        access: Access,
        exclude: Collection[str],
        query_vector: Matrix | None,
        title_query_vector: Matrix | None,
    ) -> _Candidates | None:
        """The candidates of one search and their scores on every channel, in one statement
        (one round trip: the access mask is in the WHERE clause of each channel)."""
        weights = self._weights(query)
        depth = int(self.settings.pg_candidates)
        params: dict[str, Any] = {
            "terms": list(weights),
            "tenant": access.tenant,
            "vis": list(access.visibilities),
            "collections": list(access.collections or ()),
            "exclude": list(exclude),
        }
        allowed = "{a}.tenant = %(tenant)s AND {a}.visibility = ANY(%(vis)s)"
        if access.collections is not None:
            allowed += " AND {a}.collection = ANY(%(collections)s)"
        channels = [
            "SELECT x.seq FROM unnest(%(terms)s::text[]) AS q(term) CROSS JOIN LATERAL ("
            " SELECT p.seq FROM search_postings p WHERE p.term = q.term AND "
            + allowed.format(a="p")
            + f" ORDER BY p.weight DESC LIMIT {depth}) x"
        ]
        scores = ["NULL::real", "NULL::real"]
        joins = []
        for n, (model, column, vector) in enumerate(
            (
                (self.model, "vector_key", query_vector),
                (self.title_model, "title_key", title_query_vector),
            )
        ):
            if model is None or vector is None:
                continue
            dim = len(normalize(vector)[0])
            params[f"m{n}"], params[f"v{n}"] = model, _literal(vector)
            distance = f"(v.vector::vector({dim})) <=> %(v{n})s::vector({dim})"
            channels.append(
                f"SELECT r.seq FROM vectors v JOIN search_rows r ON r.{column} = v.key"
                f" WHERE v.model = %(m{n})s AND {allowed.format(a='r')}"
                f" ORDER BY {distance} LIMIT {depth}"
            )
            joins.append(
                f" LEFT JOIN vectors v{n} ON v{n}.model = %(m{n})s AND v{n}.key = r.{column}"
            )
            scores[n] = f"1 - ((v{n}.vector::vector({dim})) <=> %(v{n})s::vector({dim}))"
        union = " UNION ".join(f"({c})" for c in channels)
        sql = (
            f"WITH candidates AS ({union})"
            f" SELECT r.seq, r.passage_id, r.doc_id, pp.terms, pp.weights, {scores[0]}, {scores[1]}"
            " FROM candidates c JOIN search_rows r ON r.seq = c.seq"
            + "".join(joins)
            + " LEFT JOIN LATERAL (SELECT array_agg(p.term) AS terms, array_agg(p.weight)"
            " AS weights FROM search_postings p WHERE p.seq = r.seq AND p.term = ANY(%(terms)s))"
            " pp ON TRUE WHERE NOT r.doc_id = ANY(%(exclude)s) ORDER BY r.seq"
        )
        # One round trip: the settings of this search and the statement, pipelined.
        with self.db.connection("Recherche") as conn, conn.pipeline(), conn.transaction():
            conn.execute(f"SET LOCAL hnsw.ef_search = {int(self.settings.pg_ef_search)}")
            # a bulk load rebuilding the postings' indexes: an error, not a hanging request
            conn.execute("SET LOCAL lock_timeout = '10s'")
            conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            rows = conn.execute(sql, params).fetchall()
        if not rows:
            return None
        lexical = np.zeros(len(rows), dtype=np.float32)
        for i, row in enumerate(rows):
            for term, weight in zip(row[3] or (), row[4] or (), strict=True):
                lexical[i] += self.idf(term) * weights[term] * weight
        found: list[tuple[Any, Any, float]] = []
        dense = None
        for at, weight in ((5, self.fusion.dense_weight), (6, self.fusion.title_vector_weight)):
            if scores[at - 5] == "NULL::real":  # no model or no query vector: no channel
                continue
            values = [row[at] for row in rows]
            present = np.asarray([v is not None for v in values], dtype=bool)
            sims = np.asarray([v or 0.0 for v in values], dtype=np.float32)
            found.append((sims, present, weight))
            dense = sims if dense is None else dense
        return _Candidates(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [document_key(access.tenant, r[2]) for r in rows],
            lexical,
            found,
            dense,
        )

    def _lexical_weight(self, query: str | Query) -> float:
        weight = self.fusion.lexical_weight
        if has_identifier(query.text if isinstance(query, Query) else query):
            weight *= self.fusion.identifier_boost
        return weight

    def _hit(self, found: _Candidates, row: int, score: float) -> IndexHit:
        return IndexHit(
            passage_id=found.passage_ids[row],
            score=float(score),
            lexical_score=float(found.lexical[row]),
            dense_score=None if found.dense is None else float(found.dense[row]),
        )

    def search(
        self,
        query: str | Query,
        *,
        k: int,
        access: Access,
        query_vector: Matrix | None = None,
        title_query_vector: Matrix | None = None,
        exclude: Collection[str] = (),
    ) -> list[IndexHit]:
        found = self._candidates(query, access, exclude, query_vector, title_query_vector)
        if found is None:
            return []
        rows = np.ones(len(found.seqs), dtype=bool)
        fused = fuse(
            found.lexical, found.channels, rows, self.fusion,
            lexical_weight=self._lexical_weight(query),
        )  # fmt: skip
        return [self._hit(found, int(r), fused[r]) for r in top_k(fused, k, rows)]

    def search_documents(
        self,
        query: str | Query,
        *,
        k: int,
        access: Access,
        query_vector: Matrix | None = None,
        title_query_vector: Matrix | None = None,
        exclude: Collection[str] = (),
    ) -> list[IndexHit]:
        """Documents ranked by the fusion of each channel's best candidate passage in them."""
        found = self._candidates(query, access, exclude, query_vector, title_query_vector)
        if found is None:
            return []
        docs = sorted(set(found.docs))
        row_doc = np.asarray([docs.index(d) for d in found.docs]) if len(docs) < 64 else None
        if row_doc is None:
            position = {d: i for i, d in enumerate(docs)}
            row_doc = np.asarray([position[d] for d in found.docs])
        rows = np.ones(len(found.seqs), dtype=bool)
        lex_weight = self._lexical_weight(query)

        def per_doc(scores: Any, where: Any) -> Any:
            out = np.full(len(docs), -np.inf, dtype=np.float32)
            np.maximum.at(out, row_doc[where], scores[where])
            return out

        doc_lexical = np.maximum(per_doc(found.lexical, rows), 0.0).astype(np.float32)
        doc_rows = np.ones(len(docs), dtype=bool)
        doc_channels = []
        for scores, present, weight in found.channels:
            has = per_doc(present.astype(np.float32), present) > 0 if present.any() else None
            best = per_doc(scores, present) if present.any() else np.zeros(len(docs))
            has = has if has is not None else np.zeros(len(docs), dtype=bool)
            doc_channels.append((np.where(has, best, 0.0).astype(np.float32), has, weight))
        doc_scores = fuse(
            doc_lexical, doc_channels, doc_rows, self.fusion, lexical_weight=lex_weight
        )
        passage_scores = fuse(
            found.lexical, found.channels, rows, self.fusion, lexical_weight=lex_weight
        )
        hits = []
        for doc in top_k(doc_scores, k, doc_rows):
            members = np.flatnonzero(row_doc == doc)
            best_row = int(members[np.argmax(passage_scores[members])])
            hits.append(self._hit(found, best_row, doc_scores[doc]))
        return hits

    # --- keeping the tables in step with the store (search/pg_tables.py) -------------------

    def sync(self, keys: Keys, *, progress: Progress | None = None) -> int:
        """Index the passages the search tables do not hold yet; return how many."""
        return self.tables.sync(keys, progress=progress)

    def missing_vectors(self, model: str, key: str, limit: int = 512) -> dict[str, str]:
        return self.tables.missing_vectors(model, key, limit)

    def ensure_vector_index(self, model: str, dim: int) -> None:
        self.tables.ensure_vector_index(model, dim)


def _literal(vector: Matrix) -> str:
    """A pgvector text literal of a (normalised) query vector."""
    values = normalize(vector)[0]
    return "[" + ",".join(f"{float(x):.7g}" if math.isfinite(x) else "0" for x in values) + "]"
