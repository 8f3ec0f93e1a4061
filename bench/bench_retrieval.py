"""Retrieval quality and latency on qa/cdtn-dev over the 5,475-doc corpus.

Loads service-public-2020 + travail-emploi-2020 with the product's loader (`load_path`), chunks
them (`chunk_document`), embeds passages (Settings.embedder, default USE, text = title + heading
path + passage) and document titles (Settings.title_embedder, default e5), in two processes at
once, builds one `SearchIndex` and evaluates documents ranked by `SearchIndex.search_documents`:

- bm25: lexical only (the floor: plain BM25 on title+text, one row per document, gives
  nDCG@10 .361, hit@10 .730);
- dense: passage vectors only; titles: title vectors only;
- fusions of them, the last one being the Settings defaults.

Metrics on all 1,922 questions, and on two halves of the 114 themes (field `theme`, split with a
fixed seed): `tune`, the half the defaults were tuned on, and `held`, themes never looked at
while tuning. Latency is per query, p50/p95, of query embedding (measured once per query and
model, one query at a time) plus `search_documents`.

Vectors are cached under /tmp/territoria-bench-vectors/<model>/ keyed by a hash of the embedded
text: the first run embeds ~49k passages (~10 min; run it with nohup), later runs take seconds.
`--cold` embeds everything again into an empty cache to time a full ingestion.
Writes bench/results/retrieval.json.

    .venv/bin/python bench/bench_retrieval.py [--quick] [--cold] [--threads 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from common import CORPUS, DATA, read_jsonl, write_result
from territoria.embed import Embedder, Matrix, make_embedder
from territoria.evaluation.retrieval import retrieval_metrics
from territoria.ingest import to_passages
from territoria.ingest.loaders import load_path
from territoria.search import embedding_text
from territoria.search.fusion import FusionParams
from territoria.search.index import SearchIndex
from territoria.settings import Settings
from territoria.types import Access, LoadedDocument, Passage

CACHE = Path(os.environ.get("TERRITORIA_BENCH_VECTORS", "/tmp/territoria-bench-vectors"))
QA = DATA / "qa" / "cdtn-dev.jsonl"
SPLIT_SEED = 0


# --- data ----------------------------------------------------------------------------------


def load_documents(settings: Settings) -> list[LoadedDocument]:
    docs: list[LoadedDocument] = []
    for path in CORPUS:
        docs.extend(load_path(path, settings).documents)
    return docs


def split_themes(qa: Sequence[dict[str, object]]) -> tuple[set[str], set[str]]:
    """Half of the themes to tune on, the other half held out (fixed seed)."""
    themes = sorted({str(q["theme"]) for q in qa})
    random.Random(SPLIT_SEED).shuffle(themes)
    half = len(themes) // 2
    return set(themes[:half]), set(themes[half:])


# --- vectors, cached by text hash ----------------------------------------------------------


class VectorCache:
    """Vectors of one model on disk: keys.json (text hashes) + vectors.npy, appended to."""

    def __init__(self, model: str, root: Path = CACHE) -> None:
        self.dir = root / model
        self.dir.mkdir(parents=True, exist_ok=True)
        keys_file = self.dir / "keys.json"
        self.keys: list[str] = json.loads(keys_file.read_text()) if keys_file.exists() else []
        vec_file = self.dir / "vectors.npy"
        self.matrix: Matrix | None = np.load(vec_file) if vec_file.exists() else None
        self.row = {k: i for i, k in enumerate(self.keys)}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]

    def _save(self) -> None:
        assert self.matrix is not None
        np.save(self.dir / "vectors.npy", self.matrix)
        (self.dir / "keys.json").write_text(json.dumps(self.keys))

    def get(
        self, texts: Sequence[str], embed: Callable[[list[str]], Matrix], batch: int = 128
    ) -> tuple[Matrix, int, float]:
        """Vectors of `texts` (embedding those not cached); returns (matrix, embedded, seconds)."""
        wanted = [self.key(t) for t in texts]
        missing = dict.fromkeys(k for k in wanted if k not in self.row)
        by_key = dict(zip(wanted, texts, strict=True))
        todo = list(missing)
        start = time.perf_counter()
        for i in range(0, len(todo), batch):
            keys = todo[i : i + batch]
            part = embed([by_key[k] for k in keys]).astype(np.float32)
            self.matrix = part if self.matrix is None else np.concatenate([self.matrix, part])
            self.row.update({k: len(self.keys) + j for j, k in enumerate(keys)})
            self.keys.extend(keys)
            if (i // batch) % 20 == 19 or i + batch >= len(todo):
                self._save()
                done = min(i + batch, len(todo))
                elapsed = time.perf_counter() - start
                print(f"  {self.dir.name}: {done}/{len(todo)} ({elapsed:.0f} s)", flush=True)
        seconds = time.perf_counter() - start
        assert self.matrix is not None or not texts
        if not texts:
            return np.zeros((0, 1), dtype=np.float32), 0, 0.0
        assert self.matrix is not None
        return self.matrix[[self.row[k] for k in wanted]], len(todo), seconds


# --- evaluation ----------------------------------------------------------------------------


def variant(index: SearchIndex, *, dense: bool, titles: bool, fusion: FusionParams) -> SearchIndex:
    """The same index with some channels left out or other fusion weights (no rebuild)."""
    return SearchIndex(
        passage_ids=index.passage_ids,
        doc_ids=index.doc_ids,
        row_doc=index.row_doc,
        tenants=index.tenants,
        row_tenant=index.row_tenant,
        row_visibility=index.row_visibility,
        collections=index.collections,
        row_collection=index.row_collection,
        lexical=index.lexical,
        dense=index.dense if dense else None,
        titles=index.titles if titles else None,
        fusion=fusion,
    )


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else 0.0


def evaluate(
    index: SearchIndex,
    qa: Sequence[dict[str, object]],
    query_vectors: dict[str, tuple[Matrix, float]],
    title_vectors: dict[str, tuple[Matrix, float]],
    doc_of: dict[str, str],
    splits: dict[str, set[str]],
    *,
    lexical_weight: float | None = None,
) -> dict[str, object]:
    rankings: dict[str, list[str]] = {}
    latencies: list[float] = []
    access = Access(role="agent")
    for item in qa:
        qid, question = str(item["id"]), str(item["question"])
        qv, qv_time = query_vectors[qid] if index.dense is not None else (None, 0.0)
        lv, lv_time = title_vectors[qid] if index.titles is not None else (None, 0.0)
        start = time.perf_counter()
        hits = index.search_documents(
            question, k=10, access=access, query_vector=qv, title_query_vector=lv
        )
        latencies.append((time.perf_counter() - start + qv_time + lv_time) * 1000)
        rankings[qid] = [doc_of[h.passage_id] for h in hits]
    out: dict[str, object] = {"all": retrieval_metrics(rankings, qa)}
    for name, themes in splits.items():
        out[name] = retrieval_metrics(rankings, [q for q in qa if q["theme"] in themes])
    out["latency_ms"] = {
        "p50": round(percentile(latencies, 50), 2),
        "p95": round(percentile(latencies, 95), 2),
    }
    return out


def embed_queries(
    embedder: Embedder | None, qa: Sequence[dict[str, object]]
) -> dict[str, tuple[Matrix, float]]:
    """Each question's vector and the seconds it took (one query at a time, as in serving)."""
    out: dict[str, tuple[Matrix, float]] = {}
    if embedder is None:
        return out
    embedder.embed_queries(["échauffement"])  # load the model outside the timings
    for item in qa:
        start = time.perf_counter()
        vector = embedder.embed_queries([str(item["question"])])
        out[str(item["id"])] = (vector, time.perf_counter() - start)
    return out


def table(results: dict[str, dict[str, object]]) -> str:
    head = (
        f"{'config':<26} {'split':<5} {'nDCG@10':>7} {'hit@1':>6} {'hit@10':>6} "
        f"{'MRR@10':>6} {'p50 ms':>7} {'p95 ms':>7}"
    )
    lines = [head, "-" * len(head)]
    for name, res in results.items():
        lat = res["latency_ms"]
        assert isinstance(lat, dict)
        for split in ("all", "tune", "held"):
            m = res[split]
            assert isinstance(m, dict)
            lines.append(
                f"{name:<26} {split:<5} {m['ndcg@10']:>7.3f} {m['hit@1']:>6.3f} "
                f"{m['hit@10']:>6.3f} {m['mrr@10']:>6.3f} "
                + (f"{lat['p50']:>7.1f} {lat['p95']:>7.1f}" if split == "all" else "")
            )
    return "\n".join(lines)


def fill_cache(model: str, texts: list[str], root: str, threads: int) -> tuple[int, float]:
    """Embed `texts` into the cache of `model` (run in a worker process, one per core)."""
    embedder = make_embedder(Settings(embedder=model, embedder_threads=threads))
    assert embedder is not None
    batch = 64 if model == "e5" else 128
    _, embedded, seconds = VectorCache(embedder.name, Path(root)).get(
        texts, embedder.embed_passages, batch=batch
    )
    return embedded, seconds


def embed_corpus(
    settings: Settings, passages: Sequence[Passage], root: Path, threads: int
) -> dict[str, object]:
    """Fill the passage and title caches in two processes at once (one per core)."""
    jobs = {
        settings.embedder: [embedding_text(p) for p in passages],
        settings.title_embedder: list(dict.fromkeys(p.title for p in passages)),
    }
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as pool:
        futures = {
            model: pool.submit(fill_cache, model, texts, str(root), threads)
            for model, texts in jobs.items()
        }
        done = {model: future.result() for model, future in futures.items()}
    wall = time.perf_counter() - start
    out: dict[str, object] = {"parallel_wall_s": round(wall, 1)}
    for model, (embedded, seconds) in done.items():
        out[model] = {
            "texts": len(jobs[model]),
            "embedded": embedded,
            "seconds": round(seconds, 1),
            "per_second": round(embedded / seconds, 1) if seconds else None,
        }
    return out


CONFIGS: dict[str, tuple[bool, bool, str]] = {
    # name: (passage vectors, title vectors, fusion)
    "bm25": (False, False, "lexical"),
    "dense (passages, use)": (True, False, "dense"),
    "titles (e5)": (False, True, "dense"),
    "bm25+dense rrf": (True, False, "rrf"),
    "bm25+dense": (True, False, "default"),
    "bm25+titles": (False, True, "default"),
    "bm25+dense+titles rrf": (True, True, "rrf"),
    "bm25+dense+titles (default)": (True, True, "default"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only 300 questions")
    parser.add_argument("--threads", type=int, default=1, help="threads per embedder")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="embed everything again into an empty cache, to time a full ingestion",
    )
    args = parser.parse_args()
    settings = Settings(embedder_threads=args.threads)
    root = Path(tempfile.mkdtemp(prefix="territoria-vectors-")) if args.cold else CACHE

    t_start = time.perf_counter()
    docs = load_documents(settings)
    t_load = time.perf_counter() - t_start
    t0 = time.perf_counter()
    passages: list[Passage] = []
    for doc in docs:
        assert doc.doc_id is not None
        passages.extend(to_passages(doc.doc_id, doc, settings))
    t_chunk = time.perf_counter() - t0
    words = [len(p.text.split()) for p in passages]
    print(
        f"{len(docs)} documents, {len(passages)} passages "
        f"(mean {statistics.mean(words):.0f} words, max {max(words)}); "
        f"load {t_load:.1f} s, chunk {t_chunk:.1f} s",
        flush=True,
    )
    embedding = embed_corpus(settings, passages, root, args.threads)
    embedder = make_embedder(settings)
    titler = make_embedder(settings.model_copy(update={"embedder": settings.title_embedder}))
    assert embedder is not None and titler is not None
    vectors = VectorCache(embedder.name, root).get(
        [embedding_text(p) for p in passages], embedder.embed_passages
    )[0]
    title_vectors = VectorCache(titler.name, root).get(
        [p.title for p in passages], titler.embed_passages
    )[0]
    t0 = time.perf_counter()
    index = SearchIndex.build(passages, vectors, settings, title_vectors=title_vectors)
    t_index = time.perf_counter() - t0
    ingestion = {
        "documents": len(docs),
        "passages": len(passages),
        "load_s": round(t_load, 1),
        "chunk_s": round(t_chunk, 1),
        "embedding": embedding,
        "index_s": round(t_index, 1),
        "total_s": round(time.perf_counter() - t_start, 1),
        "cold": args.cold,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(ingestion), flush=True)
    if args.cold:
        shutil.rmtree(root, ignore_errors=True)

    qa = [q for q in read_jsonl(QA) if q.get("relevant_ids")]
    if args.quick:
        qa = random.Random(1).sample(qa, 300)
    tune, held = split_themes(qa)
    splits = {"tune": tune, "held": held}
    query_vectors = embed_queries(embedder, qa)
    title_query_vectors = embed_queries(titler, qa)
    doc_of = {p.passage_id: p.doc_id for p in passages}

    fusions = {
        "default": index.fusion,
        "rrf": replace(index.fusion, method="rrf"),
        "lexical": index.fusion,
        "dense": replace(index.fusion, lexical_weight=0.0, identifier_boost=1.0),
    }
    results: dict[str, dict[str, object]] = {}
    for name, (dense, titles, fusion) in CONFIGS.items():
        results[name] = evaluate(
            variant(index, dense=dense, titles=titles, fusion=fusions[fusion]),
            qa,
            query_vectors,
            title_query_vectors,
            doc_of,
            splits,
        )
        print(name, json.dumps(results[name]["all"]), flush=True)
    print()
    print(table(results))
    write_result(
        "retrieval",
        {
            "qa": "qa/cdtn-dev.jsonl",
            "questions": len(qa),
            "split": {"seed": SPLIT_SEED, "tune_themes": len(tune), "held_themes": len(held)},
            "settings": {
                name: getattr(settings, name)
                for name in (
                    "chunk_words",
                    "chunk_max_words",
                    "embedder",
                    "title_embedder",
                    "bm25_k1",
                    "bm25_b",
                    "title_weight",
                    "fusion",
                    "lexical_weight",
                    "dense_weight",
                    "title_vector_weight",
                    "rrf_k",
                )
            },
            "ingestion": ingestion,
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
