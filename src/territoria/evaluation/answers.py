"""Answer-level evaluation: answer recall, citation accuracy, abstention rates, latency."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from territoria.types import Answer

_WORD = re.compile(r"\w+")


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(folded)


def token_recall(answer: str, gold: str) -> float:
    """Share of the gold answer's tokens (with multiplicity) found in the answer."""
    gold_tokens = _tokens(gold)
    if not gold_tokens:
        return 0.0
    pool: dict[str, int] = {}
    for tok in _tokens(answer):
        pool[tok] = pool.get(tok, 0) + 1
    hit = 0
    for tok in gold_tokens:
        if pool.get(tok, 0) > 0:
            pool[tok] -= 1
            hit += 1
    return hit / len(gold_tokens)


def latency(values: Iterable[float]) -> dict[str, float]:
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.size == 0:
        return {"p50": 0.0, "p95": 0.0}
    return {
        "p50": round(float(np.percentile(arr, 50)), 2),
        "p95": round(float(np.percentile(arr, 95)), 2),
    }


def answer_metrics(
    items: Sequence[Mapping[str, object]], answers: Sequence[Answer]
) -> dict[str, object]:
    """`items` are QA lines ({"answers": [...], "relevant_ids": [...]}), aligned with answers."""
    recalls: list[float] = []
    cited_gold = 0
    answered = 0
    for item, answer in zip(items, answers, strict=True):
        if answer.abstained:
            continue
        answered += 1
        golds = [str(g) for g in item.get("answers") or []]  # type: ignore[attr-defined]
        if golds:
            recalls.append(max(token_recall(answer.answer, g) for g in golds))
        relevant = {str(r) for r in item.get("relevant_ids") or []}  # type: ignore[attr-defined]
        if relevant & {c.doc_id for c in answer.citations}:
            cited_gold += 1
    n = len(answers)
    return {
        "n": n,
        "answered": answered,
        "abstention_rate": round((n - answered) / n, 4) if n else 0.0,
        "answer_recall": round(float(np.mean(recalls)), 4) if recalls else 0.0,
        "citation_accuracy": round(cited_gold / answered, 4) if answered else 0.0,
        "latency_ms": latency(a.latency_ms for a in answers),
        "wh_per_answer": round(float(np.mean([a.energy.wh for a in answers])), 6) if n else 0.0,
    }


def abstain_metrics(answers: Sequence[Answer]) -> dict[str, object]:
    n = len(answers)
    abstained = sum(a.abstained for a in answers)
    return {
        "n": n,
        "abstained": abstained,
        "abstention_rate": round(abstained / n, 4) if n else 0.0,
        "answered_ids": [],
        "latency_ms": latency(a.latency_ms for a in answers),
    }
