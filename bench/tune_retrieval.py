"""The grids behind the retrieval defaults, on the `tune` half of the cdtn-dev themes.

Stages (each prints one line per setting; `held` figures are printed for the fusion grid so
that overfitting shows, but choices were made on `tune` only):
- bm25: k1 x b x title weight, BM25 alone and BM25 + e5 title vectors;
- chunks: chunk size (words / max words), BM25 + title vectors (no passage vectors needed);
- fusion: passage-vector and title-vector weights, and title vectors without passage vectors.

Needs the vector caches filled by bench_retrieval.py (run it first).

    .venv/bin/python bench/tune_retrieval.py bm25|chunks|fusion
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence

from bench_retrieval import QA, VectorCache, load_documents, split_themes, variant
from common import read_jsonl
from territoria.embed import Matrix, make_embedder
from territoria.evaluation.retrieval import retrieval_metrics
from territoria.ingest import to_passages
from territoria.search import embedding_text
from territoria.search.fusion import FusionParams
from territoria.search.index import SearchIndex
from territoria.settings import Settings
from territoria.types import Access, Passage


def fmt(metrics: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.3f}" for k, v in metrics.items() if k != "n")


def main() -> None:
    stage = sys.argv[1]
    qa = [q for q in read_jsonl(QA) if q.get("relevant_ids")]
    tune_themes, held_themes = split_themes(qa)
    tune = [q for q in qa if q["theme"] in tune_themes]
    held = [q for q in qa if q["theme"] in held_themes]
    use, e5 = make_embedder(Settings(embedder="use")), make_embedder(Settings(embedder="e5"))
    assert use is not None and e5 is not None
    questions = [str(q["question"]) for q in qa]
    use_q, e5_q = use.embed_queries(questions), e5.embed_queries(questions)
    row = {str(q["id"]): i for i, q in enumerate(qa)}
    docs = load_documents(Settings())

    def passages_for(settings: Settings) -> list[Passage]:
        return [p for d in docs for p in to_passages(str(d.doc_id), d, settings)]

    def build(settings: Settings, passages: list[Passage], dense: bool) -> SearchIndex:
        vectors: Matrix | None = None
        if dense:
            texts = [embedding_text(p) for p in passages]
            vectors = VectorCache("use").get(texts, use.embed_passages)[0]
        titles = VectorCache("e5").get([p.title for p in passages], e5.embed_passages)[0]
        return SearchIndex.build(passages, vectors, settings, title_vectors=titles)

    def run(index: SearchIndex, qs: Sequence[dict[str, object]]) -> dict[str, float]:
        doc_of = [index.doc_ids[c] for c in index.row_doc]
        pid_row = {pid: i for i, pid in enumerate(index.passage_ids)}
        rankings = {}
        for q in qs:
            i = row[str(q["id"])]
            hits = index.search_documents(
                str(q["question"]),
                k=10,
                access=Access(),
                query_vector=use_q[i : i + 1] if index.dense is not None else None,
                title_query_vector=e5_q[i : i + 1] if index.titles is not None else None,
            )
            rankings[str(q["id"])] = [doc_of[pid_row[h.passage_id]] for h in hits]
        return retrieval_metrics(rankings, qs)

    if stage == "bm25":
        passages = passages_for(Settings())
        for k1, b, tw in itertools.product((1.2, 1.5, 2.0), (0.75, 0.9), (2.0, 3.0, 5.0)):
            index = build(Settings(bm25_k1=k1, bm25_b=b, title_weight=tw), passages, False)
            alone = variant(index, dense=False, titles=False, fusion=index.fusion)
            print(
                k1,
                b,
                tw,
                "bm25",
                fmt(run(alone, tune)),
                "| +titles",
                fmt(run(index, tune)),
                flush=True,
            )
    elif stage == "chunks":
        for words, most in ((80, 160), (120, 220), (160, 300)):
            settings = Settings(chunk_words=words, chunk_max_words=most)
            passages = passages_for(settings)
            index = build(settings, passages, False)
            alone = variant(index, dense=False, titles=False, fusion=index.fusion)
            print(
                words,
                most,
                len(passages),
                "bm25",
                fmt(run(alone, tune)),
                "| +titles",
                fmt(run(index, tune)),
                flush=True,
            )
    elif stage == "fusion":
        index = build(Settings(), passages_for(Settings()), True)
        for wd, wt in itertools.product((0.5, 0.75, 1.0, 1.25), (0.75, 1.0, 1.25, 1.5)):
            fused = variant(
                index,
                dense=True,
                titles=True,
                fusion=FusionParams(dense_weight=wd, title_vector_weight=wt),
            )
            print(
                wd, wt, "tune", fmt(run(fused, tune)), "| held", fmt(run(fused, held)), flush=True
            )
        for wt in (0.75, 1.0, 1.25):
            fused = variant(
                index, dense=False, titles=True, fusion=FusionParams(title_vector_weight=wt)
            )
            print(
                "no passage vectors",
                wt,
                "tune",
                fmt(run(fused, tune)),
                "| held",
                fmt(run(fused, held)),
                flush=True,
            )
    else:
        raise SystemExit("stage: bm25, chunks or fusion")


if __name__ == "__main__":
    main()
