"""Exceptional periods and level shifts in a series' history.

- Exceptional periods (outliers such as the 2020 lockdown months, a recording gap): a value
  far from the series' robust local level, seasonally adjusted: more than `OUTLIER_MADS`
  robust standard deviations (1.4826 x MAD of the residuals) from a running median. They are
  replaced by that local level for fitting, and listed in the warnings.
- Level shifts (a recording change, a merger of communes): the median of the periods after a
  point differs from the median before it by more than `SHIFT_RATIO` and by more than four
  robust standard errors; reported, not corrected (the models follow the recent level).

A recent break (the last periods unlike what the method forecast for them) is judged on the
backtest in `engine.py`, where calibrated intervals exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

OUTLIER_MADS = 5.0
SHIFT_RATIO = 1.5


@dataclass(frozen=True)
class Shift:
    position: int  # first index of the new level
    ratio: float  # new level / old level


def running_median(z: Array, half: int) -> Array:
    n = len(z)
    return np.array([np.median(z[max(0, t - half) : t + half + 1]) for t in range(n)])


def robust_sd(residuals: Array) -> float:
    mad = float(np.median(np.abs(residuals - np.median(residuals))))
    return 1.4826 * mad


def exceptional(
    adjusted: Array, season: int, *, protect_last: int = 0
) -> tuple[NDArray[np.bool_], Array]:
    """(mask of exceptional positions, local level) of a seasonally adjusted series. The first
    positions are never flagged (no level before them to compare with), nor the last
    `protect_last` (the backtest judges recent periods)."""
    n = len(adjusted)
    mask = np.zeros(n, dtype=bool)
    half = max(season // 2, 2)
    if n < 2 * half + 3:
        return mask, adjusted.copy()
    level = running_median(adjusted, half)
    residuals = adjusted - level
    sd = robust_sd(residuals)
    if sd <= 0:
        sd = float(np.mean(np.abs(residuals))) or 1.0
    mask = np.asarray(np.abs(residuals) > OUTLIER_MADS * sd)
    mask[:half] = False  # a running median is biased at the edges (a trend reads as an outlier)
    if protect_last:
        mask[n - protect_last :] = False
    return mask, level


def level_shifts(adjusted: Array, season: int) -> list[Shift]:
    """The marked level shifts, largest first, at most one per season-long stretch."""
    n = len(adjusted)
    k = max(season, 3)
    if n < 2 * k + 1 or np.min(adjusted) <= 0:
        return []
    found: list[Shift] = []
    sd = robust_sd(np.diff(adjusted)) / np.sqrt(2) or 1e-9
    for t in range(k, n - k + 1):
        before = float(np.median(adjusted[t - k : t]))
        after = float(np.median(adjusted[t : t + k]))
        if before <= 0:
            continue
        ratio = after / before
        if max(ratio, 1 / ratio) < SHIFT_RATIO:
            continue
        if abs(after - before) < 4 * sd * np.sqrt(2 / k) * 1.2533:
            continue
        found.append(Shift(t, ratio))
    found.sort(key=lambda s: -abs(np.log(s.ratio)))
    kept: list[Shift] = []
    for shift in found:
        if all(abs(shift.position - other.position) >= k for other in kept):
            kept.append(shift)
    return kept[:3]
