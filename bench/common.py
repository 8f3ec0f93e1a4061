"""Shared by the benchmarks: where the real data is, building a bench home, writing results."""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
CORPUS = [
    DATA / "corpus" / "service-public-2020.jsonl",
    DATA / "corpus" / "travail-emploi-2020.jsonl",
]
BENCH_HOME = Path(os.environ.get("TERRITORIA_BENCH_HOME", "/tmp/territoria-bench"))


def peak_rss_mb() -> float:
    """Peak resident memory of this process, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(name: str, data: dict[str, object]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def progress(label: str):  # type: ignore[no-untyped-def]
    state = {"decile": -1}

    def show(done: int, total: int, item: str) -> None:
        decile = done * 10 // max(total, 1)
        if decile != state["decile"]:
            state["decile"] = decile
            print(f"  {label}: {done}/{total}", file=sys.stderr, flush=True)

    return show


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()
    ]
