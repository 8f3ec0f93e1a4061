"""Peers: a commune's series per inhabitant beside similar territories of the same upload.

A series belongs to a commune when its id ends with an INSEE code (`accidents-com-31555`,
`depenses_69123`); the communes' populations come from series named `population-<code>`
(given among the files, or with `--population`). Peers are the other communes with the same
kind of series (the id without its code) in the same population band, those of the same
département first. Every figure says its year and where its population comes from.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from territoria.forecast.importer import Series
from territoria.forecast.periods import SEASON, year_of

_CODE = re.compile(r"^(?P<kind>.*?)[-_ ]?(?P<code>\d{5}|2[AB]\d{3})$")
PER = 10_000
BANDS = (
    (0, 2_000, "moins de 2 000 habitants"),
    (2_000, 5_000, "2 000 à 5 000 habitants"),
    (5_000, 10_000, "5 000 à 10 000 habitants"),
    (10_000, 20_000, "10 000 à 20 000 habitants"),
    (20_000, 50_000, "20 000 à 50 000 habitants"),
    (50_000, 100_000, "50 000 à 100 000 habitants"),
    (100_000, 200_000, "100 000 à 200 000 habitants"),
    (200_000, math.inf, "200 000 habitants et plus"),
)
MAX_LISTED = 12


@dataclass(frozen=True)
class Population:
    code: str
    by_year: dict[int, float]
    source: str


def split_id(series_id: str) -> tuple[str, str] | None:
    """(kind, INSEE code) of a commune series id, or None."""
    match = _CODE.match(series_id.strip())
    if not match:
        return None
    return match.group("kind").rstrip("-_ ").lower(), match.group("code")


def departement(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def band(population: float) -> str:
    for low, high, text in BANDS:
        if low <= population < high:
            return text
    return BANDS[-1][2]  # pragma: no cover - the last band is open


def populations(series: Sequence[Series]) -> dict[str, Population]:
    found = {}
    for s in series:
        parsed = split_id(s.series_id)
        if not parsed or parsed[0] != "population" or s.frequency != "yearly":
            continue
        by_year = {
            year_of("yearly", s.start + i): v for i, v in enumerate(s.values) if math.isfinite(v)
        }
        source = s.origin or "INSEE, populations légales (population municipale)"
        found[parsed[1]] = Population(parsed[1], by_year, f"{source} ; fichier {s.source}")
    return found


def _annual(series: Series) -> tuple[int, float] | None:
    """The last complete year of a series and its total (or value, for yearly series)."""
    season = SEASON[series.frequency]
    values = np.asarray(series.values, dtype=np.float64)
    if season == 1:
        for i in range(len(values) - 1, -1, -1):
            if math.isfinite(values[i]):
                return series.start + i, float(values[i])
        return None
    last_year = (series.end + 1) // season - 1
    first = last_year * season - series.start
    if first < 0:
        return None
    block = values[first : first + season]
    if len(block) < season or not np.all(np.isfinite(block)):
        return None
    return last_year, float(block.sum())


def _population_at(pop: Population, year: int) -> tuple[int, float] | None:
    if not pop.by_year:
        return None
    nearest = min(pop.by_year, key=lambda y: (abs(y - year), -y))
    return nearest, pop.by_year[nearest]


def compare(series: Sequence[Series], extra: Sequence[Series] = ()) -> dict[str, dict[str, Any]]:
    """Peers of every commune series (keyed by series id) that has a population."""
    pops = populations([*series, *extra])
    if not pops:
        return {}
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in series:
        parsed = split_id(s.series_id)
        if not parsed or parsed[0] == "population" or parsed[1] not in pops:
            continue
        annual = _annual(s)
        if annual is None:
            continue
        year, total = annual
        at = _population_at(pops[parsed[1]], year)
        if at is None or at[1] <= 0:
            continue
        rows[f"{s.frequency}:{parsed[0]}"].append(
            {
                "series_id": s.series_id,
                "code": parsed[1],
                "departement": departement(parsed[1]),
                "year": year,
                "value": total,
                "population": at[1],
                "population_year": at[0],
                "population_source": pops[parsed[1]].source,
                "rate": total / at[1] * PER,
                "band": band(at[1]),
            }
        )
    out = {}
    for group in rows.values():
        for row in group:
            out[row["series_id"]] = _entry(row, group)
    return out


def _entry(row: dict[str, Any], group: list[dict[str, Any]]) -> dict[str, Any]:
    same_band = [r for r in group if r["band"] == row["band"] and r["year"] == row["year"]]
    others = [r for r in same_band if r["series_id"] != row["series_id"]]
    others.sort(key=lambda r: (r["departement"] != row["departement"], r["rate"]))
    rates = sorted(r["rate"] for r in same_band)
    rank = 1 + sum(1 for r in rates if r < row["rate"])
    in_dep = [r["rate"] for r in same_band if r["departement"] == row["departement"]]
    return {
        "per": PER,
        "year": row["year"],
        "value": row["value"],
        "rate": round(row["rate"], 2),
        "population": row["population"],
        "population_year": row["population_year"],
        "population_source": row["population_source"],
        "band": row["band"],
        "departement": row["departement"],
        "band_median": round(float(np.median(rates)), 2) if rates else None,
        "departement_median": round(float(np.median(in_dep)), 2) if len(in_dep) > 1 else None,
        "rank": rank,
        "of": len(rates),
        "peers": [
            {
                "series_id": r["series_id"],
                "rate": round(r["rate"], 2),
                "value": r["value"],
                "population": r["population"],
                "population_year": r["population_year"],
                "same_departement": r["departement"] == row["departement"],
            }
            for r in others[:MAX_LISTED]
        ],
        "peers_total": len(others),
    }
