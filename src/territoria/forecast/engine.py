"""Forecast a group of series of one frequency: clean, backtest, combine, calibrate, judge.

For each series:
1. gaps are filled by interpolation, exceptional periods in the history (`breaks.py`) are
   replaced by the local level for fitting;
2. seasonal indices are estimated and shrunk towards the group's (`seasonal.py`);
3. the method, the equal-weight mean of `members` (statsforecast models, `models.py`) on the
   seasonally adjusted series, is fitted at each backtest origin (rolling origin: the last
   `windows` windows the data allows) and on the whole series; so are the baselines (naive,
   seasonal naive, drift);
4. errors on the backtest windows give the MASE of the method and of each baseline, and the
   calibrated interval widths (`calibration.py`), pooled over the group;
5. the series is flagged, and the forecast marked as an abstention, when the backtest cannot
   beat naive, when the series is too short to be backtested, or when its last window breaks
   from what the method forecast (on its own, or after a shock common to the series of the
   upload: `judge.judge_all`).

Fitting runs in `workers` processes when there are many series.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from territoria.forecast import breaks, calibration, models, seasonal
from territoria.forecast.importer import Series
from territoria.forecast.judge import judge
from territoria.forecast.periods import SEASON, Frequency

Array = NDArray[np.float64]

DEFAULT_HORIZON: dict[Frequency, int] = {"monthly": 12, "quarterly": 4, "yearly": 3}
DEFAULT_WINDOWS: dict[Frequency, int] = {"monthly": 3, "quarterly": 4, "yearly": 6}
MIN_TRAIN: dict[Frequency, int] = {"monthly": 36, "quarterly": 12, "yearly": 6}
MEMBERS: dict[Frequency, tuple[str, ...]] = {
    "monthly": ("ses", "dotm", "log_dotm"),
    "quarterly": ("ses", "dotm", "log_dotm"),
    "yearly": ("ses", "dotm", "ets"),
}
_PARALLEL_FROM = 40  # series; fewer are fitted in the calling process

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Options:
    horizon: int | None = None
    windows: int | None = None
    members: tuple[str, ...] | None = None
    pool_seasonality: bool = True
    calibration_mode: str = "scaled"  # or "pooled": see calibration.calibrate
    group_weight: float = calibration.GROUP_WEIGHT
    prior_weight: float = calibration.PRIOR_WEIGHT
    workers: int = 0  # 0: up to 2 processes from _PARALLEL_FROM series on


@dataclass
class Result:
    """The forecast of one series and everything the report says about it."""

    series: Series
    horizon: int
    members: tuple[str, ...]
    mean: Array
    bounds: dict[int, tuple[Array, Array]]
    windows: int
    mase: float | None
    baselines: dict[str, float | None]
    window_mase: list[float]
    window_baselines: list[dict[str, float]]
    coverage: dict[int, float | None]  # backtest coverage of the calibrated intervals
    mape: float | None
    naive_mape: float | None
    flags: list[str] = field(default_factory=list)
    exceptional: list[int] = field(default_factory=list)  # ordinals
    recent_break: list[int] = field(default_factory=list)  # ordinals of the last window
    shared_break: bool = False  # the break is a shock common to the upload's series
    shifts: list[breaks.Shift] = field(default_factory=list)
    filled: list[int] = field(default_factory=list)  # ordinals estimated (absent in the file)
    failures: list[str] = field(default_factory=list)  # members that could not be fitted
    backtest_last: Array | None = None  # the method's forecast of the last window

    @property
    def abstained(self) -> bool:
        return bool({"not_better_than_naive", "too_short", "recent_break"} & set(self.flags))


@dataclass(frozen=True)
class _Task:
    """What one worker fits for one series: every origin (backtest windows, then the end)."""

    clean: Array
    start: int
    season: int
    horizon: int
    origins: tuple[int, ...]  # training lengths; the last is len(clean) (the final fit)
    indices: tuple[Array, ...]  # seasonal indices per origin
    members: tuple[str, ...]


@dataclass(frozen=True)
class _Fit:
    means: Array  # (origins, h): the method
    sigmas: Array
    baselines: dict[str, Array]  # name -> (origins - 1, h)
    failures: tuple[str, ...]


def forecast_group(
    group: Sequence[Series], options: Options | None = None, progress: Progress | None = None
) -> list[Result]:
    """Forecast every series of `group` (one frequency)."""
    options = options or Options()
    fitted = fit_group(group, options, progress)
    return judge(fitted, options)


@dataclass(frozen=True)
class Fitted:
    """A group after fitting, before judging (the benchmark judges it several ways)."""

    prepared: list[_Prepared]
    fits: list[_Fit]
    season: int
    horizon: int
    members: tuple[str, ...]


def fit_group(
    group: Sequence[Series], options: Options, progress: Progress | None = None
) -> Fitted:
    if not group:
        return Fitted([], [], 1, options.horizon or 1, ())
    frequency = group[0].frequency
    season = SEASON[frequency]
    horizon = options.horizon or DEFAULT_HORIZON[frequency]
    members = options.members or MEMBERS[frequency]
    prepared = [_prepare(s, season, horizon, options) for s in group]
    tasks = _tasks(prepared, season, horizon, members, options)
    return Fitted(prepared, _fit_all(tasks, options, progress), season, horizon, members)


@dataclass
class _Prepared:
    series: Series
    raw: Array  # filled (interpolated) values
    clean: Array  # raw with exceptional periods replaced
    exceptional: list[int]
    shifts: list[breaks.Shift]
    origins: list[int]  # backtest training lengths, oldest first


def _interpolate(values: Sequence[float]) -> Array:
    y = np.asarray(values, dtype=np.float64)
    known = np.isfinite(y)
    if known.all():
        return y
    positions = np.arange(len(y))
    return np.interp(positions, positions[known], y[known])


def _prepare(series: Series, season: int, horizon: int, options: Options) -> _Prepared:
    raw = _interpolate(series.values)
    n = len(raw)
    own = seasonal.profile(raw, season, series.start)
    factor = seasonal.factors(own.indices if own.seasonal else np.ones(season), series.start, n)
    adjusted = raw / factor
    mask, level = breaks.exceptional(adjusted, season, protect_last=horizon)
    clean = raw.copy()
    clean[mask] = level[mask] * factor[mask]
    shifts = breaks.level_shifts(np.where(mask, level, adjusted), season)
    frequency = series.frequency
    windows = options.windows or DEFAULT_WINDOWS[frequency]
    step = horizon if season > 1 else 1
    origins = [n - horizon - step * k for k in range(windows)]
    origins = sorted(o for o in origins if o >= min(MIN_TRAIN[frequency], max(n - horizon, 1)))
    origins = [o for o in origins if o >= _min_train(frequency, season)]
    exceptional = [series.start + int(i) for i in np.flatnonzero(mask)]
    return _Prepared(series, raw, clean, exceptional, shifts, origins)


def _min_train(frequency: Frequency, season: int) -> int:
    return max(MIN_TRAIN[frequency] // 2, 2 * season + 1 if season > 1 else 4)


def _tasks(
    prepared: list[_Prepared],
    season: int,
    horizon: int,
    members: tuple[str, ...],
    options: Options,
) -> list[_Task]:
    """Seasonal indices for every origin, pooled across the group at the same window rank
    (each series' own last window together, and so on), then one task per series."""
    depth = max((len(p.origins) for p in prepared), default=0)
    indices: list[list[Array]] = [[] for _ in prepared]
    # rank 0 is the final fit; rank k the k-th backtest window from the end
    for rank in range(depth + 1):
        profiles = []
        owners = []
        for i, p in enumerate(prepared):
            ends = [*p.origins, len(p.clean)]
            if rank >= len(ends):
                continue
            end = ends[len(ends) - 1 - rank]
            profiles.append(seasonal.profile(p.clean[:end], season, p.series.start))
            owners.append(i)
        mixed = (
            seasonal.pooled(profiles)
            if options.pool_seasonality
            else [pr.indices for pr in profiles]
        )
        for i, idx in zip(owners, mixed, strict=True):
            indices[i].insert(0, idx)
    return [
        _Task(
            clean=p.clean,
            start=p.series.start,
            season=season,
            horizon=horizon,
            origins=(*p.origins, len(p.clean)),
            indices=tuple(indices[i]),
            members=members,
        )
        for i, p in enumerate(prepared)
    ]


def _fit_all(tasks: list[_Task], options: Options, progress: Progress | None) -> list[_Fit]:
    workers = options.workers or (
        min(2, os.cpu_count() or 1) if len(tasks) >= _PARALLEL_FROM else 1
    )
    results: list[_Fit] = []
    if workers <= 1:
        for done, task in enumerate(tasks, start=1):
            results.append(fit_task(task))
            if progress:
                progress(done, len(tasks))
        return results
    chunk = max(1, len(tasks) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, fit in enumerate(pool.map(fit_task, tasks, chunksize=chunk), start=1):
            results.append(fit)
            if progress:
                progress(done, len(tasks))
    return results


def _member(
    name: str, train: Array, start: int, indices: Array, season: int, h: int
) -> models.Prediction:
    if name == "log_dotm":
        if np.min(train) >= 0:
            raw = models.predict("dotm", np.log1p(train), h, season)
            mean = np.expm1(raw.mean)
            return models.Prediction(mean, raw.sigma * (np.maximum(mean, 0) + 1))
        return models.predict("dotm", train, h, season)
    factor = seasonal.factors(indices, start, len(train) + h)
    adjusted = train / factor[: len(train)]
    fitted = models.predict(name, adjusted, h, 1)
    return models.Prediction(
        fitted.mean * factor[len(train) :], fitted.sigma * factor[len(train) :]
    )


def fit_task(task: _Task) -> _Fit:
    """Fit the method (and the baselines, at backtest origins) at every origin of a task."""
    h, season = task.horizon, task.season
    means = np.zeros((len(task.origins), h))
    sigmas = np.zeros((len(task.origins), h))
    names = ("naive", "seasonal_naive", "drift")
    baselines = {name: np.zeros((len(task.origins) - 1, h)) for name in names}
    failures: set[str] = set()  # members that could not be fitted on the whole series
    last = len(task.origins) - 1
    for k, (end, idx) in enumerate(zip(task.origins, task.indices, strict=True)):
        train = task.clean[:end]
        predictions = []
        for name in task.members:
            try:
                predictions.append(_member(name, train, task.start, idx, season, h))
            except models.FitFailed:
                if k == last:
                    failures.add(name)
        if not predictions:
            predictions.append(models.predict("naive", train, h, 1))
        combined = models.combine(predictions)
        means[k], sigmas[k] = combined.mean, combined.sigma
        if k < len(task.origins) - 1:
            for name in names:
                usable = name != "seasonal_naive" or (season > 1 and len(train) > season)
                baselines[name][k] = models.predict(
                    name if usable else "naive", train, h, season
                ).mean
    return _Fit(means, sigmas, baselines, tuple(sorted(failures)))
