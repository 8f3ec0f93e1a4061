"""The demo as a newcomer meets it: the questions shipped with the demo corpus, asked through
the real question path (the same one as `territoria ask` and /api/ask) on a fresh demo home
with the default models.

Per set: share of answers that contain the expected fact (`answer_contains`, compared with
accents, case and spacing folded), abstention, and for out-of-scope questions the share
declined. Sets: questions.jsonl (citizens' questions), out_of_scope.jsonl, and, when present,
everyday.jsonl (everyday phrasing) and followups.jsonl (follow-up chains). `--show` prints
every answer. Writes bench/results/demo.json.

    .venv/bin/python bench/bench_demo.py [--show]
"""

from __future__ import annotations

import re
import shutil
import sys
import time
import unicodedata
from pathlib import Path

from common import BENCH_HOME, ROOT, read_jsonl, write_result
from territoria.cli.documents import demo_corpus
from territoria.ingest.library import ingest_files
from territoria.runtime import Runtime
from territoria.settings import Settings

DEMO = ROOT / "src" / "territoria" / "demo"


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s\u202f\u00a0]+", "", plain.replace("’", "'"))


def build(home: Path) -> Runtime:
    shutil.rmtree(home, ignore_errors=True)
    runtime = Runtime(Settings(home=home))
    root = demo_corpus()
    ingest_files(runtime, sorted(p for p in root.iterdir() if p.is_file()))
    ingest_files(runtime, [root / "internal"], visibility="internal")
    runtime.refresh()
    return runtime


def run_set(runtime: Runtime, items: list[dict[str, object]], show: bool) -> dict[str, object]:
    found = abstained = 0
    misses = []
    for item in items:
        answer = runtime.ask(str(item["question"]))
        expected = str(item.get("answer_contains", ""))
        ok = bool(expected) and not answer.abstained and fold(expected) in fold(answer.answer)
        found += ok
        abstained += answer.abstained
        if show:
            mark = "OK " if ok else ("ABS" if answer.abstained else "-- ")
            print(f"{mark} {item['question']}\n     -> {answer.answer[:300]}")
        if expected and not ok:
            misses.append(str(item["id"]))
    n = len(items)
    return {
        "n": n,
        "fact_in_answer": round(found / n, 4) if n else None,
        "abstained": round(abstained / n, 4) if n else None,
        "misses": misses,
    }


def main() -> None:
    show = "--show" in sys.argv
    start, cpu = time.perf_counter(), time.process_time()
    runtime = build(BENCH_HOME / "demo")
    report: dict[str, object] = {}
    for name in ("questions", "everyday", "out_of_scope"):
        path = DEMO / f"{name}.jsonl"
        if path.exists():
            report[name] = run_set(runtime, read_jsonl(path), show)
    runtime.close()
    report["wall_s"] = round(time.perf_counter() - start, 1)
    report["cpu_s"] = round(time.process_time() - cpu, 1)
    for name, figures in report.items():
        if isinstance(figures, dict):
            declined = f", declined {figures['abstained']:.0%}" if name == "out_of_scope" else ""
            fact = figures["fact_in_answer"]
            fact_text = f"fact in answer {fact:.0%}, " if fact is not None and fact else ""
            print(f"{name:13s} n={figures['n']:3d}  {fact_text}abstained "
                  f"{figures['abstained']:.0%}{declined}")  # fmt: skip
    print(f"wall {report['wall_s']} s, CPU {report['cpu_s']} s")
    write_result("demo", report)


if __name__ == "__main__":
    main()
