"""Generate the fictional series of Val-Fleuri for the forecast demo (decision support).

Dev tool only: the generated files are committed under ``src/territoria/demo/series/`` and the
package never runs this script. Every figure is invented (seeded random numbers around a
plausible shape) for a fictional commune of about 12,000 inhabitants; none comes from a real
collectivité. What the files show on purpose:

- ``energie-batiments-mensuel.csv`` (wide: one column per series, French month names and
  decimal commas): electricity and gas of the municipal buildings (kWh), January 2017 to
  December 2025, with winter seasonality, the spring 2020 closures (buildings shut) and, for
  gas, the insulation of the Jules-Ferry school from autumn 2022 (a level shift);
- ``budget-fonctionnement-annuel.csv`` (periods in columns, as budget tables are): operating
  expenditure by chapter (k€), 2012 to 2025, energy prices jumping in 2022-2023;
- ``cantine-repas-trimestriel.csv`` (long, ``series_id,period,value``): meals served by the
  school canteen per quarter, 2015 to 2025, with the spring 2020 closure and one row whose
  value was typed as text (reported at import, never dropped silently).

Usage::

    .venv/bin/python scripts/make_demo_series.py [--out DIR]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "territoria" / "demo" / "series"
MONTHS = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)  # fmt: skip


def french(value: float, digits: int = 0) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",")


def energy(rng: np.random.Generator) -> str:
    lines = ["Mois;Électricité (kWh);Gaz (kWh)"]
    for i in range(9 * 12):
        year, month = 2017 + i // 12, i % 12
        winter = math.cos(2 * math.pi * month / 12)  # peak in January
        electricity = 61_000 + 9_000 * winter - 120 * i + rng.normal(0, 2_200)
        gas = 48_000 + 39_000 * max(winter, -0.6) + rng.normal(0, 3_000)
        if year == 2020 and month in (2, 3, 4):  # buildings closed in spring 2020
            electricity *= 0.62
            gas *= 0.7
        if i >= (2022 - 2017) * 12 + 9:  # school insulated from October 2022
            gas *= 0.82
        lines.append(f"{MONTHS[month]} {year};{french(electricity)};{french(max(gas, 3_000.0))}")
    return "\n".join(lines) + "\n"


def budget(rng: np.random.Generator) -> str:
    years = list(range(2012, 2026))
    chapters = {
        "011 Charges à caractère général": (2_950.0, 0.018),
        "012 Charges de personnel": (6_400.0, 0.024),
        "65 Autres charges de gestion courante": (1_150.0, 0.012),
        "Dont énergie et fluides": (520.0, 0.02),
    }
    lines = ["Chapitre;" + ";".join(str(y) for y in years)]
    for name, (base, growth) in chapters.items():
        cells = []
        for k, year in enumerate(years):
            value = base * (1 + growth) ** k * (1 + rng.normal(0, 0.012))
            if name.startswith("Dont énergie") and year >= 2022:
                value *= 1.45 if year == 2022 else 1.7
            if name.startswith("011") and year >= 2022:
                value += 300 if year == 2022 else 420
            cells.append(french(value, 1))
        lines.append(f"{name};" + ";".join(cells))
    return "\n".join(lines) + "\n"


def canteen(rng: np.random.Generator) -> str:
    lines = ["series_id,period,value"]
    for k in range(11 * 4):
        year, quarter = 2015 + k // 4, k % 4 + 1
        weeks = (11, 10, 7, 11)[quarter - 1]  # school weeks in the quarter
        meals = weeks * 4 * (780 + 6 * k) + rng.normal(0, 900)
        if (year, quarter) == (2020, 2):
            meals *= 0.35  # schools closed from mid-March to May 2020
        value = f"{meals:.0f}" if (year, quarter) != (2019, 3) else "environ 21000"
        lines.append(f"repas-cantine,{year}-T{quarter},{value}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2025)
    files = {
        "energie-batiments-mensuel.csv": energy(rng),
        "budget-fonctionnement-annuel.csv": budget(rng),
        "cantine-repas-trimestriel.csv": canteen(rng),
    }
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
