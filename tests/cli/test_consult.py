"""`territoria consult analyze` through click, with the real PII guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from territoria.cli.consult import consult

FIXTURE = Path(__file__).resolve().parents[1] / "participation" / "fixtures"


@pytest.fixture(autouse=True)
def _fast_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRITORIA_EMBEDDER", "fake")


def test_polis_folder_smallest_conversation(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "participation" / "polis" / "london.youth.policing"
    out = tmp_path / "rapport"
    result = CliRunner().invoke(consult, ["analyze", str(folder), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["contributions"] == 36
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    groups = report["participant_groups"]
    assert set(groups) <= {
        line.split(",")[0]
        for line in (folder / "participants-votes.csv").read_text().splitlines()[1:]
    }
    assert len(groups) == 26  # everyone who voted is placed
    assert all(size >= 5 for size in (g["size"] for op in report["opinion"] for g in op["groups"]))
    statement_ids = {c["id"] for c in report["contribution_texts"]}
    assert set(report["consensus"]) <= statement_ids and set(report["divisive"]) <= statement_ids
    assert report["privacy"]["guard"].endswith("PIIGuard")
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_questionnaire_in_text_mode(tmp_path: Path) -> None:
    out = tmp_path / "q"
    result = CliRunner().invoke(
        consult, ["analyze", str(FIXTURE / "questionnaire_mobilite.csv"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "35 contributions" in result.output and "2 lignes signalées" in result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (questionnaire,) = report["questionnaires"]
    assert len(questionnaire["questions"]) == 3


def test_bad_mapping_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        consult,
        [
            "analyze",
            str(FIXTURE / "questionnaire_mobilite.csv"),
            "--out",
            str(tmp_path),
            "--mapping",
            "foo=bar",
        ],
    )
    assert result.exit_code != 0
    assert "Champ inconnu" in result.output


def test_home_given_holds_the_pseudonymisation_key(tmp_path: Path) -> None:
    """`territoria --home DIR consult ...` keeps the pseudonyms' key in DIR (finding 10:
    `consult` once ignored it); the command's own `--home` is the shared option."""
    from territoria.cli import _register, cli

    _register()
    home = tmp_path / "commune"
    source = tmp_path / "avis.csv"
    rows = [f"Avis {n} sur la piste cyclable de la rue des Lilas" for n in range(5)]
    rows.append("Appelez-moi au 06 12 34 56 78 (Marie Dupont) pour la piste cyclable")
    source.write_text("contribution\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["consult", "analyze", str(source), "--out", str(tmp_path / "out"), "--json"]
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["contributions"] == 6
    assert (home / "pii.key").is_file()
    assert not (tmp_path / "home" / "pii.key").exists()  # not the $TERRITORIA_HOME one
