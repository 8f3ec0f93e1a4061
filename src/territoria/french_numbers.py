"""Numbers written the French way, for everything a person reads: a decimal comma and a
narrow no-break space between thousands (« 1 234,5 »; the space never breaks a number
across lines).

The one place for that convention: pages (the `nombre` template filter), charts, reports,
CLI and error messages call `number`; `french` rewrites a number Python already formatted
with a spec of its own (`g`, `.2g`). Parsing numbers out of a text (answer/generative.py)
is another concern and stays there.
"""

from __future__ import annotations

THOUSANDS = "\u202f"  # narrow no-break space


def french(formatted: str) -> str:
    """A number as Python formats it ("1,234.5", "0.46") written the French way
    ("1 234,5", "0,46")."""
    return formatted.replace(",", THOUSANDS).replace(".", ",")


def number(value: float, digits: int = 0, *, trim: bool = False) -> str:
    """`value` with `digits` decimals and its thousands grouped: number(1234.5, 1) is
    "1 234,5". With `trim`, the zeros it does not need go: number(2.5, 2, trim=True) is
    "2,5" and number(10, 2, trim=True) is "10"."""
    text = f"{value:,.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return french(text)
