"""Bounded parsing (`ingest.worker`): each file is parsed in a worker process bounded in time and
memory; an overrun or a crash fails that file with a French reason and the next file is read by
a fresh worker; the worker never outlives its parent, even one killed with SIGKILL."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from territoria.errors import CorruptDocument, IngestError, ParseLimitExceeded
from territoria.ingest.archive import ArchiveLimits
from territoria.ingest.loaders import load_path, read_file
from territoria.ingest.worker import ParseLimits, RemoteTraceback, default_pool, run_bounded
from territoria.settings import Settings
from zip_bombs import docx_bomb

CORPUS = Path(__file__).resolve().parents[2] / "src" / "territoria" / "demo" / "corpus"
FAST = ParseLimits(timeout_s=30)


def worker_pid() -> int:
    return run_bounded(FAST, os.getpid)


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_settings_defaults_match() -> None:
    assert ParseLimits() == ParseLimits.from_settings(Settings())


def test_files_are_parsed_in_a_reused_worker() -> None:
    first = worker_pid()
    assert first != os.getpid()
    document = load_path(CORPUS / "urbanisme.docx", Settings()).documents[0]
    assert document.source == str(CORPUS / "urbanisme.docx")
    assert worker_pid() == first


def test_timeout_kills_the_worker_and_the_next_call_works() -> None:
    before = worker_pid()
    with pytest.raises(ParseLimitExceeded) as info:
        run_bounded(ParseLimits(timeout_s=0.5), time.sleep, 60)
    assert info.value.message == (
        "lecture interrompue : fichier toujours en cours de lecture après 0.5 s "
        "(limite TERRITORIA_PARSE_TIMEOUT_S)"
    )
    assert info.value.status == 422
    assert wait_gone(before)
    after = worker_pid()
    assert after != before


def test_real_file_over_the_timeout_fails_alone(shared_data: Path) -> None:
    """A 90-page PDF cannot be read in 10 ms; the file after it is read as usual."""
    big = max((shared_data / "docs" / "montpellier-2014").glob("*.pdf"), key=os.path.getsize)
    with pytest.raises(ParseLimitExceeded, match=r"toujours en cours de lecture après 0\.01 s"):
        load_path(big, Settings(parse_timeout_s=0.01))
    assert load_path(CORPUS / "etat-civil.md", Settings()).documents


def test_memory_limit() -> None:
    before = worker_pid()
    with pytest.raises(ParseLimitExceeded) as info:
        run_bounded(ParseLimits(memory_mb=128), bytearray, 512 * 1024 * 1024)
    assert info.value.message == (
        "lecture interrompue : le fichier demande plus de 128 Mo de mémoire "
        "(limite TERRITORIA_PARSE_MEMORY_MB)"
    )
    assert wait_gone(before)  # it retires after an overrun
    assert len(run_bounded(FAST, bytearray, 200 * 1024 * 1024)) == 200 * 1024 * 1024


def test_zip_bomb_past_the_archive_limits_is_stopped_by_the_memory_bound(
    tmp_path: Path,
) -> None:
    """Archive limits raised out of the way: python-docx's XML tree of a 60 MB document.xml
    needs far more than 200 MB, and the file fails on its own."""
    bomb = docx_bomb(tmp_path / "bombe.docx", megabytes=60)
    settings = Settings(
        archive_max_total_mb=1000,
        archive_max_member_mb=1000,
        archive_max_ratio=1e6,
        parse_memory_mb=200,
    )
    with pytest.raises(IngestError) as info:
        load_path(bomb, settings)
    assert isinstance(info.value, ParseLimitExceeded | CorruptDocument)
    assert info.value.message in (
        "lecture interrompue : le fichier demande plus de 200 Mo de mémoire "
        "(limite TERRITORIA_PARSE_MEMORY_MB)",
        "DOCX illisible : fichier endommagé ou qui n'est pas un document Word (.docx)",
    )
    assert load_path(CORPUS / "urbanisme.docx", Settings()).documents


def test_worker_crash_fails_the_file_only() -> None:
    before = worker_pid()
    with pytest.raises(ParseLimitExceeded) as info:
        run_bounded(FAST, os.abort)
    assert info.value.message == (
        "lecture interrompue : le processus de lecture s'est arrêté (signal SIGABRT)"
    )
    assert not alive(before)
    assert worker_pid() != before


def test_ingest_errors_come_back_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "faux.docx"
    path.write_bytes(b"ceci n'est pas un document Word" * 10)
    before = worker_pid()
    with pytest.raises(CorruptDocument) as info:
        load_path(path, Settings())
    assert info.value.message == "DOCX illisible : fichier endommagé ou d'un autre format"
    with pytest.raises(CorruptDocument) as local:
        read_file(path, ArchiveLimits())
    assert local.value.message == info.value.message
    assert worker_pid() == before  # a refused file does not cost a worker


def test_unexpected_error_is_reported_with_the_worker_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(IngestError) as info:
        run_bounded(FAST, int, "douze")
    assert info.value.message == "lecture impossible : erreur inattendue du lecteur (ValueError)"
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "invalid literal for int()" in cause.text
    assert "ValueError" in caplog.text


def test_relative_paths_resolve_in_the_callers_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_pid()  # a worker started in another directory
    (tmp_path / "note.md").write_text("# Note\n\nTexte de la note.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    document = load_path(Path("note.md"), Settings()).documents[0]
    assert document.source == "note.md"
    assert document.title == "Note"


def test_not_isolated_parses_in_this_process() -> None:
    assert run_bounded(ParseLimits(isolated=False), os.getpid) == os.getpid()


def test_concurrent_callers_get_their_own_worker() -> None:
    results: list[int] = []

    def call() -> None:
        run_bounded(FAST, time.sleep, 0.3)
        results.append(run_bounded(FAST, os.getpid))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    assert os.getpid() not in results


def test_worker_outlives_the_thread_that_started_it() -> None:
    """PR_SET_PDEATHSIG follows the starting *thread*: a worker started from a short-lived
    server thread must not die with it."""
    default_pool().close()
    pids: list[int] = []
    thread = threading.Thread(target=lambda: pids.append(worker_pid()))
    thread.start()
    thread.join()
    time.sleep(0.2)
    assert alive(pids[0])
    assert worker_pid() == pids[0]


PARENT = textwrap.dedent(
    """
    import os, sys, threading, time
    from territoria.ingest.worker import ParseLimits, run_bounded

    limits = ParseLimits(timeout_s=600)
    idle = run_bounded(limits, os.getpid)  # this one stays idle in the pool
    if sys.argv[1] == "busy":  # the same worker, now in the middle of a long parse
        threading.Thread(target=run_bounded, args=(limits, time.sleep, 600)).start()
        time.sleep(0.5)
    print(idle, flush=True)
    time.sleep(600)
    """
)


@pytest.mark.parametrize("state", ["idle", "busy"])
def test_worker_dies_with_a_parent_killed_by_sigkill(tmp_path: Path, state: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT, state], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    ) as parent:
        try:
            assert parent.stdout is not None
            pid = int(parent.stdout.readline())
            assert alive(pid)
            os.kill(parent.pid, signal.SIGKILL)
            parent.wait(10)
            assert wait_gone(pid), f"worker {pid} outlived its parent"
        finally:
            parent.kill()


def span(seconds: float) -> tuple[float, float]:
    """Run in a worker: when it started and ended (the monotonic clock is the system's)."""
    start = time.monotonic()
    time.sleep(seconds)
    return start, time.monotonic()


def test_parse_workers_bounds_concurrent_parses() -> None:
    """Threads of a web server asking at once: with parse_workers=1, parses run one by one."""
    limits = ParseLimits.from_settings(Settings(parse_workers=1, parse_timeout_s=30))
    spans: list[tuple[float, float]] = []

    def call() -> None:
        spans.append(run_bounded(limits, span, 0.3))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(spans) == 3
    ordered = sorted(spans)
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(ordered))
