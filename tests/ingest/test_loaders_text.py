"""Plain text and Markdown loaders: encodings, structure, titles."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from territoria.errors import EmptyDocument
from territoria.ingest.loaders import load_path
from territoria.ingest.loaders.structure import legal_heading
from territoria.ingest.loaders.text import decode_bytes
from territoria.settings import Settings
from territoria.types import LoadedDocument

FRENCH = "L’élève reçoit 5 € ; œuvre, cœur, « garçon », déjà vu.\n"


def text_of(document: LoadedDocument) -> str:
    return "\n".join(section.text for section in document.sections)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (FRENCH.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + FRENCH.encode("utf-8"), "utf-8-sig"),
        (FRENCH.encode("cp1252"), "cp1252"),
        (FRENCH.encode("utf-16"), "utf-16"),
    ],
)
def test_decode(data: bytes, encoding: str) -> None:
    text, found = decode_bytes(data)
    assert text == FRENCH
    assert found == encoding


def test_decode_latin1_without_cp1252_specials() -> None:
    data = "Élève à l'école, façade.".encode("latin-1")
    assert decode_bytes(data)[0] == "Élève à l'école, façade."


def test_decode_latin1_with_c1_control_bytes() -> None:
    """0x81 is undefined in Windows-1252: the file can only be Latin-1."""
    data = "Élève".encode("latin-1") + b"\x81"
    text, found = decode_bytes(data)
    assert found == "latin-1"
    assert text.startswith("Élève")


def test_text_file_cp1252_with_bom_free_title(tmp_path: Path) -> None:
    path = tmp_path / "piscine_municipale.txt"
    path.write_bytes(
        (
            "Piscine municipale\n\nLa piscine est ouverte le mercredi ; l’entrée coûte 3 €.\n"
            "Les enfants de moins de 8 ans sont accompagnés.\n"
        ).encode("cp1252")
    )
    document = load_path(path, Settings()).documents[0]
    assert document.title == "Piscine municipale"
    assert document.metadata["encoding"] == "cp1252"
    assert "l’entrée coûte 3 €." in text_of(document)


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(codecs.BOM_UTF8 + b"Bonjour la mairie.\n")
    document = load_path(path, Settings()).documents[0]
    assert document.sections[0].text == "Bonjour la mairie."
    assert document.title == "Note"  # a sentence is not a title


def test_plain_text_structure(tmp_path: Path) -> None:
    path = tmp_path / "reglement.txt"
    path.write_text(
        "RÈGLEMENT DU CIMETIÈRE\n"
        "======================\n\n"
        "Article 1 - Horaires\n"
        "Le cimetière est ouvert de 8 h à 18 h.\n\n"
        "Article 2 - Travaux\n"
        "Les travaux sont interdits :\n"
        "- le dimanche ;\n"
        "- les jours fériés.\n\n"
        "Article 3 : Les animaux sont interdits dans l'enceinte du cimetière, à l'exception des "
        "chiens guides d'aveugle et d'assistance.\n",
        encoding="utf-8",
    )
    document = load_path(path, Settings()).documents[0]
    assert document.title == "RÈGLEMENT DU CIMETIÈRE"
    sections = {(s.headings[-1], s.kind): s.text for s in document.sections}
    assert sections[("Article 1 - Horaires", "text")] == "Le cimetière est ouvert de 8 h à 18 h."
    assert sections[("Article 2 - Travaux", "list")] == (
        "Les travaux sont interdits :\n- le dimanche ;\n- les jours fériés."
    )
    # a long "Article 3 : ..." line opens the article and stays as its text
    assert sections[("Article 3", "text")].startswith("Article 3 : Les animaux")
    assert all(s.headings[0] == "RÈGLEMENT DU CIMETIÈRE" for s in document.sections)


def test_wrapped_lines_are_rejoined(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    long_line = "La demande de carte d'identité se fait en mairie sur rendez-vous et"
    path.write_text(
        f"{long_line}\n"
        "prend environ trois semaines.\n"
        f"{long_line}\n"
        "se retire au guichet.\n"
        "Horaires :\n"
        "lundi 9 h\n",
        encoding="utf-8",
    )
    text = load_path(path, Settings()).documents[0].sections[0].text
    assert f"{long_line} prend environ trois semaines." in text
    assert "Horaires :\nlundi 9 h" in text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Article 1 - Objet", (5, "Article 1 - Objet", True)),
        ("ARTICLE 12", (5, "ARTICLE 12", True)),
        (
            "Article premier : Dispositions générales",
            (5, "Article premier - Dispositions générales", True),
        ),
        ("TITRE II - LES SALLES", (1, "TITRE II - LES SALLES", True)),
        ("Chapitre 3", (2, "Chapitre 3", True)),
        ("Article L. 2121-8", (5, "Article L. 2121-8", True)),
        (
            "Article L. 2121-8 du code général des collectivités territoriales dispose que le "
            "conseil municipal établit son règlement intérieur.",
            None,
        ),
        ("Article de presse", None),
        ("article 3 du décret", None),
    ],
)
def test_legal_heading(line: str, expected: tuple[int, str, bool] | None) -> None:
    assert legal_heading(line) == expected


MARKDOWN = """---
title: "Guide de l'usager"
date: 2025-01-01
---

# Déchetterie

Introduction avec un [lien](https://exemple.fr) et du **gras**.

## Horaires

Du lundi au samedi.

Sous-titre setext
-----------------

Les pièces à fournir :

- carte d'accès
- justificatif
  de domicile
  - de moins de 3 mois

| Déchet | Tarif |
|---|:---:|
| Gravats | 20 € |
| Bois | *15 €* |

```
# pas un titre
```

### Détails
Texte final.
"""


def test_markdown_structure(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    document = load_path(path, Settings()).documents[0]
    assert document.title == "Guide de l'usager"
    assert document.metadata["format"] == "markdown"
    first = document.sections[0]
    assert first.headings == ("Déchetterie",)
    assert first.text == "Introduction avec un lien et du gras."
    lists = [s for s in document.sections if s.kind == "list"]
    assert [s.text for s in lists] == [
        "Les pièces à fournir :\n- carte d'accès\n- justificatif de domicile\n"
        "  - de moins de 3 mois"
    ]
    assert lists[0].headings == ("Déchetterie", "Sous-titre setext")
    tables = [s for s in document.sections if s.kind == "table"]
    assert [s.text for s in tables] == ["Déchet | Tarif\nGravats | 20 €\nBois | 15 €"]
    assert "# pas un titre" in text_of(document)
    assert document.sections[-1].headings == ("Déchetterie", "Sous-titre setext", "Détails")
    assert "date: 2025" not in text_of(document)


def test_markdown_title_from_first_h1(tmp_path: Path) -> None:
    path = tmp_path / "faq.md"
    path.write_text("Intro.\n\n## Section\n\nTexte.\n\n# Foire aux questions\n\nFin.\n")
    assert load_path(path, Settings()).documents[0].title == "Foire aux questions"


def test_markdown_title_from_stem(tmp_path: Path) -> None:
    path = tmp_path / "foire_aux-questions.md"
    path.write_text("Juste du texte.\n")
    assert load_path(path, Settings()).documents[0].title == "Foire aux questions"


def test_whitespace_only_text(tmp_path: Path) -> None:
    path = tmp_path / "blanc.txt"
    path.write_text(" \n\t\n \u00a0\n", encoding="utf-8")
    with pytest.raises(EmptyDocument) as info:
        load_path(path, Settings())
    assert info.value.message == "document sans texte"


def test_nfkc_and_soft_hyphens(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("Le ﬁchier de la collec\u00adtivité\u00a0: ok.\n", encoding="utf-8")
    assert load_path(path, Settings()).documents[0].sections[0].text == (
        "Le fichier de la collectivité : ok."
    )
