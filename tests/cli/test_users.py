"""`users`: accounts, passwords, tokens, web sessions and login locks; exit codes and JSON
shapes. No test waits on a password prompt: click's runner gives a stdin that is not a
terminal, or the input the test types where `interactive` says a terminal is there."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from territoria.accounts import Accounts
from territoria.cli import users as users_cli
from territoria.errors import AuthenticationFailed
from territoria.settings import Settings

PASSWORD = "un mot de passe solide"


@pytest.fixture
def cli() -> click.Group:
    group = click.Group("territoria")
    for command in users_cli.COMMANDS:
        group.add_command(command)
    return group


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run(cli: click.Group, home: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, [*args, "--home", str(home)], input=stdin, env={"TERRITORIA_EMBEDDER": "fake"}
    )


# --- users -------------------------------------------------------------------------------------


def test_users_lifecycle(cli: click.Group, home: Path) -> None:
    added = run(
        cli,
        home,
        "users",
        "add",
        "alice",
        "--tenant",
        "val-fleuri",
        "--role",
        "agent",
        "--password-stdin",
        "--json",
        stdin="un mot de passe solide\n",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output) == {
        "name": "alice",
        "tenant": "val-fleuri",
        "role": "agent",
        "created_at": json.loads(added.output)["created_at"],
        "has_password": True,
        "tokens": [],
    }

    token = run(cli, home, "users", "token", "alice", "--expires", "30d", "--json")
    assert token.exit_code == 0, token.output
    issued = json.loads(token.output)
    assert set(issued) == {"token_id", "token", "user", "expires_at"}
    with Accounts(Settings(home=home)) as accounts:
        principal = accounts.authenticate_token(issued["token"])
        assert principal is not None and principal.tenant == "val-fleuri"
        assert accounts.authenticate_password("alice", "un mot de passe solide") is not None

    listed = json.loads(run(cli, home, "users", "list", "--json").output)
    assert [u["name"] for u in listed["users"]] == ["alice"]
    assert listed["users"][0]["tokens"][0]["token_id"] == issued["token_id"]
    assert "token" not in listed["users"][0]["tokens"][0]

    revoked = run(cli, home, "users", "revoke", issued["token_id"], "--json")
    assert json.loads(revoked.output) == {"revoked": issued["token_id"]}
    again = run(cli, home, "users", "revoke", issued["token_id"])
    assert again.exit_code == 1 and "déjà révoqué" in again.output

    deleted = run(cli, home, "users", "delete", "alice", "--json")
    assert json.loads(deleted.output) == {"deleted": "alice", "tokens": 1}


def test_token_text_output_prints_only_the_token_on_stdout(cli: click.Group, home: Path) -> None:
    assert run(cli, home, "users", "add", "bob", "--no-password").exit_code == 0
    result = CliRunner().invoke(cli, ["users", "token", "bob", "--home", str(home)])
    assert result.exit_code == 0
    assert result.stdout.strip().startswith("terr_") and len(result.stdout.splitlines()) == 1
    assert "plus affiché" in result.stderr


def test_bad_role_is_a_usage_error(cli: click.Group, home: Path) -> None:
    assert run(cli, home, "users", "add", "x", "--role", "root").exit_code == 2


def test_an_admin_sees_and_closes_a_users_web_sessions(cli: click.Group, home: Path) -> None:
    password = "un mot de passe solide"
    run(cli, home, "users", "add", "alice", "--password-stdin", stdin=password + "\n")
    with Accounts(Settings(home=home)) as accounts:
        alice = accounts.authenticate_password("alice", password)
        session_ids = [accounts.start_session(alice) for _ in range(2)]
    listed = run(cli, home, "users", "sessions", "alice", "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert [s["active"] for s in data["sessions"]] == [True, True]
    assert data["login"] == {"failures": 0, "locked_until": None}
    assert all(sid not in listed.output for sid in session_ids)
    text = run(cli, home, "users", "sessions", "alice")
    assert "2 active(s) sur 2" in text.output

    revoked = run(cli, home, "users", "revoke-sessions", "alice", "--json")
    assert json.loads(revoked.output) == {"user": "alice", "sessions_revoked": 2}
    with Accounts(Settings(home=home)) as accounts:
        assert all(accounts.resolve_session(sid) is None for sid in session_ids)
    assert "révoquée" in run(cli, home, "users", "sessions", "alice").output
    unknown = run(cli, home, "users", "sessions", "nobody")
    assert unknown.exit_code == 1 and "Utilisateur inconnu" in unknown.output


def test_password_change_from_the_cli_closes_the_sessions(
    cli: click.Group, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(cli, home, "users", "add", "alice", "--password-stdin", stdin="un mot de passe solide\n")
    with Accounts(Settings(home=home)) as accounts:
        session_id = accounts.start_session(
            accounts.authenticate_password("alice", "un mot de passe solide")
        )
    changed = run(
        cli, home, "users", "password", "alice", "--password-stdin", stdin="tout nouveau secret\n"
    )
    assert changed.exit_code == 0, changed.output
    assert "1 session(s) web fermée(s)" in changed.output
    monkeypatch.setattr(users_cli, "interactive", lambda: True)  # as if typed at a terminal
    prompted = run(
        cli, home, "users", "password", "alice", stdin="encore un autre\nencore un autre\n"
    )
    assert prompted.exit_code == 0, prompted.output
    with Accounts(Settings(home=home)) as accounts:
        assert accounts.resolve_session(session_id) is None
        assert accounts.authenticate_password("alice", "encore un autre").user == "alice"
    short = run(cli, home, "users", "password", "alice", "--password-stdin", stdin="court\n")
    assert short.exit_code == 1 and "trop court" in short.output


def test_an_admin_unlocks_a_locked_login(cli: click.Group, home: Path) -> None:
    run(cli, home, "users", "add", "alice", "--password-stdin", stdin="un mot de passe solide\n")
    with Accounts(Settings(home=home)) as accounts:
        for _ in range(Settings().login_lockout_after):
            with pytest.raises(AuthenticationFailed):
                accounts.authenticate_password("alice", "mauvais mot de passe")
    state = json.loads(run(cli, home, "users", "sessions", "alice", "--json").output)["login"]
    assert state["failures"] == 5 and state["locked_until"]
    assert "Connexion bloquée" in run(cli, home, "users", "sessions", "alice").output
    unlocked = run(cli, home, "users", "unlock", "alice", "--json")
    assert json.loads(unlocked.output) == {"user": "alice", "unlocked": True}
    assert "Aucun échec" in run(cli, home, "users", "unlock", "alice").output
    with Accounts(Settings(home=home)) as accounts:
        assert accounts.authenticate_password("alice", "un mot de passe solide").user == "alice"


# --- users add: never an account that cannot sign in by accident (finding 10) -----------------


def login(home: Path, name: str, password: str) -> str:
    with Accounts(Settings(home=home)) as accounts:
        return accounts.authenticate_password(name, password).tenant


def test_users_add_without_password_is_refused_when_it_cannot_prompt(
    cli: click.Group, home: Path
) -> None:
    result = run(cli, home, "users", "add", "agent1", "--role", "agent")
    assert result.exit_code == 1
    assert "Erreur : Mot de passe requis pour agent1" in result.stderr
    assert "--password-stdin" in result.stderr and "--no-password" in result.stderr
    with Accounts(Settings(home=home)) as accounts:
        assert accounts.list_users() == []  # nothing half-made


def test_users_add_prompts_twice_on_a_terminal(
    cli: click.Group, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users_cli, "interactive", lambda: True)
    result = run(cli, home, "users", "add", "agent1", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Confirmez le mot de passe" in result.stderr
    assert PASSWORD not in result.output  # hidden input
    assert "peut se connecter au site" in result.stdout
    assert login(home, "agent1", PASSWORD) == "default"


def test_users_add_prompt_mismatch_asks_again(
    cli: click.Group, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users_cli, "interactive", lambda: True)
    typed = f"{PASSWORD}\nautre chose\n{PASSWORD}\n{PASSWORD}\n"
    result = run(cli, home, "users", "add", "agent1", stdin=typed)
    assert result.exit_code == 0, result.output
    assert "Les deux saisies diffèrent : recommencez." in result.stderr  # French, not click's
    assert "Mot de passe pour agent1 : " in result.stderr
    assert login(home, "agent1", PASSWORD) == "default"


def test_users_add_interrupted_prompt_creates_nothing(
    cli: click.Group, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users_cli, "interactive", lambda: True)
    result = run(cli, home, "users", "add", "agent1", stdin=f"{PASSWORD}\n")  # then end of input
    assert result.exit_code == 1
    assert "Saisie du mot de passe interrompue" in result.stderr and "Aborted" not in result.output
    with Accounts(Settings(home=home)) as accounts:
        assert accounts.list_users() == []


def test_users_add_password_from_stdin_then_web_login(cli: click.Group, home: Path) -> None:
    result = run(
        cli, home, "users", "add", "agent1", "--password-stdin", "--json", stdin=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["has_password"] is True
    assert login(home, "agent1", PASSWORD) == "default"


def test_users_add_short_password_from_stdin_creates_nothing(cli: click.Group, home: Path) -> None:
    result = run(cli, home, "users", "add", "agent1", "--password-stdin", stdin="court\n")
    assert result.exit_code == 1
    assert "Mot de passe trop court" in result.stderr
    with Accounts(Settings(home=home)) as accounts:
        assert accounts.list_users() == []


def test_users_add_token_only_account_is_explicit(cli: click.Group, home: Path) -> None:
    result = run(cli, home, "users", "add", "robot", "--no-password")
    assert result.exit_code == 0, result.output
    assert "sans mot de passe" in result.stdout and "users token robot" in result.stdout
    with pytest.raises(AuthenticationFailed):
        login(home, "robot", PASSWORD)
    both = run(cli, home, "users", "add", "x", "--no-password", "--password-stdin")
    assert both.exit_code == 1 and "pas les deux" in both.stderr


def test_users_password_never_waits_on_a_non_terminal(cli: click.Group, home: Path) -> None:
    assert run(cli, home, "users", "add", "robot", "--no-password").exit_code == 0
    result = run(cli, home, "users", "password", "robot")
    assert result.exit_code == 1
    assert "--password-stdin" in result.stderr and "--no-password" not in result.stderr
