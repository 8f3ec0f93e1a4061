"""Series written by the tests: seasonal counts with a level, breaks and bad rows on demand."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

WriteSeries = Callable[..., Path]


def monthly_values(
    years: int, *, level: float = 100.0, seed: int = 0, amplitude: float = 0.3
) -> list[float]:
    rng = np.random.default_rng(seed)
    months = np.arange(12 * years)
    mean = level * (1 + amplitude * np.sin(2 * math.pi * months / 12))
    return [float(v) for v in rng.poisson(mean)]


def write_long(path: Path, series: dict[str, Sequence[float]], start_year: int = 2010) -> Path:
    lines = ["series_id,period,value"]
    for name, values in series.items():
        for i, v in enumerate(values):
            lines.append(f"{name},{start_year + i // 12}-{i % 12 + 1:02d},{v:g}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def seasonal_file(tmp_path: Path) -> Path:
    """Eight seasonal monthly series of 8 years (2010-2017)."""
    series = {f"dechets-{i:02d}": monthly_values(8, level=80 + 10 * i, seed=i) for i in range(8)}
    return write_long(tmp_path / "dechets.csv", series)
