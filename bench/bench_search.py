"""Search latency in the server, on the 5,475-doc corpus, query embeddings included.

Starts `territoria serve` (one process, the default settings and embedders) on a free
loopback port over the home built by bench_ingest.py ($TERRITORIA_BENCH_HOME/corpus), then
sends the cdtn-dev questions to POST /api/search (k = 10) one at a time (a single client: the
latency of one search, not of a queue) and reports p50/p95 of the wall time seen by the
client, and the server's CPU time per search (psutil, the whole process tree), since a shared
machine's wall time is noisy. Rate limits are off for the run.

A second part, in this process, splits one search into its steps over the same home (median
milliseconds of CPU): query rewriting, query embedding, the index's candidate gathering and
fusion, and reading the passages from the store.

    .venv/bin/python bench/bench_search.py [--n 500]

Writes bench/results/search.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import httpx
import numpy as np

from bench_load import Server, free_port
from common import BENCH_HOME, DATA, read_jsonl, write_result
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access

HOME = BENCH_HOME / "corpus"
QA = DATA / "qa" / "cdtn-dev.jsonl"


def steps(questions: list[str]) -> dict[str, float]:
    """Median CPU milliseconds of each step of `Retriever.search_documents`."""
    runtime = Runtime(Settings(home=HOME))
    retriever = runtime.retriever
    index = retriever.index()
    access = Access(role="public")
    retriever.search_documents("échauffement", k=10, access=access)
    timings: dict[str, list[float]] = {"rewrite": [], "embed": [], "index": [], "store": []}
    for question in questions:
        c = time.process_time()
        query = retriever.query(question)
        timings["rewrite"].append(time.process_time() - c)
        c = time.process_time()
        qv, tv = retriever._query_vectors(query.dense_text)
        timings["embed"].append(time.process_time() - c)
        c = time.process_time()
        found = index.search_documents(
            query, k=10, access=access, query_vector=qv, title_query_vector=tv
        )
        timings["index"].append(time.process_time() - c)
        c = time.process_time()
        retriever._hits(found, access)
        timings["store"].append(time.process_time() - c)
    runtime.close()
    return {name: round(1000 * statistics.median(v), 2) for name, v in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="questions sent")
    args = parser.parse_args()
    if not (HOME / "territoria.sqlite3").exists():
        raise SystemExit(f"no corpus in {HOME}: run bench/bench_ingest.py first")
    questions = [str(q["question"]) for q in read_jsonl(QA)][: args.n]
    env = {
        **os.environ,
        "TERRITORIA_RATE_PER_CLIENT": "0",
        "TERRITORIA_RATE_PER_TENANT": "0",
    }
    for name in ("TERRITORIA_EMBEDDER", "TERRITORIA_TITLE_EMBEDDER", "TERRITORIA_WARM_UP"):
        env.pop(name, None)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = Server(
        ["-m", "territoria", "serve", "--home", str(HOME), "--port", str(port)], env, url
    )
    server.start()
    try:
        ready_s = server.wait_ready()
        with httpx.Client(base_url=url, timeout=30.0) as client:
            for question in questions[:20]:  # warm the caches of the first requests
                client.post("/api/search", json={"query": question, "k": 10})
            cpu0 = server.tree_cpu_s()
            wall: list[float] = []
            errors = 0
            for question in questions:
                start = time.perf_counter()
                response = client.post("/api/search", json={"query": question, "k": 10})
                wall.append(1000 * (time.perf_counter() - start))
                errors += response.status_code != 200
            cpu = server.tree_cpu_s() - cpu0
    finally:
        server.stop()
    result = {
        "home": str(HOME),
        "questions": len(questions),
        "errors": errors,
        "ready_s": round(ready_s, 1),
        "wall_ms": {
            "p50": round(float(np.percentile(wall, 50)), 1),
            "p95": round(float(np.percentile(wall, 95)), 1),
        },
        "server_cpu_ms_per_search": round(1000 * cpu / len(questions), 2),
        "steps_cpu_ms_median": steps(questions[:200]),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "target": {"p95_ms_max": 30},
        "python": sys.version.split()[0],
    }
    print(
        f"{len(questions)} searches: p50 {result['wall_ms']['p50']} ms, "
        f"p95 {result['wall_ms']['p95']} ms (target <= 30), server CPU "
        f"{result['server_cpu_ms_per_search']} ms per search, errors {errors}; load average "
        f"{result['load_average_1min']}; steps (median CPU ms) {result['steps_cpu_ms_median']}"
    )
    write_result("search", result)


if __name__ == "__main__":
    main()
