from __future__ import annotations

import math
from pathlib import Path

import pytest

from territoria.errors import InvalidRequest
from territoria.forecast.importer import parse_mapping, parse_value, read_series


def reasons(result: object) -> list[str]:
    return [f"{i.line}:{i.reason}" for i in result.issues]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 234,5", 1234.5),
        ("1\u202f234,5", 1234.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("-12", -12.0),
        ("(12)", -12.0),
        ("12 €", 12.0),
        ("8 %", 8.0),
        ("1.234.567", 1234567.0),
        ("3.5", 3.5),
    ],
)
def test_numbers_as_written_in_french_or_english(text: str, value: float) -> None:
    assert parse_value(text) == value


@pytest.mark.parametrize("text", ["", "n.d.", "abc", "1,2,3x", "nan", "inf"])
def test_not_numbers(text: str) -> None:
    assert parse_value(text) is None


def test_long_file_bad_rows_reported_never_dropped(tmp_path: Path) -> None:
    path = tmp_path / "budget.csv"
    path.write_text(
        "series_id;period;value\n"
        "fonctionnement;2019;1 200,5\n"
        "fonctionnement;2020;1 250\n"
        "fonctionnement;deux mille;1 300\n"  # line 4: unreadable period
        "fonctionnement;2021;n.d.\n"  # line 5: missing value
        "fonctionnement;2022;1 310\n"
        "fonctionnement;2022;1 320\n"  # line 7: contradicts line 6
        "fonctionnement;2024;1 400\n"  # 2023 absent
        "investissement;2019;300\n"
        "investissement;2019;300\n"  # line 10: duplicate, same value
        "investissement;2020;310;extra\n",  # line 11: wrong number of columns
        encoding="utf-8",
    )
    result = read_series([path])
    by_id = {s.series_id: s for s in result.series}
    assert set(by_id) == {"fonctionnement", "investissement"}
    fonct = by_id["fonctionnement"]
    assert fonct.frequency == "yearly"
    assert fonct.start == 2019 and fonct.end == 2024
    assert fonct.values[:2] == (1200.5, 1250.0)
    assert math.isnan(fonct.values[2]) and math.isnan(fonct.values[3])  # 2021, 2022
    assert fonct.missing == (2021, 2022, 2023)
    text = "\n".join(reasons(result))
    assert "4:période illisible « deux mille »" in text
    assert "5:valeur manquante pour fonctionnement en 2021" in text
    assert "valeurs contradictoires pour 2022 (lignes 6, 7)" in text
    assert "périodes absentes du fichier : 2023" in text
    assert "10:investissement : doublon de 2019" in text
    assert "11:nombre de colonnes inattendu" in text


def test_wide_file_and_mapping(tmp_path: Path) -> None:
    path = tmp_path / "energie.csv"
    path.write_text(
        "Mois,Électricité (kWh),Gaz (kWh),Commentaire\n"
        "01/2023,1200,800,hiver\n02/2023,1100,760,\n03/2023,1000,600,doux\n",
        encoding="utf-8",
    )
    result = read_series([path], mapping=parse_mapping("period=Mois"))
    assert [s.series_id for s in result.series] == ["Électricité (kWh)", "Gaz (kWh)"]
    assert result.series[0].frequency == "monthly"
    assert result.series[1].values == (800.0, 760.0, 600.0)
    assert any("Commentaire" in i.reason and "pas une série" in i.reason for i in result.issues)


def test_periods_in_columns(tmp_path: Path) -> None:
    path = tmp_path / "postes.csv"
    path.write_text(
        "Poste,2019,2020,2021\nPersonnel,5 000,5 100,5 300\nÉnergie,800,,950\n", encoding="utf-8"
    )
    result = read_series([path])
    by_id = {s.series_id: s for s in result.series}
    assert by_id["Personnel"].values == (5000.0, 5100.0, 5300.0)
    assert by_id["Énergie"].missing == (2020,)


def test_xlsx_with_dates(tmp_path: Path) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["date", "valeur"])
    for month in range(1, 13):
        sheet.append([datetime(2023, month, 1), 10 * month])
    path = tmp_path / "cantine.xlsx"
    book.save(path)
    result = read_series([path])
    assert len(result.series) == 1
    series = result.series[0]
    assert series.series_id == "cantine" and series.frequency == "monthly"
    assert series.periods[0] == "2023-01" and series.values[-1] == 120.0
    assert len(result.files) == 1 and len(result.files[0].sha256) == 64


def test_daily_data_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "jours.csv"
    path.write_text("date,valeur\n2024-01-01,3\n2024-01-02,4\n2024-02-01,5\n", encoding="utf-8")
    result = read_series([path])
    assert result.series == []
    assert any("données journalières" in i.reason for i in result.issues)


def test_one_bad_file_never_aborts_the_batch(tmp_path: Path) -> None:
    good = tmp_path / "a.csv"
    good.write_text("period,value\n2020,1\n2021,2\n", encoding="utf-8")
    empty = tmp_path / "b.csv"
    empty.write_text("", encoding="utf-8")
    other = tmp_path / "c.pdf"
    other.write_bytes(b"%PDF")
    result = read_series([good, empty, other])
    assert [s.series_id for s in result.series] == ["a"]
    assert {i.source for i in result.issues} == {"b.csv", "c.pdf"}


def test_unknown_mapping_field() -> None:
    with pytest.raises(InvalidRequest, match="champs possibles series_id"):
        parse_mapping("texte=Avis")
