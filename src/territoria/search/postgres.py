"""Search inside PostgreSQL (`search_backend=postgres`): no process holds the corpus in memory.

The same evidence as the embedded index (search/ranking.py), computed by SQL, then ranked by
the embedded index's own functions (`ranking.rank_documents`, `rank_passages`, `fusion`):

- lexical, as the embedded BM25F (same analyzer, fields, weights and idf): impact-ordered
  postings of passages and of whole documents (search/pg_tables.py), the idf applied at query
  time from the document frequencies; a channel's best candidates are found among, for each
  query term, its `pg_candidates` heaviest postings the caller may see (a B-tree on (term,
  tenant, weight DESC)), the union scored exactly;
- dense: the cached vectors (table `vectors`) carry an HNSW index per model (cosine,
  pgvector), searched with `hnsw.ef_search` = `pg_ef_search` (bench/bench_pg_search.py
  --builds: recall@10 >= 0.98 against exact search) and iterative scans: the documents of the
  nearest titles; without a title model, of the nearest passages;
- candidates: each channel's `pg_candidate_documents` best documents (the whole-document
  BM25F, the best passage's BM25F, the title vector: the documents of the `pg_candidates`
  nearest titles, asked of the title graph alone). The lexical candidates' exact sums join
  the query's terms' posting lists when they are short; when they are long (large corpora:
  the slowest searches at 1M passages), each candidate's own postings of those terms are
  read by index probe on (seq, term) or (dseq, term), a cost that grows with the candidates
  and not with the lists (`PROBE_ROWS`). Then every passage of those documents the
  caller may see, with its BM25F score (read for the query's terms only) and its vector's
  exact cosine. Scoring those passages is most of a search's database CPU: 30 documents per
  channel (the embedded index takes 100) give the same nDCG@10 on cdtn-dev for a third of
  the CPU (bench/bench_pg_search.py --variants, bench/bench_pg_scale.py --variants at 1M);
- access: tenant, visibility and collection are in the WHERE clause of every channel.

On a corpus whose matching postings fit in `pg_candidates` per term, the candidates are the
embedded index's and the ranking is the same (tests/search/test_postgres_search.py).

`PostgresIndex.sync` brings the search tables in step with the store (new passages, missing
vectors' keys); any process may run it (an advisory lock serialises them), and every replica
searches what is committed at once.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from territoria.embed import Matrix, normalize
from territoria.errors import ConfigError
from territoria.search.analysis import make_analyzer
from territoria.search.fusion import Channel, FusionParams, has_identifier
from territoria.search.index import IndexHit
from territoria.search.lexical import MAX_QUERY_TERMS, BM25Params
from territoria.search.parameters import fusion_params
from territoria.search.pg_tables import Keys, Progress, SearchTables
from territoria.search.query import Query
from territoria.search.ranking import Evidence, rank_documents, rank_passages
from territoria.settings import Settings
from territoria.store.database import PostgresDatabase
from territoria.types import Access

Vector = Any  # numpy float32 arrays
# A candidate's postings read by index probe cost about as much as this many rows of a query
# term's posting list read whole and joined (statement parts run alone, 200 questions:
# whole-document channel at 1M passages, 24,000 rows joined in 11.6 ms of PostgreSQL CPU
# against 385 probes in 7.0 ms; on cdtn-dev, 49k passages, joining is cheaper).
PROBE_ROWS = 32


@dataclass
class _Vocabulary:
    """What the query rewriter needs (search/rewrite.py `Vocabulary`), and the documents'
    frequencies of the terms."""

    analyzer: Any
    words: dict[str, int]
    terms: dict[str, int]
    doc_terms: dict[str, int] = field(default_factory=dict)

    def knows(self, term: str) -> bool:
        return self.terms.get(term, 0) > 0


@dataclass(frozen=True)
class _Found:
    """The rows of one search's evidence, for `ranking` (its `Ranked` protocol)."""

    fusion: FusionParams
    passage_ids: list[str]


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
        if settings.document_heading_weight:
            raise ConfigError(
                "La recherche dans PostgreSQL ne tient pas compte des intertitres comme champ "
                "à part : laissez document_heading_weight à 0 ou choisissez "
                "search_backend=embedded."
            )
        self.params = BM25Params(settings.bm25_k1, settings.bm25_b, settings.title_weight)
        self.document_params = BM25Params(
            settings.document_k1, settings.bm25_b, settings.document_title_weight
        )
        self.fusion: FusionParams = fusion_params(settings)
        self.analyzer = make_analyzer()
        self.tables = SearchTables(
            settings, db, self.params, self.analyzer, document_params=self.document_params
        )
        self._lock = threading.Lock()
        self._loaded_for: int | None = None
        self._vocabulary = _Vocabulary(self.analyzer, {}, {})
        self._rows = 0
        self._docs = 0

    # --- the vocabulary, per store generation -----------------------------------------------

    def load(self, generation: int) -> None:
        """Read the corpus statistics (term document frequencies, spelling words, row count):
        the vocabulary, not the passages."""
        with self._lock:
            if self._loaded_for == generation:
                return
            with self.db.snapshot() as view:
                terms = {t: int(n) for t, n in view.execute("SELECT term, df FROM search_terms")}
                doc_terms = {
                    t: int(n) for t, n in view.execute("SELECT term, df FROM search_doc_terms")
                }
                words = {w: int(n) for w, n in view.execute("SELECT word, n FROM search_words")}
                (rows, docs) = view.execute("SELECT rows, docs FROM search_stats").fetchone()
            self._vocabulary = _Vocabulary(self.analyzer, words, terms, doc_terms)
            self._rows, self._docs = int(rows), int(docs)
            self._loaded_for = generation

    @property
    def lexical(self) -> _Vocabulary:
        return self._vocabulary

    def __len__(self) -> int:
        return self._rows

    def analyze(self, text: str) -> list[str]:
        return self.analyzer(text)

    def idf(self, term: str) -> float:
        """BM25 idf of an analysed term over the passages (a term absent: the highest)."""
        df = self._vocabulary.terms.get(term, 0)
        return float(np.log1p((self._rows - df + 0.5) / (df + 0.5)))

    def knows(self, term: str) -> bool:
        """Whether an analysed term occurs in the corpus."""
        return self._vocabulary.knows(term)

    def document_idf(self, term: str) -> float:
        """BM25 idf of an analysed term over the whole documents."""
        df = self._vocabulary.doc_terms.get(term, 0)
        return float(np.log1p((self._docs - df + 0.5) / (df + 0.5)))

    def lexical_ceiling(self, query: str | Mapping[str, float]) -> float:
        weights = dict.fromkeys(self.analyze(query), 1.0) if isinstance(query, str) else query
        return sum(self.idf(t) * w for t, w in weights.items()) * (self.params.k1 + 1.0)

    def _weights(
        self, query: str | Mapping[str, float] | Query, *, documents: bool = False
    ) -> dict[str, float]:
        """The query's known terms and their weights; beyond MAX_QUERY_TERMS, the rarest
        ones among the passages (or the documents), as the embedded index keeps them."""
        if isinstance(query, Query):
            query = query.weights()
        weights = dict.fromkeys(self.analyze(query), 1.0) if isinstance(query, str) else query
        df = self._vocabulary.doc_terms if documents else self._vocabulary.terms
        known = {t: w for t, w in weights.items() if w > 0 and df.get(t, 0) > 0}
        if len(known) > MAX_QUERY_TERMS:
            kept = sorted(known, key=lambda t: df[t])[:MAX_QUERY_TERMS]
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

    def gather(
        self,
        query: str | Query,
        *,
        access: Access,
        query_vector: Matrix | None = None,
        title_query_vector: Matrix | None = None,
        exclude: Collection[str] = (),
    ) -> tuple[_Found, Evidence] | None:
        """What the query finds (ranking.py's `Evidence`), in one statement (one round
        trip: the access mask is in the WHERE clause of each channel)."""
        terms = self._weights(query)
        doc_terms = self._weights(query, documents=True)
        sql, params = self._statement(
            access, exclude, query_vector, title_query_vector, probe=self._probe(doc_terms)
        )
        params.update(
            pterms=list(terms),
            pw=[self.idf(t) * w for t, w in terms.items()],
            dterms=list(doc_terms),
            dw=[self.document_idf(t) * w for t, w in doc_terms.items()],
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
        return self._evidence(rows, query, dense="m0" in params, titles="m1" in params)

    def _probe(self, doc_terms: Collection[str]) -> bool:
        """Whether the lexical candidates' exact sums probe each candidate's postings (large
        corpora: the query's terms have long posting lists) rather than join the terms'
        whole lists (small corpora: cheaper than a probe per candidate). Same results either
        way; `PROBE_ROWS` is the measured cost of one probe in rows of a joined list."""
        depth, df = int(self.settings.pg_candidates), self._vocabulary.doc_terms
        rows = sum(df.get(t, 0) for t in doc_terms)
        return rows > PROBE_ROWS * sum(min(depth, df.get(t, 0)) for t in doc_terms)

    def _statement(
        self,
        access: Access,
        exclude: Collection[str],
        query_vector: Matrix | None,
        title_query_vector: Matrix | None,
        *,
        probe: bool = True,
    ) -> tuple[str, dict[str, Any]]:
        depth, n = int(self.settings.pg_candidates), int(self.settings.pg_candidate_documents)
        params: dict[str, Any] = {
            "tenant": access.tenant,
            "vis": list(access.visibilities),
            "collections": list(access.collections or ()),
            "exclude": list(exclude),
        }
        allowed = "{a}.tenant = %(tenant)s AND {a}.visibility = ANY(%(vis)s)"
        if access.collections is not None:
            allowed += " AND {a}.collection = ANY(%(collections)s)"
        distance: dict[str, str] = {}
        for name, model, vector in (
            ("m0", self.model, query_vector),
            ("m1", self.title_model, title_query_vector),
        ):
            if model is not None and vector is not None:
                dim = len(normalize(vector)[0])
                params[name], params[f"v{name}"] = model, _literal(vector)
                cast = f"::vector({dim})"
                distance[name] = f"(({{a}}.vector{cast}) <=> %(v{name})s{cast})"
        if probe:  # each candidate's own postings of the query's terms, by index probe
            psum = (
                "SELECT prow.seq, x.s FROM prow CROSS JOIN LATERAL (SELECT sum(q.w * p.weight)"
                " AS s FROM search_postings p JOIN q ON q.term = p.term WHERE p.seq = prow.seq"
                " AND p.term = ANY(%(pterms)s)) x"
            )
            dsum = (
                "SELECT drow.dseq, x.s FROM drow CROSS JOIN LATERAL (SELECT sum(qd.w * d.weight)"
                " AS s FROM search_doc_postings d JOIN qd ON qd.term = d.term"
                " WHERE d.dseq = drow.dseq AND d.term = ANY(%(dterms)s)) x"
            )
        else:  # the query's terms' postings joined to the candidates
            psum = (
                "SELECT p.seq, sum(q.w * p.weight) AS s FROM prow JOIN search_postings p"
                " ON p.seq = prow.seq JOIN q ON q.term = p.term GROUP BY p.seq"
            )
            dsum = (
                "SELECT d.dseq, sum(qd.w * d.weight) AS s FROM drow JOIN search_doc_postings d"
                " ON d.dseq = drow.dseq JOIN qd ON qd.term = d.term GROUP BY d.dseq"
            )
        ctes = [
            "q AS (SELECT * FROM unnest(%(pterms)s::text[], %(pw)s::float8[]) AS q(term, w))",
            "qd AS (SELECT * FROM unnest(%(dterms)s::text[], %(dw)s::float8[]) AS q(term, w))",
            # the best passage's BM25F: the documents of the best candidate passages
            "prow AS (SELECT x.seq FROM q CROSS JOIN LATERAL (SELECT p.seq"
            " FROM search_postings p WHERE p.term = q.term AND "
            + allowed.format(a="p")
            + f" ORDER BY p.weight DESC LIMIT {depth}) x GROUP BY x.seq)",
            "pdoc AS (SELECT r.tenant, r.doc_id FROM (" + psum + ") x"
            " JOIN search_rows r ON r.seq = x.seq"
            + (" WHERE NOT r.doc_id = ANY(%(exclude)s)" if exclude else "")
            + f" GROUP BY r.tenant, r.doc_id ORDER BY max(x.s) DESC LIMIT {n})",
            # the whole-document BM25F
            "drow AS (SELECT x.dseq FROM qd CROSS JOIN LATERAL (SELECT d.dseq"
            " FROM search_doc_postings d WHERE d.term = qd.term AND "
            + allowed.format(a="d")
            + f" ORDER BY d.weight DESC LIMIT {depth}) x GROUP BY x.dseq)",
            "ddoc AS (SELECT x.dseq FROM ("
            + dsum
            + ") x"
            + (
                " JOIN search_documents sd ON sd.dseq = x.dseq"
                " WHERE NOT sd.doc_id = ANY(%(exclude)s)"
                if exclude
                else ""
            )
            + f" ORDER BY x.s DESC LIMIT {n})",
        ]
        union = [
            "SELECT dseq FROM ddoc",
            "SELECT sd.dseq FROM pdoc JOIN search_documents sd"
            " ON sd.tenant = pdoc.tenant AND sd.doc_id = pdoc.doc_id",
        ]
        if "m1" in distance:  # the documents of the nearest titles
            # The nearest titles first, alone (so that the title graph answers, not an
            # exact scan of every title joined to its documents), then their documents.
            ctes.append(
                f"tnear AS MATERIALIZED (SELECT v.key, {distance['m1'].format(a='v')} AS d"
                f" FROM search_titles v WHERE v.model = %(m1)s ORDER BY d LIMIT {depth})"
            )
            ctes.append(
                "tdoc AS (SELECT sd.dseq FROM tnear JOIN search_documents sd"
                " ON sd.title_key = tnear.key WHERE "
                + allowed.format(a="sd")
                + f" AND NOT sd.doc_id = ANY(%(exclude)s) ORDER BY tnear.d LIMIT {n})"
            )
            union.append("SELECT dseq FROM tdoc")
        elif "m0" in distance:  # no title channel: the documents of the nearest passages
            ctes.append(
                "vrow AS (SELECT r.tenant, r.doc_id, "
                + distance["m0"].format(a="v")
                + " AS d FROM vectors v JOIN search_rows r ON r.vector_key = v.key"
                " WHERE v.model = %(m0)s AND "
                + allowed.format(a="r")
                + " AND NOT r.doc_id = ANY(%(exclude)s)"
                f" ORDER BY {distance['m0'].format(a='v')} LIMIT {depth})"
            )
            ctes.append(
                "vdoc AS (SELECT sd.dseq FROM vrow JOIN search_documents sd"
                " ON sd.tenant = vrow.tenant AND sd.doc_id = vrow.doc_id"
                f" GROUP BY sd.dseq ORDER BY min(vrow.d) LIMIT {n})"
            )
            union.append("SELECT dseq FROM vdoc")
        ctes.append(f"cand AS ({' UNION '.join(union)})")
        title = f"1 - {distance['m1'].format(a='vt')}" if "m1" in distance else "NULL::float8"
        title_join = (
            " LEFT JOIN search_titles vt ON vt.model = %(m1)s AND vt.key = sd.title_key"
            if "m1" in distance
            else ""
        )
        ctes.append(
            "docs AS (SELECT sd.dseq, sd.first_seq, sd.tenant, sd.doc_id, ds.s AS score,"
            f" {title} AS title FROM cand c JOIN search_documents sd ON sd.dseq = c.dseq"
            " LEFT JOIN LATERAL (SELECT sum(qd.w * d.weight) AS s FROM search_doc_postings d"
            " JOIN qd ON qd.term = d.term WHERE d.dseq = sd.dseq AND d.term = ANY(%(dterms)s))"
            f" ds ON TRUE{title_join})"
        )
        dense = f"1 - {distance['m0'].format(a='v0')}" if "m0" in distance else "NULL::float8"
        dense_join = (
            " LEFT JOIN vectors v0 ON v0.model = %(m0)s AND v0.key = r.vector_key"
            if "m0" in distance
            else ""
        )
        sql = (
            f"WITH {', '.join(ctes)} SELECT docs.first_seq, docs.score, docs.title,"
            f" r.passage_id, ps.s, {dense} FROM docs JOIN search_rows r"
            " ON r.tenant = docs.tenant AND r.doc_id = docs.doc_id AND "
            + allowed.format(a="r")
            + " LEFT JOIN LATERAL (SELECT sum(q.w * p.weight) AS s FROM search_postings p"
            " JOIN q ON q.term = p.term WHERE p.seq = r.seq AND p.term = ANY(%(pterms)s))"
            f" ps ON TRUE{dense_join}"
            " ORDER BY r.seq"
        )
        return sql, params

    def _evidence(
        self, rows: Sequence[tuple[Any, ...]], query: str | Query, *, dense: bool, titles: bool
    ) -> tuple[_Found, Evidence]:
        """ranking.py's `Evidence` of the statement's rows (one per candidate passage, in the
        store's order; each with its document's scores), documents in the store's order as
        the embedded index numbers them."""
        first = sorted({row[0] for row in rows})
        position = {seq: i for i, seq in enumerate(first)}
        row_doc = np.asarray([position[row[0]] for row in rows], dtype=np.int64)
        n_docs = len(first)
        doc_score = np.zeros(n_docs, dtype=np.float32)
        title = np.zeros(n_docs, dtype=np.float32)
        title_present = np.zeros(n_docs, dtype=bool)
        for row, d in zip(rows, row_doc.tolist(), strict=True):
            doc_score[d] = row[1] or 0.0
            if row[2] is not None:
                title[d], title_present[d] = row[2], True
        row_lexical = np.asarray([row[4] or 0.0 for row in rows], dtype=np.float32)
        best = np.zeros(n_docs, dtype=np.float32)  # BM25F scores are >= 0
        np.maximum.at(best, row_doc, row_lexical)
        channels = {
            "document": Channel(doc_score, self.fusion.document_weight, lexical=True),
            "passage": Channel(best, self.fusion.lexical_weight, lexical=True),
        }
        row_dense = row_present = None
        if dense:
            row_present = np.asarray([row[5] is not None for row in rows], dtype=bool)
            row_dense = np.asarray([row[5] or 0.0 for row in rows], dtype=np.float32)
            top = np.full(n_docs, -np.inf, dtype=np.float32)
            np.maximum.at(top, row_doc[row_present], row_dense[row_present])
            present = np.isfinite(top)
            channels["dense"] = Channel(
                np.where(present, top, 0.0).astype(np.float32), self.fusion.dense_weight, present
            )
        if titles:
            channels["title"] = Channel(title, self.fusion.title_vector_weight, title_present)
        text = query.text if isinstance(query, Query) else query
        evidence = Evidence(
            docs=np.arange(n_docs, dtype=np.int64),
            channels=channels,
            rows=np.arange(len(rows), dtype=np.int64),
            row_doc=row_doc,
            row_lexical=row_lexical,
            row_dense=row_dense,
            row_present=row_present,
            boost=self.fusion.identifier_boost if has_identifier(text) else 1.0,
        )
        return _Found(self.fusion, [row[3] for row in rows]), evidence

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
        """The k best passages this user may see, best first."""
        found = self.gather(
            query, access=access, query_vector=query_vector,
            title_query_vector=title_query_vector, exclude=exclude,
        )  # fmt: skip
        return [] if found is None else rank_passages(found[0], found[1], k)

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
        """The k best documents, each as its best passage, best first."""
        found = self.gather(
            query, access=access, query_vector=query_vector,
            title_query_vector=title_query_vector, exclude=exclude,
        )  # fmt: skip
        return [] if found is None else rank_documents(found[0], found[1], k)

    # --- keeping the tables in step with the store (search/pg_tables.py) -------------------

    def sync(self, keys: Keys, *, progress: Progress | None = None) -> int:
        """Index the passages the search tables do not hold yet; return how many."""
        return self.tables.sync(keys, progress=progress)

    def missing_vectors(self, model: str, key: str, limit: int = 512) -> dict[str, str]:
        return self.tables.missing_vectors(model, key, limit)

    def ensure_vector_index(self, model: str, dim: int) -> None:
        """The HNSW index of `model`'s vectors; for the title model, its titles' own."""
        self.tables.ensure_vector_index(model, dim)
        if model == self.title_model:
            self.tables.copy_titles(model)
            self.tables.ensure_vector_index(model, dim, "search_titles")


def _literal(vector: Matrix) -> str:
    """A pgvector text literal of a (normalised) query vector."""
    values = normalize(vector)[0]
    return "[" + ",".join(f"{float(x):.7g}" if math.isfinite(x) else "0" for x in values) + "]"
