"""Latency of a question: a cold CLI on the demo home, and a warm server on the 5,475-doc corpus.

1. Cold CLI (targets: `ask` and `search` under 3 s of wall time on 2 cores): each command run
   --runs times as a new process, `territoria ... --home DEMO` as a user types it; median wall
   and CPU seconds (user + system of the child). `territoria --help` is the floor (Python,
   the package's imports), measured in the same run. Two `ask` questions: an everyday one
   (no name in it: the audit log pseudonymises it without loading spaCy) and one holding a
   person's name (spaCy's NER loads to mask it). The demo home (BENCH_HOME/demo) is built once.

2. Warm server (target: `ask` p95 <= 150 ms): `territoria serve` over BENCH_HOME/corpus (the
   home bench_ingest.py builds; built here when missing), rate limits off, one client sending
   --questions cdtn-dev questions one after the other to /api/ask then /api/search: p50/p95 as
   the client sees them (HTTP included) and as the server measured them (`latency_ms`, the
   whole request of `Runtime.ask`), and the server's CPU seconds per request.
   When the home must be built, vectors already computed by bench_retrieval.py (its cache,
   --vectors, keyed by a hash of the embedded text) are reused; the others are embedded.

The machine is shared: the load average is printed and stored beside the figures.
Writes bench/results/latency.json.

    .venv/bin/python bench/bench_latency.py [--runs 5] [--questions 200] [--skip-server]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from bench_load import Server, free_port
from common import BENCH_HOME, CORPUS, DATA, progress, read_jsonl, write_result

TERRITORIA = Path(sys.executable).parent / "territoria"
COLD = {
    "help": ["--help"],
    "search": ["search", "tarif cantine"],
    "ask": ["ask", "Combien coûte la cantine ?"],
    "ask_with_a_name": ["ask", "Je suis Marie Dupont : combien coûte la cantine ?"],
}
VECTORS = Path(os.environ.get("TERRITORIA_BENCH_VECTORS", BENCH_HOME / "vectors"))


def clean_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("TERRITORIA_EMBEDDER", "TERRITORIA_TITLE_EMBEDDER", "TERRITORIA_HOME"):
        env.pop(name, None)  # the real default embedders, the home given on the command line
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def percentiles(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(float(np.percentile(values, 50)), 1),
        "p95": round(float(np.percentile(values, 95)), 1),
    }


# --- 1. cold CLI -------------------------------------------------------------------------------


def demo_home(env: dict[str, str]) -> Path:
    home = BENCH_HOME / "demo"
    if not (home / "territoria.sqlite3").exists():
        shutil.rmtree(home, ignore_errors=True)
        print(f"indexing the demo corpus in {home}…", flush=True)
        subprocess.run(
            [str(TERRITORIA), "demo", "--home", str(home), "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return home


def cold_cli(runs: int) -> dict[str, object]:
    env = clean_env()
    home = demo_home(env)
    warm = [str(TERRITORIA), *COLD["ask"], "--home", str(home)]  # the disk cache, not counted
    subprocess.run(warm, env=env, check=True, stdout=subprocess.DEVNULL)
    figures: dict[str, dict[str, object]] = {}
    for name, args in COLD.items():
        walls, cpus = [], []
        for _ in range(runs):
            command = [str(TERRITORIA), *args] + ([] if name == "help" else ["--home", str(home)])
            cpu0, wall0 = children_cpu(), time.perf_counter()
            subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - wall0)
            cpus.append(children_cpu() - cpu0)
        figures[name] = {
            "wall_s": median(walls),
            "cpu_s": median(cpus),
            "wall_runs_s": [round(w, 3) for w in walls],
            "cpu_runs_s": [round(c, 3) for c in cpus],
        }
        print(f"  cold {name:16s} wall {median(walls):6.2f} s   CPU {median(cpus):5.2f} s")
    return {
        "runs": runs,
        "commands": {name: " ".join(args) for name, args in COLD.items()},
        "figures": figures,
        "target_wall_s": 3.0,
    }


# --- 2. warm server -----------------------------------------------------------------------------


def seed_vectors(runtime: object, root: Path) -> int:
    """Copy into the store the vectors bench_retrieval.py cached for these texts."""
    from territoria.runtime import Runtime
    from territoria.search import embedding_text, text_key

    assert isinstance(runtime, Runtime)
    passages = list(runtime.store.iter_passages())
    wanted = {
        "use": {text_key(embedding_text(p)): embedding_text(p) for p in passages},
        "e5": {text_key(p.title): p.title for p in passages},
    }
    copied = 0
    for model, texts in wanted.items():
        folder = root / model
        if not (folder / "keys.json").exists():
            continue
        keys = json.loads((folder / "keys.json").read_text())
        matrix = np.load(folder / "vectors.npy", mmap_mode="r")
        row = {k: i for i, k in enumerate(keys[: len(matrix)])}
        found = {}
        for key, text in texts.items():
            i = row.get(hashlib.sha256(text.encode("utf-8")).hexdigest()[:24])
            if i is not None:
                found[key] = np.asarray(matrix[i], dtype=np.float32)
        runtime.store.put_vectors(model, found)
        copied += len(found)
    return copied


def corpus_home() -> Path:
    from territoria.ingest import ingest_paths
    from territoria.runtime import Runtime
    from territoria.settings import Settings

    home = BENCH_HOME / "corpus"
    if (home / "index" / "stamp.json").exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    print(f"building {home} (5,475 documents)…", flush=True)
    runtime = Runtime(Settings(home=home))
    ingest_paths(CORPUS, settings=runtime.settings, store=runtime.store)
    print(f"  {seed_vectors(runtime, VECTORS)} vectors reused from {VECTORS}", flush=True)
    runtime.refresh(progress("index"))
    runtime.close()
    return home


def server_latency(n_questions: int) -> dict[str, object]:
    home = corpus_home()
    questions = [str(i["question"]) for i in read_jsonl(DATA / "qa" / "cdtn-dev.jsonl")]
    questions = questions[:n_questions]
    env = {**clean_env(), "TERRITORIA_RATE_PER_CLIENT": "0", "TERRITORIA_RATE_PER_TENANT": "0"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = ["-m", "territoria", "serve", "--home", str(home), "--port", str(port)]
    server = Server(command, env, url)
    server.start()
    result: dict[str, object] = {"questions": len(questions)}
    try:
        result["ready_s"] = round(server.wait_ready(timeout=900.0), 1)
        with httpx.Client(base_url=url, timeout=60.0) as client:
            for question in questions[:3]:  # not counted
                client.get("/api/ask", params={"q": question}).raise_for_status()
            for route in ("ask", "search"):
                client_ms, server_ms, abstained = [], [], 0
                cpu0 = server.tree_cpu_s()
                for question in questions:
                    sent = time.perf_counter()
                    response = client.get(f"/api/{route}", params={"q": question})
                    response.raise_for_status()
                    client_ms.append((time.perf_counter() - sent) * 1000)
                    data = response.json()
                    if route == "ask":
                        server_ms.append(float(data["latency_ms"]))
                        abstained += bool(data["abstained"])
                cpu = server.tree_cpu_s() - cpu0
                figures: dict[str, object] = {
                    "client_ms": percentiles(client_ms),
                    "server_cpu_s_per_request": round(cpu / len(questions), 4),
                }
                if route == "ask":
                    figures["server_ms"] = percentiles(server_ms)
                    figures["abstained"] = round(abstained / len(questions), 3)
                result[route] = figures
                print(f"  server {route}: {figures}", flush=True)
        assert server.proc is not None
        result["server_rss_mb"] = round(psutil.Process(server.proc.pid).memory_info().rss / 2**20)
    finally:
        server.stop()
    result["target_ask_p95_ms"] = 150.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="cold runs of each command")
    parser.add_argument("--questions", type=int, default=200, help="questions to the server")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    result: dict[str, object] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    print(f"load average {result['load_average_before']} (2 cores)", flush=True)
    if not args.skip_cli:
        result["cold_cli"] = cold_cli(args.runs)
    if not args.skip_server:
        result["server"] = server_latency(args.questions)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(__file__).resolve().parent / "results" / "latency.json"
    if out.exists():  # keep the part not rerun
        result = {**json.loads(out.read_text(encoding="utf-8")), **result}
    write_result("latency", result)


if __name__ == "__main__":
    main()
