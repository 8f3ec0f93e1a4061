"""From the fits of a group to results: backtest errors, calibrated intervals, flags.

MASE follows the usual definition: the mean absolute error of a window divided by the mean
absolute error of the seasonal naive method (naive for yearly series) inside that window's own
training data; the backtest MASE is the mean over windows. Periods absent from the file (and
so estimated) are left out of every error.

A recent break is judged on the last backtest window with intervals calibrated on the earlier
windows only: the series breaks on its own when at least `BREAK_SHARE` of its periods fall
outside the 95 % band. It breaks with the other series of the upload (of its frequency, all
groups together) after a common shock, such as the 2020 lockdowns: periods where the median
error of the series, in units of their 95 % half-width, is further from zero than in any
period of the earlier backtest windows (the upload's own record of ordinary times, so no
threshold is tuned), in at least that share of the window, and this series' errors in those
periods point the shock's way on average (a small, noisy series that the shock does not lift
out of its band alone is flagged too: its forecast rests on the same broken assumptions).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from territoria.forecast import calibration

if TYPE_CHECKING:
    from territoria.forecast.engine import Fitted, Options, Result

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


@dataclass(frozen=True)
class _Errors:
    """The backtest errors of one fitted group and the band each series' last window is
    judged by (calibrated on every window but that last one)."""

    actuals: list[Array]
    errors: list[Array]  # u = (actual - forecast) / sigma, (windows, h)
    before: list[calibration.Quantiles]


def judge(fitted: Fitted, options: Options) -> list[Result]:
    """Judge one group on its own (the common shock looked for within it)."""
    return judge_all([fitted], options)[0]


def judge_all(fitted: Sequence[Fitted], options: Options) -> list[list[Result]]:
    """Judge the groups fitted from one upload, in order: a common shock is looked for
    across every group of the same frequency."""
    measured = [_errors(f, options) for f in fitted]
    by_frequency: dict[int, list[tuple[Fitted, _Errors]]] = defaultdict(list)
    for f, e in zip(fitted, measured, strict=True):
        by_frequency[f.season].append((f, e))
    shocks = {season: _common_shocks(pairs) for season, pairs in by_frequency.items()}
    return [_judge(f, e, options, shocks[f.season]) for f, e in zip(fitted, measured, strict=True)]


def _errors(fitted: Fitted, options: Options) -> _Errors:
    h = fitted.horizon
    actuals: list[Array] = []
    errors: list[Array] = []
    for p, fit in zip(fitted.prepared, fitted.fits, strict=True):
        known = p.raw.copy()
        for ordinal in p.series.missing:
            known[ordinal - p.series.start] = np.nan
        a = np.array([known[o : o + h] for o in p.origins]).reshape(len(p.origins), h)
        actuals.append(a)
        errors.append((a - fit.means[:-1]) / fit.sigmas[:-1])
    before = calibration.calibrate(
        [u[:-1] for u in errors],
        mode=options.calibration_mode,
        group_weight=options.group_weight,
        prior_weight=options.prior_weight,
    )
    return _Errors(actuals, errors, before)


def _judge(
    fitted: Fitted, measured: _Errors, options: Options, shock: dict[int, float]
) -> list[Result]:
    from territoria.forecast.engine import Result

    prepared, fits, season, h = fitted.prepared, fitted.fits, fitted.season, fitted.horizon
    members = fitted.members
    need = max(2, math.ceil(BREAK_SHARE * h))
    actuals, errors, before = measured.actuals, measured.errors, measured.before

    breaks: list[list[int]] = []
    shared_breaks: list[bool] = []
    for p, u, q in zip(prepared, errors, before, strict=True):
        shared_breaks.append(False)
        if not p.origins:
            breaks.append([])
            continue
        last = u[-1]
        lo, hi = q.bounds[95]
        first = p.series.start + p.origins[-1]
        outside = [
            first + j for j in range(h) if np.isfinite(last[j]) and (last[j] < lo or last[j] > hi)
        ]
        z = _in_half_widths(last, q)
        shared = [j for j in range(h) if np.isfinite(z[j]) and first + j in shock]
        follows = len(shared) >= need and np.mean([z[j] * shock[first + j] for j in shared]) > 0
        if len(outside) >= need:
            breaks.append(sorted(set(outside)))
        elif follows:
            breaks.append(sorted({first + j for j in shared} | set(outside)))
            shared_breaks[-1] = True
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
    for p, fit, a, u, q_before, broke, shared_break, q in zip(
        prepared, fits, actuals, errors, before, breaks, shared_breaks, final, strict=True
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
                shared_break=shared_break,
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


def _in_half_widths(u: Array, q: calibration.Quantiles) -> Array:
    """Errors `u` in units of the 95 % half-width on their side (1: on the band's edge)."""
    lo, hi = q.bounds[95]
    up = u / hi if hi > 0 else np.zeros_like(u)
    down = -u / lo if lo < 0 else np.zeros_like(u)
    return np.where(u > 0, up, down)


def _common_shocks(groups: Sequence[tuple[Fitted, _Errors]]) -> dict[int, float]:
    """Periods (ordinals) of the last windows where the series moved together away from
    their forecasts, with the direction (+1 above, -1 below): the median error (in 95 %
    half-widths, over at least `SHOCK_MIN_SERIES` series) is further from zero than the
    median of any period of the earlier windows, at the same lead."""
    last: dict[int, list[float]] = defaultdict(list)
    earlier: dict[tuple[int, int], list[float]] = defaultdict(list)
    for fitted, measured in groups:
        for p, u, q in zip(fitted.prepared, measured.errors, measured.before, strict=True):
            if not p.origins:
                continue
            z = _in_half_widths(u, q)
            for k, origin in enumerate(p.origins):
                for j in range(fitted.horizon):
                    if not np.isfinite(z[k, j]):
                        continue
                    ordinal = p.series.start + origin + j
                    if k == len(p.origins) - 1:
                        last[ordinal].append(float(z[k, j]))
                    else:
                        earlier[ordinal, j].append(float(z[k, j]))
    ordinary = [abs(float(np.median(v))) for v in earlier.values() if len(v) >= SHOCK_MIN_SERIES]
    if not ordinary:
        return {}
    threshold = max(ordinary)
    return {
        ordinal: float(np.sign(np.median(zs)))
        for ordinal, zs in last.items()
        if len(zs) >= SHOCK_MIN_SERIES and abs(float(np.median(zs))) > threshold
    }


BREAK_SHARE = 0.25
SHOCK_MIN_SERIES = 5
