"""Calibrate abstention on dev data: questions that have an answer in the corpus (cdtn-dev,
dev half of the themes) against questions whose answer is in no document
(bench/data/out_of_corpus.jsonl, split "dev"). Reports the held-out halves too.

For each question it computes the two evidence features the assistant uses (idf-weighted
coverage of the question by the chosen sentences, cosine of the best passage), then searches
the blend weight and threshold that best separate the two dev sets under the product targets
(abstain >= 90 % out of corpus, <= 15 % on answerable questions). Needs the home built by
bench_ingest.py. Writes bench/results/abstain_calibration.json.

    .venv/bin/python bench/calibrate_abstain.py
"""

from __future__ import annotations

import random

import numpy as np

from common import BENCH_HOME, DATA, ROOT, read_jsonl, write_result
from territoria.answer.extractive import compose
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access


def theme_split(items: list[dict[str, object]], seed: int = 13) -> tuple[set[str], set[str]]:
    themes = sorted({str(i.get("theme", "")) for i in items})
    random.Random(seed).shuffle(themes)
    half = len(themes) // 2
    return set(themes[:half]), set(themes[half:])


def features(runtime: Runtime, questions: list[str]) -> np.ndarray:
    index = runtime.retriever.index()
    rows = []
    for q in questions:
        hits = runtime.retriever.search(q, k=5, access=Access(role="agent"))
        extract = compose(
            q,
            hits,
            analyze=index.analyze,
            idf=index.idf,
            max_words=runtime.settings.answer_max_words,
        )
        dense = max((h.dense_score or 0.0 for h in hits), default=0.0)
        rows.append((extract.coverage, dense, float(bool(extract.citations))))
    return np.asarray(rows, dtype=np.float64)


def blend(f: np.ndarray, weight: float) -> np.ndarray:
    conf = weight * f[:, 0] + (1 - weight) * np.maximum(f[:, 1], 0)
    return np.where(f[:, 2] > 0, conf, 0.0)


def main() -> None:
    runtime = Runtime(Settings(home=BENCH_HOME / "corpus"))
    runtime.retriever.refresh()
    cdtn = [i for i in read_jsonl(DATA / "qa" / "cdtn-dev.jsonl") if i.get("relevant_ids")]
    dev_themes, test_themes = theme_split(cdtn)
    ooc = read_jsonl(ROOT / "bench" / "data" / "out_of_corpus.jsonl")
    sets = {
        "in_dev": [str(i["question"]) for i in cdtn if i.get("theme") in dev_themes],
        "in_test": [str(i["question"]) for i in cdtn if i.get("theme") in test_themes],
        "out_dev": [str(i["question"]) for i in ooc if i["split"] == "dev"],
        "out_test": [str(i["question"]) for i in ooc if i["split"] == "test"],
    }
    feats = {name: features(runtime, qs) for name, qs in sets.items()}
    runtime.close()

    best: tuple[float, float, float] | None = None
    for weight in np.linspace(0, 1, 11):
        conf_in, conf_out = blend(feats["in_dev"], weight), blend(feats["out_dev"], weight)
        for threshold in np.unique(np.round(np.concatenate([conf_in, conf_out]), 4)):
            abstain_in = float(np.mean(conf_in < threshold))
            abstain_out = float(np.mean(conf_out < threshold))
            # Maximise the worst margin to the two targets.
            margin = min(abstain_out - 0.90, 0.15 - abstain_in)
            if best is None or margin > best[0]:
                best = (margin, float(weight), float(threshold))
    assert best is not None
    _, weight, threshold = best
    report: dict[str, object] = {"coverage_weight": weight, "threshold": threshold}
    for name, f in feats.items():
        report[f"abstain_{name}"] = round(float(np.mean(blend(f, weight) < threshold)), 4)
        report[f"n_{name}"] = len(f)
    print(f"coverage weight {weight:.2f}, threshold {threshold:.4f}")
    for name in ("in_dev", "in_test", "out_dev", "out_test"):
        print(f"  abstention on {name:9s}: {report[f'abstain_{name}']:.3f} (n={len(feats[name])})")
    print("targets: abstain <= 0.15 on answerable (in_*), >= 0.90 out of corpus (out_*)")
    write_result("abstain_calibration", report)


if __name__ == "__main__":
    main()
