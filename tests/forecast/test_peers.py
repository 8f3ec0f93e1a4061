from __future__ import annotations

from territoria.forecast.importer import Series
from territoria.forecast.peers import band, compare, split_id


def yearly(series_id: str, values: list[float], start: int = 2016, origin: str = "") -> Series:
    return Series(series_id, "yearly", start, tuple(values), "f.csv", origin=origin)


def test_commune_ids_and_bands() -> None:
    assert split_id("accidents-com-31555") == ("accidents-com", "31555")
    assert split_id("depenses_2A004") == ("depenses", "2A004")
    assert split_id("Électricité") is None
    assert band(12_000) == "10 000 à 20 000 habitants"
    assert band(514_819) == "200 000 habitants et plus"


def test_per_inhabitant_with_population_year_and_source() -> None:
    series = [
        yearly("accidents-com-31555", [300, 310, 320, 330, 340]),  # Toulouse
        yearly("accidents-com-33063", [250, 240, 239, 236, 230]),  # Bordeaux
        yearly("accidents-com-06088", [160, 150, 154, 150, 149]),  # Nice
        yearly("accidents-com-31069", [20, 21, 22, 23, 24]),  # a small commune of the 31
        yearly("Électricité", [1, 2, 3, 4, 5]),
    ]
    populations = [
        yearly("population-31555", [493465, 498003], start=2019, origin="INSEE"),
        yearly("population-33063", [257068, 259809], start=2019, origin="INSEE"),
        yearly("population-06088", [342669, 343477], start=2019, origin="INSEE"),
        yearly("population-31069", [14000, 14100], start=2019, origin="INSEE"),
    ]
    peers = compare(series, populations)
    assert set(peers) == {
        "accidents-com-31555", "accidents-com-33063", "accidents-com-06088", "accidents-com-31069"
    }  # fmt: skip
    toulouse = peers["accidents-com-31555"]
    assert toulouse["year"] == 2020 and toulouse["population_year"] == 2020
    assert toulouse["population"] == 498003
    assert abs(toulouse["rate"] - 340 / 498003 * 10_000) < 0.01
    assert toulouse["band"] == "200 000 habitants et plus"
    assert toulouse["of"] == 3 and {p["series_id"] for p in toulouse["peers"]} == {
        "accidents-com-33063",
        "accidents-com-06088",
    }
    assert "INSEE" in toulouse["population_source"]
    small = peers["accidents-com-31069"]
    assert small["of"] == 1 and small["peers"] == []  # alone in its band: no fake peers
