"""Latency of a question: a cold CLI on the demo home, and a warm server on the 5,475-doc corpus.

1. Cold CLI (targets: `ask` and `search` under 3 s of wall time on 2 cores): each command run
   --runs times as a new process, `python -m territoria ... --home DEMO`; median wall and CPU
   seconds (user + system of the child). `territoria --help` is the floor (Python, the
   package's imports), measured in the same run. Three `ask` questions: a plain one (no
   name in it: the audit log pseudonymises it without loading spaCy), one holding a
   person's name (spaCy's NER loads to mask it), and one in words the documents never use
   (the speller's French list and the word vectors load). The demo home (BENCH_HOME/demo)
   is built once.
   `--baseline DIR` runs the same commands, interleaved, with the package's source from DIR
   (e.g. `git archive <commit> src | tar -x -C DIR`) on its own demo home, and prints the ratio:
   the machine is shared, so only figures taken side by side compare.

2. Warm server (target: `ask` p95 <= 150 ms): `territoria serve` over BENCH_HOME/corpus (the
   home bench_ingest.py builds; built here when missing), rate limits off, one client sending
   --questions cdtn-dev questions one after the other to /api/ask then /api/search: p50/p95 as
   the client sees them (HTTP included) and as the server measured them (`latency_ms`, the
   whole request of `Runtime.ask`), and the server's CPU seconds per request. Then the same
   questions through `Runtime.ask` in this process: wall and thread CPU of each request.
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
from typing import Any

import httpx
import numpy as np
import psutil

from bench_load import Server, free_port
from common import BENCH_HOME, CORPUS, DATA, progress, read_jsonl, write_result

COLD = {
    "help": ["--help"],
    "search": ["search", "tarif cantine"],
    "ask": ["ask", "Combien coûte la cantine ?"],
    "ask_with_a_name": ["ask", "Je suis Marie Dupont : combien coûte la cantine ?"],
    # words the demo's documents never use: spelling correction, then word vectors
    "ask_everyday_words": ["ask", "les flics municipaux sont ouverts le samedi ?"],
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


def demo_home(env: dict[str, str], name: str) -> Path:
    home = BENCH_HOME / name
    if not (home / "territoria.sqlite3").exists():
        shutil.rmtree(home, ignore_errors=True)
        print(f"indexing the demo corpus in {home}…", flush=True)
        subprocess.run(
            [sys.executable, "-m", "territoria", "demo", "--home", str(home), "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return home


def run_cold(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `python -m territoria COMMAND`."""
    cpu0, wall0 = children_cpu(), time.perf_counter()
    command = [sys.executable, "-m", "territoria", *command]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - wall0, children_cpu() - cpu0


def cold_cli(runs: int, baseline: Path | None) -> dict[str, object]:
    versions = {"current": clean_env()}
    if baseline is not None:
        versions["baseline"] = {**clean_env(), "PYTHONPATH": str(baseline / "src")}
    homes = {
        version: demo_home(env, "demo" if version == "current" else "demo-baseline")
        for version, env in versions.items()
    }
    for version, env in versions.items():  # the disk cache and any index upgrade, not counted
        run_cold([*COLD["ask"], "--home", str(homes[version])], env)
    times: dict[str, dict[str, list[tuple[float, float]]]] = {v: {} for v in versions}
    for _ in range(runs):
        for name, args in COLD.items():
            for version, env in versions.items():  # interleaved: the same load for both
                home = [] if name == "help" else ["--home", str(homes[version])]
                times[version].setdefault(name, []).append(run_cold([*args, *home], env))
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    for version, by_name in times.items():
        figures[version] = {}
        for name, pairs in by_name.items():
            walls, cpus = [w for w, _ in pairs], [c for _, c in pairs]
            figures[version][name] = {
                "wall_s": median(walls),
                "cpu_s": median(cpus),
                "wall_runs_s": [round(w, 3) for w in walls],
                "cpu_runs_s": [round(c, 3) for c in cpus],
            }
    for name in COLD:
        now = figures["current"][name]
        line = f"  cold {name:16s} wall {now['wall_s']:6.2f} s   CPU {now['cpu_s']:5.2f} s"
        if "baseline" in figures:
            before = figures["baseline"][name]
            line += (
                f"   (baseline wall {before['wall_s']:6.2f} s, CPU {before['cpu_s']:5.2f} s: "
                f"CPU x{now['cpu_s'] / before['cpu_s']:.2f})"
            )
        print(line, flush=True)
    return {
        "runs": runs,
        "commands": {name: " ".join(args) for name, args in COLD.items()},
        "figures": figures,
        "baseline_source": str(baseline) if baseline else None,
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


def in_process(home: Path, questions: list[str]) -> dict[str, object]:
    """`Runtime.ask` in this process, warm: wall and thread CPU of each request. On a machine
    shared with other jobs, the CPU time is what a quiet machine's latency would be (plus the
    audit log's fsync)."""
    from territoria.runtime import Runtime
    from territoria.settings import Settings

    runtime = Runtime(Settings(home=home))
    runtime.warm_up()
    for question in questions[:3]:
        runtime.ask(question)
    wall_ms, cpu_ms = [], []
    for question in questions:
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        runtime.ask(question)
        wall_ms.append((time.perf_counter() - wall0) * 1000)
        cpu_ms.append((time.thread_time() - cpu0) * 1000)
    runtime.close()
    result = {"wall_ms": percentiles(wall_ms), "cpu_ms": percentiles(cpu_ms)}
    print(f"  in-process ask: {result}", flush=True)
    return result


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
                client.post("/api/ask", json={"question": question}).raise_for_status()
            for route in ("ask", "search"):
                client_ms, server_ms, abstained = [], [], 0
                cpu0 = server.tree_cpu_s()
                for question in questions:
                    sent = time.perf_counter()
                    body = {"question": question} if route == "ask" else {"query": question}
                    response = client.post(f"/api/{route}", json=body)
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
    result["in_process_ask"] = in_process(home, questions)
    result["target_ask_p95_ms"] = 150.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="cold runs of each command")
    parser.add_argument("--questions", type=int, default=200, help="questions to the server")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="a source tree (DIR/src) to compare with"
    )
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    result: dict[str, object] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    print(f"load average {result['load_average_before']} (2 cores)", flush=True)
    if not args.skip_cli:
        result["cold_cli"] = cold_cli(args.runs, args.baseline)
    if not args.skip_server:
        result["server"] = server_latency(args.questions)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(__file__).resolve().parent / "results" / "latency.json"
    if out.exists():  # keep the part not rerun
        result = {**json.loads(out.read_text(encoding="utf-8")), **result}
    write_result("latency", result)


if __name__ == "__main__":
    main()
