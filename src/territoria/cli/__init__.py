"""Entry point `territoria`: one module per command group, errors translated once here."""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from territoria.errors import StoreError, TerritoriaError, storage_error, with_disk_cause
from territoria.runtime import Runtime
from territoria.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def build_settings(home: Path | None) -> Settings:
    return Settings(home=home) if home else Settings()


def announce_home(settings: Settings, *, given: bool) -> None:
    """Say on stderr which data directory a command uses when nobody chose it (neither
    `--home` nor $TERRITORIA_HOME): outside `make`, a newcomer would otherwise work on a
    home they do not know about. stdout stays clean for `--json`."""
    if given or os.environ.get("TERRITORIA_HOME"):
        return
    click.echo(
        f"Dossier des données : {settings.home} (par défaut ; choisissez-en un autre avec "
        "--home DOSSIER ou la variable TERRITORIA_HOME).",
        err=True,
    )


def common(fn: F) -> F:
    """Add `--home` and `--json` to a command; pass it a Runtime and the json flag.

    `--home` given on the command wins over the one given on the group.
    """

    @click.option(
        "--home",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Dossier des données (défaut : $TERRITORIA_HOME, sinon le dossier utilisateur).",
    )
    @click.option("--json", "as_json", is_flag=True, help="Sortie JSON pour les machines.")
    @functools.wraps(fn)
    def wrapper(*args: Any, home: Path | None, as_json: bool, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        root = ctx.find_root()
        home = home or (root.params.get("home") if root.params else None)
        as_json = as_json or bool(root.params.get("as_json"))
        settings = build_settings(home)
        announce_home(settings, given=home is not None)
        ctx.obj = settings
        runtime = Runtime(settings)
        try:
            try:
                return fn(*args, runtime=runtime, as_json=as_json, **kwargs)
            finally:
                runtime.close()
        except TerritoriaError as exc:
            raise click_error(with_disk_cause(exc)) from exc
        except BrokenPipeError:
            # Whoever read our output stopped (`territoria search … | head`): stop quietly,
            # as command-line tools do, with the status of a process killed by SIGPIPE.
            silence_stdout()
            raise SystemExit(128 + 13) from None
        except (OSError, sqlite3.Error) as exc:
            raise click_error(disk_error(exc, settings.home)) from exc

    return wrapper  # type: ignore[return-value]


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test runner's buffer)
        pass


def disk_error(exc: OSError | sqlite3.Error, home: Path) -> TerritoriaError:
    """A French error for what the system or SQLite said, about the home `home`."""
    found = storage_error(exc, home)
    if found is not None:
        return found
    if isinstance(exc, sqlite3.Error):
        return StoreError(f"Erreur de la base de données dans {home} : {exc}.")
    where = f" ({exc.filename})" if exc.filename else ""
    return StoreError(f"Erreur du système de fichiers{where} : {exc.strerror or exc}.")


class CommandFailed(click.ClickException):
    """An error of ours, shown in French on stderr ("Erreur : ..."), exit code 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True, file=file)


class StorageFailure(CommandFailed):
    """Exit code 74 (EX_IOERR): a full disk, a home that cannot be written, a corrupt database."""

    exit_code = 74


def click_error(exc: TerritoriaError) -> click.ClickException:
    """The CLI form of an error: its French message, and its exit code (`exc.exit_code`)."""
    if exc.exit_code == StorageFailure.exit_code:
        return StorageFailure(exc.message)
    return CommandFailed(exc.message)


def emit(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


def progress_printer(label: str) -> Callable[[int, int, str], None]:
    """Progress on stderr: a live line on a terminal, a line every 10 % otherwise."""
    tty = sys.stderr.isatty()
    last = {"decile": -1}

    def show(done: int, total: int, item: str) -> None:
        if total <= 0:
            return
        if tty:
            click.echo(f"\r{label} : {done}/{total} {item[:40]:<40}", err=True, nl=done == total)
            return
        decile = done * 10 // total
        if decile != last["decile"]:
            last["decile"] = decile
            click.echo(f"{label} : {done}/{total} ({decile * 10} %)", err=True)

    return show


@click.group()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dossier des données (défaut : $TERRITORIA_HOME).",
)
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON pour les machines.")
@click.version_option(package_name="territoria")
def cli(home: Path | None, as_json: bool) -> None:
    """Territoria : assistant souverain et vérifiable pour les collectivités."""


def _register() -> None:
    from territoria.cli import (
        documents,
        evaluate,
        forecast,
        governance,
        index,
        migrate,
        query,
        retex,
        serve,
        users,
    )

    groups = (documents, query, evaluate, serve, users, governance, retex, migrate, forecast, index)
    for group in groups:
        for command in group.COMMANDS:
            cli.add_command(command)
    for module, name in (("territoria.cli.pii", "pii"), ("territoria.cli.consult", "consult")):
        try:
            mod = __import__(module, fromlist=[name])
        except ImportError:
            continue
        cli.add_command(getattr(mod, name))


def main() -> None:
    # pypdf reports repaired cross-reference tables as warnings; the loader's report says
    # what matters to the user.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    _register()
    cli()
