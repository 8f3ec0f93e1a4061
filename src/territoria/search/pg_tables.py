"""The search tables of PostgreSQL (search/postgres.py searches them) and how they are kept
in step with the store.

Passages, as the embedded index's BM25F (search/lexical.py): `search_rows` (one per indexed
passage: access columns, title and body lengths, vector keys), `search_postings` (one per
(term, passage): raw frequencies in the title and the body, and the BM25F saturation
`tf' (k1 + 1) / (tf' + k1)` with `tf' = title_weight tf_title / norm_title + tf_body /
norm_body`, `norm = 1 - b + b length / average length` per field; impact-ordered by (term,
tenant, weight DESC)), `search_terms` (document frequencies, kept by triggers),
`search_words` (the spelling vocabulary), `search_stats` (counts, total lengths, the average
lengths the weights were computed with).

Whole documents, as the embedded index's document channel (title and body: every passage's
body; the headings field is not kept, see `SearchTables`): `search_documents` (one per
document with indexed passages, removed with the document), `search_doc_postings`,
`search_doc_terms`, and their statistics in `search_stats`. Named migrations
(`search_schema`).

`SearchTables.sync` indexes the passages not indexed yet, under an advisory lock (any replica
may run it):
- into empty tables, from `BULK_MIN` passages on, in bulk (`_bulk_load`): rows and raw term
  frequencies first (COPY), then every weight once with the final average lengths, the
  postings' indexes and foreign key made again at the end, then the documents;
- otherwise in pages of 2,000 (COPY), weighted with the average lengths recorded, and the
  documents those passages belong to rebuilt from all their passages; when an average has
  drifted by more than 5 %, every weight is recomputed (one UPDATE).

The tables carry a stamp of what their weights were computed with (`SearchTables.stamp`: the
index format, which changes with the analyzer, and the BM25F parameters): `sync` empties
and indexes them all again when it differs, as the embedded index is rebuilt.

`ensure_vector_index` builds the HNSW index of one model's vectors with the configured graph
parameters (`pg_hnsw_m`, `pg_hnsw_ef_construction`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from territoria.search.fields import lexical_text
from territoria.search.lexical import BM25Params
from territoria.search.parameters import INDEX_FORMAT
from territoria.search.pg_schema import (
    DOC_POSTINGS_INDEXES,
    POSTINGS_FK,
    POSTINGS_INDEXES,
    search_schema,
)
from territoria.search.spelling import count_words
from territoria.settings import Settings
from territoria.store.database import PostgresDatabase, lock_key
from territoria.types import Passage

Keys = Callable[[Passage], tuple[str, str]]
Progress = Callable[[int, int, str], None]
_SYNC_BATCH = 2000
_DRIFT = 0.05
BULK_MIN = 20_000  # passages from which empty search tables are loaded in bulk


@dataclass(frozen=True)
class Analyzed:
    """One passage to index: its store sequence number, the passage, its terms' raw
    frequencies in the body and in the title, and the lengths of both fields."""

    seq: int
    passage: Passage
    body: Counter[str]
    title: Counter[str]

    @property
    def length(self) -> int:
        return sum(self.body.values())

    @property
    def title_length(self) -> int:
        return sum(self.title.values())

    def postings(self) -> Iterator[tuple[str, int, int]]:
        """(term, body frequency, title frequency) of each of its terms."""
        for term in self.body.keys() | self.title.keys():
            yield term, self.body.get(term, 0), self.title.get(term, 0)


def bm25f_sql(params: BM25Params, avg: float, avg_title: float, p: str, r: str) -> str:
    """SQL of the BM25F saturation of the postings `p` (columns tf, title_tf) of the rows `r`
    (columns length, title_length), as `lexical.bm25f_matrix` computes it; an average length
    of 0 leaves the field unnormalised, a field weight of 0 leaves it out."""
    k1, b = float(params.k1), float(params.b)

    def norm(length: str, average: float) -> str:
        return "1.0" if average <= 0 else f"(1 - {b!r} + {b!r} * {length} / {float(average)!r})"

    parts = [f"{p}.tf / {norm(f'{r}.length', avg)}"]
    if params.title_weight > 0:
        weight = float(params.title_weight)
        parts.append(f"{weight!r} * {p}.title_tf / {norm(f'{r}.title_length', avg_title)}")
    tf = f"({' + '.join(parts)})"
    return f"({tf} * {k1 + 1.0!r} / ({tf} + {k1!r}))"


class SearchTables:
    """Writing side of the search tables of one PostgreSQL database: the passages with
    `params`, the whole documents with `document_params` (title and body fields only)."""

    def __init__(
        self,
        settings: Settings,
        db: PostgresDatabase,
        params: BM25Params,
        analyzer: Any,
        document_params: BM25Params | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.params = params
        self.document_params = document_params or params
        self.analyzer = analyzer
        with db.connection("Préparation de la recherche PostgreSQL") as conn:
            search_schema.postgres_steps.apply(conn)

    def stamp(self) -> str:
        """What the postings' weights depend on besides the corpus: the index format (the
        analyzer's terms) and the BM25F parameters of passages and documents."""
        return json.dumps(
            {
                "format": INDEX_FORMAT,
                "passages": [self.params.k1, self.params.b, self.params.title_weight],
                "documents": [
                    self.document_params.k1,
                    self.document_params.b,
                    self.document_params.title_weight,
                ],
            },
            sort_keys=True,
        )

    def _restamp(self) -> bool:
        """Empty the search tables when they were computed otherwise (another analyzer or
        other parameters, or before stamps were recorded) and record the current stamp;
        return whether they were emptied. The vectors and their HNSW graphs stay."""
        wanted = self.stamp()
        (found,) = self.db.execute("SELECT format FROM search_stats").fetchone()
        if found == wanted:
            return False
        with self.db.transaction(lock="search-sync") as tx:
            (found,) = tx.execute("SELECT format FROM search_stats").fetchone()
            if found == wanted:  # another process did it meanwhile
                return False
            for statement in (
                "TRUNCATE search_rows, search_postings, search_documents, search_doc_postings",
                "DELETE FROM search_terms",
                "DELETE FROM search_doc_terms",
                "DELETE FROM search_words",
                "UPDATE search_stats SET rows = 0, total_length = 0, avgdl_used = 0,"
                " total_title_length = 0, avg_title_used = 0, docs = 0, doc_total_length = 0,"
                " doc_total_title_length = 0, doc_avg_used = 0, doc_avg_title_used = 0",
            ):
                tx.execute(statement)
            tx.execute("UPDATE search_stats SET format = ?", (wanted,))
        return True

    def sync(self, keys: Keys, *, progress: Progress | None = None) -> int:
        """Index the passages the search tables do not hold yet (all of them when the
        tables' stamp differs: `_restamp`); return how many. `keys` gives a passage's
        (vector key, title key) (search/__init__.py). Empty tables facing `BULK_MIN`
        passages or more are loaded in bulk (`_bulk_load`)."""
        if self._restamp():
            done = self._sync(keys, progress)
            # the vocabulary changed under the same documents: every process reads it again
            self.db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            return done
        return self._sync(keys, progress)

    def _sync(self, keys: Keys, progress: Progress | None) -> int:
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

    def _bulk_load(self, keys: Keys, total: int, progress: Progress | None) -> int:
        """Fill empty search tables in one transaction, each weight computed once: the rows
        and the raw term frequencies first (COPY, the postings into a temporary table), then
        the average lengths are known and the postings are written with their final weights,
        without their indexes and foreign key, which are made again afterwards (an index
        built at once is several times faster than one kept up row by row); then the
        documents. Searches wait for the postings only during those last steps. Returns 0
        when another process filled the tables meanwhile."""
        done, last = 0, 0
        with self.db.transaction(lock="search-sync") as tx:
            if tx.execute("SELECT EXISTS (SELECT 1 FROM search_rows)").fetchone()[0]:
                return 0
            _staging(tx)
            words: Counter[str] = Counter()
            while rows := tx.execute(_PENDING, (last, _SYNC_BATCH * 5)).rows:
                found = self._analyzed(rows)
                self._copy_rows(tx, found, keys)
                _copy_staging(tx, found)
                words.update(_words(found))
                done, last = done + len(rows), rows[-1][0]
                if progress:
                    progress(done, total, "index PostgreSQL")
            avg, avg_title = self._averages(tx, "", record=True)
            tx.execute("ALTER TABLE search_postings DROP CONSTRAINT search_postings_seq_fkey")
            for name in POSTINGS_INDEXES:
                tx.execute(f"DROP INDEX {name}")
            tx.execute(
                "INSERT INTO search_postings (term, tenant, weight, tf, title_tf, seq,"
                " visibility, collection) SELECT s.term, s.tenant,"
                f" {bm25f_sql(self.params, avg, avg_title, 's', 'r')}, s.tf, s.title_tf,"
                " s.seq, s.visibility, s.collection FROM search_staging s"
                " JOIN search_rows r ON r.seq = s.seq ORDER BY s.term, s.tenant"
            )
            tx.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for statement in (*POSTINGS_INDEXES.values(), POSTINGS_FK):
                tx.execute(statement)
            self._add_words(tx, words)
            for name in DOC_POSTINGS_INDEXES:
                tx.execute(f"DROP INDEX {name}")
            self._write_documents(tx, touched=False)
            for statement in DOC_POSTINGS_INDEXES.values():
                tx.execute(statement)
        # the planner's statistics, and the visibility map that index-only scans need
        self.db.execute(
            "VACUUM (ANALYZE) search_rows, search_postings, search_terms, search_documents,"
            " search_doc_postings, search_doc_terms"
        )
        return done

    def _averages(self, tx: Any, prefix: str, *, record: bool) -> tuple[float, float]:
        """The average body and title lengths of the passages (`prefix` "") or documents
        ("doc_") the weights are computed with: those recorded, else (or with `record`) the
        current ones, then recorded."""
        count = "rows" if not prefix else "docs"
        n, total, total_title, used, used_title = tx.execute(
            f"SELECT {count}, {prefix}total_length, {prefix}total_title_length,"
            f" {'avgdl' if not prefix else 'doc_avg'}_used, {prefix}avg_title_used"
            " FROM search_stats"
        ).fetchone()
        if used and not record:
            return float(used), float(used_title)
        avg = total / n if n else 0.0
        avg_title = total_title / n if n else 0.0
        tx.execute(
            f"UPDATE search_stats SET {'avgdl' if not prefix else 'doc_avg'}_used = ?,"
            f" {prefix}avg_title_used = ?",
            (avg, avg_title),
        )
        return avg, avg_title

    def _write_documents(self, tx: Any, *, touched: bool) -> None:
        """(Re)build the documents of the passages in `search_staging` (`touched`), or of
        every indexed passage, from all their indexed passages: title frequencies and length
        of their title, body frequencies and length summed over their passages."""
        scope = ""
        if touched:
            tx.execute(
                "CREATE TEMPORARY TABLE search_touched ON COMMIT DROP AS"
                " SELECT DISTINCT r.tenant, r.doc_id FROM search_staging s"
                " JOIN search_rows r ON r.seq = s.seq"
            )
            tx.execute(
                "DELETE FROM search_documents d USING search_touched t"
                " WHERE d.tenant = t.tenant AND d.doc_id = t.doc_id"
            )
            scope = " JOIN search_touched t ON t.tenant = r.tenant AND t.doc_id = r.doc_id"
        tx.execute(
            "INSERT INTO search_documents (tenant, doc_id, first_seq, visibility, collection,"
            " title_length, length, title_key) SELECT r.tenant, r.doc_id, min(r.seq),"
            " min(r.visibility), min(r.collection), max(r.title_length), sum(r.length),"
            f" min(r.title_key) FROM search_rows r{scope}"
            " GROUP BY r.tenant, r.doc_id ORDER BY min(r.seq)"
        )
        avg, avg_title = self._averages(tx, "doc_", record=not touched)
        weight = bm25f_sql(self.document_params, avg, avg_title, "a", "d")
        tx.execute(
            "INSERT INTO search_doc_postings (term, tenant, weight, tf, title_tf, dseq,"
            f" visibility, collection) SELECT a.term, d.tenant, {weight}, a.tf, a.title_tf,"
            " d.dseq, d.visibility, d.collection FROM (SELECT r.tenant, r.doc_id, p.term,"
            " sum(p.tf) AS tf, max(p.title_tf) AS title_tf FROM search_postings p"
            f" JOIN search_rows r ON r.seq = p.seq{scope}"
            " GROUP BY r.tenant, r.doc_id, p.term) a"
            " JOIN search_documents d ON d.tenant = a.tenant AND d.doc_id = a.doc_id"
            " ORDER BY a.term, d.tenant"
        )

    def _analyzed(self, rows: Sequence[tuple[Any, ...]]) -> list[Analyzed]:
        """The passage rows read by `_PENDING`, analysed (the title field and the body,
        `lexical_text`, as `lexical.analyze_rows` counts them)."""
        found = []
        titles: dict[str, Counter[str]] = {}
        for seq, pid, doc, title, text, headings, visibility, collection, tenant in rows:
            passage = Passage(
                passage_id=pid, doc_id=doc, title=title, text=text, headings=tuple(headings),
                visibility=visibility, collection=collection, tenant=tenant,
            )  # fmt: skip
            title_terms = titles.get(title)
            if title_terms is None:
                title_terms = titles[title] = Counter(self.analyzer(title))
            body = Counter(self.analyzer(lexical_text(passage)))
            found.append(Analyzed(seq, passage, body, title_terms))
        return found

    def _copy_rows(self, tx: Any, found: Sequence[Analyzed], keys: Keys) -> None:
        copy_rows(
            tx,
            "search_rows (seq, tenant, doc_id, passage_id, visibility, collection, length,"
            " title_length, vector_key, title_key)",
            (
                (a.seq, a.passage.tenant, a.passage.doc_id, a.passage.passage_id,
                 a.passage.visibility, a.passage.collection, a.length, a.title_length,
                 *keys(a.passage))
                for a in found
            ),
        )  # fmt: skip

    def _add_words(self, tx: Any, words: Mapping[str, int]) -> None:
        tx.executemany(
            "INSERT INTO search_words (word, n) VALUES (?, ?)"
            " ON CONFLICT (word) DO UPDATE SET n = search_words.n + EXCLUDED.n",
            sorted(words.items()),
        )

    def _write_batch(self, tx: Any, rows: Sequence[tuple[Any, ...]], keys: Keys) -> None:
        """A page of passages: rows, postings weighted with the recorded averages, their
        documents rebuilt."""
        found = self._analyzed(rows)
        self._copy_rows(tx, found, keys)
        _staging(tx)
        _copy_staging(tx, found)
        avg, avg_title = self._averages(tx, "", record=False)
        weight = bm25f_sql(self.params, avg, avg_title, "s", "r")
        tx.execute(
            "INSERT INTO search_postings (term, tenant, weight, tf, title_tf, seq, visibility,"
            f" collection) SELECT s.term, s.tenant, {weight}, s.tf, s.title_tf, s.seq,"
            " s.visibility, s.collection FROM search_staging s JOIN search_rows r"
            " ON r.seq = s.seq"
        )
        self._write_documents(tx, touched=True)
        self._add_words(tx, _words(found))

    def _reweight_if_drifted(self) -> None:
        """Every weight again with the current averages, for passages and for documents,
        where an average length has drifted by more than 5 % from the one used."""
        with self.db.transaction(lock="search-sync") as tx:
            for prefix, table, rows, key, params in (
                ("", "search_postings", "search_rows", "seq", self.params),
                ("doc_", "search_doc_postings", "search_documents", "dseq",
                 self.document_params),
            ):  # fmt: skip
                used = self._averages(tx, prefix, record=False)
                now = self._averages(tx, prefix, record=True)
                if all(abs(n - u) <= _DRIFT * u for n, u in zip(now, used, strict=True)):
                    tx.execute(
                        f"UPDATE search_stats SET {'avgdl' if not prefix else 'doc_avg'}_used"
                        f" = ?, {prefix}avg_title_used = ?",
                        used,
                    )
                    continue
                weight = bm25f_sql(params, *now, "p", "r")
                tx.execute(
                    f"UPDATE {table} p SET weight = {weight} FROM {rows} r WHERE r.{key} = p.{key}"
                )

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

    def copy_titles(self, model: str) -> None:
        """The title vectors of `model` of the indexed documents not in `search_titles` yet:
        titles get an HNSW graph of their own, so that the nearest titles are not searched
        among the passages' vectors of the same model (their rows stay when a document
        goes: the search joins the documents)."""
        with self.db.transaction(lock=f"titles-{model}") as tx:
            tx.execute(
                "INSERT INTO search_titles (model, key, vector) SELECT DISTINCT ON (v.key)"
                " v.model, v.key, v.vector FROM search_documents d JOIN vectors v"
                " ON v.model = ? AND v.key = d.title_key WHERE NOT EXISTS (SELECT 1"
                " FROM search_titles t WHERE t.model = ? AND t.key = d.title_key)"
                " ON CONFLICT DO NOTHING",
                (model, model),
            )

    def ensure_vector_index(self, model: str, dim: int, table: str = "vectors") -> None:
        """The HNSW index of one model's vectors (cosine distance) in `table` (`vectors`,
        or `search_titles`), built with the configured `pg_hnsw_m` and
        `pg_hnsw_ef_construction`: created once; an index of the same model built with
        other parameters is dropped."""
        m, ef_construction = self.settings.pg_hnsw_m, self.settings.pg_hnsw_ef_construction
        prefix = f"{table}_hnsw_{lock_key(model) & 0xFFFFFFFF:08x}"
        name = f"{prefix}_m{m}_ef{ef_construction}"
        if table not in ("vectors", "search_titles"):
            raise ValueError(f"no vector table {table!r}")
        with self.db.transaction(lock=f"hnsw-{table}-{model}") as tx:
            present = tx.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = ?"
                " AND schemaname = current_schema() AND indexname LIKE ?",
                (table, prefix + "%"),
            )
            if any(found == name for (found,) in present):
                return
            for (found,) in present:
                tx.execute(f'DROP INDEX "{found}"')
            # The graph is built in memory when it fits (pgvector warns and goes on much
            # slower past maintenance_work_mem): room for the vectors and their neighbours.
            (count,) = tx.execute(
                f"SELECT count(*) FROM {table} WHERE model = ?", (model,)
            ).fetchone()
            need = int(count) * (4 * dim + 16 * int(m) + 96) * 1.3 / 2**20
            tx.execute(f"SET LOCAL maintenance_work_mem = '{int(min(4096, max(256, need)))}MB'")
            tx.execute(
                f"CREATE INDEX {name} ON {table} USING hnsw"
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


def _staging(tx: Any) -> None:
    """The raw frequencies of the passages being indexed, dropped at commit."""
    tx.execute(
        "CREATE TEMPORARY TABLE search_staging (term TEXT, tenant TEXT, tf REAL, title_tf REAL,"
        " seq BIGINT, visibility TEXT, collection TEXT) ON COMMIT DROP"
    )


def _copy_staging(tx: Any, found: Sequence[Analyzed]) -> None:
    copy_rows(
        tx,
        "search_staging (term, tenant, tf, title_tf, seq, visibility, collection)",
        (
            (term, a.passage.tenant, tf, title_tf, a.seq, a.passage.visibility,
             a.passage.collection)
            for a in found
            for term, tf, title_tf in a.postings()
        ),
    )  # fmt: skip


def _words(found: Sequence[Analyzed]) -> Counter[str]:
    """The spelling vocabulary of analysed passages (their documents' titles once), as
    `index.build_lexical` counts it."""
    titles = {(a.passage.tenant, a.passage.doc_id): a.passage.title for a in found}
    texts = [lexical_text(a.passage) for a in found]
    return Counter(count_words([*titles.values(), *texts]))


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
