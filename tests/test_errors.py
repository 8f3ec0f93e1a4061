"""`storage_error`: what the system or SQLite says about the disk, in the error tree."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from territoria.errors import (
    StorageFull,
    StorageUnavailable,
    StoreError,
    storage_error,
)


def sqlite_error(tmp_path: Path, what: str) -> sqlite3.Error:
    """A real error raised by SQLite itself."""
    db = tmp_path / f"{what}.sqlite3"
    if what == "full":
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE t (x TEXT)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        try:
            conn.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
        except sqlite3.Error as exc:
            return exc
        finally:
            conn.close()
    if what == "corrupt":
        db.write_bytes(b"not a database" * 1000)
        conn = sqlite3.connect(db)
        try:
            conn.execute("SELECT * FROM sqlite_master")
        except sqlite3.Error as exc:
            return exc
        finally:
            conn.close()
    raise AssertionError(what)


def test_a_full_disk_is_storage_full(tmp_path: Path) -> None:
    for exc in (
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        sqlite_error(tmp_path, "full"),
    ):
        found = storage_error(exc, tmp_path / "audit.sqlite3")
        assert isinstance(found, StorageFull) and found.status == 507
        assert found.exit_code == 74
        assert "Espace disque insuffisant" in found.message
        assert str(tmp_path) in found.message and str(tmp_path) not in found.public


def test_read_only_forbidden_and_corrupt_are_unavailable(tmp_path: Path) -> None:
    cases = {
        "lecture seule": OSError(errno.EROFS, "Read-only file system", str(tmp_path)),
        "droits": OSError(errno.EACCES, "Permission denied", str(tmp_path)),
        "endommagée": sqlite_error(tmp_path, "corrupt"),
    }
    for words, exc in cases.items():
        found = storage_error(exc, tmp_path)
        assert isinstance(found, StorageUnavailable) and found.status == 503
        assert words in found.message


def test_the_cause_of_one_of_our_errors_is_found() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise StoreError("Impossible d'écrire l'ancre du journal") from exc
    except StoreError as wrapped:
        assert isinstance(storage_error(wrapped), StorageFull)


@pytest.mark.parametrize(
    "exc", [OSError(errno.ENOENT, "No such file"), ValueError("x"), sqlite3.Error("?")]
)
def test_other_errors_are_not_storage_errors(exc: BaseException) -> None:
    assert storage_error(exc) is None
