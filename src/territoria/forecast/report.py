"""The report document: the JSON contract (`forecast.json`) plus what the page and the HTML
report show (history, plain-French explanation, warnings, peers, method).

Contract, per series (checks outside the project read it):
`{"series_id", "frequency", "model", "abstained", "warnings": [...], "backtest": {"windows",
"mase", "baselines": {"naive", "seasonal_naive", "drift"}}, "forecast": [{"period", "mean",
"lo80", "hi80", "lo95", "hi95"}]}`; `period` as `YYYY`, `YYYY-Qn` or `YYYY-MM`. Extra keys
(`flags`, `explanation`, `history`, `exceptional_periods`, `peers`...) are additions.
"""

from __future__ import annotations

import math
from typing import Any

from territoria.forecast import calibration, models
from territoria.forecast.engine import Result
from territoria.forecast.periods import SEASON, count, format_period, label, span
from territoria.forecast.svg import digits_for
from territoria.french_numbers import number

FREQUENCY_FR = {"monthly": "mensuelle", "quarterly": "trimestrielle", "yearly": "annuelle"}
FLAG_TEXT = {
    "not_better_than_naive": "ne fait pas mieux que les méthodes naïves",
    "too_short": "série trop courte",
    "recent_break": "rupture récente",
    "exceptional_periods": "périodes exceptionnelles",
    "level_shift": "changement de niveau",
    "missing_values": "valeurs manquantes",
}


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def model_name(result: Result) -> str:
    """`mean(ses,dotm,log_dotm)`: the method as a stable identifier."""
    return f"mean({','.join(result.members)})"


def model_description(result: Result) -> str:
    parts = [models.DESCRIPTIONS.get(m, m) for m in result.members if m != "log_dotm"]
    if "log_dotm" in result.members:
        parts.append("Theta optimisée sur le logarithme, avec sa propre saisonnalité")
    season = SEASON[result.series.frequency]
    adjusted = " sur la série corrigée des variations saisonnières" if season > 1 else ""
    return "moyenne de " + ", ".join(parts[:-1]) + f" et {parts[-1]}{adjusted}"


def _value(value: float, digits: int) -> float:
    return round(float(value), max(digits, 2))


def series_entry(result: Result, *, peers: dict[str, Any] | None = None) -> dict[str, Any]:
    series = result.series
    frequency = series.frequency
    known = [v for v in series.values if math.isfinite(v)]
    digits = digits_for(known)
    forecast = []
    for k in range(result.horizon):
        ordinal = series.end + 1 + k
        forecast.append(
            {
                "period": format_period(frequency, ordinal),
                "mean": _value(result.mean[k], digits),
                "lo80": _value(result.bounds[80][0][k], digits),
                "hi80": _value(result.bounds[80][1][k], digits),
                "lo95": _value(result.bounds[95][0][k], digits),
                "hi95": _value(result.bounds[95][1][k], digits),
            }
        )
    exceptional = sorted(set(result.exceptional) | set(result.recent_break))
    missing = set(series.missing)
    history = [
        {
            "period": format_period(frequency, series.start + i),
            "value": None if (series.start + i) in missing or not math.isfinite(v) else v,
        }
        for i, v in enumerate(series.values)
    ]
    entry: dict[str, Any] = {
        "series_id": series.series_id,
        "frequency": frequency,
        "model": model_name(result),
        "abstained": result.abstained,
        "warnings": warnings(result),
        "flags": list(result.flags),
        "backtest": {
            "windows": result.windows,
            "horizon": result.horizon,
            "mase": _round(result.mase),
            "baselines": {name: _round(v) for name, v in result.baselines.items()},
            "wape": _round(result.mape),
            "baseline_wape": _round(result.naive_mape),
            "coverage_last_window": {
                str(level): _round(result.coverage[level], 3) for level in calibration.LEVELS
            },
            "windows_detail": [
                {
                    "mase": _round(m),
                    **{f"{name}_mase": _round(v) for name, v in base.items()},
                }
                for m, base in zip(result.window_mase, result.window_baselines, strict=True)
            ],
        },
        "forecast": forecast,
        "explanation": explanation(result),
        "model_description": model_description(result),
        "exceptional_periods": [format_period(frequency, o) for o in exceptional],
        "estimated_periods": [format_period(frequency, o) for o in sorted(missing)],
        "history": history,
        "source": series.source,
        "peers": peers,
    }
    if series.origin:
        entry["origin"] = series.origin
    entry["forecast_label_first"] = label(frequency, series.end + 1)
    entry["forecast_label_last"] = label(frequency, series.end + result.horizon)
    return entry


def _pct(value: float) -> str:
    return f"{number(100 * value, 0 if value >= 0.1 else 1)} %"


def explanation(result: Result) -> str:
    """The backtest in one French sentence."""
    frequency = result.series.frequency
    if result.windows == 0 or result.mape is None:
        return (
            "Pas de vérification possible : la série est trop courte pour comparer les "
            "prévisions passées de la méthode à ce qui s'est produit."
        )
    span_text = count(frequency, result.windows * result.horizon)
    if frequency == "yearly" and result.windows > 1:
        where = (
            f"sur {result.windows} essais de prévision à {count(frequency, result.horizon)} "
            "faits dans le passé"
        )
    else:
        where = f"sur les {span_text} les plus récents ({result.windows} essais)"
    naive = "« comme l'an dernier »" if SEASON[frequency] > 1 else "« comme la dernière valeur »"
    text = (
        f"{where[0].upper()}{where[1:]}, cette méthode s'est trompée de "
        f"{_pct(result.mape)} en moyenne"
    )
    if result.naive_mape is not None:
        text += f", contre {_pct(result.naive_mape)} pour {naive}"
    return text + "."


def warnings(result: Result) -> list[str]:
    """What a reader must know before using the forecast, in French."""
    frequency = result.series.frequency
    out = []
    if "too_short" in result.flags:
        out.append(
            f"Série trop courte ({count(frequency, len(result.series.values))}) : la méthode "
            f"n'a pu être vérifiée que sur {result.windows} essai(s) ; prévision donnée à titre "
            "indicatif (abstention)."
        )
    if "not_better_than_naive" in result.flags:
        naive = min(v for k, v in result.baselines.items() if k != "drift" and v is not None)
        out.append(
            "Sur les essais passés, la méthode ne fait pas mieux qu'une méthode naïve (MASE "
            f"{number(result.mase or 0, 2)} contre {number(naive, 2)}) : prévision donnée à "
            "titre indicatif (abstention)."
        )
    if result.recent_break and result.shared_break:
        out.append(
            f"Rupture commune ({span(frequency, result.recent_break)}) : la plupart des séries "
            "déposées s'écartent ensemble de leur prévision (un événement comme un confinement, "
            "un changement de règle ou de mode d'enregistrement ?) et celle-ci va dans le même "
            "sens. Tant qu'on ne sait pas si ce nouveau niveau durera, la prévision est donnée "
            "à titre indicatif (abstention)."
        )
    elif result.recent_break:
        out.append(
            "Rupture récente : les dernières valeurs s'écartent nettement de ce que la méthode "
            f"prévoyait ({span(frequency, result.recent_break)}). Tant qu'on ne sait pas si "
            "ce nouveau niveau durera, la prévision est donnée à titre indicatif (abstention)."
        )
    if result.exceptional:
        out.append(
            "Périodes traitées comme exceptionnelles (remplacées par le niveau local pour "
            f"l'ajustement) : {span(frequency, result.exceptional)}."
        )
    for shift in result.shifts:
        ordinal = result.series.start + shift.position
        out.append(
            f"Changement de niveau vers {label(frequency, ordinal)} (× "
            f"{number(shift.ratio, 2)} par rapport à avant) : changement de mode "
            "d'enregistrement, de périmètre, ou événement réel ? La méthode suit le niveau "
            "récent."
        )
    if result.series.missing:
        out.append(
            "Valeurs absentes ou contradictoires dans le fichier, estimées par interpolation "
            f"pour l'ajustement : {span(frequency, list(result.series.missing))}."
        )
    if result.failures:
        out.append(
            "Modèle(s) non ajustable(s) sur cette série, écarté(s) de la moyenne : "
            f"{', '.join(result.failures)}."
        )
    return out
