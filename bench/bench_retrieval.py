"""Retrieval quality, in sample and out of theme, and latency, on qa/cdtn-dev (5,475 docs).

Loads service-public-2020 + travail-emploi-2020 with the product's loader, chunks them
(`to_passages`), embeds passages (Settings.embedder; text = title + heading path + passage)
and titles (Settings.title_embedder, or --title-embedder), builds one `SearchIndex` and
ranks documents with the product's own channels (`SearchIndex.document_channels`) and fusion
(`territoria.search.fusion`), so the figures are those of `territoria eval retrieval`.

Printed side by side, for each configuration:
- `in`: in sample, every theme;
- `out`: out of theme: leave-themes-out cross-validation (the 114 themes dealt into 5 folds,
  3 seeds: 15 held-out parts); a tuned configuration is chosen on the other themes of each
  part and scored on the held-out ones; mean and standard deviation over the parts;
- `plain BM25`: whole-document BM25 on title + text (k1 1.2, b 0.75, the same analyser),
  computed here on the same folds: the floor no configuration may fall below.

Rows: plain BM25; each channel alone; the current defaults (Settings); and the tuned grids,
each selected inside the cross-validation: `lexical` (whole-document BM25F + best passage),
`fusion` (normalisation, depth and every weight). The JSON keeps every grid point.

Latency is per question, p50/p95 over the questions: query embedding (one question at a
time, as in serving) plus `SearchIndex.search_documents`, with CPU time beside wall time.

Vectors are cached under $TERRITORIA_BENCH_HOME/vectors/<model>/ keyed by a hash of the
embedded text: the first run embeds ~49k passages (~8 min of CPU; run it with nohup), later
runs take a few minutes. `--cold` embeds everything again into an empty cache to time it.
Writes bench/results/retrieval.json.

    .venv/bin/python bench/bench_retrieval.py [--quick] [--cold] [--title-embedder use]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from common import BENCH_HOME, CORPUS, DATA, read_jsonl, write_result
from retrieval_cv import (
    CVResult,
    Gold,
    PerQuery,
    adverse_themes,
    cross_validate,
    fixed,
    mean,
    theme_folds,
)
from territoria.embed import Embedder, Matrix, make_embedder
from territoria.ingest import to_passages
from territoria.ingest.loaders import load_path
from territoria.search import embedding_text
from territoria.search.fields import document_rows, lexical_text
from territoria.search.fusion import Channel, FusionParams, combine, scale
from territoria.search.index import SearchIndex
from territoria.search.lexical import BM25Params, LexicalIndex, Row, analyze_rows
from territoria.settings import Settings
from territoria.types import Access, LoadedDocument, Passage

CACHE = BENCH_HOME / "vectors"
QA = DATA / "qa" / "cdtn-dev.jsonl"
CHANNELS = ("document", "passage", "dense", "title")


# --- data ----------------------------------------------------------------------------------


def load_documents(settings: Settings) -> list[LoadedDocument]:
    docs: list[LoadedDocument] = []
    for path in CORPUS:
        docs.extend(load_path(path, settings).documents)
    return docs


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
        by_key = dict(zip(wanted, texts, strict=True))
        todo = list(dict.fromkeys(k for k in wanted if k not in self.row))
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
        if not texts or self.matrix is None:
            return np.zeros((0, 1), dtype=np.float32), 0, 0.0
        return self.matrix[[self.row[k] for k in wanted]], len(todo), seconds


def fill_cache(model: str, texts: list[str], root: str, threads: int) -> tuple[int, float, float]:
    """Embed `texts` into the cache of `model` (in a worker process, one per core); returns
    (embedded, wall seconds, CPU seconds)."""
    embedder = make_embedder(Settings(embedder=model, embedder_threads=threads))
    assert embedder is not None
    cpu = time.process_time()
    _, embedded, seconds = VectorCache(embedder.name, Path(root)).get(
        texts, embedder.embed_passages, batch=64
    )
    return embedded, seconds, time.process_time() - cpu


def embed_corpus(
    jobs: dict[str, list[str]], root: Path, threads: int
) -> dict[str, dict[str, float | None]]:
    """Fill the caches, one process per model at once."""
    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as pool:
        futures = {
            model: pool.submit(fill_cache, model, texts, str(root), threads)
            for model, texts in jobs.items()
        }
        done = {model: future.result() for model, future in futures.items()}
    return {
        model: {
            "texts": len(jobs[model]),
            "embedded": embedded,
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),
            "per_cpu_s": round(embedded / cpu, 1) if cpu else None,
        }
        for model, (embedded, wall, cpu) in done.items()
    }


# --- channels of every question -------------------------------------------------------------


@dataclass
class Batch:
    """Every question's channels over the documents, stacked: shape (questions, documents)."""

    allowed: npt.NDArray[np.bool_]
    channels: dict[str, Channel]
    boost: npt.NDArray[np.float32]  # (questions, 1)


def query_vectors(
    embedder: Embedder | None, questions: Sequence[str]
) -> tuple[Matrix | None, list[float]]:
    """Each question's vector, one at a time as in serving, and the seconds each took."""
    if embedder is None:
        return None, [0.0] * len(questions)
    embedder.embed_queries(["échauffement"])  # load the model outside the timings
    rows, seconds = [], []
    for question in questions:
        start = time.perf_counter()
        rows.append(embedder.embed_queries([question]))
        seconds.append(time.perf_counter() - start)
    return np.concatenate(rows), seconds


def stack(
    index: SearchIndex,
    questions: Sequence[str],
    vectors: Matrix | None,
    title_vectors: Matrix | None,
) -> Batch:
    """Every question's channels over its candidate documents (`SearchIndex.gather`, as in
    serving), spread over all documents: the others are not allowed."""
    access = Access(role="agent")
    n_docs = len(index.doc_ids)
    allowed = np.zeros((len(questions), n_docs), dtype=bool)
    scores = {name: np.zeros((len(questions), n_docs), dtype=np.float32) for name in CHANNELS}
    present = {name: np.zeros((len(questions), n_docs), dtype=bool) for name in CHANNELS}
    boosts = np.ones((len(questions), 1), dtype=np.float32)
    found: set[str] = set()
    for i, question in enumerate(questions):
        evidence = index.gather(
            question,
            access=access,
            query_vector=None if vectors is None else vectors[i : i + 1],
            title_query_vector=None if title_vectors is None else title_vectors[i : i + 1],
        )
        allowed[i, evidence.docs] = True
        boosts[i, 0] = evidence.boost
        for name, channel in evidence.channels.items():
            found.add(name)
            scores[name][i, evidence.docs] = channel.scores
            present[name][i, evidence.docs] = True if channel.present is None else channel.present
    channels = {
        name: Channel(
            scores[name],
            1.0,
            present=None if name in ("document", "passage") else present[name],
            lexical=name in ("document", "passage"),
        )
        for name in CHANNELS
        if name in found
    }
    return Batch(allowed, channels, boosts)


def plain_bm25(
    passages: Sequence[Passage], doc_ids: Sequence[str], questions: Sequence[str]
) -> npt.NDArray[np.float32]:
    """Whole-document BM25 on title + text (one field, k1 1.2, b 0.75): the floor."""
    analyzer = LexicalIndex.build(["x"], ["x"]).analyzer
    rows = analyze_rows([p.title for p in passages], [lexical_text(p) for p in passages], analyzer)
    row = {d: i for i, d in enumerate(doc_ids)}
    bodies: list[Counter[str]] = [Counter() for _ in doc_ids]
    titled: set[int] = set()
    for p, r in zip(passages, rows, strict=True):
        d = row[p.doc_id]
        bodies[d].update(r.body)
        if d not in titled:
            titled.add(d)
            bodies[d].update(r.title)
    index = LexicalIndex.from_rows(
        [Row({}, body) for body in bodies], BM25Params(1.2, 0.75, 0.0, 0.0), analyzer
    )
    out = np.stack([index.scores(q) for q in questions])
    return np.where(out > 0, out, -np.inf).astype(np.float32)


# --- grids ---------------------------------------------------------------------------------


def fuse_batch(
    batch: Batch, params: FusionParams, parts: list[npt.NDArray[np.float32]] | None = None
) -> npt.NDArray[np.float32]:
    weights = {
        "document": params.document_weight,
        "passage": params.lexical_weight,
        "dense": params.dense_weight,
        "title": params.title_vector_weight,
    }
    names = [n for n in CHANNELS if n in batch.channels]
    channels = [replace(batch.channels[n], weight=weights[n]) for n in names]
    if parts is None:
        parts = scale(channels, batch.allowed, params)
    boost = np.where(batch.boost > 1.0, params.identifier_boost, 1.0).astype(np.float32)
    return combine(channels, parts, batch.allowed, boost)


def grid(
    batch: Batch, gold: Gold, base: FusionParams, space: dict[str, Sequence[object]]
) -> dict[Hashable, PerQuery]:
    """Metrics of every point of the grid (scaling computed once per normalisation)."""
    names = list(space)
    out: dict[Hashable, PerQuery] = {}
    scale_keys = [n for n in names if n in ("method", "normalization", "depth", "rrf_k")]
    cache: dict[tuple[object, ...], list[npt.NDArray[np.float32]]] = {}
    for values in itertools.product(*(space[n] for n in names)):
        params = replace(base, **dict(zip(names, values, strict=True)))  # type: ignore[arg-type]
        key = tuple(getattr(params, n) for n in scale_keys)
        if key not in cache:
            channels = [batch.channels[n] for n in CHANNELS if n in batch.channels]
            cache.clear()
            cache[key] = scale(channels, batch.allowed, params)
        out[values] = gold.metrics(fuse_batch(batch, params, cache[key]))
    return out


def best_of(scores: npt.NDArray[np.float32], n: int) -> npt.NDArray[np.bool_]:
    """Per row, the n best positive entries (the candidates a lexical channel brings)."""
    n = min(n, scores.shape[1] - 1)
    top = np.argpartition(-scores, n, axis=1)[:, :n]
    out = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(out, top, True, axis=1)
    return out & (scores > 0)


def lexical_stage(
    index: SearchIndex,
    passages: Sequence[Passage],
    batch: Batch,
    questions: Sequence[str],
    gold: Gold,
    folds: Sequence[npt.NDArray[np.bool_]],
    quick: bool,
) -> tuple[CVResult, dict[str, object]]:
    """Cross-validate the lexical index parameters (passage BM25F x whole-document BM25F)
    with the lexical channels only: every text analysed once; each passage variant and each
    document variant scored once, then every pair fused."""
    analyzer = index.lexical.analyzer
    rows = analyze_rows([p.title for p in passages], [lexical_text(p) for p in passages], analyzer)
    docs = document_rows(passages, rows, index.row_doc, len(index.doc_ids), analyzer)
    b = Settings().bm25_b
    passage_space = list(itertools.product((1.2, 2.0), (1.0, 2.0, 3.0)))
    document_space = list(
        itertools.product((1.2, 2.0), (2.0, 5.0) if quick else (1.0, 2.0, 3.0, 5.0), (0.0, 1.0))
    )
    mask = index.mask(Access(role="agent"))
    passage_scores: dict[tuple[float, ...], npt.NDArray[np.float32]] = {}
    for k1, title in passage_space:
        lexical = LexicalIndex.from_rows(rows, BM25Params(k1, b, title), analyzer)
        passage_scores[(k1, title)] = np.stack(
            [np.maximum(index.per_doc_max(lexical.scores(q), mask), 0.0) for q in questions]
        )
    document_scores: dict[tuple[float, ...], npt.NDArray[np.float32]] = {}
    for k1, title, heading in document_space:
        documents = LexicalIndex.from_rows(docs, BM25Params(k1, b, title, heading), analyzer)
        document_scores[(k1, title, heading)] = np.stack([documents.scores(q) for q in questions])
    params = replace(index.fusion, dense_weight=0.0, title_vector_weight=0.0)
    results: dict[Hashable, PerQuery] = {}
    for (pk, pt), passage in passage_scores.items():
        for (dk, dt, dh), document in document_scores.items():
            wanted = best_of(document, params.candidates) | best_of(passage, params.candidates)
            variant = Batch(
                wanted,
                {
                    "document": Channel(document, 1.0, lexical=True),
                    "passage": Channel(passage, 1.0, lexical=True),
                },
                batch.boost,
            )
            results[(pk, pt, dk, dt, dh)] = gold.metrics(fuse_batch(variant, params))
    names = (
        "bm25_k1",
        "title_weight",
        "document_k1",
        "document_title_weight",
        "document_heading_weight",
    )
    cv = cross_validate(results, folds)
    chosen = dict(zip(names, cv.chosen, strict=True))  # type: ignore[arg-type]
    print(f"lexical index: {len(results)} points; chosen {chosen}", flush=True)
    return cv, {
        "passage_space": [list(x) for x in passage_space],
        "document_space": [list(x) for x in document_space],
        "names": list(names),
        "chosen": chosen,
        "picks": {str(k): n for k, n in cv.picks.most_common()},
        "points": {
            str(k): {m: round(v, 4) for m, v in mean(r).items()} for k, r in results.items()
        },
    }


def fmt(figures: dict[str, float] | dict[str, tuple[float, float]]) -> str:
    parts = []
    for name in ("ndcg@10", "hit@10", "mrr@10"):
        value = figures[name]
        parts.append(
            f"{value[0]:.3f}±{value[1]:.3f}" if isinstance(value, tuple) else f"{value:.3f}      "
        )
    return " ".join(parts)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 questions, small grids")
    parser.add_argument("--threads", type=int, default=1, help="threads per embedder")
    parser.add_argument("--title-embedder", default=None, help="default: Settings")
    parser.add_argument("--cold", action="store_true", help="embed into an empty cache")
    parser.add_argument("--no-lexical-grid", action="store_true", help="skip the index grid")
    args = parser.parse_args()
    settings = Settings(embedder_threads=args.threads)
    if args.title_embedder:
        settings = settings.model_copy(update={"title_embedder": args.title_embedder})
    root = Path(tempfile.mkdtemp(prefix="territoria-vectors-")) if args.cold else CACHE

    t0 = time.perf_counter()
    docs = load_documents(settings)
    passages = [p for d in docs for p in to_passages(str(d.doc_id), d, settings)]
    words = [len(p.text.split()) for p in passages]
    print(
        f"{len(docs)} documents, {len(passages)} passages (mean {statistics.mean(words):.0f} "
        f"words); load + chunk {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    index, embedder, titler, embedding, index_s = build_index(
        settings, passages, root, args.threads
    )
    if args.cold:
        shutil.rmtree(root, ignore_errors=True)

    qa = [q for q in read_jsonl(QA) if q.get("relevant_ids")]
    if args.quick:
        qa = random.Random(1).sample(qa, 600)
    questions = [str(q["question"]) for q in qa]
    keys = [k.split("\x1f", 1)[1] for k in index.doc_ids]
    gold = Gold.build(qa, keys)
    folds = theme_folds(gold.themes)
    qv, qv_s = query_vectors(embedder, questions)
    tv, tv_s = query_vectors(titler, questions) if titler is not embedder else (qv, [0.0] * len(qa))
    latency = measure_latency(index, questions, qv, tv, qv_s, tv_s)
    print("latency", json.dumps(latency), flush=True)

    t0 = time.perf_counter()
    batch = stack(index, questions, qv, tv)
    floor = gold.metrics(plain_bm25(passages, keys, questions))
    print(f"channels of {len(qa)} questions: {time.perf_counter() - t0:.0f} s", flush=True)
    defaults = index.fusion
    rows: dict[str, dict[str, object]] = {}

    def row(name: str, result: PerQuery) -> None:
        rows[name] = {"in": mean(result), "out": fixed(result, folds)}

    row("plain BM25 (title + text, whole document)", floor)
    alone: dict[str, PerQuery] = {}
    for name in CHANNELS:
        if name in batch.channels:
            weights = {n: 1.0 if n == name else 0.0 for n in CHANNELS}
            params = replace(
                defaults,
                document_weight=weights["document"],
                lexical_weight=weights["passage"],
                dense_weight=weights["dense"],
                title_vector_weight=weights["title"],
            )
            alone[name] = gold.metrics(fuse_batch(batch, params))
            row(f"{name} alone", alone[name])
    lexical_result = gold.metrics(
        fuse_batch(batch, replace(defaults, dense_weight=0.0, title_vector_weight=0.0))
    )
    row("lexical channels (Settings)", lexical_result)
    default_result = gold.metrics(fuse_batch(batch, defaults))
    row("defaults (Settings)", default_result)

    tuned: dict[str, object] = {}
    if not args.no_lexical_grid:
        cv, tuned["lexical index"] = lexical_stage(
            index, passages, batch, questions, gold, folds, args.quick
        )
        rows["tuned: lexical index (lexical channels)"] = {"in": cv.in_sample, "out": cv.held_out}
    dense_channels = {n: alone[n] for n in ("dense", "title") if n in alone}
    small = args.quick
    spaces: dict[str, dict[str, Sequence[object]]] = {
        "fusion": {
            "normalization": ("zscore", "minmax"),
            "depth": (50, 100) if small else (50, 100, 200),
            "document_weight": (0.5, 1.0) if small else (0.5, 1.0, 2.0),
            "dense_weight": (0.0, 0.5, 1.0) if small else (0.0, 0.25, 0.5, 0.75, 1.0),
            "title_vector_weight": (0.0, 0.5, 1.0) if small else (0.0, 0.25, 0.5, 0.75, 1.0),
        },
        "rrf": {
            "method": ("rrf",),
            "document_weight": (0.5, 1.0),
            "dense_weight": (0.0, 0.5, 1.0),
            "title_vector_weight": (0.0, 0.5, 1.0),
        },
    }
    for name, space in spaces.items():
        t0 = time.perf_counter()
        results = grid(batch, gold, defaults, space)
        cv = cross_validate(results, folds)
        rows[f"tuned: {name}"] = {"in": cv.in_sample, "out": cv.held_out}
        tuned[name] = {
            "chosen": dict(zip(space, cv.chosen, strict=True)),  # type: ignore[arg-type]
            "picks": {str(k): n for k, n in cv.picks.most_common()},
            "space": {k: list(v) for k, v in space.items()},
            "points": {
                str(k): {m: round(v, 4) for m, v in mean(r).items()} for k, r in results.items()
            },
        }
        print(
            f"grid {name}: {len(results)} points, {time.perf_counter() - t0:.0f} s; "
            f"chosen {tuned[name]['chosen']}",  # type: ignore[index]
            flush=True,
        )

    stress = {
        f"{n}-adverse themes": adverse_themes(alone[n], floor, gold.themes, np.ones(len(qa), bool))
        for n in dense_channels
    }
    stressed = {
        "plain BM25": floor,
        "lexical channels": lexical_result,
        "defaults": default_result,
        **{f"{n} alone": alone[n] for n in dense_channels},
    }
    stress_rows = {
        name: {part: mean(result, where) for part, where in stress.items()}
        for name, result in stressed.items()
    }
    print_table(rows, len(folds))
    for name, parts in stress_rows.items():
        print(f"{name:<44} " + "  ".join(f"{p}: {fmt(v)}" for p, v in parts.items()))
    write_result(
        "retrieval",
        {
            "qa": "qa/cdtn-dev.jsonl",
            "questions": len(qa),
            "folds": {"k": 5, "seeds": [0, 1, 2], "themes": len(set(gold.themes))},
            "settings": {name: getattr(settings, name) for name in RANKING},
            "corpus": {
                "documents": len(docs),
                "passages": len(passages),
                "index_s": round(index_s, 1),
            },
            "embedding": embedding,
            "latency": latency,
            "rows": rows,
            "stress": stress_rows,
            "tuned": tuned,
        },
    )


RANKING = (
    "chunk_words", "chunk_max_words", "embedder", "title_embedder", "bm25_k1", "bm25_b",
    "title_weight", "document_k1", "document_title_weight", "document_heading_weight",
    "fusion", "fusion_normalization", "fusion_depth", "document_weight", "lexical_weight",
    "dense_weight", "title_vector_weight", "identifier_boost",
)  # fmt: skip


def build_index(
    settings: Settings, passages: Sequence[Passage], root: Path, threads: int
) -> tuple[SearchIndex, Embedder, Embedder | None, dict[str, object], float]:
    """Embed what the cache lacks (one process per model), then build the index."""
    jobs = {settings.embedder: [embedding_text(p) for p in passages]}
    titles = list(dict.fromkeys(p.title for p in passages))
    if settings.title_embedder != "none":
        jobs.setdefault(settings.title_embedder, [])
        jobs[settings.title_embedder] = jobs[settings.title_embedder] + titles
    embedding: dict[str, object] = dict(embed_corpus(jobs, root, threads))
    print(json.dumps(embedding), flush=True)
    embedder = make_embedder(settings)
    titler = make_embedder(settings, settings.title_embedder)
    assert embedder is not None
    texts = [embedding_text(p) for p in passages]
    vectors = VectorCache(embedder.name, root).get(texts, embedder.embed_passages)[0]
    title_vectors = None
    if titler is not None:
        title_vectors = VectorCache(titler.name, root).get(
            [p.title for p in passages], titler.embed_passages
        )[0]
        if titler.name == embedder.name:
            titler = embedder
    t0 = time.perf_counter()
    index = SearchIndex.build(passages, vectors, settings, title_vectors=title_vectors)
    return index, embedder, titler, embedding, time.perf_counter() - t0


def measure_latency(
    index: SearchIndex,
    questions: Sequence[str],
    qv: Matrix | None,
    tv: Matrix | None,
    qv_s: Sequence[float],
    tv_s: Sequence[float],
) -> dict[str, float]:
    """The product's document search per question, query embeddings included."""
    access = Access(role="agent")
    wall, cpu = [], []
    for i, question in enumerate(questions):
        w, c = time.perf_counter(), time.process_time()
        index.search_documents(
            question,
            k=10,
            access=access,
            query_vector=None if qv is None else qv[i : i + 1],
            title_query_vector=None if tv is None else tv[i : i + 1],
        )
        wall.append((time.perf_counter() - w + qv_s[i] + tv_s[i]) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {
        "p50_ms": round(percentile(wall, 50), 2),
        "p95_ms": round(percentile(wall, 95), 2),
        "search_cpu_ms_mean": round(statistics.mean(cpu), 2),
        "query_embedding_ms_mean": round(1000 * statistics.mean(qv_s), 2),
        "title_query_embedding_ms_mean": round(1000 * statistics.mean(tv_s), 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def print_table(rows: dict[str, dict[str, object]], parts: int) -> None:
    head = (
        f"{'configuration':<44} {'in sample: nDCG@10 hit@10 MRR@10':<34} "
        f"out of theme, mean±sd over {parts} held-out parts"
    )
    print()
    print(head)
    print("-" * len(head))
    for name, figures in rows.items():
        print(f"{name:<44} {fmt(figures['in']):<34} {fmt(figures['out'])}")  # type: ignore[arg-type]
    print()


if __name__ == "__main__":
    main()
