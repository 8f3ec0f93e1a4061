"""Benchmark of the RETEX commons: search quality on the demo fiches, and 10,000 fiches
exported, imported and searched.

    TERRITORIA_BENCH_HOME=/tmp/tb-NAME .venv/bin/python bench/bench_retex.py [--n 10000]

1. Quality: the 50 questions of bench/data/retex_questions.jsonl (written over the demo fiches
   before anything was tuned) against the 13 demo fiches alone, then against the same fiches
   among ~10,000 distractors: hit@1, hit@3, MRR@10, nDCG@10 (gain 1 per relevant fiche).
2. Scale: instance A adds N fiches (the demo ones plus distractors made from the passages of
   ../shared/data/corpus: service-public, travail-emploi, CGCT; every fiche signed), exports
   its feed to a file; instance B (trusting A's key) imports the file (every entry checked;
   mirrored into B's document store for the assistant), then answers the 50 questions (index
   built on the first). Wall time and CPU-seconds of this process for each step (targets:
   export, import, search <= 30 s). The free text of the first --pii-sample fiches goes
   through the real PII guard (spaCy) and its cost per fiche is reported; the others through
   a guard that finds nothing (the PII pass is part of adding a fiche, once, not of export,
   import or search, and costs minutes for 10,000 fiches on 2 loaded cores).

Writes bench/results/retex.json.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import BENCH_HOME, DATA, ROOT, read_jsonl, write_result
from territoria.retex import Commons
from territoria.retex.demo import demo_fiches
from territoria.retex.model import Fiche, parse_fiche
from territoria.settings import Settings
from territoria.store.sqlite import SQLiteStore

QUESTIONS = ROOT / "bench" / "data" / "retex_questions.jsonl"
SOURCES = ("service-public-2020.jsonl", "travail-emploi-2020.jsonl", "cgct-2015.jsonl")
TYPES = ("commune", "epci", "departement", "region", "pays", "syndicat")
STATUSES = ("idee", "experimentation", "deploye", "termine")


def timed(fn: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
    }


def distractors(n: int) -> list[Fiche]:
    """`n` fiches made from real French administrative passages (title, first sentences)."""
    out: list[Fiche] = []
    for name in SOURCES:
        for i, row in enumerate(read_jsonl(DATA / "corpus" / name)):
            if len(out) >= n:
                return out
            text = " ".join(str(row["text"]).split())[:600]
            title = " ".join(str(row["title"]).split())[:200]
            if len(text) < 80 or not title:
                continue
            k = len(out)
            out.append(
                parse_fiche(
                    {
                        "id": f"bench-{k:05d}",
                        "title": title,
                        "summary": text,
                        "collectivite": {"name": f"Collectivité {k}", "type": TYPES[k % 6]},
                        "status": STATUSES[k % 4],
                        "themes": [name.split("-")[0], f"thème {i % 50}"],
                        "lessons": {"worked": [text[:160]]},
                    }
                )
            )
    return out


def quality(commons: Commons, questions: list[dict[str, Any]]) -> dict[str, Any]:
    hit1 = hit3 = rr = ndcg = 0.0
    latencies = []
    for q in questions:
        relevant = set(q["relevant_ids"])
        start = time.perf_counter()
        ranked = [h.id for h in commons.search(str(q["question"]), k=10)]
        latencies.append((time.perf_counter() - start) * 1000)
        hit1 += bool(ranked[:1] and ranked[0] in relevant)
        hit3 += bool(relevant & set(ranked[:3]))
        rr += next((1 / (i + 1) for i, r in enumerate(ranked) if r in relevant), 0.0)
        dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(ranked) if r in relevant)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
        ndcg += dcg / ideal
    n = len(questions)
    latencies.sort()
    return {
        "n": n,
        "hit@1": round(hit1 / n, 3),
        "hit@3": round(hit3 / n, 3),
        "mrr@10": round(rr / n, 3),
        "ndcg@10": round(ndcg / n, 3),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 2),
            "p95": round(latencies[int(0.95 * (n - 1))], 2),
        },
    }


class NothingFound:
    """A guard that finds no personal data: adds the bulk of the distractors without the
    spaCy pass (measured on the sample)."""

    def detect_batch(self, texts: list[str], *, batch_size: int = 64) -> list[list[Any]]:
        return [[] for _ in texts]

    def pseudonymize(self, text: str, **_: Any) -> Any:
        raise AssertionError("nothing to pseudonymise")


def instance(home: Path, name: str, *, documents: bool = False) -> Commons:
    settings = Settings(
        home=home, embedder="none", title_embedder="none", retex_instance=f"Instance {name}"
    )
    store = SQLiteStore(settings.db_path) if documents else None
    return Commons(settings, documents=store)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000, help="Fiches of the scale test.")
    parser.add_argument("--batch", type=int, default=500, help="Fiches added per batch.")
    parser.add_argument(
        "--pii-sample", type=int, default=500, help="Fiches added through the real PII guard."
    )
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    root = BENCH_HOME / "retex"
    shutil.rmtree(root, ignore_errors=True)
    questions = read_jsonl(QUESTIONS)
    demo = demo_fiches()

    small = instance(root / "demo", "demo")
    small.add_many(demo)
    demo_quality = quality(small, questions)
    print(f"demo ({len(demo)} fiches): {demo_quality}")
    small.close()

    a = instance(root / "a", "A")
    fiches = demo + distractors(args.n - len(demo))
    sample = fiches[: args.pii_sample]

    def add(items: list[Fiche]) -> int:
        for start in range(0, len(items), args.batch):
            a.add_many(items[start : start + args.batch])
            print(f"  added {start + len(items[start : start + args.batch])}", flush=True)
        return len(items)

    _, pii_cost = timed(lambda: add(sample))
    print(f"add {len(sample)} with the real PII guard + signature: {pii_cost}")
    a.guard = NothingFound()
    _, add_cost = timed(lambda: add(fiches[len(sample) :]))
    print(f"add {len(fiches) - len(sample)} (signature, no PII pass): {add_cost}")
    feed_file = root / "feed.json"
    exported, export_cost = timed(lambda: a.export(feed_file))
    print(f"export {exported}: {export_cost}, {feed_file.stat().st_size / 2**20:.1f} MiB")

    b = instance(root / "b", "B", documents=True)
    b.trust("Instance A", a.key.public_key)
    report, import_cost = timed(lambda: b.import_file(feed_file))
    print(f"import: {report.imported} imported, {len(report.rejected)} rejected: {import_cost}")
    again, reimport_cost = timed(lambda: b.import_file(feed_file))
    print(f"import again ({again.unchanged} unchanged): {reimport_cost}")

    scale_quality, search_cost = timed(lambda: quality(b, questions))
    print(f"search 50 questions among {len(fiches)}: {search_cost} {scale_quality}")
    documents = len(b.documents.list_documents()) if b.documents else 0

    write_result(
        "retex",
        {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_start_and_end": [
                    round(load_start, 1),
                    round(os.getloadavg()[0], 1),
                ],
                "note": "wall times depend on the machine's load (shared by ~8 agents); "
                "cpu_s is this process's CPU time",
            },
            "command": "TERRITORIA_BENCH_HOME=/tmp/tb-retex .venv/bin/python bench/bench_retex.py",
            "search": "BM25 (French analyzer) over the public fields, title field x2",
            "quality_demo": {"fiches": len(demo), **demo_quality},
            "quality_among_distractors": {"fiches": len(fiches), **scale_quality},
            "scale": {
                "fiches": len(fiches),
                "add_with_real_pii_guard": {
                    **pii_cost,
                    "fiches": len(sample),
                    "cpu_s_per_fiche": round(pii_cost["cpu_s"] / max(len(sample), 1), 4),
                },
                "add_signature_only": {**add_cost, "fiches": len(fiches) - len(sample)},
                "export": {
                    **export_cost,
                    "exported": exported,
                    "file_mib": round(feed_file.stat().st_size / 2**20, 1),
                },
                "import": {
                    **import_cost,
                    "imported": report.imported,
                    "rejected": len(report.rejected),
                    "documents_mirrored": documents,
                },
                "import_again_unchanged": {**reimport_cost, "unchanged": again.unchanged},
                "search_50_questions_incl_index_build": search_cost,
                "target_s": 30,
            },
        },
    )
    a.close()
    b.close()


if __name__ == "__main__":
    main()
