"""Retrieval metrics over document rankings: hit@1, hit@k, MRR@k, nDCG@k.

Rankings are lists of document ids, best first; a passage ranking is first deduplicated to
documents (`dedupe`). nDCG@k uses the gain 2^grade - 1, the grade of a relevant id coming from
the gold line's `relevance` mapping (1 when absent); the ideal DCG sorts the gold grades.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def dedupe(ids: Iterable[str]) -> list[str]:
    """Ids in first-seen order, each once (a passage ranking mapped to its documents)."""
    return list(dict.fromkeys(ids))


def grades(gold: Mapping[str, Any]) -> dict[str, float]:
    """Grade of each relevant id of one gold line."""
    relevance = gold.get("relevance") or {}
    return {str(i): float(relevance.get(i, 1)) for i in gold.get("relevant_ids", [])}


def dcg(gains: Sequence[float]) -> float:
    return float(sum((2.0**g - 1.0) / math.log2(rank + 2) for rank, g in enumerate(gains)))


def query_metrics(ranking: Sequence[str], gold: Mapping[str, Any], k: int = 10) -> dict[str, float]:
    """Metrics of one ranking of document ids against one gold line."""
    graded = grades(gold)
    top = dedupe(ranking)[:k]
    first = next((rank for rank, doc in enumerate(top) if doc in graded), None)
    ideal = dcg(sorted(graded.values(), reverse=True)[:k])
    found = dcg([graded.get(doc, 0.0) for doc in top])
    return {
        "hit@1": 1.0 if first == 0 else 0.0,
        f"hit@{k}": 0.0 if first is None else 1.0,
        f"mrr@{k}": 0.0 if first is None else 1.0 / (first + 1),
        f"ndcg@{k}": found / ideal if ideal > 0 else 0.0,
    }


def retrieval_metrics(
    rankings: Mapping[str, Sequence[str]], qa: Sequence[Mapping[str, Any]], k: int = 10
) -> dict[str, float]:
    """Mean metrics over the gold lines that have relevant ids; a missing ranking scores 0.

    Returns {"n", "hit@1", "hit@k", "mrr@k", "ndcg@k"} (k = 10 gives the CLI's keys).
    """
    names = ["hit@1", f"hit@{k}", f"mrr@{k}", f"ndcg@{k}"]
    totals = dict.fromkeys(names, 0.0)
    n = 0
    for gold in qa:
        if not gold.get("relevant_ids"):
            continue
        n += 1
        for name, value in query_metrics(rankings.get(str(gold["id"]), []), gold, k).items():
            totals[name] += value
    out: dict[str, float] = {"n": n}
    out.update({name: (total / n if n else 0.0) for name, total in totals.items()})
    return out
