"""What every command shares (`cli.common`), and the traps a newcomer met (issue 8, finding
10): options a command ignored, a home nobody chose, an empty index searched for a long time.
Accounts without a password: tests/cli/test_users.py."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from helpers import write_corpus
from territoria.cli import _register, cli

_register()

ENV = {"TERRITORIA_EMBEDDER": "fake", "TERRITORIA_TITLE_EMBEDDER": "fake"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=ENV)


def leaves(group: click.Group, path: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += leaves(command, f"{path}{name} ")
        else:
            found.append((path + name, command))
    return found


def test_every_command_goes_through_the_shared_options() -> None:
    """`--home` and `--json` on every command, given to it by `common` (pii and consult once
    read their settings elsewhere and ignored --home)."""
    commands = leaves(cli)
    assert len(commands) >= 30
    for name, command in commands:
        params = {p.name for p in command.params}
        assert {"home", "as_json"} <= params, name
        assert getattr(command.callback, "__wrapped__", None) is not None, name


# --- which home, and an empty one ---------------------------------------------------------------


def test_default_home_is_announced_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TERRITORIA_HOME")
    default = tmp_path / "xdg" / "territoria"  # XDG_DATA_HOME is set by the autouse fixture
    result = invoke("documents", "--json")
    assert result.exit_code == 0, result.output
    assert f"Dossier des données : {default}" in result.stderr
    assert "--home" in result.stderr and "TERRITORIA_HOME" in result.stderr
    json.loads(result.stdout)  # stdout stays machine-readable
    chosen = invoke("documents", "--json", "--home", str(tmp_path / "h"))
    assert "Dossier des données" not in chosen.stderr


def test_home_from_the_environment_is_not_announced() -> None:
    result = invoke("documents", "--json")
    assert result.exit_code == 0, result.output
    assert "Dossier des données" not in result.stderr


@pytest.mark.parametrize(
    "command", [("ask", "Quels sont les horaires de la mairie ?"), ("search", "horaires")]
)
def test_empty_home_says_so_at_once(tmp_path: Path, command: tuple[str, ...]) -> None:
    home = tmp_path / "vide"
    result = invoke(*command, "--json", "--home", str(home))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"Aucun document dans le dossier des données {home}" in result.stderr
    assert f"territoria ingest CHEMIN --home {home}" in result.stderr
    assert "territoria demo" in result.stderr
    assert not home.exists()  # asking does not create a home


def test_empty_tenant_names_the_ones_that_have_documents(tmp_path: Path) -> None:
    home = tmp_path / "h"
    docs = write_corpus(tmp_path / "docs")
    assert invoke("ingest", str(docs), "--tenant", "muret", "--home", str(home)).exit_code == 0
    result = invoke("search", "horaires", "--home", str(home))
    assert result.exit_code == 1
    assert "La collectivité « default » n'a aucun document" in result.stderr
    assert "collectivités présentes : muret" in result.stderr
    found = invoke("search", "horaires", "--tenant", "muret", "--json", "--home", str(home))
    assert found.exit_code == 0 and json.loads(found.stdout)["hits"]


def test_output_cut_short_by_the_reader_stops_quietly(tmp_path: Path) -> None:
    """`territoria … | head`: the reader closes the pipe; the command stops with the status of
    SIGPIPE and no "Erreur du système de fichiers : Broken pipe" (it is not a storage error)."""
    import os
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "territoria", "register", "--home", str(tmp_path / "home")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **ENV},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command writes its first line
    with process.stderr:
        errors = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert "Erreur" not in errors and "Traceback" not in errors
