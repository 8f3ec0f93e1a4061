"""What only the PostgreSQL store does: migrations, connection errors, pgvector limits.

The behaviour shared with SQLite is checked by `test_contract.py`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from territoria.errors import ConfigError, StoreError
from territoria.store.migrations import Migrations
from territoria.store.postgres import PostgresStore, postgres_migrations

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_dsn: str) -> Iterator[PostgresStore]:
    store = PostgresStore(postgres_dsn)
    yield store
    store.close()


@pytest.fixture
def fresh_database(postgres_server: str) -> Iterator[str]:
    """A new, empty database (no pgvector yet), dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_conninfo(postgres_server, dbname=name)
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def rows(dsn: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchall()


def test_a_fresh_database_gets_pgvector_and_the_schema(fresh_database: str) -> None:
    store = PostgresStore(fresh_database)
    store.close()
    assert rows(fresh_database, "SELECT extname FROM pg_extension WHERE extname = 'vector'")
    assert rows(fresh_database, "SELECT migration_set, name FROM _migrations ORDER BY name") == [
        ("territoria.postgres", name) for name in postgres_migrations.names
    ]


def test_tables_go_to_the_first_schema_of_the_search_path(postgres_dsn: str) -> None:
    PostgresStore(postgres_dsn).close()
    schemas = rows(
        postgres_dsn,
        "SELECT DISTINCT table_schema FROM information_schema.tables"
        " WHERE table_name IN ('documents', 'passages', 'vectors', 'meta', '_migrations')",
    )
    assert len(schemas) == 1
    assert str(schemas[0][0]).startswith("test_")


def test_migrations_are_applied_once(postgres_dsn: str) -> None:
    PostgresStore(postgres_dsn).close()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        assert postgres_migrations.apply(conn) == []
    again = PostgresStore(postgres_dsn)
    assert again.generation() == 0
    again.close()


def test_a_failing_migration_leaves_nothing_and_is_not_recorded(postgres_dsn: str) -> None:
    failing = Migrations("test.failing")

    @failing
    def m001_ok(conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.execute("CREATE TABLE kept (x INTEGER)")

    @failing
    def m002_broken(conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.execute("CREATE TABLE half_done (x INTEGER)")
        conn.execute("SELECT * FROM no_such_table")

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable):
            failing.apply(conn)
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables")}
        assert "kept" in tables
        assert "half_done" not in tables
        recorded = conn.execute(
            "SELECT name FROM _migrations WHERE migration_set = 'test.failing'"
        ).fetchall()
        assert recorded == [("m001_ok",)]

        fixed = Migrations("test.failing")
        fixed(m001_ok)

        @fixed
        def m002_broken(conn: psycopg.Connection[tuple[object, ...]]) -> None:
            conn.execute("CREATE TABLE half_done (x INTEGER)")

        assert fixed.apply(conn) == ["m002_broken"]


def test_processes_opening_a_blank_schema_together_migrate_once(postgres_dsn: str) -> None:
    applied: list[list[str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def migrate() -> None:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            start.wait()
            try:
                applied.append(postgres_migrations.apply(conn))
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Every step applied exactly once, whichever process applied it.
    assert sorted(name for names in applied for name in names) == postgres_migrations.names


def test_an_empty_dsn_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="TERRITORIA_POSTGRES_DSN"):
        PostgresStore("  ")


def test_an_unreachable_server_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="Impossible de se connecter à PostgreSQL"):
        PostgresStore(f"host={tmp_path} port=1 dbname=absent connect_timeout=2")


def test_vectors_pgvector_cannot_hold_are_refused_whole(store: PostgresStore) -> None:
    before = store.generation()
    good = np.ones(3, dtype=np.float32)
    with pytest.raises(StoreError, match="vecteurs"):
        store.put_vectors("m", {"good": good, "nan": np.array([np.nan, 1, 2], dtype=np.float32)})
    assert store.get_vectors("m", ["good", "nan"]) == {}
    assert store.generation() == before
