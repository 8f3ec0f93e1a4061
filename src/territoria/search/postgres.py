"""Search inside PostgreSQL (`search_backend=postgres`): no process holds the corpus in memory.

Lexical: French BM25 (same analyzer, title weighting and idf as the embedded index, but one
length normalisation per passage where the embedded index is BM25F, each field normalised by
its own length: scores differ by a few percent; the embedded index's whole-document channel
is not computed here yet), kept as impact-ordered postings: one row per (term, passage) with
its BM25 term weight `tf (k1 + 1) / (tf + k1 (1 - b + b len / avgdl))`; the idf is applied at
query time from the document frequencies (`search_terms`, kept by triggers). A query reads,
for each of its terms, the `candidates` heaviest postings the caller may see (a B-tree on
(term, tenant, weight DESC)), then scores the union of candidates exactly. Passage lengths
are normalised with the average length when they were written; when the average has drifted
by more than 5 %, every weight is recomputed (one UPDATE).

Dense: the cached vectors (table `vectors`, one row per model and text hash) carry an HNSW
index per model (cosine, pgvector), searched with `hnsw.ef_search` = `pg_ef_search` (chosen by
`bench/bench_pg_search.py` for recall@10 >= 0.98 against exact search) and iterative scans,
joined to the passages the caller may see.

Access: tenant, visibility and collection are in the WHERE clause of every query; candidates
are only ever rows the caller may see. Fusion: the candidates' lexical, passage-vector and
title-vector scores go through the embedded default's `fuse` (search/fusion.py); documents
are ranked by each channel's best passage, as `SearchIndex.search_documents` does.

`PostgresIndex.sync` brings the search tables in step with the store (new passages, missing
vectors' keys); any process may run it (an advisory lock serialises them), and every replica
searches what is committed at once.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from territoria.embed import Matrix, normalize
from territoria.search.analysis import make_analyzer
from territoria.search.fusion import Channel, FusionParams, fuse, has_identifier
from territoria.search.index import IndexHit, document_key, fusion_params, lexical_text
from territoria.search.lexical import MAX_QUERY_TERMS, BM25Params
from territoria.search.query import Query
from territoria.search.spelling import count_words
from territoria.settings import Settings
from territoria.store.database import PostgresDatabase, Schema, lock_key
from territoria.types import Access, Passage

Vector = Any  # numpy float32 arrays
_SYNC_BATCH = 2000
_DRIFT = 0.05

search_schema = Schema("territoria.search")


@search_schema.postgres
def pg001_search(conn: Any) -> None:
    for statement in (
        """CREATE TABLE search_rows (
            seq BIGINT PRIMARY KEY REFERENCES passages(seq) ON DELETE CASCADE,
            tenant TEXT NOT NULL, doc_id TEXT NOT NULL, passage_id TEXT NOT NULL,
            visibility TEXT NOT NULL, collection TEXT NOT NULL,
            length REAL NOT NULL, vector_key TEXT NOT NULL, title_key TEXT NOT NULL)""",
        "CREATE INDEX search_rows_vector ON search_rows(vector_key)",
        "CREATE INDEX search_rows_title ON search_rows(title_key)",
        "CREATE INDEX search_rows_doc ON search_rows(tenant, doc_id)",
        """CREATE TABLE search_postings (
            term TEXT NOT NULL, tenant TEXT NOT NULL, weight REAL NOT NULL, tf REAL NOT NULL,
            seq BIGINT NOT NULL REFERENCES search_rows(seq) ON DELETE CASCADE,
            visibility TEXT NOT NULL, collection TEXT NOT NULL)""",
        "CREATE INDEX search_postings_impact ON search_postings"
        " (term, tenant, weight DESC) INCLUDE (seq, visibility, collection)",
        "CREATE INDEX search_postings_seq ON search_postings(seq)",
        "CREATE TABLE search_terms (term TEXT PRIMARY KEY, df BIGINT NOT NULL)",
        "CREATE TABLE search_words (word TEXT PRIMARY KEY, n BIGINT NOT NULL)",
        """CREATE TABLE search_stats (id INTEGER PRIMARY KEY CHECK (id = 1),
            rows BIGINT NOT NULL, total_length DOUBLE PRECISION NOT NULL,
            avgdl_used DOUBLE PRECISION NOT NULL)""",
        "INSERT INTO search_stats VALUES (1, 0, 0, 0)",
        """CREATE FUNCTION search_postings_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_terms (term, df)
                SELECT term, count(*) FROM added GROUP BY term ORDER BY term
            ON CONFLICT (term) DO UPDATE SET df = search_terms.df + EXCLUDED.df;
            RETURN NULL;
        END $$""",
        """CREATE FUNCTION search_postings_removed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE search_terms t SET df = t.df - r.n
                FROM (SELECT term, count(*) AS n FROM removed GROUP BY term) r
                WHERE t.term = r.term;
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER search_postings_added AFTER INSERT ON search_postings"
        " REFERENCING NEW TABLE AS added FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_postings_added()",
        "CREATE TRIGGER search_postings_removed AFTER DELETE ON search_postings"
        " REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_postings_removed()",
        """CREATE FUNCTION search_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                UPDATE search_stats SET rows = rows + (SELECT count(*) FROM changed),
                    total_length = total_length
                        + (SELECT COALESCE(sum(length), 0) FROM changed);
            ELSE
                UPDATE search_stats SET rows = rows - (SELECT count(*) FROM changed),
                    total_length = total_length
                        - (SELECT COALESCE(sum(length), 0) FROM changed);
            END IF;
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER search_rows_added AFTER INSERT ON search_rows"
        " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_rows_changed()",
        "CREATE TRIGGER search_rows_removed AFTER DELETE ON search_rows"
        " REFERENCING OLD TABLE AS changed FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_rows_changed()",
    ):
        conn.execute(statement)


def passage_terms(
    passage: Passage, params: BM25Params, analyze: Any
) -> tuple[dict[str, float], float]:
    """Term frequencies of a passage (the title counted `title_weight` times) and its length,
    as `LexicalIndex.build` counts them."""
    title = Counter(analyze(passage.title))
    counts: dict[str, float] = {t: params.title_weight * n for t, n in title.items()}
    body = analyze(lexical_text(passage))
    for term in body:
        counts[term] = counts.get(term, 0.0) + 1.0
    return counts, len(body) + params.title_weight * sum(title.values())


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
        with db.connection("Préparation de la recherche PostgreSQL") as conn:
            search_schema.postgres_steps.apply(conn)
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
        self, query: str | Mapping[str, float], passage_ids: Sequence[str]
    ) -> list[float]:
        """BM25 score of `query` for the given passages (0 for an unknown id). The passages
        are those of one answer's hits: ids are looked up across tenants (they come from the
        caller's own search)."""
        weights = self._weights(query)
        if not weights or not passage_ids:
            return [0.0] * len(passage_ids)
        rows = self.db.execute(
            "SELECT r.passage_id, p.term, p.weight FROM search_rows r"
            " JOIN search_postings p ON p.seq = r.seq"
            " WHERE r.passage_id = ANY(?) AND p.term = ANY(?)",
            (list(passage_ids), list(weights)),
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

    def _boost(self, query: str | Query) -> float:
        """The identifier boost of the lexical weight (fusion.py)."""
        if has_identifier(query.text if isinstance(query, Query) else query):
            return self.fusion.identifier_boost
        return 1.0

    def _channels(self, lexical: Any, channels: Sequence[tuple[Any, Any, float]]) -> list[Channel]:
        """The fusion's channels: the passages' BM25 and each vector channel. The
        whole-document channel of the embedded index is not computed here yet."""
        return [
            Channel(lexical, self.fusion.lexical_weight, lexical=True),
            *(Channel(scores, weight, present=present) for scores, present, weight in channels),
        ]

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
        channels = self._channels(found.lexical, found.channels)
        fused = fuse(channels, rows, self.fusion, boost=self._boost(query))
        order = np.argsort(-fused, kind="stable")[:k]
        return [self._hit(found, int(r), fused[r]) for r in order]

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
        boost = self._boost(query)

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
            self._channels(doc_lexical, doc_channels), doc_rows, self.fusion, boost=boost
        )
        passage_scores = fuse(
            self._channels(found.lexical, found.channels), rows, self.fusion, boost=boost
        )
        hits = []
        for doc in np.argsort(-doc_scores, kind="stable")[:k]:
            members = np.flatnonzero(row_doc == doc)
            best_row = int(members[np.argmax(passage_scores[members])])
            hits.append(self._hit(found, best_row, doc_scores[doc]))
        return hits

    # --- keeping the tables in step with the store ---------------------------------------------

    def sync(
        self,
        keys: Callable[[Passage], tuple[str, str]],
        *,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> int:
        """Index the passages the search tables do not hold yet; return how many. `keys`
        gives a passage's (vector key, title key) (search/__init__.py)."""
        done = 0
        while True:
            with self.db.transaction(lock="search-sync") as tx:
                rows = tx.execute(
                    "SELECT p.seq, p.passage_id, p.doc_id, d.title, p.text, p.headings,"
                    " d.visibility, d.collection, d.tenant FROM passages p"
                    " JOIN documents d ON d.tenant = p.tenant AND d.doc_id = p.doc_id"
                    " WHERE NOT EXISTS (SELECT 1 FROM search_rows r WHERE r.seq = p.seq)"
                    f" ORDER BY p.seq LIMIT {_SYNC_BATCH}"
                ).rows
                if not rows:
                    break
                self._write_batch(tx, rows, keys)
            done += len(rows)
            if progress:
                progress(done, done, "index PostgreSQL")
        if done:
            self._reweight_if_drifted()
        return done

    def _write_batch(self, tx: Any, rows: Sequence[tuple[Any, ...]], keys: Any) -> None:
        analyze, params = self.analyzer, self.params
        found = []
        for seq, pid, doc, title, text, headings, visibility, collection, tenant in rows:
            passage = Passage(
                passage_id=pid, doc_id=doc, title=title, text=text, headings=tuple(headings),
                visibility=visibility, collection=collection, tenant=tenant,
            )  # fmt: skip
            counts, length = passage_terms(passage, params, analyze)
            found.append((seq, passage, counts, length))
        (rows_before, total_before, used) = tx.execute(
            "SELECT rows, total_length, avgdl_used FROM search_stats"
        ).fetchone()
        total = total_before + sum(f[3] for f in found)
        avgdl = used or (total / max(1, rows_before + len(found))) or 1.0
        if not used:
            tx.execute("UPDATE search_stats SET avgdl_used = ?", (avgdl,))
        k1, b = params.k1, params.b
        copy_rows(
            tx,
            "search_rows (seq, tenant, doc_id, passage_id, visibility, collection, length,"
            " vector_key, title_key)",
            (
                (seq, p.tenant, p.doc_id, p.passage_id, p.visibility, p.collection, length,
                 *keys(p))
                for seq, p, _, length in found
            ),
        )  # fmt: skip
        copy_rows(
            tx,
            "search_postings (term, tenant, weight, tf, seq, visibility, collection)",
            (
                (term, p.tenant, tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl)), tf,
                 seq, p.visibility, p.collection)
                for seq, p, counts, length in found
                for term, tf in counts.items()
            ),
        )  # fmt: skip
        titles = {(p.tenant, p.doc_id): p.title for _, p, _, _ in found}
        words = count_words([*titles.values(), *(p.text for _, p, _, _ in found)])
        tx.executemany(
            "INSERT INTO search_words (word, n) VALUES (?, ?)"
            " ON CONFLICT (word) DO UPDATE SET n = search_words.n + EXCLUDED.n",
            sorted(words.items()),
        )

    def _reweight_if_drifted(self) -> None:
        with self.db.transaction(lock="search-sync") as tx:
            rows, total, used = tx.execute(
                "SELECT rows, total_length, avgdl_used FROM search_stats"
            ).fetchone()
            avgdl = total / rows if rows else 0.0
            if not rows or not used or abs(avgdl - used) <= _DRIFT * used:
                return
            k1, b = self.params.k1, self.params.b
            tx.execute(
                "UPDATE search_postings p SET weight = p.tf * ? / (p.tf + ? * (1 - ? + ? *"
                " r.length / ?)) FROM search_rows r WHERE r.seq = p.seq",
                (k1 + 1, k1, b, b, avgdl),
            )
            tx.execute("UPDATE search_stats SET avgdl_used = ?", (avgdl,))

    def missing_vectors(self, model: str, key: str, limit: int = 512) -> dict[str, str]:
        """Texts (by key) of indexed passages whose vector of `model` is not cached yet:
        `key` "vector_key" for passage vectors (title, headings, text), "title" for titles."""
        from territoria.search import embedding_text

        column = "vector_key" if key == "vector_key" else "title_key"
        rows = self.db.execute(
            f"SELECT DISTINCT ON (r.{column}) r.{column}, d.title, p.text, p.headings"
            " FROM search_rows r JOIN passages p ON p.seq = r.seq"
            " JOIN documents d ON d.tenant = p.tenant AND d.doc_id = p.doc_id"
            f" WHERE NOT EXISTS (SELECT 1 FROM vectors v WHERE v.model = ? AND v.key = r.{column})"
            f" ORDER BY r.{column} LIMIT {int(limit)}",
            (model,),
        )
        if column == "title_key":
            return {k: title for k, title, _, _ in rows}
        return {
            k: embedding_text(
                Passage(passage_id="", doc_id="", title=title, text=text, headings=tuple(heads))
            )
            for k, title, text, heads in rows
        }

    def ensure_vector_index(self, model: str, dim: int) -> None:
        """The HNSW index of one model's vectors (created once; cosine distance)."""
        name = f"vectors_hnsw_{lock_key(model) & 0xFFFFFFFF:08x}"
        with self.db.transaction(lock=f"hnsw-{model}") as tx:
            # The graph is built in memory when it fits (pgvector warns and slows down past
            # maintenance_work_mem): 1 GB holds about 1M vectors of 384-512 dimensions.
            tx.execute("SET LOCAL maintenance_work_mem = '1GB'")
            tx.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON vectors USING hnsw"
                f" ((vector::vector({dim})) vector_cosine_ops)"
                f" WITH (m = 16, ef_construction = 64) WHERE model = '{_quote(model)}'"
            )


def copy_rows(tx: Any, target: str, rows: Iterable[Sequence[Any]]) -> None:
    """COPY rows into `target` ("table (columns)") inside the transaction `tx` (a PostgreSQL
    `Connection` of store/database.py): an order of magnitude faster than INSERTs, and the
    tables' triggers run as for INSERT."""
    with tx.raw.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _literal(vector: Matrix) -> str:
    """A pgvector text literal of a (normalised) query vector."""
    values = normalize(vector)[0]
    return "[" + ",".join(f"{float(x):.7g}" if math.isfinite(x) else "0" for x in values) + "]"


def _quote(text: str) -> str:
    if not all(c.isalnum() or c in "-_.:/" for c in text):
        raise ValueError(f"model name not usable in an index predicate: {text!r}")
    return text
