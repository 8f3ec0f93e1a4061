"""A home made by the previous schema (document ids global) upgrades in place: every document
and passage keeps its id and gains its tenant's scope."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from territoria.store import Store
from territoria.store.migrations import Migrations

_DOCS = [("guide", "ville-a", "/srv/a/guide.pdf"), ("tarifs", "default", "tarifs.md")]


def _old(name: str, steps: list[Callable[[Any], None]]) -> Migrations:
    old = Migrations(name)
    for step in steps:
        old(step)
    return old


def _check(store: Store) -> None:
    guide = store.get_document("guide", tenant="ville-a")
    assert guide is not None and guide.source == "/srv/a/guide.pdf"
    assert guide.original == "" and guide.file_name == ""  # a source path is not an original
    assert store.get_document("guide", tenant="default") is None
    assert [p.passage_id for p in store.iter_passages(tenant="ville-a")] == ["guide#0", "guide#1"]
    assert set(store.get_passages(["tarifs#0"], tenant="default")) == {"tarifs#0"}


def test_sqlite_home_of_the_previous_schema_upgrades(tmp_path: Path) -> None:
    from territoria.store import sqlite as backend

    path = tmp_path / "territoria.sqlite3"
    conn = sqlite3.connect(path)
    steps = [backend.m001_documents_passages, backend.m002_passage_flags]
    _old("territoria.sqlite", steps).apply(conn)
    for doc_id, tenant, source in _DOCS:
        conn.execute(
            "INSERT INTO documents (doc_id, title, source, content_hash, tenant, ingested_at)"
            " VALUES (?, ?, ?, 'h', ?, '2025-01-01')",
            (doc_id, doc_id.title(), source, tenant),
        )
        for i in range(2):
            conn.execute(
                "INSERT INTO passages (passage_id, doc_id, ord, text) VALUES (?, ?, ?, 'texte')",
                (f"{doc_id}#{i}", doc_id, i),
            )
    conn.commit()
    conn.close()
    store = backend.SQLiteStore(path)
    try:
        _check(store)
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_database_of_the_previous_schema_upgrades(postgres_dsn: str) -> None:
    from territoria.store import postgres as backend

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        steps = [backend.m001_documents_passages, backend.m002_passage_flags]
        _old("territoria.postgres", steps).apply(conn)
        for doc_id, tenant, source in _DOCS:
            conn.execute(
                "INSERT INTO documents (doc_id, title, source, content_hash, tenant, ingested_at)"
                " VALUES (%s, %s, %s, 'h', %s, '2025-01-01')",
                (doc_id, doc_id.title(), source, tenant),
            )
            for i in range(2):
                conn.execute(
                    "INSERT INTO passages (passage_id, doc_id, ord, text)"
                    " VALUES (%s, %s, %s, 'texte')",
                    (f"{doc_id}#{i}", doc_id, i),
                )
    store = backend.PostgresStore(postgres_dsn)
    try:
        _check(store)
    finally:
        store.close()
