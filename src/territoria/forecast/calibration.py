"""Interval widths calibrated on backtest errors, pooled across similar series.

Models' own intervals under-cover on real local series (lockdowns, recording changes): 80 %
intervals held 72-79 % and 95 % ones 88-91 % on monthly département series. So the widths shown
come from errors measured on the backtest: each error is divided by the model's own standard
error at that step (`u = (actual - forecast) / sigma`), which keeps the way uncertainty grows
with the horizon, and the interval is `forecast + sigma x q`, with `q` the empirical quantiles
of `u`.

A short series has few errors of its own (3 windows x 12 months, 3 x 3 years), too few for a
95 % quantile: its quantiles are blended with those of the other series of the same frequency
in the upload (pooled), weighted by how many errors each has (`own_weight` pseudo-errors for
the group), and the group's with a prior (normal quantiles, `prior_weight` pseudo-errors) for a
group of one series. Both weights are chosen by cross-validation across held-apart groups of
series (bench/bench_forecast.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
LEVELS = (80, 95)
_NORMAL = {80: 1.2815515655446004, 95: 1.959963984540054}

GROUP_WEIGHT = 60.0  # pseudo-errors the group's quantiles weigh against a series' own
PRIOR_WEIGHT = 30.0  # pseudo-errors the normal prior weighs against the group's


@dataclass(frozen=True)
class Quantiles:
    """Lower and upper quantiles of u for each level, and how many errors they rest on."""

    bounds: dict[int, tuple[float, float]]
    errors: int

    def interval(self, mean: Array, sigma: Array, level: int) -> tuple[Array, Array]:
        lo, hi = self.bounds[level]
        return mean + sigma * lo, mean + sigma * hi


def empirical(errors: Array) -> dict[int, tuple[float, float]]:
    """Quantiles of `errors` (finite values) for each level."""
    finite = errors[np.isfinite(errors)]
    out = {}
    for level in LEVELS:
        tail = (1 - level / 100) / 2
        out[level] = (float(np.quantile(finite, tail)), float(np.quantile(finite, 1 - tail)))
    return out


def _mix(
    a: dict[int, tuple[float, float]], wa: float, b: dict[int, tuple[float, float]], wb: float
) -> dict[int, tuple[float, float]]:
    total = wa + wb
    return {
        level: (
            (wa * a[level][0] + wb * b[level][0]) / total,
            (wa * a[level][1] + wb * b[level][1]) / total,
        )
        for level in LEVELS
    }


PRIOR = {level: (-z, z) for level, z in _NORMAL.items()}


def group_quantiles(errors: Sequence[Array], *, prior_weight: float = PRIOR_WEIGHT) -> Quantiles:
    """The group's quantiles: all its series' errors together, blended with the prior."""
    pooled = np.concatenate([e[np.isfinite(e)] for e in errors]) if errors else np.array([])
    if pooled.size == 0:
        return Quantiles(dict(PRIOR), 0)
    return Quantiles(_mix(empirical(pooled), pooled.size, PRIOR, prior_weight), pooled.size)


def series_quantiles(
    own: Array, group: Quantiles, *, group_weight: float = GROUP_WEIGHT
) -> Quantiles:
    """One series' quantiles: its own errors blended with its group's."""
    finite = own[np.isfinite(own)]
    if finite.size == 0:
        return group
    bounds = _mix(empirical(finite), finite.size, group.bounds, group_weight)
    return Quantiles(bounds, finite.size)


def _robust_scale(errors: Array) -> float | None:
    finite = np.abs(errors[np.isfinite(errors)])
    if finite.size < 3:
        return None
    value = float(np.median(finite)) / 0.6744897501960817
    return value if value > 0 else None


def calibrate(
    errors: Sequence[Array],
    *,
    mode: str = "scaled",
    group_weight: float = GROUP_WEIGHT,
    prior_weight: float = PRIOR_WEIGHT,
) -> list[Quantiles]:
    """Quantiles for each series of a group, from the errors of all of them.

    - "pooled": the group's quantiles of u blended with each series' own (`group_weight`
      pseudo-errors for the group);
    - "scaled": the group gives the shape (quantiles of u divided by each series' robust
      scale, the median |u| / 0.674), each series its own scale, shrunk towards the group's
      median scale with `group_weight` pseudo-errors: a volatile series in the group does not
      widen the intervals of a calm one.
    """
    if mode == "pooled":
        group = group_quantiles(errors, prior_weight=prior_weight)
        return [series_quantiles(e, group, group_weight=group_weight) for e in errors]
    scales = [_robust_scale(e) for e in errors]
    known = [s for s in scales if s is not None]
    centre = float(np.median(known)) if known else 1.0
    standardized = [e / s for e, s in zip(errors, scales, strict=True) if s is not None]
    shape = group_quantiles(standardized, prior_weight=prior_weight)
    out = []
    for e, own in zip(errors, scales, strict=True):
        n = int(np.isfinite(e).sum())
        scale = centre if own is None else (n * own + group_weight * centre) / (n + group_weight)
        bounds = {lv: (lo * scale, hi * scale) for lv, (lo, hi) in shape.bounds.items()}
        out.append(Quantiles(bounds, n))
    return out
