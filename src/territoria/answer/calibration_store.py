"""Where the abstention calibration of a deployment is kept, and who computes it.

- Embedded default (`FileCalibrations`): `<index>/calibration.json`, beside the index it was
  made on, computed by the one process that serves the home.
- PostgreSQL (`DatabaseCalibrations`): one row in the deployment's database, so that every
  replica applies the same thresholds; `exclusive()` takes a transaction-level advisory lock
  for the whole computation, so one replica calibrates while the others wait for it and then
  read its result instead of calibrating again.

    store = open_calibration_store(settings)
    with store.exclusive():
        current = store.load()          # another replica may have just saved it
        ...
        store.save(current)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from territoria.answer.calibration import CalibrationSet
from territoria.settings import Settings
from territoria.store.database import PostgresDatabase, Schema


class CalibrationStore(Protocol):
    def load(self) -> CalibrationSet | None: ...

    def save(self, calibrations: CalibrationSet) -> None: ...

    def exclusive(self) -> AbstractContextManager[None]:
        """Held while one process calibrates: the others wait for it."""
        ...

    def close(self) -> None: ...


class FileCalibrations:
    """`calibration.json` in the index folder (written only once the index folder exists)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> CalibrationSet | None:
        return CalibrationSet.load(self.path)

    def save(self, calibrations: CalibrationSet) -> None:
        if self.path.parent.exists():
            calibrations.save(self.path)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            yield

    def close(self) -> None:
        return None


calibration_schema = Schema("territoria.calibration")


@calibration_schema.postgres
def pg001_calibration(conn: Any) -> None:
    conn.execute(
        "CREATE TABLE abstention_calibration"
        " (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL)"
    )


class DatabaseCalibrations:
    """The calibration in one row of PostgreSQL (the JSON `CalibrationSet.save` writes)."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    def load(self) -> CalibrationSet | None:
        row = self.db.execute("SELECT data FROM abstention_calibration WHERE id = 1").fetchone()
        return CalibrationSet.from_json(row[0]) if row else None

    def save(self, calibrations: CalibrationSet) -> None:
        self.db.execute(
            "INSERT INTO abstention_calibration (id, data) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (calibrations.to_json(),),
        )

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self.db.transaction(lock="abstention-calibration"):
            yield

    def close(self) -> None:
        self.db.close()


def open_calibration_store(settings: Settings) -> CalibrationStore:
    if settings.store == "postgres":
        return DatabaseCalibrations(
            PostgresDatabase(settings.postgres_dsn, calibration_schema, pool_size=2)
        )
    return FileCalibrations(settings.index_dir / "calibration.json")
