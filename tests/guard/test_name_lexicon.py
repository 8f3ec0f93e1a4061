"""The lexicon of person names (`guard.name_lexicon`): INSEE's first names, folding."""

from __future__ import annotations

from pathlib import Path

import pytest

from territoria.errors import ConfigError
from territoria.guard.name_lexicon import FirstNames, fold


def test_insee_first_names_of_every_origin(names: FirstNames) -> None:
    assert len(names.tiers) > 20_000
    for first in ("Sylvie", "Karim", "Samia", "Aïssatou", "Mehmet", "Zofia", "Thi", "Cheikh"):
        assert names.tier(first) is not None, first
    assert names.tier("Karim") == 0  # common
    assert names.tier("AÏSSATOU") == names.tier("Aissatou") == names.tier("aïssatou")
    assert names.tier("Jean-Baptiste") == 0  # a compound counts as its rarest part
    assert names.tier("Saint-Martin") is None
    assert names.tier("France") is None  # "France Services": never a first name here
    assert names.tier("L") is None  # INSEE lists single letters
    assert names.tier("Mairie") is None


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Łukasz") == fold("LUKASZ") == "lukasz"
    assert fold("Nguyễn") == "nguyen"
    assert fold("N’Guessan") == "n'guessan"


def test_missing_names_file_is_a_french_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Fichier des prénoms illisible"):
        FirstNames.load(tmp_path)
