"""Everyday phrasing and follow-up questions over the demo corpus, and the cost of rewriting.

Sets (src/territoria/demo/): `everyday.jsonl` (questions as people type them: typos, no
accents, SMS, rambling, everyday words) and `followups.jsonl` (a question that only makes sense
after an earlier one, and a few new questions asked after another one). Both were written from
citizens' situations before any tuning, and split into `dev` (looked at while tuning) and
`test` (scored only at the end). Per set and split:

- retrieval (this slice's own figure): hit@1 / hit@3 of an expected document among the ranked
  documents, and whether the expected fact is in the top passages given to the composer (5);
- end to end (shared with the answer composer and abstention): the expected fact in the
  answer, and the abstention rate;
- follow-ups: whether the continuation was detected as expected, and each figure without the
  earlier question (the question alone), for comparison.

`--cdtn` also measures the rewriting out of theme on qa/cdtn-dev over the 5,475-doc corpus
(needs $TERRITORIA_BENCH_HOME/corpus from bench_ingest.py): document hit@1/hit@10/nDCG@10 with
and without spelling correction, on the themes of the `tune` and `held` halves of
bench_retrieval.py, plus the vocabulary size, speller build time, memory and per-query time.
Writes bench/results/phrasing.json.

    .venv/bin/python bench/bench_phrasing.py [--cdtn] [--no-spelling] [--no-synonyms]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time
import tracemalloc
import unicodedata
from collections.abc import Sequence

from common import BENCH_HOME, DATA, ROOT, read_jsonl, write_result
from territoria.evaluation.retrieval import retrieval_metrics
from territoria.ingest import ingest_paths
from territoria.runtime import Runtime
from territoria.search.rewrite import Rewriter
from territoria.search.spelling import Speller
from territoria.search.word_vectors import VectorNeighbours, french_vectors
from territoria.settings import Settings
from territoria.types import Access

DEMO = ROOT / "src" / "territoria" / "demo"
PUBLIC = Access(role="public")
CONTEXT_HITS = 5


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'")
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split()).casefold()


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def demo_runtime(settings_update: dict[str, object]) -> Runtime:
    home = BENCH_HOME / "phrasing-demo"
    runtime = Runtime(Settings(home=home, **settings_update))  # type: ignore[arg-type]
    if not (home / "territoria.sqlite3").exists():
        ingest_paths([DEMO / "corpus"], settings=runtime.settings, store=runtime.store)
    runtime.refresh()  # the index and the abstention calibration, as a server does
    return runtime


def score_item(
    runtime: Runtime, item: dict[str, object], previous: Sequence[str]
) -> dict[str, object]:
    question = str(item["question"])
    relevant = set(item["relevant_ids"])  # type: ignore[call-overload]
    fact = norm(str(item["answer_contains"]))
    query = runtime.retriever.query(question, previous=previous)
    docs = [h.passage.doc_id for h in runtime.retriever.search_documents(query, k=3, access=PUBLIC)]
    passages = runtime.retriever.search(query, k=CONTEXT_HITS, access=PUBLIC)
    answer = runtime.assistant.ask(question, access=PUBLIC, previous=previous)
    return {
        "id": item["id"],
        "hit@1": bool(docs[:1] and docs[0] in relevant),
        "hit@3": any(d in relevant for d in docs[:3]),
        "fact_in_top": any(fact in norm(h.passage.text) for h in passages),
        "fact_in_answer": (not answer.abstained) and fact in norm(answer.answer),
        "abstained": answer.abstained,
        "continues": bool(answer.continues),
        "corrections": {k: list(v) for k, v in query.corrections.items()},
        "synonyms": [f"{t.origin}->{t.term}" for t in query.terms if t.source == "synonym"],
        "answer": answer.answer[:200],
    }


def summary(rows: Sequence[dict[str, object]]) -> dict[str, object]:
    n = len(rows)
    out: dict[str, object] = {"n": n}
    for key in ("hit@1", "hit@3", "fact_in_top", "fact_in_answer", "abstained"):
        out[key] = round(sum(bool(r[key]) for r in rows) / n, 3) if n else 0.0
    return out


def by_split(rows: Sequence[dict[str, object]], items: Sequence[dict[str, object]]):  # type: ignore[no-untyped-def]
    split = {str(i["id"]): str(i["split"]) for i in items}
    return {
        "all": summary(rows),
        "dev": summary([r for r in rows if split[str(r["id"])] == "dev"]),
        "test": summary([r for r in rows if split[str(r["id"])] == "test"]),
    }


def demo_sets(runtime: Runtime) -> dict[str, object]:
    everyday = read_jsonl(DEMO / "everyday.jsonl")
    followups = read_jsonl(DEMO / "followups.jsonl")
    runtime.assistant.ask("échauffement", access=PUBLIC)  # load the models outside the timings
    t_wall, t_cpu = time.perf_counter(), cpu_s()
    e_rows = [score_item(runtime, i, ()) for i in everyday]
    f_rows = [score_item(runtime, i, list(i["history"])) for i in followups]  # type: ignore[call-overload]
    alone = [score_item(runtime, i, ()) for i in followups]
    wall, cpu = time.perf_counter() - t_wall, cpu_s() - t_cpu
    detection = [r["continues"] == i["continues"] for r, i in zip(f_rows, followups, strict=True)]
    split = {str(i["id"]): str(i["split"]) for i in followups}
    det = {
        name: round(
            statistics.mean(
                d for d, i in zip(detection, followups, strict=True) if name in ("all", i["split"])
            ),
            3,
        )
        for name in ("all", "dev", "test")
    }
    continuing = [i for i in followups if i["continues"]]
    ids = {str(i["id"]) for i in continuing}
    del split
    return {
        "everyday": by_split(e_rows, everyday),
        "followups": by_split([r for r in f_rows if r["id"] in ids], continuing),
        "followups_alone": by_split([r for r in alone if r["id"] in ids], continuing),
        "new_questions_after_another": by_split(
            [r for r in f_rows if r["id"] not in ids],
            [i for i in followups if not i["continues"]],
        ),
        "continuation_detected": det,
        "questions": len(everyday) + 2 * len(followups),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "rows": {"everyday": e_rows, "followups": f_rows},
    }


def print_table(result: dict[str, object]) -> None:
    head = f"{'set':<28} {'split':<5} {'n':>3} {'hit@1':>6} {'hit@3':>6} {'top5':>6} "
    head += f"{'answer':>6} {'abst.':>6}"
    print(head)
    print("-" * len(head))
    for name in ("everyday", "followups", "followups_alone", "new_questions_after_another"):
        res = result[name]
        assert isinstance(res, dict)
        for split in ("all", "dev", "test"):
            m = res[split]
            print(
                f"{name:<28} {split:<5} {m['n']:>3} {m['hit@1']:>6.3f} {m['hit@3']:>6.3f} "
                f"{m['fact_in_top']:>6.3f} {m['fact_in_answer']:>6.3f} {m['abstained']:>6.3f}"
            )
    print(f"continuation detected as expected: {result['continuation_detected']}")


# --- out of theme: qa/cdtn-dev over the 5,475-doc corpus ------------------------------------


def split_themes(qa: Sequence[dict[str, object]]) -> tuple[set[str], set[str]]:
    """The same halves as bench_retrieval.py (seed 0)."""
    themes = sorted({str(q["theme"]) for q in qa})
    random.Random(0).shuffle(themes)
    half = len(themes) // 2
    return set(themes[:half]), set(themes[half:])


def cdtn(settings_update: dict[str, object]) -> dict[str, object]:
    home = BENCH_HOME / "corpus"
    runtime = Runtime(Settings(home=home, **settings_update))  # type: ignore[arg-type]
    retriever = runtime.retriever
    index = retriever.refresh()
    lexical = index.lexical
    tracemalloc.start()
    t0 = time.perf_counter()
    speller = Speller(lexical.words)
    build_s = time.perf_counter() - t0
    speller_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    qa = [q for q in read_jsonl(DATA / "qa" / "cdtn-dev.jsonl") if q.get("relevant_ids")]
    tune, held = split_themes(qa)
    doc_of = {pid: key.split("\x1f", 1)[1] for pid, key in _passage_docs(index)}
    vectors: dict[str, tuple[object, object]] = {}

    def vecs(text: str) -> tuple[object, object]:
        if text not in vectors:
            e, t = retriever.embedder, retriever.title_embedder
            vectors[text] = (
                e.embed_queries([text]) if e else None,
                t.embed_queries([text]) if t else None,
            )
        return vectors[text]

    out: dict[str, object] = {
        "vocabulary_words": len(lexical.words),
        "index_terms": len(lexical.vocabulary),
        "speller_build_ms": round(build_s * 1000, 1),
        "speller_peak_mb": round(speller_mb, 1),
    }
    access = Access(role="agent")
    configs: list[tuple[str, bool, VectorNeighbours | None]] = [
        ("plain", False, None),
        ("spelling", True, None),
    ]
    if french_vectors() is not None:
        neighbours = VectorNeighbours(
            french_vectors,
            lexical.words,
            min_similarity=runtime.settings.synonym_min_similarity,
            weight=runtime.settings.synonym_weight,
        )
        t0 = time.perf_counter()
        neighbours.related("médocs")  # reads the vectors and the corpus words: timed
        out["synonym_build_s"] = round(time.perf_counter() - t0, 2)
        configs.append(("synonyms", True, neighbours))
    for name, spelling, related in configs:
        rewriter = Rewriter(lexical, spelling=spelling, related=related)
        rewriter._speller = speller
        rankings: dict[str, list[str]] = {}
        times: list[float] = []
        changed = 0
        for item in qa:
            t = time.perf_counter()
            query = rewriter.query(str(item["question"]))
            times.append((time.perf_counter() - t) * 1000)
            changed += bool(query.corrections) or any(t.source == "synonym" for t in query.terms)
            qv, tv = vecs(query.dense_text)
            hits = index.search_documents(
                query,
                k=10,
                access=access,
                query_vector=qv,
                title_query_vector=tv,  # type: ignore[arg-type]
            )
            rankings[str(item["id"])] = [doc_of[h.passage_id] for h in hits]
        out[name] = {
            "all": retrieval_metrics(rankings, qa),
            "tune": retrieval_metrics(rankings, [q for q in qa if q["theme"] in tune]),
            "held": retrieval_metrics(rankings, [q for q in qa if q["theme"] in held]),
            "questions_rewritten": changed,
            "rewrite_ms": {
                "p50": round(statistics.median(times), 3),
                "p95": round(sorted(times)[int(0.95 * len(times))], 3),
                "max": round(max(times), 2),
            },
        }
        res = out[name]
        assert isinstance(res, dict)
        print(
            f"cdtn-dev {name:<9} rewritten {changed:>4}  "
            + "  ".join(
                f"{split} nDCG@10 {res[split]['ndcg@10']:.4f} hit@1 {res[split]['hit@1']:.4f}"
                for split in ("tune", "held")
            )
            + f"  rewrite p95 {res['rewrite_ms']['p95']} ms"  # type: ignore[index]
        )
    runtime.close()
    return out


def _passage_docs(index):  # type: ignore[no-untyped-def]
    for row, pid in enumerate(index.passage_ids):
        yield pid, index.doc_ids[int(index.row_doc[row])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cdtn", action="store_true", help="also qa/cdtn-dev, out of theme")
    parser.add_argument("--no-spelling", action="store_true", help="spelling correction off")
    parser.add_argument("--no-synonyms", action="store_true", help="word-vector synonyms off")
    parser.add_argument("--synonym-min-similarity", type=float, default=None)
    parser.add_argument("--out", default="phrasing", help="name of the JSON in bench/results")
    parser.add_argument(
        "--no-abstain",
        action="store_true",
        help="abstention threshold 0: what the composer picks, whatever the calibration",
    )
    args = parser.parse_args()
    update: dict[str, object] = {
        "spelling_correction": not args.no_spelling,
        "synonyms": not args.no_synonyms,
    }
    if args.synonym_min_similarity is not None:
        update["synonym_min_similarity"] = args.synonym_min_similarity
    if args.no_abstain:
        update["abstain_threshold"] = 0.0
    runtime = demo_runtime(update)
    result: dict[str, object] = {"settings": update, **demo_sets(runtime)}
    runtime.close()
    print_table(result)
    print(f"{result['questions']} questions: wall {result['wall_s']} s, CPU {result['cpu_s']} s")
    if args.cdtn:
        result["cdtn_dev"] = cdtn(update)
    result["load_average_1min"] = round(os.getloadavg()[0], 2)
    write_result(args.out, result)


if __name__ == "__main__":
    main()
