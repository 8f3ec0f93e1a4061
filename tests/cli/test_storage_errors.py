"""A home the CLI cannot use (read-only, a corrupt database) gives a French message and exit
code 74 from every command, never a Python traceback. The commands run in process (click's
runner: an exception that escapes is a traceback for a user), the serve check as a process."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import write_corpus
from territoria.cli import _register, cli

EX_IOERR = 74
ENV = {"TERRITORIA_EMBEDDER": "fake", "TERRITORIA_TITLE_EMBEDDER": "fake"}


_register()


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def territoria(*args: str, home: Path, stdin: str = "") -> Outcome:
    result = CliRunner().invoke(cli, [*args, "--home", str(home)], input=stdin, env=ENV)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback: " + "".join(traceback.format_exception(result.exception))
    return Outcome(result.exit_code, result.stdout, stderr)


def commands(tmp: Path) -> list[tuple[str, ...]]:
    docs = write_corpus(tmp / "docs")
    questions = tmp / "questions.jsonl"
    questions.write_text('{"id": "1", "question": "horaires de la mairie"}\n', encoding="utf-8")
    return [
        ("ingest", str(docs), "--json"),
        ("documents", "--json"),
        ("search", "horaires", "--json"),
        ("ask", "Quels sont les horaires de la mairie ?", "--json"),
        ("eval", "abstain", "--questions", str(questions)),
        ("users", "list"),
        ("users", "add", "agent2", "--password-stdin"),
        ("audit", "list"),
        ("audit", "verify"),
        ("audit", "export"),
        ("purge", "--older-than", "90d"),
        ("register",),
        ("screening", "list"),
    ]


@pytest.fixture(scope="module")
def filled_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with documents, an account and an audit record."""
    root = tmp_path_factory.mktemp("storage")
    home = root / "home"
    assert territoria("ingest", str(write_corpus(root / "docs")), home=home).returncode == 0
    assert territoria("ask", "horaires de la mairie", home=home).returncode == 0
    made = territoria("users", "add", "agent1", "--password-stdin", home=home, stdin="x" * 16)
    assert made.returncode == 0, made.stderr
    return home


def assert_refused(result: Outcome, *words: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == EX_IOERR, (result.returncode, result.stdout, result.stderr)
    message = result.stderr.lower()
    assert any(word in message for word in words), result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("db", ["territoria.sqlite3", "governance.sqlite3", "audit.sqlite3"])
def test_a_corrupt_database_stops_every_command_with_a_french_message(
    db: str, filled_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(filled_home, home)
    for name in (f"{db}-wal", f"{db}-shm"):
        (home / name).unlink(missing_ok=True)
    (home / db).write_bytes(os.urandom(16384))
    touched = 0
    for command in commands(tmp_path):
        result = territoria(*command, home=home, stdin="y" * 16)
        if result.returncode == 0:
            continue  # this command does not read that database
        touched += 1
        assert_refused(result, "endommagée")
        assert db in result.stderr
    assert touched >= 3


@pytest.mark.slow
def test_a_database_damaged_inside_gives_a_french_message(
    filled_home: Path, tmp_path: Path
) -> None:
    """A valid header with damaged pages fails on a later query, not on opening."""
    home = tmp_path / "home"
    shutil.copytree(filled_home, home)
    db = home / "territoria.sqlite3"
    sqlite3.connect(db).close()  # the last connection checkpoints the WAL into the file
    for name in ("territoria.sqlite3-wal", "territoria.sqlite3-shm"):
        (home / name).unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    for offset in range(len(data) // 2, len(data)):
        if offset % 4096 > 100:
            data[offset] = 0x41
    db.write_bytes(bytes(data))
    result = territoria("search", "horaires", "--json", home=home)
    assert_refused(result, "endommagée")


@pytest.fixture
def readonly_home(filled_home: Path, tmp_path: Path) -> Iterator[Path]:
    """The filled home on a read-only filesystem (a tmpfs remounted read-only, as root); as
    another user, a folder without write permission."""
    target = tmp_path / "ro"
    target.mkdir()
    mounted = False
    if os.geteuid() == 0:
        mounted = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(target)], check=False
            ).returncode
            == 0
        )
    if not mounted and os.geteuid() == 0:
        pytest.fail("as root, a tmpfs could not be mounted: cannot make a read-only home")
    home = target / "home"
    shutil.copytree(filled_home, home)
    if mounted:
        subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True)
    else:
        for path in (home, *home.rglob("*")):
            path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield home
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(target)], check=False)
        else:
            for path in (home, *home.rglob("*")):
                path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.slow
def test_a_read_only_home_stops_every_command_with_a_french_message(
    readonly_home: Path, tmp_path: Path
) -> None:
    for command in commands(tmp_path):
        result = territoria(*command, home=readonly_home, stdin="y" * 16)
        assert_refused(result, "lecture seule", "droits")


def test_a_home_that_cannot_be_created_gives_a_french_message(tmp_path: Path) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("pas un dossier")
    result = territoria("documents", home=blocker / "home")
    assert "Traceback" not in result.stderr
    assert result.returncode != 0
    assert "Erreur" in result.stderr or "impossible" in result.stderr.lower()


@pytest.mark.slow
@pytest.mark.parametrize("db", ["territoria.sqlite3", "governance.sqlite3", "audit.sqlite3"])
def test_serve_refuses_to_start_on_a_corrupt_database(
    db: str, filled_home: Path, tmp_path: Path
) -> None:
    """A real `territoria serve`: it stops before listening, with the French message."""
    home = tmp_path / "home"
    shutil.copytree(filled_home, home)
    for name in (f"{db}-wal", f"{db}-shm"):
        (home / name).unlink(missing_ok=True)
    (home / db).write_bytes(os.urandom(16384))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-m", "territoria", "serve", "--home", str(home), "--port", str(port)],
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == EX_IOERR, result.stderr
    assert "Erreur : " in result.stderr and "endommagée" in result.stderr
