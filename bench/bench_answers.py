"""Answer quality, abstention and `ask` latency, over the real corpora.

1. cnil-faq and crpa-faq: each FAQ's questions over its corpus (its own home): citation
   accuracy (gold passage cited) among non-abstained answers, answer recall, abstention.
2. cdtn-dev questions with gold over the 5,475-doc corpus (home from bench_ingest.py):
   abstention rate (target <= 15 %), ask latency p50/p95 (target p95 <= 150 ms).
3. out-of-corpus questions (bench/data/out_of_corpus.jsonl) over the same corpus:
   abstention rate (target >= 90 %), per split.
Writes bench/results/answers.json; `--faq-only` measures 1 on cnil-faq and crpa-faq alone
(no 5,475-doc home needed) and writes bench/results/answers-faq.json.

    .venv/bin/python bench/bench_answers.py [--faq-only]
"""

from __future__ import annotations

import shutil
import sys

from common import BENCH_HOME, DATA, ROOT, read_jsonl, write_result
from territoria.evaluation.answers import abstain_metrics, answer_metrics
from territoria.ingest import ingest_paths
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access

AGENT = Access(role="agent")


def faq(name: str) -> dict[str, object]:
    """A FAQ corpus (cnil-faq, crpa-faq) asked its own questions, in its own home."""
    home = BENCH_HOME / f"answers-{name}"
    shutil.rmtree(home, ignore_errors=True)
    runtime = Runtime(Settings(home=home))
    ingest_paths(
        [DATA / "corpus" / f"{name}.jsonl"], settings=runtime.settings, store=runtime.store
    )
    runtime.retriever.refresh()
    items = read_jsonl(DATA / "qa" / f"{name}.jsonl")
    answers = [runtime.assistant.ask(str(i["question"]), access=AGENT) for i in items]
    runtime.close()
    return answer_metrics(items, answers)


def corpus() -> dict[str, object]:
    runtime = Runtime(Settings(home=BENCH_HOME / "corpus"))
    runtime.retriever.refresh()
    cdtn = [i for i in read_jsonl(DATA / "qa" / "cdtn-dev.jsonl") if i.get("relevant_ids")]
    cdtn_answers = [runtime.assistant.ask(str(i["question"]), access=AGENT) for i in cdtn]
    ooc = read_jsonl(ROOT / "bench" / "data" / "out_of_corpus.jsonl")
    ooc_answers = [runtime.assistant.ask(str(i["question"]), access=AGENT) for i in ooc]
    runtime.close()
    by_split = {
        split: abstain_metrics(
            [a for i, a in zip(ooc, ooc_answers, strict=True) if i["split"] == split]
        )
        for split in ("dev", "test")
    }
    answered = [
        str(i["question"]) for i, a in zip(ooc, ooc_answers, strict=True) if not a.abstained
    ]
    return {
        "cdtn_dev_with_gold": answer_metrics(cdtn, cdtn_answers),
        "out_of_corpus": {
            "all": abstain_metrics(ooc_answers),
            **by_split,
            "answered_questions": answered,
        },
    }


def main() -> None:
    faqs = {"cnil_faq": faq("cnil-faq"), "crpa_faq": faq("crpa-faq")}
    for name, c in faqs.items():
        print(
            f"{name}: gold cited in {c['citation_accuracy']:.3f} of answered (target >= 0.90), "
            f"abstention {c['abstention_rate']:.3f}, answer recall {c['answer_recall']:.3f}"
        )
    if "--faq-only" in sys.argv:
        write_result("answers-faq", faqs)
        return
    result = {**faqs, **corpus()}
    d = result["cdtn_dev_with_gold"]
    o = result["out_of_corpus"]
    print(
        f"cdtn-dev with gold: abstention {d['abstention_rate']:.3f} (target <= 0.15), "
        f"gold cited {d['citation_accuracy']:.3f}, ask latency {d['latency_ms']}"
    )
    print(
        f"out of corpus: abstention {o['all']['abstention_rate']:.3f} (target >= 0.90); "
        f"dev {o['dev']['abstention_rate']:.3f}, test {o['test']['abstention_rate']:.3f}"
    )
    write_result("answers", result)


if __name__ == "__main__":
    main()
