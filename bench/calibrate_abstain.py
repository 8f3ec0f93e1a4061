"""Abstention across deployments: is the per-corpus calibration right on real questions?

Five deployments built from real data, each with real in-scope questions and real questions
it cannot answer:
- demo: the Val-Fleuri demo (15 documents); in: questions.jsonl; out: out_of_scope.jsonl and
  60 cdtn-dev queries (labour law);
- crpa: corpus/crpa-faq (38); in: qa/crpa-faq; out: 100 cdtn-dev and 60 cnil-faq questions;
- cnil: corpus/cnil-faq (524); in: 200 qa/cnil-faq; out: 200 cdtn-dev queries;
- domain150: 150 service-public / travail-emploi fiches, the gold pages of whole cdtn-dev
  themes; in: queries of those themes; out: queries of other themes whose pages it lacks
  (near misses in the same domain: the hardest case);
- national: the 5,475-doc corpus (home of bench_ingest.py); in: 300 cdtn-dev queries;
  out: bench/data/out_of_corpus.jsonl and 100 cnil-faq questions.

For each, the threshold is the one the product calibrates from the corpus alone
(`answer.calibration`); the script reports in-scope abstention and out-of-scope declined on
the real questions. The threshold rule (a quantile of the near misses, or the separating
rule) and its share are compared per deployment and chosen leaving one deployment out.
The confidence weights (`answer.abstain.WEIGHTS`) are checked by
leave-one-deployment-out: chosen on four deployments, scored on the fifth. A single global
threshold (the best one over all five) is reported beside, for comparison.
Writes bench/results/abstain_calibration.json.

    .venv/bin/python bench/calibrate_abstain.py [--only demo,crpa,cnil] [--reuse]

`--only` measures some deployments (the national one needs bench_ingest.py's home and about
ten minutes of embeddings) and writes bench/results/abstain_calibration-<names>.json.
`--reuse` scores the evidence collected by the last run with the same `--only` (the weights
and thresholds change, the evidence does not).
"""

from __future__ import annotations

import itertools
import json
import pickle
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from common import BENCH_HOME, CORPUS, DATA, ROOT, read_jsonl, write_result
from territoria.answer.abstain import WEIGHTS, Evidence
from territoria.answer.abstain import features as evidence_features
from territoria.answer.calibration import (
    NEAR_MISSES_DECLINED,
    choose_threshold,
    near_miss_threshold,
    rates,
    synthetic_questions,
)
from territoria.cli.documents import demo_corpus
from territoria.ingest.library import ingest_files
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access

AGENT = Access(role="admin")
DEMO = ROOT / "src" / "territoria" / "demo"
N_SYNTHETIC = 200


def features(e: Evidence) -> list[float]:
    if not e.answered:
        return [0.0] * len(WEIGHTS)
    return list(evidence_features(e))


def runtime_for(name: str, files: list[Path], internal: list[Path] | None = None) -> Runtime:
    home = BENCH_HOME / name
    runtime = Runtime(Settings(home=home))
    if not runtime.store.list_documents():
        ingest_files(runtime, files)
        if internal:
            ingest_files(runtime, internal, visibility="internal")
    runtime.retriever.refresh()
    return runtime


def ask_all(runtime: Runtime, questions: list[str], exclude: list[set[str]] | None = None):  # type: ignore[no-untyped-def]
    rows = []
    for i, q in enumerate(questions):
        ex = exclude[i] if exclude else set()
        rows.append(features(runtime.assistant.evidence(q, access=AGENT, exclude=ex)[2]))
    return np.asarray(rows, dtype=np.float64)


def sample(items: list[dict[str, object]], n: int, seed: int = 3) -> list[str]:
    chosen = list(items)
    random.Random(seed).shuffle(chosen)
    return [str(i["question"]) for i in chosen[:n]]


def domain150(cdtn: list[dict[str, object]]) -> tuple[Path, list[str], list[str]]:
    pages = [d for path in CORPUS for d in read_jsonl(path)]
    ids = {str(d["id"]) for d in pages}
    themes = sorted({str(i["theme"]) for i in cdtn})
    random.Random(5).shuffle(themes)
    keep: set[str] = set()
    chosen: set[str] = set()
    for theme in themes:
        gold = {str(r) for i in cdtn if i["theme"] == theme for r in i["relevant_ids"]}  # type: ignore[attr-defined]
        gold &= ids
        if gold and len(keep | gold) <= 150:
            keep |= gold
            chosen.add(theme)
    path = BENCH_HOME / "domain150.jsonl"
    path.write_text(
        "\n".join(json.dumps(d, ensure_ascii=False) for d in pages if d["id"] in keep) + "\n"
    )

    def golds(i: dict[str, object]) -> set[str]:
        return {str(r) for r in i["relevant_ids"]}  # type: ignore[attr-defined]

    inq = [str(i["question"]) for i in cdtn if i["theme"] in chosen and golds(i) & keep]
    outq = [str(i["question"]) for i in cdtn if i["theme"] not in chosen and not golds(i) & keep]
    return path, inq[:200], outq[:200]


def collect(only: set[str] | None = None) -> dict[str, dict[str, np.ndarray]]:
    cdtn = [i for i in read_jsonl(DATA / "qa" / "cdtn-dev.jsonl") if i.get("relevant_ids")]
    cnil = read_jsonl(DATA / "qa" / "cnil-faq.jsonl")
    crpa = read_jsonl(DATA / "qa" / "crpa-faq.jsonl")
    ooc = read_jsonl(ROOT / "bench" / "data" / "out_of_corpus.jsonl")
    root = demo_corpus()
    if only is None or "domain150" in only:
        path150, in150, out150 = domain150(cdtn)
        shutil.rmtree(BENCH_HOME / "domain150", ignore_errors=True)
    else:
        path150, in150, out150 = Path(), [], []
    plans = {
        "demo": (
            [sorted(p for p in root.iterdir() if p.is_file()), [root / "internal"]],
            [str(i["question"]) for i in read_jsonl(DEMO / "questions.jsonl")],
            [str(i["question"]) for i in read_jsonl(DEMO / "out_of_scope.jsonl")]
            + sample(cdtn, 60),
        ),
        "crpa": (
            [[DATA / "corpus" / "crpa-faq.jsonl"], []],
            [str(i["question"]) for i in crpa],
            sample(cdtn, 100) + sample(cnil, 60),
        ),
        "cnil": (
            [[DATA / "corpus" / "cnil-faq.jsonl"], []],
            sample(cnil, 200),
            sample(cdtn, 200),
        ),
        "domain150": ([[path150], []], in150, out150),
        "national": (
            [CORPUS, []],
            sample(cdtn, 300),
            [str(i["question"]) for i in ooc] + sample(cnil, 100),
        ),
    }
    data: dict[str, dict[str, np.ndarray]] = {}
    for name, (files, inq, outq) in plans.items():
        if only is not None and name not in only:
            continue
        start = time.perf_counter()
        home = "corpus" if name == "national" else name
        runtime = runtime_for(home, files[0], files[1] or None)
        index = runtime.retriever.index()
        passages = list(runtime.store.iter_passages())
        questions = synthetic_questions(
            passages,
            index.analyze,
            index.idf,
            n=N_SYNTHETIC,
            seed=len({p.doc_id for p in passages}),
        )
        holding = [index.documents_with_all_terms(q, "default") | {doc} for doc, q in questions]
        texts = [q for _, q in questions]
        data[name] = {
            "in": ask_all(runtime, inq),
            "out": ask_all(runtime, outq),
            "syn_pos": ask_all(runtime, texts),
            "syn_neg": ask_all(runtime, texts, holding),
        }
        runtime.close()
        print(f"  {name}: {len(inq)} in, {len(outq)} out, {len(texts)} synthetic "
              f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    return data


RULES = {
    "youden": lambda pos, neg: choose_threshold(pos, neg),
    **{f"near_misses_{q}": (lambda pos, neg, q=q: near_miss_threshold(neg, q))
       for q in (0.7, 0.75, 0.8, 0.85, 0.9, 0.95)},
}  # fmt: skip
PRODUCT_RULE = f"near_misses_{NEAR_MISSES_DECLINED}"


def score(
    data: dict[str, np.ndarray], weights: np.ndarray, rule: str = PRODUCT_RULE
) -> dict[str, float]:
    s = {k: v @ weights for k, v in data.items()}
    threshold = RULES[rule](s["syn_pos"], s["syn_neg"])
    answered, declined = rates(threshold, s["in"], s["out"])
    return {"threshold": round(threshold, 4), "in_abstain": round(1 - answered, 4),
            "out_declined": round(declined, 4)}  # fmt: skip


def loss(figures: dict[str, float]) -> float:
    """Distance to the product targets: in-scope abstention <= 10 %, declined >= 90 %."""
    return max(0.0, figures["in_abstain"] - 0.10) + max(0.0, 0.90 - figures["out_declined"])


def _rates(figures: dict[str, float]) -> str:
    return (
        f"in-scope abstention {figures['in_abstain']:.0%}  "
        f"out-of-scope declined {figures['out_declined']:.0%}"
    )


def main() -> None:
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    cache = BENCH_HOME / f"abstain_data-{'-'.join(sorted(only or ['all']))}.pkl"
    if "--reuse" in sys.argv and cache.exists():
        data = pickle.loads(cache.read_bytes())
    else:
        data = collect(only)
        cache.write_bytes(pickle.dumps(data))
    names = list(data)
    grid = [
        np.asarray(w, dtype=np.float64) / sum(w)
        for w in itertools.product(range(4), repeat=len(WEIGHTS))
        if sum(w)
    ]
    production = np.asarray(WEIGHTS, dtype=np.float64) / sum(WEIGHTS)
    report: dict[str, object] = {"weights": list(WEIGHTS), "features": [
        "dense", "lexical", "title_coverage", "passage_coverage", "answer_dense"]}  # fmt: skip
    print("per deployment, production weights, threshold calibrated on the corpus alone:")
    in_sample = {}
    for name in names:
        figures = score(data[name], production)
        in_sample[name] = figures
        print(f"  {name:10s} threshold {figures['threshold']:.3f}  " + _rates(figures))
    report["calibrated"] = in_sample
    print("leave one deployment out (weights chosen on the other four):")
    held = {}
    for name in names:
        train = [n for n in names if n != name]
        best = min(grid, key=lambda w: float(np.mean([loss(score(data[n], w)) for n in train])))
        figures = score(data[name], best)
        held[name] = {**figures, "weights": [round(float(x), 3) for x in best]}
        print(f"  {name:10s} weights {np.round(best, 2)}  " + _rates(figures))
    report["leave_one_out"] = held
    # the threshold rule (and its one parameter), production weights, one deployment out
    print("threshold rules, production weights (in-sample per deployment):")
    by_rule = {r: {n: score(data[n], production, r) for n in names} for r in RULES}
    for r, per in by_rule.items():
        total = sum(loss(f) for f in per.values())
        print(f"  {r:16s} loss {total:.2f}  "
              + "  ".join(f"{n} {f['in_abstain']:.0%}/{f['out_declined']:.0%}"
                          for n, f in per.items()))  # fmt: skip
    rule_held = {}
    for name in names:
        best_rule = min(RULES, key=lambda r: sum(loss(by_rule[r][n]) for n in names if n != name))
        rule_held[name] = {**by_rule[best_rule][name], "rule": best_rule}
        print(f"  held out {name:10s} rule {best_rule:16s} " + _rates(by_rule[best_rule][name]))
    report["threshold_rules"] = {"in_sample": by_rule, "leave_one_out": rule_held,
                                 "product": PRODUCT_RULE}  # fmt: skip
    # one global threshold for all deployments, for comparison
    pooled = {k: np.concatenate([data[n][k] @ production for n in names]) for k in ("in", "out")}
    best_t = choose_threshold(pooled["in"], pooled["out"])
    glob = {}
    for name in names:
        answered, declined = rates(best_t, data[name]["in"] @ production,
                                   data[name]["out"] @ production)  # fmt: skip
        glob[name] = {"in_abstain": round(1 - answered, 4), "out_declined": round(declined, 4)}
    report["global_threshold"] = {"threshold": round(best_t, 4), "per_deployment": glob}
    print(f"one global threshold chosen on the real questions of all ({best_t:.3f}):")
    for name, figures in glob.items():
        print(f"  {name:10s} " + _rates(figures))
    write_result("abstain_calibration" + ("-" + "-".join(names) if only else ""), report)


if __name__ == "__main__":
    main()
