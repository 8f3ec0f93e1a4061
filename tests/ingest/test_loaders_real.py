"""Loaders on the real files of shared/data/docs (read by path, never copied)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from territoria.errors import IngestError, NoTextLayer, UnsupportedFormat
from territoria.ingest.loaders import load_path
from territoria.settings import Settings

EXPECTED_2011 = {
    "CR_CM_03_10_2011.doc": UnsupportedFormat,
    "CR_CM_07_11_2011.doc": UnsupportedFormat,
    "CR_CM_20_06_2011.pdf": NoTextLayer,
    "CR_CM_25_07_2011.pdf": NoTextLayer,
    "CR_CM_28_03_2011.pdf": NoTextLayer,
    "CR_CM_07_02_2011.pdf": None,
    "CR_CM_09_05_2011.pdf": None,
    "CR_CM_16_12_2011.pdf": None,
}


def test_every_2011_file_loads_or_says_why(shared_data: Path) -> None:
    folder = shared_data / "docs" / "montpellier-2011-scanned"
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPECTED_2011)
    for name, expected in EXPECTED_2011.items():
        path = folder / name
        if expected is None:
            document = load_path(path, Settings()).documents[0]
            assert document.pages and document.pages >= 9
            assert document.title.startswith("Compte") and "2011" in document.title
            assert {s.page for s in document.sections} == set(range(1, document.pages + 1))
        else:
            with pytest.raises(expected) as info:
                load_path(path, Settings())
            assert info.value.message, name


def test_2011_minutes_keep_votes_and_names(shared_data: Path) -> None:
    path = shared_data / "docs" / "montpellier-2011-scanned" / "CR_CM_07_02_2011.pdf"
    document = load_path(path, Settings()).documents[0]
    text = "\n".join(s.text for s in document.sections)
    headings = {h for s in document.sections for h in s.headings}
    assert "Compte-rendu du Conseil municipal" in headings  # set large: a heading
    assert text.count("Adopté à l’unanimité") >= 20  # repeated body lines are not footers
    assert "BONIFACE-PASCAL" in text
    assert "Cinéma Nestor Burma - Approbation des tarifs 2011" in text


@pytest.mark.slow
def test_every_2014_deliberation_loads(shared_data: Path) -> None:
    files = sorted((shared_data / "docs" / "montpellier-2014").glob("*.pdf"))
    assert len(files) == 123
    pages = 0
    for path in files:
        try:
            document = load_path(path, Settings()).documents[0]
        except IngestError as exc:  # pragma: no cover - the message is the diagnosis
            pytest.fail(f"{path.name}: {exc.message}")
        pages += document.pages or 0
        assert document.title and not re.fullmatch(r"[\d ]+", document.title), path.name
        assert sum(len(s.text) for s in document.sections) > 500, path.name
    assert pages == 211


def test_2014_deliberation_title_and_content(shared_data: Path) -> None:
    path = shared_data / "docs" / "montpellier-2014" / "2014-04-24-0000071251.pdf"
    document = load_path(path, Settings()).documents[0]
    assert document.title == (
        "Modalités et conditions de remboursement des frais de déplacement des agents "
        "territoriaux et des élus"
    )
    assert document.pages == 3
    text = "\n".join(s.text for s in document.sections)
    assert "montant forfaitaire de 15,25€ par repas" in text
    assert "Chantal LEVY-RAMEAU" in text
    lists = [s for s in document.sections if s.kind == "list"]
    assert any("créneaux horaires autorisés" in s.text for s in lists)
