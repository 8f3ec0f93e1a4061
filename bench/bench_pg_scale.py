"""Scale: the embedded default and PostgreSQL at 100k and 1M passages, and a load test with one
and two `territoria serve` replicas on PostgreSQL.

Corpus, enlarged by a stated, reproducible method. The base is the real cdtn corpus of
bench_retrieval (service-public + travail-emploi: 5,475 documents, 48,961 passages) with its
real vectors (USE passages, e5 titles, from bench_retrieval's cache: embedding a million
passages on this CPU would take days). Copy c = 1, 2, ... of document d is document `d~c`:
each passage keeps its length and about 85 % of its words, the other 15 % (chosen with
`random.Random(hash of (c, passage))`) replaced by words drawn from another passage of the base;
its vector is the base vector plus Gaussian noise of standard deviation 0.35/sqrt(dim),
re-normalised (cosine to the original about 0.94), and the copy's title vector likewise.
Copies are added until the size is reached (the last document may be cut).

Per size and backend, in a fresh process (clean memory figures): ingestion time (store writes,
vectors, index build: BM25 + vectors in memory for the embedded default; postings, HNSW for
PostgreSQL), index size on disk, peak RSS of the process (and RSS of the PostgreSQL server),
and search p50/p95 over 200 cdtn questions (`search_documents`, agent access, query vectors
computed once beforehand: the same for both).

Load (PostgreSQL, largest size loaded): 40 closed-loop clients on /api/ask for 60 s against one
replica, then two (clients spread over both, as a round-robin balancer would), on loopback;
errors, p50/p95, throughput and its ratio, CPU seconds of the replicas and of PostgreSQL.

    TERRITORIA_BENCH_HOME=/tmp/tb-pg TERRITORIA_BENCH_VECTORS=/tmp/tb-pg/vectors \\
      nice .venv/bin/python bench/bench_pg_scale.py [--sizes 100000 1000000] [--load-seconds 60]

Writes bench/results/pg_scale.json after every step (a long run leaves what it measured).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

from bench_pg_search import server_cpu as postgres_cpu
from bench_pg_search import server_cpu_since as postgres_cpu_since
from bench_pg_search import server_processes
from bench_retrieval import CACHE, QA, VectorCache, load_documents, percentile
from common import BENCH_HOME, RESULTS, read_jsonl, write_result
from territoria.embed import Matrix, make_embedder, normalize
from territoria.ingest import to_passages
from territoria.search import embedding_text, text_key, vector_key
from territoria.settings import Settings
from territoria.store import StoredDocument
from territoria.types import Access, Passage

WORK = BENCH_HOME / "pg-scale"
NOISE = 0.35
SWAP = 0.15
QUESTIONS = 200
KEYS = {
    "TERRITORIA_PII_KEY": "5d1f8b3a7c9e2046b1d3f5a7c9e1b3d5",
    "TERRITORIA_SECRET_KEY": "9a7c5e3b1d2f4068a0c2e4f6b8d0a2c4",
}


# --- the enlarged corpus ------------------------------------------------------------------


def base(settings: Settings) -> tuple[list[Passage], Matrix, Matrix]:
    passages: list[Passage] = []
    for doc in load_documents(settings):
        assert doc.doc_id is not None
        passages.extend(to_passages(doc.doc_id, doc, settings))
    embedder = make_embedder(settings)
    titler = make_embedder(settings.model_copy(update={"embedder": settings.title_embedder}))
    assert embedder is not None and titler is not None
    vectors = VectorCache(embedder.name, CACHE).get(
        [embedding_text(p) for p in passages], embedder.embed_passages
    )[0]
    titles = VectorCache(titler.name, CACHE).get(
        [p.title for p in passages], titler.embed_passages
    )[0]
    return passages, normalize(vectors), normalize(titles)


def enlarged(
    passages: list[Passage], vectors: Matrix, titles: Matrix, size: int
) -> Iterator[tuple[Passage, Matrix, Matrix]]:
    """`size` passages: the base, then its perturbed copies (see the module)."""
    words = [p.text.split() for p in passages]
    made, copy = 0, 0
    while made < size:
        noise = np.random.default_rng(copy)
        for i, p in enumerate(passages):
            if made >= size:
                return
            if copy == 0:
                yield p, vectors[i], titles[i]
            else:
                rnd = random.Random(f"{copy}:{i}")
                own, other = list(words[i]), words[rnd.randrange(len(words))]
                for j in range(len(own)):
                    if other and rnd.random() < SWAP:
                        own[j] = other[rnd.randrange(len(other))]
                doc = f"{p.doc_id}~{copy}"
                vec = vectors[i] + noise.normal(
                    0, NOISE / np.sqrt(vectors.shape[1]), vectors.shape[1]
                )
                tnoise = np.random.default_rng(hash((copy, p.doc_id)) & 0xFFFFFFFF)
                tvec = titles[i] + tnoise.normal(
                    0, NOISE / np.sqrt(titles.shape[1]), titles.shape[1]
                )
                yield (
                    Passage(
                        passage_id=f"{doc}#{p.passage_id.rsplit('#', 1)[-1]}",
                        doc_id=doc, title=p.title, text=" ".join(own), headings=p.headings,
                    ),
                    normalize(vec.astype(np.float32))[0],
                    normalize(tvec.astype(np.float32))[0],
                )  # fmt: skip
            made += 1
        copy += 1


def query_vectors(settings: Settings, *, warm: bool = False) -> list[tuple[str, Matrix, Matrix]]:
    """The measured questions (the first QUESTIONS of cdtn-dev), or with `warm` the next
    QUESTIONS, searched before the measure and not counted (other questions than the
    measured ones: a serving process's caches, not the measured questions' own pages)."""
    path = WORK / ("warm.npz" if warm else "queries.npz")
    qa = read_jsonl(QA)[QUESTIONS : 2 * QUESTIONS] if warm else read_jsonl(QA)[:QUESTIONS]
    if not path.exists():
        embedder = make_embedder(settings)
        titler = make_embedder(settings.model_copy(update={"embedder": settings.title_embedder}))
        assert embedder is not None and titler is not None
        texts = [str(q["question"]) for q in qa]
        np.savez(path, q=embedder.embed_queries(texts), t=titler.embed_queries(texts))
    with np.load(path) as data:
        return [
            (str(q["question"]), data["q"][i : i + 1], data["t"][i : i + 1])
            for i, q in enumerate(qa)
        ]


def directory_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def timed_search(
    index: Any,
    queries: list[tuple[str, Matrix, Matrix]],
    dsn: str = "",
    *,
    warm: Sequence[tuple[str, Matrix, Matrix]] = (),
    rankings: list[list[str]] | None = None,
) -> dict[str, float]:
    """Search p50/p95 wall and CPU (this process; with `dsn`, the database's backends too)
    over `queries`, after searching `warm` (not counted); each query's ranked documents
    are appended to `rankings` when given."""
    access, times = Access(role="agent"), []
    for question, qv, tv in warm:
        index.search_documents(
            question, k=10, access=access, query_vector=qv, title_query_vector=tv
        )
    cpu, server0 = time.process_time(), postgres_cpu(dsn, database=True) if dsn else {}
    for question, qv, tv in queries:
        start = time.perf_counter()
        hits = index.search_documents(
            question, k=10, access=access, query_vector=qv, title_query_vector=tv
        )
        times.append((time.perf_counter() - start) * 1000)
        if rankings is not None:
            rankings.append([h.passage_id.rsplit("#", 1)[0] for h in hits])
    client = time.process_time() - cpu
    out = {
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "client_cpu_s": round(client, 2),
        "client_cpu_ms_per_search": round(client * 1000 / len(times), 1),
        "searches": len(times),
        "warm_searches": len(warm),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    if dsn:  # the client backends of the bench's database (not autovacuum, not others)
        server = postgres_cpu_since(dsn, server0, database=True)
        out["server_cpu_s"] = server
        out["server_cpu_ms_per_search"] = round(server * 1000 / len(times), 1)
    return out


def quality(rankings: list[list[str]]) -> dict[str, float]:
    """nDCG@10 of the measured questions' rankings against cdtn-dev's relevant documents:
    strict (a copy `d~c` is another document, not relevant), and with copies counted as
    their base document (`copies_relevant`: each base once, in its first place)."""
    from territoria.evaluation.retrieval import retrieval_metrics

    qa = read_jsonl(QA)[:QUESTIONS]
    based = [list(dict.fromkeys(doc.split("~", 1)[0] for doc in r))[:10] for r in rankings]
    return {
        "ndcg@10": round(retrieval_metrics(_by_id(qa, rankings), qa)["ndcg@10"], 4),
        "ndcg@10_copies_relevant": round(retrieval_metrics(_by_id(qa, based), qa)["ndcg@10"], 4),
    }


def _by_id(qa: list[dict[str, Any]], rankings: list[list[str]]) -> dict[str, list[str]]:
    return {str(q["id"]): r for q, r in zip(qa, rankings, strict=True)}


def agreement(rankings: list[list[str]], other: list[list[str]]) -> float:
    """Mean share of the top-10 documents two rankings of the same questions have in common."""
    shares = [len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(rankings, other, strict=True)]
    return round(float(np.mean(shares)), 4)


# --- one measurement per process ------------------------------------------------------------


def one(
    backend: str, size: int, dsn: str, *, reuse: bool = False, variants: str = ""
) -> dict[str, Any]:
    settings = Settings(home=WORK / f"{backend}-{size}")
    if not reuse:
        shutil.rmtree(settings.home, ignore_errors=True)
    passages, vectors, titles = base(settings)
    queries = query_vectors(settings)
    warm = query_vectors(settings, warm=True)
    embedder_name = make_embedder(settings).name  # type: ignore[union-attr]
    title_name = make_embedder(
        settings.model_copy(update={"embedder": settings.title_embedder})
    ).name  # type: ignore[union-attr]
    settings = settings.model_copy(update={"embedder": embedder_name, "title_embedder": title_name})
    rss_before = psutil.Process().memory_info().rss / 2**20
    started, cpu = time.perf_counter(), time.process_time()
    out: dict[str, Any] = {"backend": backend, "passages": size}
    if backend == "embedded":
        from territoria.search.index import SearchIndex
        from territoria.store.sqlite import SQLiteStore

        store = SQLiteStore(settings.db_path)
        rows, vrows, trows = [], [], []
        current: list[Passage] = []
        for p, v, t in enlarged(passages, vectors, titles, size):
            if current and current[0].doc_id != p.doc_id:
                store.put_document(
                    StoredDocument(current[0].doc_id, current[0].title, "", "h"), current
                )
                current = []
            current.append(p)
            rows.append(p)
            vrows.append(v)
            trows.append(t)
        store.put_document(StoredDocument(current[0].doc_id, current[0].title, "", "h"), current)
        store.put_vectors(
            embedder_name, dict(zip((vector_key(p) for p in rows), vrows, strict=True))
        )
        out["store_s"] = round(time.perf_counter() - started, 1)
        t0 = time.perf_counter()
        index = SearchIndex.build(
            rows, np.asarray(vrows), settings, title_vectors=np.asarray(trows)
        )
        index.save(settings.index_dir)
        out["index_s"] = round(time.perf_counter() - t0, 1)
        out["ingest_s"] = round(time.perf_counter() - started, 1)
        out["ingest_cpu_s"] = round(time.process_time() - cpu, 1)
        out["index_mb"] = directory_mb(settings.index_dir)
        out["database_mb"] = round(settings.db_path.stat().st_size / 2**20, 1)
        del rows, vrows, trows
        loaded = SearchIndex.load(settings.index_dir)
        out["search"] = timed_search(loaded, queries, warm=warm)
        store.close()
    elif reuse:  # the database a previous run loaded: search only
        from territoria.search.postgres import PostgresIndex
        from territoria.store.postgres import PostgresStore

        store = PostgresStore(dsn)
        index = PostgresIndex(settings, store.db, model=embedder_name, title_model=title_name)
        (rows,) = store.db.execute("SELECT count(*) FROM search_rows").fetchone()
        if rows != size:
            raise SystemExit(f"--reuse: {rows} passages indexed in {dsn}, not {size}")
        postgres_search(out, store, index, settings, (queries, warm), dsn, variants)
    else:
        from territoria.search.postgres import PostgresIndex
        from territoria.store.postgres import PostgresStore

        store = PostgresStore(dsn)
        server0 = postgres_cpu(dsn)
        current = []
        vec_batch: dict[str, Matrix] = {}
        title_batch: dict[str, Matrix] = {}
        for p, v, t in enlarged(passages, vectors, titles, size):
            if current and current[0].doc_id != p.doc_id:
                store.put_document(
                    StoredDocument(current[0].doc_id, current[0].title, "", "h"), current
                )
                current = []
            current.append(p)
            vec_batch[vector_key(p)] = v
            title_batch[text_key(f"{p.title}\x1f{p.doc_id}")] = t
            if len(vec_batch) >= 5000:
                store.put_vectors(embedder_name, vec_batch)
                vec_batch = {}
        store.put_document(StoredDocument(current[0].doc_id, current[0].title, "", "h"), current)
        store.put_vectors(embedder_name, vec_batch)
        store.put_vectors(title_name, title_batch)
        out["store_s"] = round(time.perf_counter() - started, 1)
        index = PostgresIndex(settings, store.db, model=embedder_name, title_model=title_name)
        t0 = time.perf_counter()
        index.sync(lambda p: (vector_key(p), text_key(f"{p.title}\x1f{p.doc_id}")))
        out["postings_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        index.ensure_vector_index(embedder_name, vectors.shape[1])
        index.ensure_vector_index(title_name, titles.shape[1])
        out["hnsw_s"] = round(time.perf_counter() - t0, 1)
        out["ingest_s"] = round(time.perf_counter() - started, 1)
        out["ingest_cpu_s"] = round(time.process_time() - cpu, 1)
        out["ingest_server_cpu_s"] = postgres_cpu_since(dsn, server0)
        postgres_search(out, store, index, settings, (queries, warm), dsn, variants)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["base_rss_mb"] = round(rss_before, 1)
    return out


def postgres_search(
    out: dict[str, Any],
    store: Any,
    index: Any,
    settings: Settings,
    questions: tuple[list[tuple[str, Matrix, Matrix]], list[tuple[str, Matrix, Matrix]]],
    dsn: str,
    variants: str = "",
) -> None:
    """Sizes, search timings and server memory of a loaded PostgreSQL database, into `out`;
    `variants` ("pg_candidates=100;pg_candidate_documents=30"): the same search under
    other settings after it, with its agreement@10 with the default's rankings."""
    from bench_pg_search import _overrides
    from territoria.search.postgres import PostgresIndex

    queries, warm = questions
    sizes = store.db.execute(
        "SELECT pg_database_size(current_database()),"
        " pg_total_relation_size('search_postings'), pg_total_relation_size('vectors'),"
        " pg_total_relation_size('passages')"
    ).fetchone()
    out["database_mb"], out["postings_mb"], out["vectors_mb"], out["passages_mb"] = (
        round(x / 2**20, 1) for x in sizes
    )
    index.load(store.generation())
    rankings: list[list[str]] = []
    out["search"] = timed_search(index, queries, dsn, warm=warm, rankings=rankings)
    out["search"].update(quality(rankings))
    out["search"]["ef_search"] = settings.pg_ef_search
    out["search"]["pg_candidates"] = settings.pg_candidates
    out["search"]["pg_candidate_documents"] = settings.pg_candidate_documents
    out["search_variants"] = {}
    for variant in filter(None, variants.split(";")):
        other = PostgresIndex(
            settings.model_copy(update=_overrides(variant)), store.db,
            model=index.model, title_model=index.title_model,
        )  # fmt: skip
        other.load(store.generation())
        found: list[list[str]] = []
        figures = timed_search(other, queries, dsn, rankings=found)
        figures["agreement_at_10"] = agreement(found, rankings)
        figures.update(quality(found))
        out["search_variants"][variant] = figures
        print(variant, figures, file=sys.stderr, flush=True)
    out["hnsw"] = {"m": settings.pg_hnsw_m, "ef_construction": settings.pg_hnsw_ef_construction}
    out["postgres_rss_mb"] = postgres_rss_mb(dsn)
    store.close()


def postgres_rss_mb(dsn: str) -> float:
    total = 0
    for proc in server_processes(dsn):
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return round(total / 2**20, 1)


# --- load: one and two replicas --------------------------------------------------------------


def start_replica(name: str, dsn: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **KEYS,
        "TERRITORIA_STORE": "postgres",
        "TERRITORIA_POSTGRES_DSN": dsn,
        "TERRITORIA_RATE_PER_CLIENT": "0",
        "TERRITORIA_RATE_PER_TENANT": "0",
        "TERRITORIA_ABSTAIN_THRESHOLD": "0.3",  # no calibration run at start (minutes at 1M)
    }
    home = WORK / f"replica-{name}"
    return subprocess.Popen(
        [sys.executable, "-m", "territoria", "serve", "--home", str(home), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_ready(url: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"replica {url} not ready")


async def load(urls: list[str], clients: int, seconds: float) -> dict[str, Any]:
    qa = [str(q["question"]) for q in read_jsonl(QA)[:QUESTIONS]]
    latencies: list[float] = []
    errors: list[str] = []
    pools = [
        httpx.AsyncClient(base_url=u, timeout=60, limits=httpx.Limits(max_connections=clients))
        for u in urls
    ]

    async def client(i: int, deadline: float) -> None:
        http, n = pools[i % len(pools)], i * 7
        while time.monotonic() < deadline:
            sent = time.monotonic()
            try:
                r = await http.post("/api/ask", json={"question": qa[n % len(qa)]})
                if r.status_code != 200:
                    errors.append(str(r.status_code))
                else:
                    latencies.append((time.monotonic() - sent) * 1000)
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            n += 1

    await asyncio.gather(*(client(i, time.monotonic() + 10) for i in range(clients)))  # warm
    latencies.clear()
    errors.clear()
    started = time.monotonic()
    await asyncio.gather(*(client(i, started + seconds) for i in range(clients)))
    wall = time.monotonic() - started
    for pool in pools:
        await pool.aclose()
    values = np.asarray(latencies or [0.0])
    return {
        "replicas": len(urls),
        "clients": clients,
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "throughput_rps": round(len(latencies) / wall, 2),
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "wall_s": round(wall, 1),
    }


def load_test(dsn: str, clients: int, seconds: float) -> dict[str, Any]:
    from bench_load import free_port

    out: dict[str, Any] = {}
    for n in (1, 2):
        ports = [free_port() for _ in range(n)]
        procs = [start_replica(str(i), dsn, port) for i, port in enumerate(ports)]
        try:
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            for url in urls:
                wait_ready(url)
            cpu0 = [psutil.Process(p.pid).cpu_times() for p in procs]
            pg0 = postgres_cpu(dsn)
            result = asyncio.run(load(urls, clients, seconds))
            result["replica_cpu_s"] = round(
                sum(
                    psutil.Process(p.pid).cpu_times().user
                    + psutil.Process(p.pid).cpu_times().system
                    - c.user
                    - c.system
                    for p, c in zip(procs, cpu0, strict=True)
                ),
                1,
            )
            result["postgres_cpu_s"] = postgres_cpu_since(dsn, pg0)
            served = max(1, result["requests"] - result["errors"])
            result["cpu_ms_per_request"] = {
                "replicas": round(result["replica_cpu_s"] * 1000 / served, 1),
                "postgres": round(result["postgres_cpu_s"] * 1000 / served, 1),
            }
            result["load_average_1min"] = round(os.getloadavg()[0], 2)
            out[f"{n}_replica{'s' if n > 1 else ''}"] = result
            print("load", result, flush=True)
        finally:
            for p in procs:
                os.killpg(p.pid, 15)
                p.wait(timeout=60)
    one_, two = out["1_replica"], out["2_replicas"]
    out["throughput_ratio"] = round(two["throughput_rps"] / max(one_["throughput_rps"], 1e-9), 2)
    per_request = [
        sum(run["cpu_ms_per_request"].values()) for run in (one_, two)
    ]  # replicas + PostgreSQL, CPU ms per answered request
    out["cpu_ms_per_request_ratio"] = round(per_request[1] / max(per_request[0], 1e-9), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--one", choices=("embedded", "postgres"))
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--dsn", default=os.environ.get("TERRITORIA_BENCH_PG_DSN", ""))
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--load-size", type=int, default=100_000, help="0: no load test")
    parser.add_argument("--backends", nargs="+", default=["embedded", "postgres"])
    parser.add_argument(
        "--result", default="pg_scale", help="bench/results/NAME.json (pg_scale-1m: the 1M run)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: search (and load-test) the databases an earlier run loaded on the"
        " same server (--dsn) instead of loading them again; the ingestion figures are kept",
    )
    parser.add_argument(
        "--variants",
        default="",
        help="PostgreSQL: the same search under other settings too, ';' between variants"
        " ('pg_candidates=100;pg_candidate_documents=30'), with agreement@10",
    )
    parser.add_argument(
        "--title-recall",
        default="",
        help="with --reuse: ANN recall@10 of the title graph at these ef_search values"
        " ('400,300,200'), into title_recall_SIZE",
    )
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.one:
        found = one(args.one, args.size, args.dsn, reuse=args.reuse, variants=args.variants)
        print(json.dumps(found), flush=True)
        return
    from bench_pg_search import postgres

    previous = RESULTS / f"{args.result}.json"
    result: dict[str, Any] = {
        "method": {
            "base": "cdtn corpus, 48,961 passages, real vectors",
            "swap": SWAP,
            "noise": NOISE,
        },
        "runs": [],
        "load_average_1min_start": round(os.getloadavg()[0], 2),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        },
    }
    if previous.exists():  # other sizes and backends measured before are kept
        kept = json.loads(previous.read_text(encoding="utf-8"))
        result = {**kept, **{k: v for k, v in result.items() if k != "runs"}}
        result.setdefault("runs", [])
    with postgres(args.dsn) as server:
        for size in args.sizes:
            for backend in args.backends:
                skip = too_big(result["runs"], backend, size)
                if skip:
                    result["runs"].append({"backend": backend, "passages": size, "skipped": skip})
                    print(backend, size, "skipped:", skip, flush=True)
                    write_result(args.result, result)
                    continue
                reuse = args.reuse and backend == "postgres"
                dsn = ""
                if backend == "postgres":
                    dsn = fresh_database(server, size, create=not reuse)
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, __file__, "--one", backend, "--size", str(size), "--dsn", dsn,
                     *(["--reuse"] if reuse else []), "--variants", args.variants],
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
                before = [
                    r for r in result["runs"] if (r["backend"], r["passages"]) == (backend, size)
                ]
                result["runs"] = [r for r in result["runs"] if r not in before]
                if done.returncode != 0:
                    print(done.stderr[-3000:], flush=True)
                    result["runs"].append(
                        {"backend": backend, "passages": size, "failed": done.stderr[-500:],
                         "after_s": round(time.perf_counter() - started)}
                    )  # fmt: skip
                else:
                    run = json.loads(done.stdout.strip().splitlines()[-1])
                    if reuse and before:  # the ingestion of the run that loaded it, this search
                        searched = ("search", "search_variants", "postgres_rss_mb",
                                    "database_mb", "postings_mb", "vectors_mb",
                                    "passages_mb")  # fmt: skip
                        run = {
                            **before[0],
                            **{k: run[k] for k in searched if k in run},
                            "search_before": before[0].get("search"),
                            "search_peak_rss_mb": run.get("peak_rss_mb"),
                        }
                    result["runs"].append(run)
                    print(run, flush=True)
                write_result(args.result, result)
            if args.title_recall and "postgres" in args.backends:
                result[f"title_recall_{size}"] = title_recall(
                    fresh_database(server, size, create=False),
                    [int(x) for x in args.title_recall.split(",")],
                )
                write_result(args.result, result)
            if size == args.load_size and "postgres" in args.backends:
                result[f"load_{size}"] = load_test(
                    fresh_database(server, size, create=False), args.clients, args.load_seconds
                )
                write_result(args.result, result)
            if "postgres" in args.backends and size != args.sizes[-1] and not args.reuse:
                drop_database(server, size)  # the disk for the next size
    result["growth"] = growth(result["runs"])
    result["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    write_result(args.result, result)


def title_recall(dsn: str, efs: list[int]) -> dict[str, Any]:
    """ANN recall@10 of the title graph (search_titles' HNSW) against exact cosine search over
    every title vector of the database, per hnsw.ef_search, on all cdtn-dev questions and
    their two theme halves (bench_pg_search's split), with the HNSW query's wall p50."""
    import psycopg
    from pgvector.psycopg import register_vector

    from bench_pg_search import cached_query_vectors, split_themes
    from territoria.search.postgres import _literal

    settings = Settings(home=WORK / "title-recall")
    titler = make_embedder(settings.model_copy(update={"embedder": settings.title_embedder}))
    assert titler is not None
    qa = read_jsonl(QA)
    tune, held = split_themes(qa)
    queries = cached_query_vectors(titler, qa)
    out: dict[str, Any] = {"model": titler.name, "questions": len(qa), "per_ef_search": {}}
    with psycopg.connect(dsn) as conn:
        register_vector(conn)
        rows = conn.execute(
            "SELECT key, vector FROM search_titles WHERE model = %s", (titler.name,)
        ).fetchall()
        keys = [k for k, _ in rows]
        unit = normalize(np.asarray([np.asarray(v.to_numpy()) for _, v in rows], np.float32))
        del rows
        out["titles"], dim = len(keys), unit.shape[1]
        for ef in efs:
            recall, times = {}, []
            with conn.transaction():
                conn.execute(f"SET LOCAL hnsw.ef_search = {int(ef)}")
                conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                for q in qa:
                    vector = queries[str(q["id"])][0]
                    exact = {keys[i] for i in np.argsort(-(unit @ normalize(vector)[0]))[:10]}
                    start = time.perf_counter()
                    found = conn.execute(
                        "SELECT key FROM search_titles WHERE model = %s ORDER BY"
                        f" (vector::vector({dim})) <=> %s::vector({dim}) LIMIT 10",
                        (titler.name, _literal(vector)),
                    ).fetchall()
                    times.append((time.perf_counter() - start) * 1000)
                    recall[str(q["id"])] = len(exact & {k for (k,) in found}) / 10
            figures = {
                name: round(float(np.mean([recall[str(q["id"])] for q in qa if keep(q)])), 4)
                for name, keep in (
                    ("all", lambda q: True),
                    ("tune", lambda q: q["theme"] in tune),
                    ("held", lambda q: q["theme"] in held),
                )
            }
            out["per_ef_search"][str(ef)] = {**figures, "p50_ms": round(percentile(times, 50), 2)}
            print("titles ef_search", ef, out["per_ef_search"][str(ef)], flush=True)
    return out


def too_big(runs: list[dict[str, Any]], backend: str, size: int) -> str:
    """Why a run would not fit this machine's memory (peak RSS grows about linearly with
    the passages: extrapolated from the last run of the backend), or ''."""
    done = [r for r in runs if r.get("backend") == backend and "peak_rss_mb" in r]
    if not done:
        return ""
    last = done[-1]
    per_passage = (last["peak_rss_mb"] - last["base_rss_mb"]) / last["passages"]
    expected = last["base_rss_mb"] + per_passage * size
    available = psutil.virtual_memory().available / 2**20
    if expected > 0.6 * available:
        return (
            f"expected peak RSS {expected:,.0f} MB (linear from {last['passages']:,} passages)"
            f" above 60 % of the {available:,.0f} MB available on this shared machine"
        )
    return ""


def growth(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per backend, each figure of the largest size measured over the same at the smallest."""
    out: dict[str, Any] = {}
    for backend in ("embedded", "postgres"):
        done = sorted(
            (r for r in runs if r.get("backend") == backend and "search" in r),
            key=lambda r: r["passages"],
        )
        if len(done) < 2:
            continue
        small, large = done[0], done[-1]
        ratio = {"passages": round(large["passages"] / small["passages"], 2)}
        for key in ("ingest_s", "ingest_cpu_s", "database_mb", "index_mb", "peak_rss_mb"):
            if key in small and key in large and small[key]:
                ratio[key] = round(large[key] / small[key], 2)
        for key in ("p50_ms", "p95_ms"):
            ratio[f"search_{key}"] = round(large["search"][key] / small["search"][key], 2)
        out[backend] = {"from": small["passages"], "to": large["passages"], "ratio": ratio}
    return out


def drop_database(server: str, size: int) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS scale_{size} WITH (FORCE)")


def fresh_database(server: str, size: int, *, create: bool = True) -> str:
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"scale_{size}"
    if create:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    return make_conninfo(server, dbname=name)


if __name__ == "__main__":
    main()
