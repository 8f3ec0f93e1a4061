"""Leave-themes-out cross-validation of retrieval settings, on whole batches of questions.

`Gold` holds a QA set's graded gold as a (questions x documents) matrix, so that the
metrics of a batch of fused scores (one row per question) are a few numpy operations:
hit@1, hit@10, MRR@10 and nDCG@10 with the gain 2^grade - 1, as
`territoria.evaluation.retrieval` computes them (tests/bench check they agree).

`theme_folds` splits the questions by theme (k folds, repeated with several seeds);
`cross_validate` picks, on the themes of each training part, the configuration with the best
objective, and scores it on the held-out themes: the out-of-theme figure is the mean over the
held-out parts (and its spread), the in-sample figure the best configuration on all themes.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float32]
PerQuery = dict[str, npt.NDArray[np.float64]]
METRICS = ("ndcg@10", "hit@10", "mrr@10", "hit@1")
_DISCOUNT = 1.0 / np.log2(np.arange(2, 12))


@dataclass(frozen=True)
class Gold:
    grades: npt.NDArray[np.float32]  # (questions, documents)
    ideal: npt.NDArray[np.float64]  # ideal DCG@10 of each question (every relevant id)
    themes: list[str]  # one per question

    @classmethod
    def build(cls, qa: Sequence[Mapping[str, object]], doc_ids: Sequence[str]) -> Gold:
        row = {d: i for i, d in enumerate(doc_ids)}
        grades = np.zeros((len(qa), len(doc_ids)), dtype=np.float32)
        ideal = np.zeros(len(qa))
        for i, item in enumerate(qa):
            relevance = item.get("relevance") or {}
            assert isinstance(relevance, dict)
            relevant = item.get("relevant_ids") or []
            assert isinstance(relevant, list)
            graded = {str(r): float(relevance.get(r, 1)) for r in relevant}
            for doc, grade in graded.items():
                if doc in row:
                    grades[i, row[doc]] = grade
            best = sorted(graded.values(), reverse=True)[:10]
            ideal[i] = sum((2.0**g - 1.0) * _DISCOUNT[r] for r, g in enumerate(best))
        return cls(grades, ideal, [str(item.get("theme", "")) for item in qa])

    def metrics(self, scores: Scores) -> PerQuery:
        """Per-question metrics of the top 10 of each row (-inf: never ranked)."""
        k = min(10, scores.shape[1])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        ranked = np.isfinite(np.take_along_axis(values, order, axis=1))
        gains = np.where(ranked, np.take_along_axis(self.grades, top, axis=1), 0.0)
        dcg = ((2.0**gains - 1.0) * _DISCOUNT[:k]).sum(axis=1)
        relevant = gains > 0
        found = relevant.any(axis=1)
        first = np.where(found, relevant.argmax(axis=1), 0)
        return {
            "ndcg@10": np.where(self.ideal > 0, dcg / np.maximum(self.ideal, 1e-12), 0.0),
            "hit@10": found.astype(np.float64),
            "mrr@10": np.where(found, 1.0 / (first + 1.0), 0.0),
            "hit@1": (found & (first == 0)).astype(np.float64),
        }


def theme_folds(
    themes: Sequence[str], k: int = 5, seeds: Sequence[int] = (0, 1, 2)
) -> list[npt.NDArray[np.bool_]]:
    """Held-out masks over the questions: the themes shuffled with each seed and dealt into
    k parts."""
    names = sorted(set(themes))
    theme_of = np.asarray([names.index(t) for t in themes])
    folds = []
    for seed in seeds:
        order = list(range(len(names)))
        random.Random(seed).shuffle(order)
        for part in range(k):
            folds.append(np.isin(theme_of, order[part::k]))
    return folds


def mean(per_query: PerQuery, where: npt.NDArray[np.bool_] | None = None) -> dict[str, float]:
    return {
        name: float(values[where].mean() if where is not None else values.mean())
        for name, values in per_query.items()
    }


@dataclass(frozen=True)
class CVResult:
    in_sample: dict[str, float]  # the configuration best on every theme, scored on them
    chosen: Hashable  # that configuration
    held_out: dict[str, tuple[float, float]]  # mean and standard deviation over the folds
    picks: Counter[Hashable]  # how often each configuration won a training part


def cross_validate(
    results: Mapping[Hashable, PerQuery],
    folds: Sequence[npt.NDArray[np.bool_]],
    objective: Callable[[PerQuery, npt.NDArray[np.bool_]], float] | None = None,
) -> CVResult:
    """Choose on each training part, score on its held-out themes."""
    score = objective or (lambda m, where: float(m["ndcg@10"][where].mean()))
    everything = np.ones(len(next(iter(results.values()))["ndcg@10"]), dtype=bool)
    chosen = max(results, key=lambda name: score(results[name], everything))
    held: dict[str, list[float]] = {name: [] for name in METRICS}
    picks: Counter[Hashable] = Counter()
    for test in folds:
        best = max(results, key=lambda name: score(results[name], ~test))
        picks[best] += 1
        for name in METRICS:
            held[name].append(float(results[best][name][test].mean()))
    return CVResult(
        in_sample=mean(results[chosen]),
        chosen=chosen,
        held_out={k: (float(np.mean(v)), float(np.std(v))) for k, v in held.items()},
        picks=picks,
    )


def adverse_themes(
    channel: PerQuery, floor: PerQuery, themes: Sequence[str], where: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """The questions of the quarter of themes (among `where`) on which `channel` alone falls
    furthest below `floor` (nDCG@10): where that channel fails, a fusion must not."""
    names = np.asarray(themes)
    loss = {
        t: float(channel["ndcg@10"][(names == t) & where].mean())
        - float(floor["ndcg@10"][(names == t) & where].mean())
        for t in sorted(set(names[where]))
    }
    worst = sorted(loss, key=loss.__getitem__)[: max(1, len(loss) // 4)]
    return np.isin(names, worst) & where


def fixed(
    result: PerQuery, folds: Sequence[npt.NDArray[np.bool_]]
) -> dict[str, tuple[float, float]]:
    """A configuration chosen beforehand, scored on the same held-out parts (for spread)."""
    return {
        name: (
            float(np.mean([result[name][t].mean() for t in folds])),
            float(np.std([result[name][t].mean() for t in folds])),
        )
        for name in METRICS
    }
