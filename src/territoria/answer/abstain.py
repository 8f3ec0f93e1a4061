"""Abstention: how strong is the evidence behind an answer?

`Evidence` gathers what an answer rests on: the idf-weighted share of the question's terms
that the quoted parts contain (`coverage`), the cosine similarity of the best passage (when a
dense index exists), and whether the answer holds the kind of fact asked for. `confidence`
blends them into one score; the assistant abstains below a threshold calibrated for each
deployment from its own corpus (`answer.calibration`), or set by the operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from territoria.types import Hit

COVERAGE_WEIGHT = 0.3  # bench/calibrate_abstain.py, results/abstain_calibration.json


@dataclass(frozen=True)
class Evidence:
    coverage: float
    dense: float | None = None
    holds_kind: bool | None = None  # None: the question asks for no particular kind of fact
    answered: bool = True  # an extract was found at all

    @classmethod
    def of(
        cls, coverage: float, hits: Sequence[Hit], holds_kind: bool | None, answered: bool
    ) -> Evidence:
        dense = max((h.dense_score for h in hits if h.dense_score is not None), default=None)
        return cls(coverage, dense, holds_kind, answered and bool(hits))


def confidence(evidence: Evidence) -> float:
    if not evidence.answered:
        return 0.0
    if evidence.dense is None:
        return evidence.coverage
    return COVERAGE_WEIGHT * evidence.coverage + (1 - COVERAGE_WEIGHT) * max(evidence.dense, 0.0)
