"""The named migrations of PostgreSQL's search tables (search/pg_tables.py describes the
tables and writes them)."""

from __future__ import annotations

from typing import Any

from territoria.store.database import Schema

# The postings' indexes and foreign key, dropped and made again by a bulk load.
POSTINGS_INDEXES = {
    "search_postings_impact": "CREATE INDEX search_postings_impact ON search_postings"
    " (term, tenant, weight DESC) INCLUDE (seq, visibility, collection)",
    "search_postings_seq": "CREATE INDEX search_postings_seq ON search_postings (seq, term)"
    " INCLUDE (weight)",
}
DOC_POSTINGS_INDEXES = {
    "search_doc_postings_impact": "CREATE INDEX search_doc_postings_impact"
    " ON search_doc_postings (term, tenant, weight DESC) INCLUDE (dseq, visibility, collection)",
    "search_doc_postings_doc": "CREATE INDEX search_doc_postings_doc ON search_doc_postings"
    " (dseq, term) INCLUDE (weight)",
}
POSTINGS_FK = (
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
    conn.execute(POSTINGS_INDEXES["search_postings_seq"])


@search_schema.postgres
def pg003_bm25f_documents(conn: Any) -> None:
    """BM25F (title and body frequencies and lengths kept apart) and the whole-document
    tables. The search tables hold derived data only: they are emptied here and the next
    `sync` indexes every passage again with the new weights."""
    for statement in (
        "TRUNCATE search_rows, search_postings",
        "DELETE FROM search_terms",
        "DELETE FROM search_words",
        "UPDATE search_stats SET rows = 0, total_length = 0, avgdl_used = 0",
        "ALTER TABLE search_rows ADD COLUMN title_length REAL NOT NULL DEFAULT 0",
        "ALTER TABLE search_postings ADD COLUMN title_tf REAL NOT NULL DEFAULT 0",
        """ALTER TABLE search_stats
            ADD COLUMN total_title_length DOUBLE PRECISION NOT NULL DEFAULT 0,
            ADD COLUMN avg_title_used DOUBLE PRECISION NOT NULL DEFAULT 0,
            ADD COLUMN docs BIGINT NOT NULL DEFAULT 0,
            ADD COLUMN doc_total_length DOUBLE PRECISION NOT NULL DEFAULT 0,
            ADD COLUMN doc_total_title_length DOUBLE PRECISION NOT NULL DEFAULT 0,
            ADD COLUMN doc_avg_used DOUBLE PRECISION NOT NULL DEFAULT 0,
            ADD COLUMN doc_avg_title_used DOUBLE PRECISION NOT NULL DEFAULT 0""",
        """CREATE OR REPLACE FUNCTION search_rows_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE sign INTEGER := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
        BEGIN
            UPDATE search_stats SET rows = rows + sign * (SELECT count(*) FROM changed),
                total_length = total_length
                    + sign * (SELECT COALESCE(sum(length), 0) FROM changed),
                total_title_length = total_title_length
                    + sign * (SELECT COALESCE(sum(title_length), 0) FROM changed);
            RETURN NULL;
        END $$""",
        """CREATE TABLE search_documents (
            dseq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant TEXT NOT NULL, doc_id TEXT NOT NULL, first_seq BIGINT NOT NULL,
            visibility TEXT NOT NULL, collection TEXT NOT NULL,
            title_length REAL NOT NULL, length REAL NOT NULL, title_key TEXT NOT NULL,
            UNIQUE (tenant, doc_id),
            FOREIGN KEY (tenant, doc_id) REFERENCES documents(tenant, doc_id)
                ON DELETE CASCADE)""",
        "CREATE INDEX search_documents_title ON search_documents(title_key)",
        """CREATE TABLE search_doc_postings (
            term TEXT NOT NULL, tenant TEXT NOT NULL, weight REAL NOT NULL, tf REAL NOT NULL,
            title_tf REAL NOT NULL,
            dseq BIGINT NOT NULL REFERENCES search_documents(dseq) ON DELETE CASCADE,
            visibility TEXT NOT NULL, collection TEXT NOT NULL)""",
        DOC_POSTINGS_INDEXES["search_doc_postings_impact"],
        DOC_POSTINGS_INDEXES["search_doc_postings_doc"],
        "CREATE TABLE search_doc_terms (term TEXT PRIMARY KEY, df BIGINT NOT NULL)",
        """CREATE TABLE search_titles (model TEXT NOT NULL, key TEXT NOT NULL,
            vector vector NOT NULL, PRIMARY KEY (model, key))""",
        """CREATE FUNCTION search_doc_postings_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_doc_terms (term, df)
                SELECT term, count(*) FROM added GROUP BY term ORDER BY term
            ON CONFLICT (term) DO UPDATE SET df = search_doc_terms.df + EXCLUDED.df;
            RETURN NULL;
        END $$""",
        """CREATE FUNCTION search_doc_postings_removed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE search_doc_terms t SET df = t.df - r.n
                FROM (SELECT term, count(*) AS n FROM removed GROUP BY term) r
                WHERE t.term = r.term;
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER search_doc_postings_added AFTER INSERT ON search_doc_postings"
        " REFERENCING NEW TABLE AS added FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_doc_postings_added()",
        "CREATE TRIGGER search_doc_postings_removed AFTER DELETE ON search_doc_postings"
        " REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_doc_postings_removed()",
        """CREATE FUNCTION search_documents_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE sign INTEGER := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
        BEGIN
            UPDATE search_stats SET docs = docs + sign * (SELECT count(*) FROM changed),
                doc_total_length = doc_total_length
                    + sign * (SELECT COALESCE(sum(length), 0) FROM changed),
                doc_total_title_length = doc_total_title_length
                    + sign * (SELECT COALESCE(sum(title_length), 0) FROM changed);
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER search_documents_added AFTER INSERT ON search_documents"
        " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_documents_changed()",
        "CREATE TRIGGER search_documents_removed AFTER DELETE ON search_documents"
        " REFERENCING OLD TABLE AS changed FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_documents_changed()",
    ):
        conn.execute(statement)


@search_schema.postgres
def pg004_titles_inline(conn: Any) -> None:
    """Title vectors in the table's own pages, as `vectors` (store migration
    m004_vectors_inline)."""
    conn.execute("ALTER TABLE search_titles ALTER COLUMN vector SET STORAGE MAIN")


@search_schema.postgres
def pg005_format(conn: Any) -> None:
    """What the postings were computed with (`SearchTables.stamp`: index format, analyzer,
    BM25F parameters); '' for tables indexed before it was recorded, which the next `sync`
    therefore indexes again."""
    conn.execute("ALTER TABLE search_stats ADD COLUMN format TEXT NOT NULL DEFAULT ''")
