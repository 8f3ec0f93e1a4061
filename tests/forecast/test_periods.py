from __future__ import annotations

import pytest

from territoria.forecast.periods import format_period, label, parse_period, span


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", ("yearly", 2024, None)),
        ("2024.0", ("yearly", 2024, None)),
        ("2024-Q3", ("quarterly", 2024 * 4 + 2, None)),
        ("T2 2024", ("quarterly", 2024 * 4 + 1, None)),
        ("2024 T1", ("quarterly", 2024 * 4, None)),
        ("1er trimestre 2024", ("quarterly", 2024 * 4, None)),
        ("2024-01", ("monthly", 2024 * 12, None)),
        ("2024/3", ("monthly", 2024 * 12 + 2, None)),
        ("03/2024", ("monthly", 2024 * 12 + 2, None)),
        ("202412", ("monthly", 2024 * 12 + 11, None)),
        ("janv. 2024", ("monthly", 2024 * 12, None)),
        ("Février 2024", ("monthly", 2024 * 12 + 1, None)),
        ("2024-05-01", ("monthly", 2024 * 12 + 4, 1)),
        ("2024-05-01T00:00:00", ("monthly", 2024 * 12 + 4, 1)),
        ("15/05/2024", ("monthly", 2024 * 12 + 4, 15)),
    ],
)
def test_periods_written_as_in_spreadsheets(
    text: str, expected: tuple[str, int, int | None]
) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "2024-13", "T5 2024", "32/01/2024", "12"])
def test_not_periods(text: str) -> None:
    assert parse_period(text) is None


def test_written_back_in_the_contract_forms() -> None:
    assert format_period("monthly", 2020 * 12 + 2) == "2020-03"
    assert format_period("quarterly", 2020 * 4 + 3) == "2020-Q4"
    assert format_period("yearly", 2020) == "2020"
    assert label("monthly", 2020 * 12 + 2) == "mars 2020"
    assert label("quarterly", 2020 * 4) == "1er trimestre 2020"
    months = [2020 * 12 + m for m in (2, 3, 4, 10)]
    assert span("monthly", months) == "2020-03 à 2020-05, 2020-11"
