"""Periods of a series: monthly, quarterly or yearly, parsed from what spreadsheets hold.

A period is kept as an ordinal (months since year 0, quarters since year 0, or the year), so
consecutive periods differ by one whatever the frequency. Written back as `YYYY-MM`,
`YYYY-Qn` or `YYYY` (the output contract), whatever form the input used.

Accepted forms: `2024`, `2024.0`; `2024-Q1`, `2024Q1`, `2024 T1`, `T1 2024`, `1er trimestre
2024`; `2024-01`, `2024/01`, `01/2024`, `202401`, `janv. 2024`, `janvier 2024`, and dates
(`2024-01-01`, `2024-01-31T00:00:00`, `01/01/2024`) read as their month.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal

Frequency = Literal["monthly", "quarterly", "yearly"]

SEASON: dict[Frequency, int] = {"monthly": 12, "quarterly": 4, "yearly": 1}
PER_YEAR = SEASON

_MONTHS = {
    "jan": 1, "janv": 1, "janvier": 1, "january": 1,
    "fev": 2, "fevr": 2, "fevrier": 2, "feb": 2, "february": 2,
    "mar": 3, "mars": 3, "march": 3,
    "avr": 4, "avril": 4, "apr": 4, "april": 4,
    "mai": 5, "may": 5,
    "juin": 6, "jun": 6, "june": 6,
    "juil": 7, "juillet": 7, "jul": 7, "july": 7,
    "aou": 8, "aout": 8, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "septembre": 9, "september": 9,
    "oct": 10, "octobre": 10, "october": 10,
    "nov": 11, "novembre": 11, "november": 11,
    "dec": 12, "decembre": 12, "december": 12,
}  # fmt: skip
_FR_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

_YEAR = r"(1[89]\d\d|2\d\d\d)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"{_YEAR}(?:\.0+)?"), "y"),
    (re.compile(rf"{_YEAR}\s*[-/ ]?\s*[qt]([1-4])"), "yq"),
    (re.compile(rf"[qt]([1-4])\s*[-/ ]?\s*{_YEAR}"), "qy"),
    (re.compile(rf"([1-4])(?:er|e|eme)?\s+trimestre\s+{_YEAR}"), "qy"),
    (re.compile(rf"{_YEAR}[-/.](0?[1-9]|1[0-2])"), "ym"),
    (re.compile(rf"{_YEAR}(0[1-9]|1[0-2])"), "ym"),
    (re.compile(rf"(0?[1-9]|1[0-2])[-/.]{_YEAR}"), "my"),
    # ISO date or date-time: the month is the period.
    (re.compile(rf"{_YEAR}-(0[1-9]|1[0-2])-(\d\d)(?:[t ][\d:.]+)?"), "ymd"),
    # French date dd/mm/yyyy.
    (re.compile(rf"(\d\d?)[/.-](0?[1-9]|1[0-2])[/.-]{_YEAR}(?: [\d:.]+)?"), "dmy"),
)
_NAMED_MONTH = re.compile(rf"([a-z]+)\.?\s*[-/ ]?\s*{_YEAR}")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=8192)
def parse_period(text: str) -> tuple[Frequency, int, int | None] | None:
    """(frequency, ordinal, day of month or None) of a period written as in a spreadsheet;
    None when it is not a period. The day is kept so the importer can tell daily data (several
    days of one month) from monthly data written as dates."""
    folded = _fold(text)
    if not folded:
        return None
    for pattern, order in _PATTERNS:
        match = pattern.fullmatch(folded)
        if match is None:
            continue
        groups = match.groups()
        if order == "y":
            return "yearly", int(groups[0]), None
        if order == "yq":
            return "quarterly", int(groups[0]) * 4 + int(groups[1]) - 1, None
        if order == "qy":
            return "quarterly", int(groups[1]) * 4 + int(groups[0]) - 1, None
        if order == "ym":
            return "monthly", int(groups[0]) * 12 + int(groups[1]) - 1, None
        if order == "my":
            return "monthly", int(groups[1]) * 12 + int(groups[0]) - 1, None
        if order == "ymd":
            day = int(groups[2])
            if not 1 <= day <= 31:
                return None
            return "monthly", int(groups[0]) * 12 + int(groups[1]) - 1, day
        if order == "dmy":
            day = int(groups[0])
            if not 1 <= day <= 31:
                return None
            return "monthly", int(groups[2]) * 12 + int(groups[1]) - 1, day
    match = _NAMED_MONTH.fullmatch(folded)
    if match and match.group(1) in _MONTHS:
        return "monthly", int(match.group(2)) * 12 + _MONTHS[match.group(1)] - 1, None
    return None


def format_period(frequency: Frequency, ordinal: int) -> str:
    """`YYYY-MM`, `YYYY-Qn` or `YYYY`."""
    if frequency == "monthly":
        return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"
    if frequency == "quarterly":
        return f"{ordinal // 4:04d}-Q{ordinal % 4 + 1}"
    return f"{ordinal:04d}"


def label(frequency: Frequency, ordinal: int) -> str:
    """The period in words, for people: `mars 2020`, `2e trimestre 2020`, `2020`."""
    if frequency == "monthly":
        return f"{_FR_MONTHS[ordinal % 12]} {ordinal // 12}"
    if frequency == "quarterly":
        quarter = ordinal % 4 + 1
        return f"{quarter}{'er' if quarter == 1 else 'e'} trimestre {ordinal // 4}"
    return str(ordinal)


def year_of(frequency: Frequency, ordinal: int) -> int:
    return ordinal // SEASON[frequency] if frequency != "yearly" else ordinal


def span(frequency: Frequency, ordinals: list[int]) -> str:
    """Consecutive periods grouped: `2020-03 à 2020-05, 2020-11`."""
    if not ordinals:
        return ""
    runs: list[tuple[int, int]] = []
    for value in sorted(set(ordinals)):
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return ", ".join(
        format_period(frequency, a)
        if a == b
        else f"{format_period(frequency, a)} à {format_period(frequency, b)}"
        for a, b in runs
    )


NOUN: dict[Frequency, tuple[str, str]] = {
    "monthly": ("mois", "mois"),
    "quarterly": ("trimestre", "trimestres"),
    "yearly": ("année", "années"),
}


def count(frequency: Frequency, n: int) -> str:
    """`3 années`, `1 mois`, `12 trimestres`."""
    one, many = NOUN[frequency]
    return f"{n} {one if n == 1 else many}"
