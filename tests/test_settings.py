from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from territoria.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_settings_doc_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_settings_doc.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == module.render(), (
        "docs/settings.md is stale: run scripts/gen_settings_doc.py"
    )


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TERRITORIA_HOME", str(tmp_path))
    monkeypatch.setenv("TERRITORIA_ANSWER_MAX_WORDS", "60")
    s = Settings()
    assert s.home == tmp_path and s.answer_max_words == 60
    assert s.db_path.parent == tmp_path


def test_empty_folder_settings_mean_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`TERRITORIA_ORIGINALS=` (set but empty) is the default <home>/originals, not the
    current directory."""
    monkeypatch.setenv("TERRITORIA_ORIGINALS", "")
    settings = Settings(home=tmp_path)
    assert settings.originals is None and settings.originals_dir == tmp_path / "originals"
