"""From the fits of a group to results: backtest errors, calibrated intervals, flags.

MASE follows the usual definition: the mean absolute error of a window divided by the mean
absolute error of the seasonal naive method (naive for yearly series) inside that window's own
training data; the backtest MASE is the mean over windows. Periods absent from the file (and
so estimated) are left out of every error.

A recent break is judged on the last backtest window with intervals calibrated on the earlier
windows only: the series breaks on its own when at least `BREAK_SHARE` of its periods fall
outside the 95 % band; it breaks with its group when many series of the upload move the same
way in the same periods (a common shock, such as the 2020 lockdowns) and this series follows
them in at least that share of its periods.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from territoria.forecast import calibration

if TYPE_CHECKING:
    from territoria.forecast.engine import Fitted, Options, Result, _Prepared

Array = NDArray[np.float64]
BASELINE_NAMES = ("naive", "seasonal_naive", "drift")


def _scale(train: Array, season: int) -> float:
    lag = season if season > 1 and len(train) > season else 1
    if len(train) <= lag:
        return max(float(np.mean(np.abs(train))), 1e-9)
    value = float(np.mean(np.abs(train[lag:] - train[:-lag])))
    if value <= 0:
        value = float(np.mean(np.abs(np.diff(train)))) if len(train) > 1 else 0.0
    return value if value > 0 else max(float(np.mean(np.abs(train))) * 0.01, 1e-9)


def _mean_abs(errors: Array) -> float:
    finite = errors[np.isfinite(errors)]
    return float(np.mean(np.abs(finite))) if finite.size else math.nan


def judge(fitted: Fitted, options: Options) -> list[Result]:
    from territoria.forecast.engine import Result

    prepared, fits, season, h = fitted.prepared, fitted.fits, fitted.season, fitted.horizon
    members = fitted.members
    need = max(2, math.ceil(BREAK_SHARE * h))
    actuals: list[Array] = []
    errors: list[Array] = []  # u = (actual - forecast) / sigma, (windows, h)
    for p, fit in zip(prepared, fits, strict=True):
        known = p.raw.copy()
        for ordinal in p.series.missing:
            known[ordinal - p.series.start] = np.nan
        a = np.array([known[o : o + h] for o in p.origins]).reshape(len(p.origins), h)
        actuals.append(a)
        errors.append((a - fit.means[:-1]) / fit.sigmas[:-1])

    # Calibration on every window but each series' last: the band the last window is judged by.
    before = calibration.calibrate(
        [u[:-1] for u in errors],
        mode=options.calibration_mode,
        group_weight=options.group_weight,
        prior_weight=options.prior_weight,
    )
    shock = _common_shocks(prepared, errors, before)

    breaks: list[list[int]] = []
    for p, u, q in zip(prepared, errors, before, strict=True):
        if not p.origins:
            breaks.append([])
            continue
        last = u[-1]
        lo, hi = q.bounds[95]
        outside = [
            p.series.start + p.origins[-1] + j
            for j in range(h)
            if np.isfinite(last[j]) and (last[j] < lo or last[j] > hi)
        ]
        shared = [
            p.series.start + p.origins[-1] + j
            for j in range(h)
            if np.isfinite(last[j])
            and (sign := shock.get(p.series.start + p.origins[-1] + j))
            and np.sign(last[j]) == sign
        ]
        if len(outside) >= need:
            breaks.append(sorted(set(outside)))
        elif len(shared) >= need:
            breaks.append(sorted(set(shared) | set(outside)))
        else:
            breaks.append([])

    # Final calibration: every window, except the last window of a series that broke.
    kept = [u[:-1] if broke else u for u, broke in zip(errors, breaks, strict=True)]
    final = calibration.calibrate(
        kept,
        mode=options.calibration_mode,
        group_weight=options.group_weight,
        prior_weight=options.prior_weight,
    )

    results = []
    for p, fit, a, u, q_before, broke, q in zip(
        prepared, fits, actuals, errors, before, breaks, final, strict=True
    ):
        mean, sigma = fit.means[-1], fit.sigmas[-1]
        bounds = {level: q.interval(mean, sigma, level) for level in calibration.LEVELS}
        if np.min(p.raw) >= 0:  # a series of counts or amounts never below zero
            mean = np.maximum(mean, 0.0)
            bounds = {
                lv: (np.maximum(lo, 0.0), np.maximum(hi, 0.0)) for lv, (lo, hi) in bounds.items()
            }
        windows = len(p.origins)
        scales = [_scale(p.raw[:o], season) for o in p.origins]
        window_mase = [_mean_abs(a[k] - fit.means[k]) / scales[k] for k in range(windows)]
        window_baselines = [
            {name: _mean_abs(a[k] - fit.baselines[name][k]) / scales[k] for name in BASELINE_NAMES}
            for k in range(windows)
        ]
        mase = _nanmean(window_mase)
        baselines = {name: _nanmean([w[name] for w in window_baselines]) for name in BASELINE_NAMES}
        coverage: dict[int, float | None] = dict.fromkeys(calibration.LEVELS)
        if windows:
            for level in calibration.LEVELS:
                lo, hi = q_before.bounds[level]
                finite = u[-1][np.isfinite(u[-1])]
                if finite.size:
                    coverage[level] = float(np.mean((finite >= lo) & (finite <= hi)))
        total = float(np.nansum(np.abs(a))) if windows else 0.0
        wape = float(np.nansum(np.abs(a - fit.means[:-1]))) / total if total > 0 else None
        reference = "seasonal_naive" if season > 1 else "naive"
        base_wape = (
            float(np.nansum(np.abs(a - fit.baselines[reference]))) / total if total > 0 else None
        )
        flags = []
        if windows < 2:
            flags.append("too_short")
        best_naive = min(
            (v for k, v in baselines.items() if k != "drift" and v is not None), default=None
        )
        if mase is not None and best_naive is not None and mase >= best_naive:
            flags.append("not_better_than_naive")
        if broke:
            flags.append("recent_break")
        if p.exceptional:
            flags.append("exceptional_periods")
        if p.shifts:
            flags.append("level_shift")
        if p.series.missing:
            flags.append("missing_values")
        results.append(
            Result(
                series=p.series,
                horizon=h,
                members=members,
                mean=mean,
                bounds=bounds,
                windows=windows,
                mase=mase,
                baselines=baselines,
                window_mase=window_mase,
                window_baselines=window_baselines,
                coverage=coverage,
                mape=wape,
                naive_mape=base_wape,
                flags=flags,
                exceptional=list(p.exceptional),
                recent_break=broke,
                shifts=list(p.shifts),
                filled=list(p.series.missing),
                failures=list(fit.failures),
                backtest_last=fit.means[-2] if windows else None,
            )
        )
    return results


def _nanmean(values: Sequence[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def _common_shocks(
    prepared: Sequence[_Prepared],
    errors: Sequence[Array],
    before: Sequence[calibration.Quantiles],
) -> dict[int, float]:
    """Periods (ordinals) where the group moved together away from its forecasts, with the
    direction (+1 above, -1 below)."""
    by_period: dict[int, list[float]] = defaultdict(list)
    for p, u, q in zip(prepared, errors, before, strict=True):
        if not p.origins:
            continue
        lo, hi = q.bounds[95]
        for j, value in enumerate(u[-1]):
            if not np.isfinite(value):
                continue
            z = value / hi if value > 0 else -value / lo if lo < 0 else 0.0
            by_period[p.series.start + p.origins[-1] + j].append(float(z))
    shocks = {}
    for ordinal, zs in by_period.items():
        if len(zs) < SHOCK_MIN_SERIES:
            continue
        centre = float(np.median(zs))
        same = np.mean(np.sign(zs) == np.sign(centre))
        if abs(centre) >= SHOCK_Z and same >= SHOCK_AGREE:
            shocks[ordinal] = float(np.sign(centre))
    return shocks


BREAK_SHARE = 0.25
SHOCK_Z = 0.5
SHOCK_AGREE = 0.75
SHOCK_MIN_SERIES = 5
