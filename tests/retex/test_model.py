from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from retex.conftest import fiche
from territoria.retex.demo import demo_fiches
from territoria.retex.model import (
    DEFAULT_VISIBILITY,
    Fiche,
    fiche_schema,
    parse_fiche,
    siren_ok,
    validation_reason,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_model_has_29_fields_each_public_or_restricted() -> None:
    assert len(Fiche.model_fields) == 29
    assert set(DEFAULT_VISIBILITY.values()) == {"public", "restricted"}
    assert DEFAULT_VISIBILITY["contact"] == "restricted"


def test_public_view_drops_restricted_fields_and_honours_overrides() -> None:
    f = parse_fiche(fiche())
    view = f.public_view()
    assert "contact" not in view and "budget_detail" not in view and "internal_notes" not in view
    shared = parse_fiche(fiche(visibility={"contact": "public", "summary": "restricted"}))
    view = shared.public_view()
    assert "contact" in view and "summary" not in view


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "abandonne"}, "abandon"),
        ({"collectivite": {"name": "X", "siren": "123456789", "type": "commune"}}, "SIREN"),
        ({"visibility": {"title": "restricted"}}, "toujours publics"),
        ({"visibility": {"nope": "public"}}, "champ inconnu"),
        ({"status": "fini"}, "valeur non permise"),
        ({"insee_codes": ["123"]}, "format invalide"),
        ({"started": "2024-05-01", "ended": "2023-01-01"}, "date de fin"),
        ({"surprise": 1}, "champ inconnu"),
    ],
)
def test_invalid_fiches_get_a_french_reason(change: dict[str, object], reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_fiche(fiche(**change))
    assert reason in validation_reason(info.value)


def test_siren_luhn() -> None:
    assert siren_ok("200045128")
    assert not siren_ok("200045129")
    assert parse_fiche(fiche(status="abandonne", abandon_reasons="trop cher")).status == "abandonne"


def test_demo_fiches_are_valid_examples_and_cover_the_seeds_cases() -> None:
    fiches = demo_fiches()
    assert len(fiches) >= 10 and all(f.example for f in fiches)
    titles = " ".join(f.title for f in fiches).lower()
    for case in ("vélo de pays", "magasin de producteurs", "nouvelles mobilités"):
        assert case in titles
    assert any(f.status == "abandonne" for f in fiches)


def test_published_json_schema_is_current() -> None:
    published = json.loads((DOCS / "retex-fiche.schema.json").read_text(encoding="utf-8"))
    assert published == fiche_schema(), "regenerate: territoria retex schema > docs/retex-..."
    assert published["properties"]["contact"]["x-visibility"] == "restricted"
