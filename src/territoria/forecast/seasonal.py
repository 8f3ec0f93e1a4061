"""Seasonal indices, estimated per series and pooled across similar series.

Classical multiplicative decomposition (ratios to a centred moving average, averaged by
season), as the Theta method does. A short or noisy series estimates its profile badly, so
each index is shrunk towards the median profile of the other seasonal series of the same upload
(empirical Bayes): the weight given to the pooled profile is the series' own estimation noise
over that noise plus the spread of the profiles across series. Nothing here is tuned: the
weights come from the data.

A series is adjusted only when it is seasonal: autocorrelation at the seasonal lag above the
90 % bound (the test statsforecast's Theta models use), and at least three full seasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
_OFFSET = 0.5  # counts may be zero: ratios of y + 0.5


@dataclass(frozen=True)
class Profile:
    """Raw seasonal indices of one series (mean 1) and the noise variance of each."""

    indices: Array
    noise: Array
    seasonal: bool
    borrow: bool = False  # too short to estimate, but may take its group's profile


def is_seasonal(y: Array, season: int) -> bool:
    n = len(y)
    if season <= 1 or n < 3 * season:
        return False
    centred = y - y.mean()
    denom = float(np.sum(centred**2))
    if denom <= 0:
        return False
    acf = np.array([np.sum(centred[k:] * centred[: n - k]) / denom for k in range(1, season + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n)
    return bool(abs(acf[-1]) > limit)


def profile(y: Array, season: int, start: int) -> Profile:
    """The series' own seasonal indices by calendar position (`ordinal % season`, the series
    starting at ordinal `start`). `seasonal` says whether the series passes the seasonality
    test on its own; the indices are estimated whenever there are two full seasons and no
    negative value (a noisy series that fails the test can still borrow its group's profile),
    flat otherwise."""
    flat = Profile(np.ones(max(season, 1)), np.zeros(max(season, 1)), False)
    if season <= 1 or np.min(y) < 0:
        return flat
    if len(y) < 2 * season + 1:
        return Profile(flat.indices, flat.noise, False, borrow=True)
    shifted = y + _OFFSET
    half = season // 2
    weights = np.ones(season + 1) if season % 2 == 0 else np.ones(season)
    if season % 2 == 0:
        weights[0] = weights[-1] = 0.5
    weights /= season
    trend = np.convolve(shifted, weights, mode="valid")
    lead = half if season % 2 == 0 else (season - 1) // 2
    ratios = shifted[lead : lead + len(trend)] / np.maximum(trend, 1e-9)
    positions = (start + np.arange(lead, lead + len(trend))) % season
    indices = np.ones(season)
    noise = np.zeros(season)
    for j in range(season):
        values = ratios[positions == j]
        indices[j] = values.mean() if len(values) else 1.0
        noise[j] = values.var(ddof=1) / len(values) if len(values) > 1 else 1.0
    total = indices.mean()
    return Profile(indices / total, noise / total**2, is_seasonal(y, season))


def pooled(profiles: list[Profile]) -> list[Array]:
    """Each profile shrunk towards the median of the group's seasonal profiles (when at least
    three series of the group are seasonal on their own); alone, a series keeps its own
    profile if it is seasonal, none otherwise."""
    seasonal = [p for p in profiles if p.seasonal]
    if len(seasonal) < 3:
        return [p.indices if p.seasonal else np.ones_like(p.indices) for p in profiles]
    stack = np.array([p.indices for p in seasonal])
    centre = np.median(stack, axis=0)
    spread = float(np.mean((stack - centre) ** 2))
    out = []
    for p in profiles:
        if p.borrow:  # too short to estimate: the group's profile
            out.append(centre / centre.mean())
            continue
        if not p.noise.any():  # no seasonal adjustment (negative values)
            out.append(p.indices)
            continue
        noise = float(p.noise.mean())
        weight = noise / (noise + spread + 1e-12)
        mixed = (1 - weight) * p.indices + weight * centre
        out.append(mixed / mixed.mean())
    return out


def factors(indices: Array, start: int, length: int) -> Array:
    """The index of each of `length` periods from ordinal `start`."""
    season = len(indices)
    return indices[(np.arange(start, start + length)) % season]
