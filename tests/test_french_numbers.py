"""French number formatting (french_numbers.py)."""

from __future__ import annotations

import pytest

from territoria.french_numbers import THOUSANDS, french, number


@pytest.mark.parametrize(
    ("value", "digits", "trim", "expected"),
    [
        (0.46, 2, False, "0,46"),
        (1234.5, 1, False, f"1{THOUSANDS}234,5"),
        (1234567, 0, False, f"1{THOUSANDS}234{THOUSANDS}567"),
        (2.5, 2, False, "2,50"),
        (2.5, 2, True, "2,5"),
        (10, 2, True, "10"),
        (1000.0, 1, True, f"1{THOUSANDS}000"),
        (-3.25, 1, False, "-3,2"),  # Python rounds half to even
        (0.0004, 3, True, "0"),
    ],
)
def test_number(value: float, digits: int, trim: bool, expected: str) -> None:
    assert number(value, digits, trim=trim) == expected


def test_french_rewrites_what_python_formatted() -> None:
    assert french(f"{0.4612:g}") == "0,4612"
    assert french(f"{12345.678:,.2f}") == f"12{THOUSANDS}345,68"
    assert french("0.0004") == "0,0004"
    assert french("1e-05") == "1e-05"  # no separator to rewrite


def test_a_grouped_number_never_breaks_across_lines() -> None:
    assert THOUSANDS == "\u202f"  # NARROW NO-BREAK SPACE
    assert " " not in number(9_876_543.21, 2)
