"""One database handle for the state of a home, on SQLite or PostgreSQL, with SQL written once.

Accounts, sessions, login failures, feedback, the upload journal and the audit log keep their
tables in a `Database`: `<home>/<file>.sqlite3` on the embedded default, the PostgreSQL server
of `TERRITORIA_POSTGRES_DSN` when `store=postgres`. Their SQL is written once, with `?`
placeholders and the syntax both engines share (`INSERT ... ON CONFLICT`, window functions);
only the schema differs, so each capability declares a `Schema`: its named migrations for
SQLite and for PostgreSQL (`migrations.py`, recorded in `_migrations`).

    governance = Schema("territoria.governance")

    @governance.sqlite
    def m001_accounts(conn): ...

    @governance.postgres
    def pg001_accounts(conn): ...

    db = open_database(settings, governance, "governance.sqlite3")
    with db.transaction(lock="accounts") as tx:
        tx.execute("INSERT INTO users ... VALUES (?, ?)", (a, b))

`transaction(lock=NAME)` serialises the writers that name the same lock: SQLite's
`BEGIN IMMEDIATE` already takes the file's write lock; PostgreSQL takes a transaction-level
advisory lock (`pg_advisory_xact_lock`), held until commit, so processes on several machines
(replicas) read-then-write one after the other. `snapshot()` gives a consistent read-only view
(a second SQLite connection in WAL, a REPEATABLE READ transaction on PostgreSQL).

Results are read whole (`Rows`): a PostgreSQL connection goes back to its pool at once.
PostgreSQL errors become `StoreError` (`StorageUnavailable` when the server cannot be reached),
with a French message; SQLite errors keep their type, as the callers expect.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from territoria.errors import ConfigError, StorageUnavailable, StoreError, storage_error
from territoria.store.migrations import Migration, Migrations

if TYPE_CHECKING:
    from territoria.settings import Settings

Dialect = Literal["sqlite", "postgres"]
Params = Sequence[Any]


@dataclass(frozen=True)
class Rows:
    """The rows a statement returned (all of them, read at once) and how many it changed."""

    rows: list[tuple[Any, ...]]
    rowcount: int = -1

    def fetchone(self) -> Any:
        """The first row, or None (typed `Any`, like sqlite3's, for tuple unpacking)."""
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)


class Connection(Protocol):
    """What runs statements: a transaction, or the database itself (one statement each)."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, params: Params = ()) -> Rows: ...

    def executemany(self, sql: str, rows: Sequence[Params]) -> int: ...


class Database(Connection, Protocol):
    def transaction(self, *, lock: str | None = None) -> AbstractContextManager[Connection]:
        """One write transaction (see the module's docstring for `lock`)."""
        ...

    def snapshot(self) -> AbstractContextManager[Connection]:
        """One consistent read-only view."""
        ...

    def close(self) -> None: ...


@dataclass
class Schema:
    """The named migrations of one capability's tables, for each engine."""

    name: str
    sqlite_steps: Migrations = field(init=False)
    postgres_steps: Migrations = field(init=False)

    def __post_init__(self) -> None:
        self.sqlite_steps = Migrations(self.name)
        self.postgres_steps = Migrations(self.name)

    def sqlite(self, fn: Migration) -> Migration:
        return self.sqlite_steps(fn)

    def postgres(self, fn: Migration) -> Migration:
        return self.postgres_steps(fn)


def lock_key(name: str) -> int:
    """The advisory lock number of a lock name (a signed 32-bit value fits bigint)."""
    return zlib.crc32(f"territoria:{name}".encode())


@functools.lru_cache(maxsize=512)
def postgres_sql(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


# --- SQLite ----------------------------------------------------------------------------------


class _SQLiteConnection:
    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> Rows:
        cursor = self._conn.execute(sql, params)
        return Rows(cursor.fetchall(), cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        return self._conn.executemany(sql, rows).rowcount


def connect_sqlite(path: Path, migrations: Migrations) -> sqlite3.Connection:
    """An autocommit SQLite connection in WAL mode with `migrations` applied. A full disk, a
    home that cannot be written and a corrupt file raise `StorageFull` or
    `StorageUnavailable` with a French message."""
    conn: sqlite3.Connection | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        migrations.apply(conn)
    except (OSError, sqlite3.Error) as exc:
        if conn is not None:
            conn.close()
        raise storage_error(exc, path) or StoreError(
            f"Impossible d'ouvrir la base {path} : {exc}"
        ) from exc
    return conn


@contextmanager
def sqlite_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE (takes the write lock at once, so read-then-write is safe across
    processes), COMMIT on success, ROLLBACK on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SQLiteDatabase(_SQLiteConnection):
    """One SQLite file, one connection shared by threads under a lock."""

    def __init__(self, path: Path, schema: Schema, *, durable: bool = False) -> None:
        self.path = path
        self._lock = threading.RLock()
        super().__init__(connect_sqlite(path, schema.sqlite_steps))
        if durable:  # every commit reaches the disk (WAL + NORMAL may lose the last ones)
            self._conn.execute("PRAGMA synchronous=FULL")

    def execute(self, sql: str, params: Params = ()) -> Rows:
        with self._lock:
            return super().execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        with self._lock:
            return super().executemany(sql, rows)

    @contextmanager
    def transaction(self, *, lock: str | None = None) -> Iterator[Connection]:
        with self._lock, sqlite_transaction(self._conn):
            yield _SQLiteConnection(self._conn)

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("BEGIN")
            yield _SQLiteConnection(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


# --- PostgreSQL ------------------------------------------------------------------------------


def _postgres_error(exc: Exception, action: str) -> StoreError:
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        return StorageUnavailable(
            f"{action} impossible : serveur PostgreSQL injoignable ({exc}).",
            public=f"{action} impossible : base de données injoignable.",
        )
    return StoreError(f"{action} impossible : {exc}", public=f"{action} impossible.")


class _PostgresConnection:
    dialect: Dialect = "postgres"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @property
    def raw(self) -> Any:
        """The psycopg connection (COPY and other PostgreSQL-only work)."""
        return self._conn

    def execute(self, sql: str, params: Params = ()) -> Rows:
        cursor = self._conn.execute(postgres_sql(sql), params)
        rows = cursor.fetchall() if cursor.description is not None else []
        return Rows(rows, cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        with self._conn.cursor() as cursor:
            cursor.executemany(postgres_sql(sql), rows)
            return int(cursor.rowcount)


class PostgresDatabase:
    """A pool of connections to one PostgreSQL database (psycopg_pool), schema migrated on
    opening. Tables go to the first schema of the DSN's `search_path`."""

    dialect: Dialect = "postgres"

    def __init__(
        self,
        dsn: str,
        schema: Schema | None = None,
        *,
        pool_size: int = 4,
        configure: Callable[[Any], None] | None = None,
    ) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ConfigError(
                "Le stockage PostgreSQL demande l'option postgres : "
                "pip install 'territoria[postgres]'."
            ) from exc
        if not dsn.strip():
            raise ConfigError(
                "Le stockage postgres demande une chaîne de connexion (TERRITORIA_POSTGRES_DSN)."
            )
        self.dsn = dsn
        if schema is not None:
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    schema.postgres_steps.apply(conn)
            except psycopg.Error as exc:
                raise _postgres_error(exc, "Préparation de la base PostgreSQL") from exc
        self._pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True},
            configure=configure,
            open=False,
            name=schema.name if schema else "territoria",
        )
        try:
            self._pool.open(wait=True, timeout=30.0)
        except Exception as exc:  # psycopg_pool.PoolTimeout, psycopg.Error
            self._pool.close()
            raise StorageUnavailable(
                f"Impossible de se connecter à PostgreSQL : {exc}",
                public="Base de données injoignable.",
            ) from exc

    @contextmanager
    def connection(self, action: str = "Accès à la base") -> Iterator[Any]:
        """A raw psycopg connection of the pool (autocommit), errors translated."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise _postgres_error(exc, action) from exc
        except PoolTimeout as exc:
            raise StorageUnavailable(
                f"{action} impossible : aucune connexion PostgreSQL libre ({exc}).",
                public=f"{action} impossible : base de données surchargée.",
            ) from exc

    def execute(self, sql: str, params: Params = ()) -> Rows:
        with self.connection() as conn:
            return _PostgresConnection(conn).execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        with self.transaction() as tx:
            return tx.executemany(sql, rows)

    @contextmanager
    def transaction(self, *, lock: str | None = None) -> Iterator[Connection]:
        with self.connection() as conn, conn.transaction():
            if lock is not None:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(lock),))
            yield _PostgresConnection(conn)

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        with self.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _PostgresConnection(conn)

    def close(self) -> None:
        self._pool.close()


def open_database(
    settings: Settings, schema: Schema, file: str, *, durable: bool = False
) -> Database:
    """The database holding `schema`'s tables: `<home>/<file>` (SQLite), or the PostgreSQL
    server of `settings.postgres_dsn` when `settings.store` is "postgres"."""
    if settings.store == "postgres":
        return PostgresDatabase(
            settings.postgres_dsn, schema, pool_size=settings.postgres_pool_size
        )
    return SQLiteDatabase(settings.home / file, schema, durable=durable)
