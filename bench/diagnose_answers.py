"""Why a demo answer misses: each miss classified by the first stage that failed.

For every question of the demo sets (questions, everyday, follow-ups, out-of-scope), asked
through the assistant on the bench demo home:
- `retrieval`: the expected fact is in none of the passages given to the composer (top 5);
- `selection`: it is in one of them, but the composer's chosen parts do not hold it
  (whatever the abstention decided);
- `abstained`: the composer's parts hold it, but the confidence is under the threshold;
- `answered_oos`: an out-of-scope question was answered;
- `ok`: the fact is in the answer (or an out-of-scope question was declined).

Prints one line per miss and a table per set and split; `--split dev` (default) looks at the
dev halves only (questions and out-of-scope: odd ids are dev, even ids test; everyday and
follow-ups carry their own split). Writes bench/results/diagnose-<split>.json.

    .venv/bin/python bench/diagnose_answers.py [--split dev|test|all] [--show]
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from collections.abc import Sequence

from bench_demo import DEMO, build, fold
from common import BENCH_HOME, read_jsonl, write_result
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access

PUBLIC = Access(role="public")


def split_of(item: dict[str, object]) -> str:
    """The item's own split, else odd ids dev and even ids test."""
    if "split" in item:
        return str(item["split"])
    digits = re.findall(r"\d+", str(item["id"]))
    return "dev" if digits and int(digits[-1]) % 2 else "test"


def classify(
    runtime: Runtime, item: dict[str, object], previous: Sequence[str], oos: bool
) -> dict[str, object]:
    question = str(item["question"])
    assistant = runtime.assistant
    answer = assistant.answer(question, access=PUBLIC, previous=previous)
    row: dict[str, object] = {
        "id": item["id"],
        "split": split_of(item),
        "question": question,
        "answer": answer.answer[:240],
        "confidence": round(answer.confidence, 3),
        "threshold": answer.verification.threshold,
        "abstained": answer.abstained,
    }
    if oos:
        row["class"] = "ok" if answer.abstained else "answered_oos"
        return row
    fact = fold(str(item["answer_contains"]))
    query = answer.query
    assert query is not None
    hits, extract, _ = assistant.evidence(question, access=PUBLIC, query=query)
    ranks = [
        n for n, h in enumerate(hits) if fact in fold(f"{h.passage.heading_path} {h.passage.text}")
    ]
    picked = " ".join(text for _, text in extract.sentences)
    row["fact_rank"] = ranks[0] if ranks else None
    row["docs"] = [h.passage.doc_id for h in hits]
    if not answer.abstained and fact in fold(answer.answer):
        row["class"] = "ok"
    elif not ranks:
        row["class"] = "retrieval"
    elif fact not in fold(picked):
        row["class"] = "selection"
        row["picked"] = picked[:240]
    else:
        row["class"] = "abstained"
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev", choices=("dev", "test", "all"))
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--no-build", action="store_true", help="reuse the bench demo home")
    args = parser.parse_args()
    start, cpu = time.perf_counter(), time.process_time()
    home = BENCH_HOME / "demo"
    if args.no_build and (home / "territoria.sqlite3").exists():
        runtime = Runtime(Settings(home=home))
        runtime.refresh()
    else:
        runtime = build(home)
    sets = {
        name: [
            i
            for i in read_jsonl(DEMO / f"{name}.jsonl")
            if args.split == "all" or split_of(i) == args.split
        ]
        for name in ("questions", "everyday", "followups", "out_of_scope")
    }
    report: dict[str, object] = {}
    for name, items in sets.items():
        rows = [
            classify(
                runtime,
                i,
                [str(h) for h in i.get("history", [])],  # type: ignore[attr-defined]
                name == "out_of_scope",
            )
            for i in items
            if name != "followups" or i.get("continues")
        ]
        counts = Counter(str(r["class"]) for r in rows)
        per_split = {
            s: dict(Counter(str(r["class"]) for r in rows if r["split"] == s))
            for s in sorted({str(r["split"]) for r in rows})
        }
        report[name] = {"n": len(rows), "classes": dict(counts), "splits": per_split, "rows": rows}
        print(f"{name:13s} n={len(rows):3d} " + "  ".join(f"{k} {v}" for k, v in counts.items()))
        for s, c in per_split.items():
            print(f"   {s:5s} " + "  ".join(f"{k} {v}" for k, v in c.items()))
        if args.show:
            for r in rows:
                if r["class"] != "ok":
                    print(f"   [{r['class']}] {r['id']} {r['question']}  "
                          f"(conf {r['confidence']} / {r['threshold']}, fact rank "
                          f"{r.get('fact_rank')})\n      -> {str(r['answer'])[:200]}")  # fmt: skip
                    if "picked" in r:
                        print(f"      picked: {str(r['picked'])[:200]}")
    runtime.close()
    report["wall_s"] = round(time.perf_counter() - start, 1)
    report["cpu_s"] = round(time.process_time() - cpu, 1)
    print(f"wall {report['wall_s']} s, CPU {report['cpu_s']} s")
    write_result(f"diagnose-{args.split}", report)


if __name__ == "__main__":
    main()
