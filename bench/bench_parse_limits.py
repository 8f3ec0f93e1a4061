"""Cost of bounded parsing: each file parsed in a worker process (parse_isolated, the default)
against parsing in the calling process, and the cost of the zip inspection.

1. demo corpus (15 files: PDF, DOCX, ODT, HTML, Markdown, text) and montpellier-2014 (123 PDFs):
   wall and CPU seconds (this process plus its workers) for `load_path` over every file, each
   mode in a fresh interpreter; the overhead per file is the difference divided by the files.
2. starting one worker (paid once per process) and one round trip to a warm worker.
3. `check_zip` on the demo DOCX/ODT files, and on the 150 MB zip-bomb DOCX of the audit.

    .venv/bin/python bench/bench_parse_limits.py
Writes bench/results/parse_limits.json.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the zip-bomb builder of the tests

from common import DATA, write_result  # noqa: E402
from territoria.settings import Settings  # noqa: E402

DEMO = ROOT / "src" / "territoria" / "demo" / "corpus"
MONTPELLIER = DATA / "docs" / "montpellier-2014"


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped workers
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_mode(folder: str, isolated: bool) -> dict[str, float]:
    """In this (fresh) interpreter: load every file of `folder`, return wall and CPU seconds."""
    from territoria.errors import IngestError
    from territoria.ingest import iter_files
    from territoria.ingest.loaders import load_path
    from territoria.ingest.worker import default_pool

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    settings = Settings(parse_isolated=isolated)
    files = list(iter_files([Path(folder)]))
    wall, cpu = time.perf_counter(), cpu_seconds()
    failed = 0
    for path in files:
        try:
            load_path(path, settings)
        except IngestError:
            failed += 1
    default_pool().close()  # reap the workers so that their CPU time is counted
    return {
        "files": len(files),
        "failed": failed,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": cpu_seconds() - cpu,
    }


def fresh(folder: Path, isolated: bool) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--mode", str(folder), "1" if isolated else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.splitlines()[-1])
    return result


def compare(name: str, folder: Path, repeats: int) -> dict[str, object]:
    runs: dict[str, list[dict[str, float]]] = {"in_process": [], "isolated": []}
    for _ in range(repeats):  # alternate, keep the best of each (the machine is shared)
        runs["in_process"].append(fresh(folder, False))
        runs["isolated"].append(fresh(folder, True))
    best = {mode: min(r, key=lambda x: x["wall_s"]) for mode, r in runs.items()}
    files = best["isolated"]["files"]
    overhead = {
        key: (best["isolated"][key] - best["in_process"][key]) / files
        for key in ("wall_s", "cpu_s")
    }
    print(
        f"{name}: {files:.0f} files, in process {best['in_process']['wall_s']:.2f} s wall "
        f"{best['in_process']['cpu_s']:.2f} CPU-s; isolated {best['isolated']['wall_s']:.2f} s "
        f"wall {best['isolated']['cpu_s']:.2f} CPU-s; overhead per file "
        f"{overhead['wall_s'] * 1000:.0f} ms wall, {overhead['cpu_s'] * 1000:.0f} ms CPU"
    )
    return {"best": best, "overhead_per_file": overhead, "runs": runs}


def worker_costs() -> dict[str, float]:
    from territoria.ingest.worker import ParseLimits, WorkerPool

    pool = WorkerPool()
    limits = ParseLimits()
    start = time.perf_counter()
    pool.call(limits, os.getpid)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(100):
        pool.call(limits, os.getpid)
    trip = (time.perf_counter() - start) / 100
    pool.close()
    print(f"worker start {first * 1000:.0f} ms; round trip to a warm worker {trip * 1000:.2f} ms")
    return {"start_s": first, "round_trip_s": trip}


def zip_checks() -> dict[str, float]:
    from territoria.errors import SuspiciousArchive
    from territoria.ingest.archive import ArchiveLimits, check_zip
    from zip_bombs import docx_bomb

    limits = ArchiveLimits()
    files = sorted(p for p in DEMO.rglob("*") if p.suffix in (".docx", ".odt"))
    start = time.perf_counter()
    for _ in range(20):
        for path in files:
            check_zip(path, limits)
    per_file = (time.perf_counter() - start) / (20 * len(files))
    with tempfile.TemporaryDirectory() as tmp:
        bomb = docx_bomb(Path(tmp) / "bombe.docx")
        start = time.perf_counter()
        with contextlib.suppress(SuspiciousArchive):
            check_zip(bomb, limits)
        refused = time.perf_counter() - start
        raised = ArchiveLimits(10**10, 10**10, 1e6)  # only the stream check can stop it now
        start = time.perf_counter()
        check_zip(bomb, raised)
        streamed = time.perf_counter() - start
    print(
        f"check_zip: {per_file * 1000:.2f} ms per demo DOCX/ODT; 150 MB bomb refused in "
        f"{refused * 1000:.2f} ms; inflating its 150 MB as a stream {streamed:.2f} s"
    )
    return {"demo_per_file_s": per_file, "bomb_refused_s": refused, "bomb_streamed_s": streamed}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--mode":
        print(json.dumps(run_mode(sys.argv[2], sys.argv[3] == "1")))
        return
    result = {
        "demo": compare("demo corpus", DEMO, repeats=3),
        "montpellier_2014": compare("montpellier-2014", MONTPELLIER, repeats=2),
        "worker": worker_costs(),
        "zip_check": zip_checks(),
        "cpu_count": os.cpu_count() or 0,
    }
    write_result("parse_limits", result)


if __name__ == "__main__":
    main()
