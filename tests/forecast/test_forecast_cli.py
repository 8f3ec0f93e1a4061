"""`territoria forecast` end to end: the JSON contract, the report, the audit log, the store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from territoria.audit import AuditLog
from territoria.cli import _register, cli
from territoria.forecast import open_run_store
from territoria.settings import Settings

CONTRACT_SERIES = {
    "series_id", "frequency", "model", "abstained", "warnings", "backtest", "forecast",
}  # fmt: skip
CONTRACT_POINT = {"period", "mean", "lo80", "hi80", "lo95", "hi95"}


@pytest.fixture(scope="module")
def invoke() -> CliRunner:
    _register()
    return CliRunner()


def test_json_contract_report_and_audit(
    invoke: CliRunner, seasonal_file: Path, tmp_path: Path
) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    result = invoke.invoke(
        cli,
        ["forecast", str(seasonal_file), "--horizon", "6", "--json", "--out", str(out),
         "--home", str(home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert json.loads((out / "forecast.json").read_text(encoding="utf-8")) == document
    assert len(document["series"]) == 8
    for entry in document["series"]:
        assert set(entry) >= CONTRACT_SERIES
        assert entry["frequency"] == "monthly"
        assert isinstance(entry["abstained"], bool) and isinstance(entry["warnings"], list)
        assert {"windows", "mase", "baselines"} <= set(entry["backtest"])
        assert {"naive", "seasonal_naive"} <= set(entry["backtest"]["baselines"])
        assert [p["period"] for p in entry["forecast"]] == [f"2018-0{m}" for m in range(1, 7)]
        for point in entry["forecast"]:
            assert set(point) == CONTRACT_POINT
            assert point["lo95"] <= point["lo80"] <= point["mean"] <= point["hi80"] <= point["hi95"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="fr"' in html
    assert html.count('role="img"') == 8 and "<script" not in html
    # on a phone, each table scrolls inside its own focusable region, never the whole page
    regions = re.findall(r'<div class="defilement" role="region" tabindex="0" aria-label="[^"]+">'
                         r"<table>", html)  # fmt: skip
    assert len(regions) == html.count("<table>") > 8
    settings = Settings(home=home)
    with AuditLog(settings) as log:
        record = log.get(document["run"]["audit_record_id"])
        assert log.verify().ok
    assert record.mode == "forecast"
    assert record.verification["inputs_sha256"] == document["inputs"]["sha256"]
    assert record.versions["statsforecast"]
    assert record.verification["series"][0]["backtest"]["windows"] == 3
    store = open_run_store(settings)
    try:
        stored = store.get("default", document["run"]["run_id"])
        assert stored.document == document
    finally:
        store.close()
    replayed = invoke.invoke(cli, ["audit", "replay", record.record_id, "--home", str(home)])
    assert replayed.exit_code == 1
    assert "relancez-le sur les mêmes fichiers" in replayed.output


def test_human_output_and_import_issues(invoke: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "budget.csv"
    rows = "\n".join(f"{2008 + i};{1000 + 20 * i}" for i in range(15))
    path.write_text(f"annee;montant\n{rows}\n2023;beaucoup\n", encoding="utf-8")
    result = invoke.invoke(cli, ["forecast", str(path), "--home", str(tmp_path / "h")])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("budget"))
    assert line.startswith("budget (série annuelle) : ")
    # French numbers, as in the report: decimal comma, thin space between thousands
    assert re.search(r"MASE \d+,\d\d ; 2023 → 2025 : 1\u202f\d{3} … 1\u202f\d{3} \(à 95 %", line)
    assert "s'est trompée de" in result.output
    assert "ligne 17 : valeur illisible « beaucoup »" in result.output


def test_nothing_readable_is_a_clear_error(invoke: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "vide.csv"
    path.write_text("a,b\nx,y\n", encoding="utf-8")
    result = invoke.invoke(cli, ["forecast", str(path), "--home", str(tmp_path / "h")])
    assert result.exit_code == 1
    assert "Aucune série lisible" in result.output
