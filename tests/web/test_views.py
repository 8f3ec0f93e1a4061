"""Figures of an answer's explanation sheet (web/views.py), written the French way."""

from __future__ import annotations

from territoria.web.views import carbon_text, energy_text


def test_energy_and_carbon_in_french_units() -> None:
    assert energy_text(0.00046) == "0,46 mWh"
    assert energy_text(12.34) == "12,3 Wh"
    assert energy_text(1234.5) == "1\u202f234,5 Wh"
    assert carbon_text(0.000014) == "0,014 mg CO2e"
    assert carbon_text(3.21) == "3,2 g CO2e"
