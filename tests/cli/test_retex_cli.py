"""The `territoria retex` contract: the JSON shapes the issue names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from retex.conftest import NoPII, fiche
from territoria.cli import _register, cli
from territoria.runtime import Runtime


@pytest.fixture(autouse=True)
def _no_spacy(monkeypatch: pytest.MonkeyPatch) -> None:
    """No personal data in these fiches: a guard that finds none (the real one is tested in
    tests/retex/test_personal_data.py)."""
    monkeypatch.setattr(Runtime, "pii", property(lambda self: NoPII()))
    monkeypatch.setenv("TERRITORIA_EMBEDDER", "fake")


def run(home: Path, *args: str) -> Any:
    _register()
    result = CliRunner().invoke(cli, ["--home", str(home), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_contract(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    path = tmp_path / "fiche.json"
    path.write_text(json.dumps(fiche()), encoding="utf-8")
    assert run(a, "retex", "add", str(path)) == {"id": "velo-test-01"}
    assert run(a, "retex", "export", "--out", str(tmp_path / "f.json")) == {"exported": 1}
    key = run(a, "retex", "key")["public_key"]
    assert key.startswith("ed25519:")
    refused = run(b, "retex", "import", str(tmp_path / "f.json"))
    assert refused["imported"] == 0 and refused["rejected"][0]["id"] == "velo-test-01"
    assert run(b, "retex", "trust", "add", "Pays de Test", key)["public_key"] == key
    report = run(b, "retex", "import", str(tmp_path / "f.json"))
    assert {k: report[k] for k in ("imported", "updated", "rejected")} == {
        "imported": 1, "updated": 0, "rejected": [],
    }  # fmt: skip
    hits = run(b, "retex", "search", "vélos électriques")["hits"]
    assert set(hits[0]) == {"id", "title", "origin", "score"}
    assert hits[0]["origin"]["collectivite"] == "Pays de Test"
    assert run(b, "retex", "list")["fiches"][0]["id"] == "velo-test-01"


def test_bad_files_get_a_french_error(tmp_path: Path) -> None:
    _register()
    bad = tmp_path / "bad.json"
    bad.write_text("{pas du json", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "h"), "retex", "add", str(bad)])
    assert result.exit_code == 1 and "JSON lisible" in result.output
    bad.write_text(json.dumps({"title": "x"}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "h"), "retex", "add", str(bad)])
    assert result.exit_code == 1 and "Fiche invalide" in result.output
