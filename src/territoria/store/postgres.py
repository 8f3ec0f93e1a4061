"""The PostgreSQL store: the same `Store` contract as SQLite, for deployments past one machine.

Documents and passages live in plain tables; cached vectors use the pgvector `vector` type
(without a fixed dimension, so several embedding models can share the table). The schema is
created by named migrations (`postgres_migrations`), each applied once in its own transaction
and recorded in `_migrations`; an advisory lock serialises processes that migrate together.
Tables are created in the first schema of the connection's `search_path`, so a DSN with
`options=-csearch_path=territoria,public` keeps them apart from other applications.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from territoria.errors import ConfigError, StoreError
from territoria.store import (
    DOCUMENT_COLUMNS,
    PASSAGE_COLUMNS,
    PASSAGES_JOIN,
    StoredDocument,
    document_row,
    passage_from_row,
)
from territoria.store.database import PostgresDatabase
from territoria.store.migrations import Migrations
from territoria.types import Passage

try:
    import psycopg
    from pgvector import Vector
    from pgvector.psycopg import register_vector
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ConfigError(
        "Le stockage PostgreSQL demande l'option postgres : pip install 'territoria[postgres]'."
    ) from exc

PgConnection = psycopg.Connection[tuple[Any, ...]]

postgres_migrations = Migrations("territoria.postgres")


@postgres_migrations
def m001_documents_passages(conn: PgConnection) -> None:
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    conn.execute(
        """
        CREATE TABLE documents (
            doc_id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            source TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            collection TEXT NOT NULL DEFAULT 'default',
            visibility TEXT NOT NULL DEFAULT 'public'
                CHECK (visibility IN ('public', 'internal')),
            tenant TEXT NOT NULL DEFAULT 'default',
            format TEXT NOT NULL DEFAULT '',
            pages INTEGER,
            n_passages INTEGER NOT NULL DEFAULT 0,
            ingested_at TEXT NOT NULL
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE passages (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            passage_id TEXT NOT NULL UNIQUE,
            doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            text TEXT NOT NULL,
            headings TEXT[] NOT NULL DEFAULT '{}',
            page INTEGER,
            start INTEGER NOT NULL DEFAULT 0,
            "end" INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    conn.execute("CREATE INDEX passages_doc ON passages(doc_id)")
    conn.execute(
        """
        CREATE TABLE vectors (
            model TEXT NOT NULL,
            key TEXT NOT NULL,
            vector vector NOT NULL,
            PRIMARY KEY (model, key)
        )
        """
    )
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('generation', 0)")


@postgres_migrations
def m002_passage_flags(conn: PgConnection) -> None:
    conn.execute("ALTER TABLE passages ADD COLUMN flags TEXT[] NOT NULL DEFAULT '{}'")
    conn.execute("ALTER TABLE passages ADD COLUMN approved BOOLEAN NOT NULL DEFAULT FALSE")


@postgres_migrations
def m003_tenant_scoped_ids(conn: PgConnection) -> None:
    """Documents keyed by (tenant, doc_id), passages by (tenant, passage_id); the original
    file is named by its hash, never by a path (`source` becomes metadata only)."""
    for statement in (
        "ALTER TABLE passages ADD COLUMN tenant TEXT",
        "UPDATE passages p SET tenant = d.tenant FROM documents d WHERE d.doc_id = p.doc_id",
        "ALTER TABLE passages ALTER COLUMN tenant SET NOT NULL",
        "ALTER TABLE passages DROP CONSTRAINT passages_doc_id_fkey",
        "ALTER TABLE passages DROP CONSTRAINT passages_passage_id_key",
        "ALTER TABLE documents DROP CONSTRAINT documents_pkey",
        "ALTER TABLE documents ADD PRIMARY KEY (tenant, doc_id)",
        "ALTER TABLE documents ADD COLUMN original TEXT NOT NULL DEFAULT '',"
        " ADD COLUMN file_name TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE passages ADD CONSTRAINT passages_tenant_passage_key"
        " UNIQUE (tenant, passage_id)",
        "ALTER TABLE passages ADD CONSTRAINT passages_document_fkey FOREIGN KEY (tenant, doc_id)"
        " REFERENCES documents(tenant, doc_id) ON DELETE CASCADE",
        "DROP INDEX passages_doc",
        "CREATE INDEX passages_doc ON passages(tenant, doc_id)",
    ):
        conn.execute(statement)


@postgres_migrations
def m004_vectors_inline(conn: PgConnection) -> None:
    """Vectors kept in the table's own pages (STORAGE MAIN) rather than TOAST: a 512-d
    vector (2,052 bytes) is just above the TOAST threshold, so each read of one (a search
    reads a few thousand) went through the TOAST index and two chunks. Larger vectors still
    move out of line when a row would not fit a page. Vectors written before keep their
    storage until rewritten."""
    conn.execute("ALTER TABLE vectors ALTER COLUMN vector SET STORAGE MAIN")


def _passage(row: tuple[Any, ...]) -> Passage:
    return passage_from_row(row, tuple)


class PostgresStore:
    """`Store` on PostgreSQL >= 15 with pgvector; a pool of connections, one transaction per
    write."""

    def __init__(self, dsn: str, *, pool_size: int = 4) -> None:
        if not dsn.strip():
            raise ConfigError(
                "Le stockage postgres demande une chaîne de connexion (TERRITORIA_POSTGRES_DSN)."
            )
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                postgres_migrations.apply(conn)
        except psycopg.OperationalError as exc:
            raise StoreError(f"Impossible de se connecter à PostgreSQL : {exc}") from exc
        except psycopg.Error as exc:
            raise StoreError(
                f"Impossible de préparer la base PostgreSQL (pgvector est-il installé ?) : {exc}"
            ) from exc
        # A pool: the search (search/postgres.py) and the store share it, one connection per
        # concurrent request.
        self.db = PostgresDatabase(dsn, pool_size=pool_size, configure=register_vector)

    @contextmanager
    def _guard(self, action: str) -> Iterator[PgConnection]:
        """A connection of the pool, with database errors translated to `StoreError`."""
        with self.db.connection(action) as conn:
            yield conn

    def close(self) -> None:
        self.db.close()

    def _bump(self, conn: PgConnection) -> None:
        conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")

    def get_document(self, doc_id: str, *, tenant: str) -> StoredDocument | None:
        with self._guard("Lecture du document") as conn:
            row = conn.execute(
                f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE tenant = %s AND doc_id = %s",
                (tenant, doc_id),
            ).fetchone()
        return StoredDocument(*row) if row else None

    def list_documents(self, *, tenant: str | None = None) -> list[StoredDocument]:
        # COLLATE "C": code point order, as SQLite and Python's sorted().
        where, params = ("", ()) if tenant is None else (" WHERE tenant = %s", (tenant,))
        with self._guard("Lecture des documents") as conn:
            rows = conn.execute(
                f"SELECT {DOCUMENT_COLUMNS} FROM documents{where}"
                ' ORDER BY tenant COLLATE "C", doc_id COLLATE "C"',
                params,
            ).fetchall()
        return [StoredDocument(*row) for row in rows]

    def put_document(self, doc: StoredDocument, passages: Sequence[Passage]) -> None:
        now = doc.ingested_at or datetime.now(UTC).isoformat(timespec="seconds")
        marks = ", ".join(["%s"] * len(DOCUMENT_COLUMNS.split(",")))
        with self._guard(f"Écriture du document {doc.doc_id}") as conn, conn.transaction():
            conn.execute(
                "DELETE FROM documents WHERE tenant = %s AND doc_id = %s", (doc.tenant, doc.doc_id)
            )
            conn.execute(
                f"INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ({marks})",
                document_row(doc, len(passages), now),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO passages (tenant, passage_id, doc_id, ord, text, headings, page,"
                    ' start, "end", flags, approved)'
                    " VALUES (%s, %s, %s, %s, %s, %s::text[], %s, %s, %s, %s::text[], %s)",
                    [
                        (
                            doc.tenant,
                            p.passage_id,
                            doc.doc_id,
                            i,
                            p.text,
                            list(p.headings),
                            p.page,
                            p.start,
                            p.end,
                            list(p.flags),
                            p.approved,
                        )
                        for i, p in enumerate(passages)
                    ],
                )
            self._bump(conn)

    def delete_document(self, doc_id: str, *, tenant: str) -> bool:
        with self._guard(f"Suppression du document {doc_id}") as conn, conn.transaction():
            cur = conn.execute(
                "DELETE FROM documents WHERE tenant = %s AND doc_id = %s", (tenant, doc_id)
            )
            if cur.rowcount:
                self._bump(conn)
            return cur.rowcount > 0

    def approve_passage(self, passage_id: str, *, tenant: str) -> bool:
        with self._guard(f"Approbation du passage {passage_id}") as conn, conn.transaction():
            cur = conn.execute(
                "UPDATE passages SET approved = TRUE"
                " WHERE tenant = %s AND passage_id = %s AND cardinality(flags) > 0",
                (tenant, passage_id),
            )
            return cur.rowcount > 0

    def iter_passages(self, *, tenant: str | None = None) -> Iterator[Passage]:
        # Read at once, like SQLite: the caller sees one consistent snapshot even if it
        # writes while iterating.
        where, params = ("", ()) if tenant is None else (" WHERE p.tenant = %s", (tenant,))
        with self._guard("Lecture des passages") as conn:
            rows = conn.execute(
                f"SELECT {PASSAGE_COLUMNS} FROM {PASSAGES_JOIN}{where} ORDER BY p.seq", params
            ).fetchall()
        return (_passage(row) for row in rows)

    def get_passages(self, passage_ids: Sequence[str], *, tenant: str) -> dict[str, Passage]:
        if not passage_ids:
            return {}
        with self._guard("Lecture des passages") as conn:
            rows = conn.execute(
                f"SELECT {PASSAGE_COLUMNS} FROM {PASSAGES_JOIN}"
                " WHERE p.tenant = %s AND p.passage_id = ANY(%s)",
                (tenant, list(passage_ids)),
            ).fetchall()
        return {row[0]: _passage(row) for row in rows}

    def generation(self) -> int:
        with self._guard("Lecture de la génération") as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        if row is None:
            raise StoreError("Base PostgreSQL incomplète : compteur de génération absent.")
        return int(row[0])

    def get_vectors(self, model: str, keys: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        wanted = list(keys)
        if not wanted:
            return {}
        with self._guard("Lecture des vecteurs") as conn, conn.cursor(binary=True) as cur:
            rows = cur.execute(
                "SELECT key, vector FROM vectors WHERE model = %s AND key = ANY(%s)",
                (model, wanted),
            ).fetchall()
        return {key: cast(Vector, vec).to_numpy() for key, vec in rows}

    def put_vectors(self, model: str, vectors: Mapping[str, npt.NDArray[np.float32]]) -> None:
        with (
            self._guard("Écriture des vecteurs") as conn,
            conn.transaction(),
            conn.cursor() as cur,
        ):
            cur.executemany(
                "INSERT INTO vectors (model, key, vector) VALUES (%s, %s, %b)"
                " ON CONFLICT (model, key) DO UPDATE SET vector = EXCLUDED.vector",
                [
                    (model, key, Vector(np.asarray(vec, dtype=np.float32).reshape(-1)))
                    for key, vec in vectors.items()
                ],
            )

    def vector_models(self) -> list[str]:
        with self._guard("Lecture des vecteurs") as conn:
            rows = conn.execute(
                'SELECT DISTINCT model FROM vectors ORDER BY model COLLATE "C"'
            ).fetchall()
        return [str(m) for (m,) in rows]

    def vector_keys(self, model: str) -> list[str]:
        with self._guard("Lecture des vecteurs") as conn:
            rows = conn.execute(
                'SELECT key FROM vectors WHERE model = %s ORDER BY key COLLATE "C"', (model,)
            ).fetchall()
        return [str(k) for (k,) in rows]
