"""The forecaster's behaviour on series whose truth is known (written here)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecast.conftest import monthly_values
from territoria.forecast.engine import Options, forecast_group
from territoria.forecast.importer import Series


def monthly(name: str, values: list[float], start_year: int = 2010) -> Series:
    return Series(name, "monthly", start_year * 12, tuple(values), "test.csv")


def yearly(name: str, values: list[float], start: int = 2005) -> Series:
    return Series(name, "yearly", start, tuple(values), "test.csv")


@pytest.fixture(scope="module")
def seasonal_results() -> list:  # type: ignore[type-arg]
    group = [monthly(f"s{i}", monthly_values(9, level=60 + 20 * i, seed=i)) for i in range(6)]
    return forecast_group(group, Options(workers=1))


def test_seasonal_series_beat_naive_with_ordered_intervals(seasonal_results: list) -> None:  # type: ignore[type-arg]
    for result in seasonal_results:
        assert result.windows == 3 and result.horizon == 12
        assert result.mase is not None and result.mase < result.baselines["seasonal_naive"]
        assert not result.abstained
        lo95, hi95 = result.bounds[95]
        lo80, hi80 = result.bounds[80]
        assert np.all(lo95 <= lo80) and np.all(lo80 <= result.mean)
        assert np.all(result.mean <= hi80) and np.all(hi80 <= hi95)
        # the seasonal peak (sin max in April) is forecast above the trough (October)
        assert result.mean[3] > result.mean[9]


def test_random_walk_cannot_beat_naive_and_says_so() -> None:
    rng = np.random.default_rng(3)
    group = [yearly(f"marche-{i}", list(1000 + np.cumsum(rng.normal(0, 50, 16)))) for i in range(4)]
    results = forecast_group(group, Options(workers=1))
    flagged = [r for r in results if "not_better_than_naive" in r.flags]
    for r in results:
        assert r.mase is not None
        best = min(r.baselines["naive"] or math.inf, r.baselines["seasonal_naive"] or math.inf)
        # flagged exactly when the backtest cannot beat naive
        assert ("not_better_than_naive" in r.flags) == (r.mase >= best)
    for r in flagged:
        assert r.abstained


def test_too_short_abstains_but_still_forecasts() -> None:
    [result] = forecast_group([yearly("population-31555", [493.0, 498.0, 504.0, 511.0, 514.0])])
    assert "too_short" in result.flags and result.abstained
    assert len(result.mean) == 3 and np.all(np.isfinite(result.mean))
    lo95, hi95 = result.bounds[95]
    assert np.all(lo95 <= result.mean) and np.all(result.mean <= hi95)


def test_an_outlier_in_the_history_is_treated_as_exceptional() -> None:
    values = monthly_values(8, level=200, seed=1)
    values[40] = 5.0  # a recording gap
    [result] = forecast_group([monthly("accidents", values)], Options(workers=1))
    assert "exceptional_periods" in result.flags
    assert 2010 * 12 + 40 in result.exceptional


def test_a_common_shock_in_the_last_window_is_flagged_as_a_break() -> None:
    group = []
    for i in range(8):
        values = monthly_values(9, level=80 + 10 * i, seed=10 + i)
        for month in (2, 3, 4, 10):  # lockdown-like months in the last year
            values[-12 + month] *= 0.45
        group.append(monthly(f"dep-{i:02d}", values))
    results = forecast_group(group, Options(workers=1))
    assert all("recent_break" in r.flags and r.abstained for r in results)
    last_year = (2010 + 8) * 12
    for r in results:
        assert set(r.recent_break) <= {last_year + m for m in range(12)}
        assert last_year + 3 in r.recent_break


def test_a_small_noisy_group_is_flagged_after_a_shock_seen_across_the_upload() -> None:
    """Deaths per month are too few for a lockdown to lift each series out of its band on its
    own; the accidents of the same upload show the shock, and the deaths follow it."""
    from territoria.forecast.engine import fit_group
    from territoria.forecast.judge import judge_all

    accidents, deaths = [], []
    for i in range(8):
        values = monthly_values(9, level=150 + 10 * i, seed=30 + i)
        small = monthly_values(9, level=3, seed=60 + i, amplitude=0.1)
        for month in (2, 3, 4, 10):
            values[-12 + month] *= 0.45
            small[-12 + month] = float(np.random.default_rng(i + month).poisson(3 * 0.6))
        accidents.append(monthly(f"accidents-{i:02d}", values))
        deaths.append(monthly(f"tues-{i:02d}", small))
    options = Options(workers=1)
    fitted = [fit_group(accidents, options), fit_group(deaths, options)]
    alone = judge_all(fitted[1:], options)[0]
    together = judge_all(fitted, options)
    assert all("recent_break" in r.flags for r in together[0])
    assert sum("recent_break" in r.flags for r in together[1]) >= 6
    assert sum("recent_break" in r.flags for r in alone) <= 2
    assert any(r.shared_break for r in together[1])
    # an upload without the shock: the same deaths series, one year earlier, are not flagged
    earlier = [monthly(s.series_id, list(s.values[:-12])) for s in deaths]
    calm = [monthly(s.series_id, list(s.values[:-12])) for s in accidents]
    quiet = judge_all([fit_group(calm, options), fit_group(earlier, options)], options)
    assert not any("recent_break" in r.flags for group in quiet for r in group)


def test_no_break_flag_on_ordinary_series(seasonal_results: list) -> None:  # type: ignore[type-arg]
    assert not any("recent_break" in r.flags for r in seasonal_results)


def test_missing_periods_are_filled_for_fitting_and_reported() -> None:
    values = monthly_values(6, level=100, seed=4)
    values[30] = math.nan
    series = Series("eau", "monthly", 2015 * 12, tuple(values), "t.csv", missing=(2015 * 12 + 30,))
    [result] = forecast_group([series], Options(workers=1))
    assert "missing_values" in result.flags
    assert np.all(np.isfinite(result.mean))


def test_negative_values_are_allowed_and_not_clipped() -> None:
    rng = np.random.default_rng(5)
    values = list(rng.normal(-50, 20, 60))
    [result] = forecast_group([monthly("solde", values)], Options(workers=1))
    assert np.all(np.isfinite(result.mean))
    assert np.any(result.bounds[95][0] < 0)


def test_constant_and_zero_series_do_not_break_the_batch() -> None:
    group = [
        monthly("constante", [50.0] * 60),
        monthly("zeros", [0.0] * 60),
        monthly("rare", [0.0] * 50 + [1.0] + [0.0] * 9),
    ]
    results = forecast_group(group, Options(workers=1))
    for r in results:
        assert np.all(np.isfinite(r.mean))
        assert np.all(r.bounds[95][0] <= r.mean + 1e-9)
        assert np.all(r.mean <= r.bounds[95][1] + 1e-9)
    assert np.allclose(results[0].mean, 50.0)
    assert np.allclose(results[1].mean, 0.0)
