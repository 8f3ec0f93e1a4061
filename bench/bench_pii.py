"""Benchmark of the French PII guard on shared/data/pii/dev.jsonl.

    .venv/bin/python bench/bench_pii.py [--data PATH] [--passes N]

Prints, per type, strict precision/recall (same type, same start and end), the share of gold
entities fully masked (covered by one detected span of any type), the spans flagged in clean
sentences (no gold entity), and the throughput of `detect_batch` in one process; writes
bench/results/pii.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from territoria.guard.pii import ENTITY_TYPES, PIIGuard
from territoria.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pii" / "dev.jsonl"
RESULTS = ROOT / "bench" / "results" / "pii.json"


def evaluate(
    rows: list[dict[str, Any]], predictions: list[list[tuple[int, int, str]]]
) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    masked = 0
    clean_sentences = 0
    clean_flags = 0
    missed: list[dict[str, str]] = []
    for row, pred in zip(rows, predictions, strict=True):
        gold = [(e["start"], e["end"], e["type"]) for e in row["entities"]]
        pred_set = set(pred)
        for start, end, kind in gold:
            n_gold[kind] += 1
            tp[kind] += (start, end, kind) in pred_set
            if any(s <= start and end <= e for s, e, _ in pred):
                masked += 1
            else:
                missed.append({"text": row["text"][start:end], "type": kind})
        for _, _, kind in pred:
            n_pred[kind] += 1
        if not gold:
            clean_sentences += 1
            clean_flags += len(pred)
    per_type = {}
    for kind in ENTITY_TYPES:
        if n_gold[kind] or n_pred[kind]:
            per_type[kind] = {
                "gold": n_gold[kind],
                "predicted": n_pred[kind],
                "precision": tp[kind] / n_pred[kind] if n_pred[kind] else 0.0,
                "recall": tp[kind] / n_gold[kind] if n_gold[kind] else 0.0,
            }
    total_gold = sum(n_gold.values())
    return {
        "per_type": per_type,
        "micro_precision": sum(tp.values()) / max(1, sum(n_pred.values())),
        "micro_recall": sum(tp.values()) / max(1, total_gold),
        "gold_entities": total_gold,
        "fully_masked": masked,
        "fully_masked_rate": masked / max(1, total_gold),
        "clean_sentences": clean_sentences,
        "clean_sentence_flags": clean_flags,
        "not_masked": missed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--passes", type=int, default=10, help="Passes over the data for speed.")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line]
    texts = [row["text"] for row in rows]

    with tempfile.TemporaryDirectory() as home:
        guard = PIIGuard(Settings(home=Path(home)))
        started = time.perf_counter()
        guard.load()  # spaCy's NER (a text without a name would not load it)
        load_s = time.perf_counter() - started

        found = guard.detect_batch(texts)
        predictions = [[(e.start, e.end, e.type) for e in ents] for ents in found]
        report = evaluate(rows, predictions)

        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(args.passes):
            guard.detect_batch(texts)
        batch_wall = time.perf_counter() - wall0
        batch_cpu = time.process_time() - cpu0
        wall0 = time.perf_counter()
        for text in texts:
            guard.detect(text)
        single_wall = time.perf_counter() - wall0
        wall0 = time.perf_counter()
        for text, ents in zip(texts, found, strict=True):
            guard.pseudonymize(text, tenant="bench", entities=ents)
        pseudo_wall = time.perf_counter() - wall0

    n = len(texts) * args.passes
    report["speed"] = {
        "sentences": n,
        "detect_batch_sentences_per_s": n / batch_wall,
        "detect_batch_cpu_s_per_sentence": batch_cpu / n,
        "detect_sentences_per_s": len(texts) / single_wall,
        "pseudonymize_sentences_per_s": len(texts) / pseudo_wall,
        "load_s": load_s,
        "processes": 1,
        "cpu_count": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
    report["data"] = str(args.data)
    report["sentences"] = len(texts)

    print(f"PII guard on {args.data.name}: {len(texts)} sentences")
    print(f"{'type':<9}{'gold':>6}{'pred':>6}{'precision':>11}{'recall':>8}")
    for kind, m in report["per_type"].items():
        print(
            f"{kind:<9}{m['gold']:>6}{m['predicted']:>6}{m['precision']:>11.3f}{m['recall']:>8.3f}"
        )
    print(
        f"micro precision {report['micro_precision']:.3f}, recall {report['micro_recall']:.3f}\n"
        f"fully masked: {report['fully_masked']}/{report['gold_entities']} "
        f"({report['fully_masked_rate']:.1%})\n"
        f"spans flagged in {report['clean_sentences']} clean sentences: "
        f"{report['clean_sentence_flags']}"
    )
    speed = report["speed"]
    print(
        f"speed (1 process): detect_batch {speed['detect_batch_sentences_per_s']:.0f} sentences/s, "
        f"detect {speed['detect_sentences_per_s']:.0f}/s, "
        f"pseudonymize {speed['pseudonymize_sentences_per_s']:.0f}/s, load {speed['load_s']:.1f} s"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
