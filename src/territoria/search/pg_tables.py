"""The search tables of PostgreSQL (search/postgres.py searches them) and how they are kept
in step with the store.

Tables: `search_rows` (one per indexed passage: access columns, length, vector keys),
`search_postings` (one per (term, passage): BM25 term weight and raw frequency, impact-ordered
by (term, tenant, weight DESC)), `search_terms` (document frequencies, kept by triggers),
`search_words` (the spelling vocabulary), `search_stats` (row count, total length, the average
length the weights were computed with). Named migrations (`search_schema`).

`SearchTables.sync` indexes the passages not indexed yet, under an advisory lock (any replica
may run it):
- into empty tables, from `BULK_MIN` passages on, in bulk (`_bulk_load`): rows and raw term
  frequencies first (COPY), then every weight once with the final average length, the
  postings' indexes and foreign key made again at the end;
- otherwise in pages of 2,000 (COPY), weighted with the average length recorded; when the
  average has drifted by more than 5 %, every weight is recomputed (one UPDATE).

`ensure_vector_index` builds the HNSW index of one model's vectors with the configured graph
parameters (`pg_hnsw_m`, `pg_hnsw_ef_construction`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from territoria.search.index import lexical_text
from territoria.search.lexical import BM25Params
from territoria.search.spelling import count_words
from territoria.settings import Settings
from territoria.store.database import PostgresDatabase, Schema, lock_key
from territoria.types import Passage

Keys = Callable[[Passage], tuple[str, str]]
Progress = Callable[[int, int, str], None]
_SYNC_BATCH = 2000
_DRIFT = 0.05
BULK_MIN = 20_000  # passages from which empty search tables are loaded in bulk
# The postings' indexes and foreign key, dropped and made again by a bulk load.
_POSTINGS_INDEXES = {
    "search_postings_impact": "CREATE INDEX search_postings_impact ON search_postings"
    " (term, tenant, weight DESC) INCLUDE (seq, visibility, collection)",
    "search_postings_seq": "CREATE INDEX search_postings_seq ON search_postings (seq, term)"
    " INCLUDE (weight)",
}
_POSTINGS_FK = (
    "ALTER TABLE search_postings ADD CONSTRAINT search_postings_seq_fkey FOREIGN KEY (seq)"
    " REFERENCES search_rows(seq) ON DELETE CASCADE"
)

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


@search_schema.postgres
def pg002_lookups(conn: Any) -> None:
    """`lexical_scores` looks passages up by (tenant, passage id); a search reads the
    postings of its candidates for the query's terms only (index-only, with the weight)."""
    conn.execute("CREATE INDEX search_rows_passage ON search_rows(tenant, passage_id)")
    conn.execute("DROP INDEX search_postings_seq")
    conn.execute(_POSTINGS_INDEXES["search_postings_seq"])


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


class SearchTables:
    """Writing side of the search tables of one PostgreSQL database."""

    def __init__(
        self, settings: Settings, db: PostgresDatabase, params: BM25Params, analyzer: Any
    ) -> None:
        self.settings = settings
        self.db = db
        self.params = params
        self.analyzer = analyzer
        with db.connection("Préparation de la recherche PostgreSQL") as conn:
            search_schema.postgres_steps.apply(conn)

    def sync(
        self,
        keys: Callable[[Passage], tuple[str, str]],
        *,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> int:
        """Index the passages the search tables do not hold yet; return how many. `keys`
        gives a passage's (vector key, title key) (search/__init__.py). Empty tables facing
        `BULK_MIN` passages or more are loaded in bulk (`_bulk_load`)."""
        (indexed,) = self.db.execute("SELECT EXISTS (SELECT 1 FROM search_rows)").fetchone()
        if not indexed:
            (pending,) = self.db.execute("SELECT count(*) FROM passages").fetchone()
            if pending >= BULK_MIN:
                done = self._bulk_load(keys, int(pending), progress)
                if done:
                    return done
        done, last = 0, 0
        while True:
            with self.db.transaction(lock="search-sync") as tx:
                rows = tx.execute(_PENDING, (last, _SYNC_BATCH)).rows
                if not rows:
                    break
                self._write_batch(tx, rows, keys)
            done += len(rows)
            last = rows[-1][0]
            if progress:
                progress(done, done, "index PostgreSQL")
        if done:
            self._reweight_if_drifted()
        return done

    def _bulk_load(
        self,
        keys: Callable[[Passage], tuple[str, str]],
        total: int,
        progress: Callable[[int, int, str], None] | None,
    ) -> int:
        """Fill empty search tables in one transaction, each weight computed once: the rows
        and the raw term frequencies first (COPY, the postings into a temporary table), then
        the average length is known and the postings are written with their final weights,
        without their indexes and foreign key, which are made again afterwards (an index
        built at once is several times faster than one kept up row by row). Searches wait
        for the postings only during that last step. Returns 0 when another process filled
        the tables meanwhile."""
        done, last = 0, 0
        with self.db.transaction(lock="search-sync") as tx:
            if tx.execute("SELECT EXISTS (SELECT 1 FROM search_rows)").fetchone()[0]:
                return 0
            tx.execute(
                "CREATE TEMPORARY TABLE search_staging (term TEXT, tenant TEXT, tf REAL,"
                " seq BIGINT, visibility TEXT, collection TEXT) ON COMMIT DROP"
            )
            words: Counter[str] = Counter()
            while rows := tx.execute(_PENDING, (last, _SYNC_BATCH * 5)).rows:
                found = self._analyzed(rows)
                self._copy_rows(tx, found, keys)
                copy_rows(
                    tx,
                    "search_staging (term, tenant, tf, seq, visibility, collection)",
                    (
                        (term, p.tenant, tf, seq, p.visibility, p.collection)
                        for seq, p, counts, _ in found
                        for term, tf in counts.items()
                    ),
                )
                words.update(_words(found))
                done, last = done + len(rows), rows[-1][0]
                if progress:
                    progress(done, total, "index PostgreSQL")
            (rows_n, total_length) = tx.execute(
                "SELECT rows, total_length FROM search_stats"
            ).fetchone()
            avgdl = total_length / rows_n if rows_n else 1.0
            tx.execute("UPDATE search_stats SET avgdl_used = ?", (avgdl,))
            tx.execute("ALTER TABLE search_postings DROP CONSTRAINT search_postings_seq_fkey")
            for name in _POSTINGS_INDEXES:
                tx.execute(f"DROP INDEX {name}")
            k1, b = self.params.k1, self.params.b
            tx.execute(
                "INSERT INTO search_postings (term, tenant, weight, tf, seq, visibility,"
                " collection) SELECT s.term, s.tenant,"
                " s.tf * ? / (s.tf + ? * (1 - ? + ? * r.length / ?)), s.tf, s.seq,"
                " s.visibility, s.collection FROM search_staging s"
                " JOIN search_rows r ON r.seq = s.seq ORDER BY s.term, s.tenant",
                (k1 + 1, k1, b, b, avgdl),
            )
            tx.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for statement in (*_POSTINGS_INDEXES.values(), _POSTINGS_FK):
                tx.execute(statement)
            self._add_words(tx, words)
        # the planner's statistics, and the visibility map that index-only scans need
        self.db.execute("VACUUM (ANALYZE) search_rows, search_postings, search_terms")
        return done

    def _analyzed(
        self, rows: Sequence[tuple[Any, ...]]
    ) -> list[tuple[int, Passage, dict[str, float], float]]:
        """(seq, passage, term frequencies, length) of passage rows read by `_PENDING`."""
        found = []
        for seq, pid, doc, title, text, headings, visibility, collection, tenant in rows:
            passage = Passage(
                passage_id=pid, doc_id=doc, title=title, text=text, headings=tuple(headings),
                visibility=visibility, collection=collection, tenant=tenant,
            )  # fmt: skip
            counts, length = passage_terms(passage, self.params, self.analyzer)
            found.append((seq, passage, counts, length))
        return found

    def _copy_rows(self, tx: Any, found: Sequence[Any], keys: Any) -> None:
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

    def _add_words(self, tx: Any, words: Mapping[str, int]) -> None:
        tx.executemany(
            "INSERT INTO search_words (word, n) VALUES (?, ?)"
            " ON CONFLICT (word) DO UPDATE SET n = search_words.n + EXCLUDED.n",
            sorted(words.items()),
        )

    def _write_batch(self, tx: Any, rows: Sequence[tuple[Any, ...]], keys: Any) -> None:
        found = self._analyzed(rows)
        (rows_before, total_before, used) = tx.execute(
            "SELECT rows, total_length, avgdl_used FROM search_stats"
        ).fetchone()
        total = total_before + sum(f[3] for f in found)
        avgdl = used or (total / max(1, rows_before + len(found))) or 1.0
        if not used:
            tx.execute("UPDATE search_stats SET avgdl_used = ?", (avgdl,))
        k1, b = self.params.k1, self.params.b
        self._copy_rows(tx, found, keys)
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
        self._add_words(tx, _words(found))

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
        """The HNSW index of one model's vectors (cosine distance), built with the
        configured `pg_hnsw_m` and `pg_hnsw_ef_construction`: created once; an index of the
        same model built with other parameters is dropped."""
        m, ef_construction = self.settings.pg_hnsw_m, self.settings.pg_hnsw_ef_construction
        prefix = f"vectors_hnsw_{lock_key(model) & 0xFFFFFFFF:08x}"
        name = f"{prefix}_m{m}_ef{ef_construction}"
        with self.db.transaction(lock=f"hnsw-{model}") as tx:
            present = tx.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'vectors'"
                " AND schemaname = current_schema() AND indexname LIKE ?",
                (prefix + "%",),
            )
            if any(found == name for (found,) in present):
                return
            for (found,) in present:
                tx.execute(f'DROP INDEX "{found}"')
            # The graph is built in memory when it fits (pgvector warns and goes on much
            # slower past maintenance_work_mem): room for the vectors and their neighbours.
            (count,) = tx.execute(
                "SELECT count(*) FROM vectors WHERE model = ?", (model,)
            ).fetchone()
            need = int(count) * (4 * dim + 16 * int(m) + 96) * 1.3 / 2**20
            tx.execute(f"SET LOCAL maintenance_work_mem = '{int(min(4096, max(256, need)))}MB'")
            tx.execute(
                f"CREATE INDEX {name} ON vectors USING hnsw"
                f" ((vector::vector({dim})) vector_cosine_ops)"
                f" WITH (m = {int(m)}, ef_construction = {int(ef_construction)})"
                f" WHERE model = '{_quote(model)}'"
            )


# Passages not indexed yet, after a given seq (keyset pages: each page starts where the
# previous one ended instead of skipping every indexed passage again).
_PENDING = (
    "SELECT p.seq, p.passage_id, p.doc_id, d.title, p.text, p.headings, d.visibility,"
    " d.collection, d.tenant FROM passages p"
    " JOIN documents d ON d.tenant = p.tenant AND d.doc_id = p.doc_id"
    " WHERE p.seq > ? AND NOT EXISTS (SELECT 1 FROM search_rows r WHERE r.seq = p.seq)"
    " ORDER BY p.seq LIMIT ?"
)


def _words(found: Sequence[tuple[int, Passage, Any, float]]) -> Counter[str]:
    """The spelling vocabulary of analysed passages (their documents' titles once)."""
    titles = {(p.tenant, p.doc_id): p.title for _, p, _, _ in found}
    return Counter(count_words([*titles.values(), *(p.text for _, p, _, _ in found)]))


def copy_rows(tx: Any, target: str, rows: Iterable[Sequence[Any]]) -> None:
    """COPY rows into `target` ("table (columns)") inside the transaction `tx` (a PostgreSQL
    `Connection` of store/database.py): an order of magnitude faster than INSERTs, and the
    tables' triggers run as for INSERT."""
    with tx.raw.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _quote(text: str) -> str:
    if not all(c.isalnum() or c in "-_.:/" for c in text):
        raise ValueError(f"model name not usable in an index predicate: {text!r}")
    return text
