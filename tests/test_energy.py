from __future__ import annotations

import pytest

from territoria.energy import Meter, estimate
from territoria.settings import Settings


def test_formula_matches_the_documented_method() -> None:
    s = Settings(
        watts_per_thread=10,
        static_watts=20,
        static_share_concurrency=4,
        pue=1.5,
        grid_gco2e_per_kwh=52,
    )
    e = estimate(s, cpu_seconds=0.036, wall_seconds=0.1)
    joules = 1.5 * (0.036 * 10 + 0.1 * 20 / 4)
    assert e.wh == pytest.approx(joules / 3600)
    assert e.gco2e == pytest.approx(joules / 3600 / 1000 * 52)
    assert e.wh_low < e.wh < e.wh_high
    assert "PUE 1,5" in e.method and "36,0 ms de CPU" in e.method and "52 gCO2e/kWh" in e.method


def test_meter_counts_cpu_work() -> None:
    s = Settings()
    with Meter(s) as meter:
        sum(i * i for i in range(200_000))
    energy = meter.energy()
    assert energy.cpu_seconds > 0
    assert meter.elapsed_ms > 0
