"""The forecasting models: statsforecast (Nixtla) for every model, nothing hand-written.

A model is named and built here once; `predict(name, y, h, season)` fits it on `y` and gives
the mean forecast of the next `h` periods with the model's own standard error per step (read
from its 80 % interval). The own standard errors are only a shape (how uncertainty grows with
the horizon): the widths shown to users are recalibrated on the backtest errors
(`calibration.py`).

statsforecast is imported on first use (it pulls pandas and statsmodels: seconds to import);
without the `forecast` extra a clear French error says what to install.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from territoria.errors import ConfigError

Array = NDArray[np.float64]
_Z80 = 1.2815515655446004

# Public names of the models, in French for the report.
DESCRIPTIONS: dict[str, str] = {
    "naive": "« comme la dernière valeur » (naïf)",
    "seasonal_naive": "« comme l'an dernier » (naïf saisonnier)",
    "drift": "prolongement de la tendance moyenne (dérive)",
    "ses": "lissage exponentiel simple (ETS A,N,N)",
    "ets": "lissage exponentiel (AutoETS)",
    "theta": "méthode Theta (AutoTheta)",
    "dotm": "Theta optimisée dynamique (DOTM)",
    "arima": "ARIMA (AutoARIMA)",
    "ces": "lissage exponentiel complexe (AutoCES)",
}
BASELINES = ("naive", "seasonal_naive", "drift")


class FitFailed(Exception):
    """A model could not be fitted on this series (too short, degenerate); the method goes on
    with its other members."""


@dataclass(frozen=True)
class Prediction:
    mean: Array
    sigma: Array  # the model's own standard error at each step (> 0)


def _statsforecast() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import statsforecast.models as models
    except ImportError as exc:  # pragma: no cover - the extra is part of `make install`
        raise ConfigError(
            "La prévision demande le paquet statsforecast : installez l'extra « forecast » "
            "(pip install 'territoria[forecast]')."
        ) from exc
    return models


def _builder(name: str, season: int) -> Callable[[], Any]:
    sf = _statsforecast()
    seasonal = season if season > 1 else 1
    builders: dict[str, Callable[[], Any]] = {
        "naive": lambda: sf.Naive(),
        "seasonal_naive": lambda: sf.SeasonalNaive(season_length=seasonal),
        "drift": lambda: sf.RandomWalkWithDrift(),
        "ses": lambda: sf.AutoETS(season_length=1, model="ANN"),
        "ets": lambda: sf.AutoETS(season_length=seasonal),
        "theta": lambda: sf.AutoTheta(season_length=seasonal),
        "dotm": lambda: sf.DynamicOptimizedTheta(season_length=seasonal),
        "arima": lambda: sf.AutoARIMA(season_length=seasonal),
        "ces": lambda: sf.AutoCES(season_length=seasonal),
    }
    if name not in builders:
        raise ConfigError(f"Modèle de prévision inconnu : {name}.")
    return builders[name]


def predict(name: str, y: Array, h: int, season: int) -> Prediction:
    """Fit model `name` on `y` (no NaN) and forecast `h` steps."""
    model = _builder(name, season)()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            out = model.forecast(y=y, h=h, level=[80])
        except (
            ValueError,
            ArithmeticError,
            NotImplementedError,
            IndexError,
            np.linalg.LinAlgError,
        ) as exc:
            raise FitFailed(f"{name}: {exc}") from exc
    mean = np.asarray(out["mean"], dtype=np.float64)
    if not np.all(np.isfinite(mean)):
        raise FitFailed(f"{name}: non-finite forecast")
    sigma = (np.asarray(out["hi-80"], dtype=np.float64) - mean) / _Z80
    return Prediction(mean, _positive(sigma, y))


def _positive(sigma: Array, y: Array) -> Array:
    """Standard errors made finite, positive and non-decreasing with the horizon."""
    scale = float(np.mean(np.abs(np.diff(y)))) if len(y) > 1 else 0.0
    floor = max(scale * 0.05, 1e-9)
    sigma = np.where(np.isfinite(sigma), sigma, np.nan)
    if np.all(np.isnan(sigma)):
        sigma = np.full_like(sigma, max(scale, floor))
    sigma = np.where(np.isnan(sigma), np.nanmax(sigma), sigma)
    return np.maximum.accumulate(np.maximum(sigma, floor))


def combine(predictions: list[Prediction]) -> Prediction:
    """The equal-weight mean of several models' forecasts; its shape is their mean sigma."""
    mean = np.mean([p.mean for p in predictions], axis=0)
    sigma = np.mean([p.sigma for p in predictions], axis=0)
    return Prediction(mean, sigma)


def versions() -> dict[str, str | None]:
    from territoria.register import package_version

    return {name: package_version(name) for name in ("statsforecast", "statsmodels", "numpy")}
