"""Traps a newcomer met in the CLI (issue 8, finding 10): options that every command honours,
accounts created without a way to sign in, an unknown home, an empty index searched for a
long time. No test here waits on a prompt: click's runner gives a stdin that is not a terminal
(or the input the test types)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from helpers import write_corpus
from territoria.accounts import Accounts
from territoria.cli import _register, cli
from territoria.cli import governance as governance_cli
from territoria.errors import AuthenticationFailed
from territoria.settings import Settings

_register()

ENV = {"TERRITORIA_EMBEDDER": "fake", "TERRITORIA_TITLE_EMBEDDER": "fake"}
PASSWORD = "un mot de passe solide"


def invoke(
    *args: str, stdin: str | None = None, env: dict[str, str | None] | None = None
) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, env={**ENV, **(env or {})})


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


# --- users add: never an account that cannot sign in by accident ------------------------------


def login(home: Path, name: str, password: str) -> str:
    with Accounts(Settings(home=home)) as accounts:
        return accounts.authenticate_password(name, password).tenant


def test_users_add_without_password_is_refused_when_it_cannot_prompt(tmp_path: Path) -> None:
    home = tmp_path / "h"
    result = invoke("users", "add", "agent1", "--role", "agent", "--home", str(home))
    assert result.exit_code == 1
    assert "Erreur : Mot de passe de agent1 requis" in result.stderr
    assert "--password-stdin" in result.stderr and "--no-password" in result.stderr
    with Accounts(Settings(home=home)) as accounts:
        assert accounts.list_users() == []  # nothing half-made


def test_users_add_prompts_twice_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(governance_cli, "interactive", lambda: True)
    home = tmp_path / "h"
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    result = invoke("users", "add", "agent1", "--home", str(home), stdin=typed)
    assert result.exit_code == 0, result.output
    assert "Confirmez le mot de passe" in result.stderr
    assert PASSWORD not in result.output  # hidden input
    assert "peut se connecter au site" in result.stdout
    assert login(home, "agent1", PASSWORD) == "default"


def test_users_add_prompt_mismatch_asks_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(governance_cli, "interactive", lambda: True)
    home = tmp_path / "h"
    typed = f"{PASSWORD}\nautre chose\n{PASSWORD}\n{PASSWORD}\n"
    result = invoke("users", "add", "agent1", "--home", str(home), stdin=typed)
    assert result.exit_code == 0, result.output
    assert login(home, "agent1", PASSWORD) == "default"


def test_users_add_password_from_stdin_then_web_login(tmp_path: Path) -> None:
    home = tmp_path / "h"
    result = invoke(
        "users", "add", "agent1", "--password-stdin", "--json", "--home", str(home),
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["has_password"] is True
    assert login(home, "agent1", PASSWORD) == "default"


def test_users_add_short_password_from_stdin_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "h"
    result = invoke(
        "users", "add", "agent1", "--password-stdin", "--home", str(home), stdin="court\n"
    )
    assert result.exit_code == 1
    assert "Mot de passe trop court" in result.stderr
    with Accounts(Settings(home=home)) as accounts:
        assert accounts.list_users() == []


def test_users_add_token_only_account_is_explicit(tmp_path: Path) -> None:
    home = tmp_path / "h"
    result = invoke("users", "add", "robot", "--no-password", "--home", str(home))
    assert result.exit_code == 0, result.output
    assert "sans mot de passe" in result.stdout and "users token robot" in result.stdout
    with pytest.raises(AuthenticationFailed):
        login(home, "robot", PASSWORD)
    both = invoke("users", "add", "x", "--no-password", "--password-stdin", "--home", str(home))
    assert both.exit_code == 1 and "pas les deux" in both.stderr


def test_users_password_never_waits_on_a_non_terminal(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert invoke("users", "add", "robot", "--no-password", "--home", str(home)).exit_code == 0
    result = invoke("users", "password", "robot", "--home", str(home))
    assert result.exit_code == 1
    assert "--password-stdin" in result.stderr and "--no-password" not in result.stderr


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
