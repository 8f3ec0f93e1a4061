"""`territoria index status|vectors`: the search index and the vectors computed for it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import click

from territoria.cli import CommandFailed, common, emit, progress_printer
from territoria.runtime import Runtime
from territoria.settings import Settings

LOG_FILE = "vectors.log"


def status_lines(status: dict[str, object]) -> list[str]:
    """The vector status in French, one line per channel and one for the job."""
    lines = [f"Passages indexés : {status['passages']} (recherche lexicale disponible)."]
    channels = status["channels"]
    assert isinstance(channels, dict)
    for name, channel in channels.items():
        label = "vecteurs des passages" if name == "dense" else "vecteurs des titres"
        rows = max(int(channel["rows"]), 1)
        lines.append(
            f"  {label} ({channel['model']}) : {channel['present']}/{channel['rows']} "
            f"({100 * int(channel['present']) / rows:.0f} %)"
        )
    job = status.get("job")
    if isinstance(job, dict):
        state = (
            "en cours"
            if job["running"]
            else {"done": "terminé", "stopped": "interrompu"}.get(str(job["state"]), "interrompu")
        )
        lines.append(
            f"  dernier calcul : {state}, {job['done']}/{job['total']} textes, "
            f"{job['cpu_s']} s de CPU"
        )
    return lines


def start_detached(settings: Settings) -> tuple[int, Path]:
    """`territoria index vectors` in a process of its own that outlives this one; its
    output goes to `vectors.log` beside the index."""
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    log = settings.index_dir / LOG_FILE
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "territoria", "index", "vectors", "--home", str(settings.home)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid, log


def build_lexical_then_vectors(runtime: Runtime, *, as_json: bool, background: bool) -> None:
    """The index in two steps: lexical at once (searchable), then the vectors, here with
    progress or in a process of its own (`background`)."""
    started = time.perf_counter()
    runtime.retriever.refresh(vectors="none")
    if not as_json:
        click.echo(
            f"Index lexical prêt en {time.perf_counter() - started:.0f} s : "
            "la recherche fonctionne déjà.",
            err=True,
        )
    if background and runtime.retriever.missing_count():
        pid, log = start_detached(runtime.settings)
        if not as_json:
            click.echo(
                f"Calcul des vecteurs en arrière-plan (processus {pid}, journal {log}) : "
                "suivez-le avec « territoria index status ».",
                err=True,
            )
        runtime.assistant.thresholds.calibrations()
        return
    runtime.refresh(progress=None if as_json else progress_printer("Vecteurs"))


@click.group(name="index")
def index_group() -> None:
    """Index de recherche : état, calcul des vecteurs."""


@index_group.command()
@common
def status(*, runtime: Runtime, as_json: bool) -> None:
    """Où en est l'index : passages, vecteurs calculés, calcul en cours."""
    _show_status(runtime, as_json)


@index_group.command()
@common
def vectors(*, runtime: Runtime, as_json: bool) -> None:
    """Calculer les vecteurs manquants (reprend là où un calcul s'est arrêté)."""
    runtime.retriever.refresh(vectors="none")
    missing = runtime.retriever.missing_count()
    running = runtime.retriever.vector_status()["job"]
    if missing and isinstance(running, dict) and running["running"]:
        raise CommandFailed(
            f"Un calcul des vecteurs est déjà en cours (processus {running['pid']})."
        )
    runtime.refresh(progress=None if as_json else progress_printer("Vecteurs"))
    _show_status(runtime, as_json)


def _show_status(runtime: Runtime, as_json: bool) -> None:
    found = runtime.retriever.vector_status()
    if as_json:
        emit(found)
        return
    for line in status_lines(found):
        click.echo(line)


COMMANDS = (index_group,)
