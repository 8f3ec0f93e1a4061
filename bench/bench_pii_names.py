"""Benchmark of person names in the PII guard, on three sets, and the cost of the name lexicon.

    .venv/bin/python bench/bench_pii_names.py [--passes N]

Sets: shared/data/pii/dev.jsonl (the guard's regression set), bench/data/pii_names_dev.jsonl
(31 sentences the name recognizer was tuned on), bench/data/pii_names.jsonl (56 sentences
written afterwards: 41 with names of diverse origins and formats, 15 clean sentences full of
places named after people), bench/data/pii_names_holdout.jsonl (27 more, written after the
test set) and bench/data/pii_names_check.jsonl (28, written by a second author on the finished
recognizer: 24/25 names masked before one fix, a common first name vetoed by spaCy's MISC label
in a list "Enzo et Lina Fontaine"). Gold spans are checked against the text first.

Gold conventions: PERSON is the name without its title ("M. ROBERT" -> "ROBERT"), with
particles and initials ("J.-P. Lacaze", "Robert S."); a street named after a person is part of
an ADDRESS only with a house number (a personal address), otherwise it is a public place and
no entity; institutions' addresses are public (no entity).

Prints per set: names fully masked (each gold PERSON covered by one detected span), strict
PERSON precision/recall, all entities fully masked, spans flagged in clean sentences (and how
many are PERSON), then the throughput of `detect_batch` with and without the first-name
recognizer (alternating passes in one process); writes bench/results/pii_names.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

from bench_pii import evaluate
from common import DATA, ROOT, write_result
from territoria.guard import pii as pii_module
from territoria.guard.pii import PIIGuard
from territoria.settings import Settings

SETS = {
    "shared_dev": DATA / "pii" / "dev.jsonl",
    "names_dev": ROOT / "bench" / "data" / "pii_names_dev.jsonl",
    "names_test": ROOT / "bench" / "data" / "pii_names.jsonl",
    "names_holdout": ROOT / "bench" / "data" / "pii_names_holdout.jsonl",
    "names_check": ROOT / "bench" / "data" / "pii_names_check.jsonl",
}


def read_set(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for n, row in enumerate(rows, 1):
        for e in row["entities"]:
            if row["text"][e["start"] : e["end"]] != e["text"]:
                raise SystemExit(f"{path.name}:{n}: gold span {e} does not match the text")
    return rows


def names_report(
    rows: list[dict[str, Any]], predictions: list[list[tuple[int, int, str]]]
) -> dict[str, Any]:
    gold = masked = tp = predicted = clean_person = 0
    missed: list[str] = []
    wrong: list[str] = []
    for row, pred in zip(rows, predictions, strict=True):
        people = {(e["start"], e["end"]) for e in row["entities"] if e["type"] == "PERSON"}
        found = {(s, e) for s, e, kind in pred if kind == "PERSON"}
        gold += len(people)
        predicted += len(found)
        tp += len(people & found)
        for start, end in people:
            if any(s <= start and end <= e for s, e, _ in pred):
                masked += 1
            else:
                missed.append(row["text"][start:end])
        wrong.extend(row["text"][s:e] for s, e in sorted(found - people))
        if not row["entities"]:
            clean_person += len(found)
    return {
        "names": gold,
        "names_fully_masked": masked,
        "names_fully_masked_rate": masked / max(1, gold),
        "person_precision": tp / max(1, predicted),
        "person_recall": tp / max(1, gold),
        "person_spans_in_clean_sentences": clean_person,
        "names_not_masked": missed,
        "person_spans_not_gold": wrong,
    }


def _no_names(*args: object, **kwargs: object) -> list[tuple[int, int, float]]:
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5, help="Alternating passes for speed.")
    args = parser.parse_args()
    data = {name: read_set(path) for name, path in SETS.items()}

    report: dict[str, Any] = {"sets": {}}
    with tempfile.TemporaryDirectory() as home:
        guard = PIIGuard(Settings(home=Path(home)))
        started = time.perf_counter()
        guard.load()  # spaCy's NER (a text without a name would not load it)
        load_s = time.perf_counter() - started
        for name, rows in data.items():
            found = guard.detect_batch([row["text"] for row in rows])
            predictions = [[(e.start, e.end, e.type) for e in ents] for ents in found]
            result = evaluate(rows, predictions)
            result.update(names_report(rows, predictions))
            result["sentences"] = len(rows)
            result["data"] = str(SETS[name].relative_to(ROOT.parent))
            report["sets"][name] = result

        texts = [row["text"] for rows in data.values() for row in rows]
        timings: dict[str, float] = {"with_names": 0.0, "without_names": 0.0}
        for _ in range(args.passes):
            for variant in ("with_names", "without_names"):
                # the first-name recognizer left out: what it costs
                off = variant == "without_names"
                patch = mock.patch.object(pii_module, "find_names", _no_names)
                with patch if off else nullcontext():
                    wall0 = time.perf_counter()
                    guard.detect_batch(texts)
                    timings[variant] += time.perf_counter() - wall0

    n = len(texts) * args.passes
    report["speed"] = {
        "sentences": n,
        "with_names_sentences_per_s": n / timings["with_names"],
        "without_names_sentences_per_s": n / timings["without_names"],
        "cost_ms_per_sentence": (timings["with_names"] - timings["without_names"]) / n * 1000,
        "load_s": load_s,
        "processes": 1,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }

    print(
        f"{'set':<14}{'sent.':>6}{'names':>6}{'masked':>8}{'P(PER)':>8}{'R(PER)':>8}"
        f"{'all masked':>12}{'clean':>7}{'flags':>6}{'PER':>5}"
    )
    for name, r in report["sets"].items():
        print(
            f"{name:<14}{r['sentences']:>6}{r['names']:>6}{r['names_fully_masked_rate']:>8.1%}"
            f"{r['person_precision']:>8.3f}{r['person_recall']:>8.3f}"
            f"{r['fully_masked']:>6}/{r['gold_entities']:<5}{r['clean_sentences']:>7}"
            f"{r['clean_sentence_flags']:>6}{r['person_spans_in_clean_sentences']:>5}"
        )
        if r["names_not_masked"]:
            print(f"  not masked: {', '.join(r['names_not_masked'])}")
        if r["person_spans_not_gold"]:
            print(f"  PERSON spans not in gold: {', '.join(r['person_spans_not_gold'])}")
    speed = report["speed"]
    print(
        f"detect_batch (1 process, {n} sentences): "
        f"{speed['with_names_sentences_per_s']:.0f} sentences/s with the first-name recognizer, "
        f"{speed['without_names_sentences_per_s']:.0f} without "
        f"({speed['cost_ms_per_sentence']:+.2f} ms/sentence); load {speed['load_s']:.1f} s"
    )
    write_result("pii_names", report)


if __name__ == "__main__":
    main()
