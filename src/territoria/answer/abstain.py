"""Abstention: how strong is the evidence behind an answer?

The confidence blends the idf-weighted share of the question's terms that the chosen
sentences contain with the cosine similarity of the best passage (when a dense index
exists). Its threshold (`Settings.abstain_threshold`) is calibrated on dev data by
`bench/calibrate_abstain.py`, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

from territoria.types import Hit

COVERAGE_WEIGHT = 0.3  # bench/calibrate_abstain.py, results/abstain_calibration.json


def confidence(coverage: float, hits: Sequence[Hit]) -> float:
    if not hits:
        return 0.0
    dense = max((h.dense_score for h in hits if h.dense_score is not None), default=None)
    if dense is None:
        return coverage
    return COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * max(dense, 0.0)
