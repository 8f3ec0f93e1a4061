"""DOCX (python-docx) and ODT (odfdo) loaders on documents generated here."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from odfdo import Document as OdfDocument
from odfdo import Header, List, Paragraph, Table

from territoria.errors import CorruptDocument, EmptyDocument, EncryptedDocument, UnsupportedFormat
from territoria.ingest.loaders import load_path
from territoria.settings import Settings
from territoria.types import LoadedDocument


def make_docx(path: Path, *, core_title: str = "Règlement des salles") -> Path:
    document = docx.Document()
    document.core_properties.title = core_title
    document.add_paragraph("Location des salles municipales", style="Title")
    document.add_paragraph("Texte d'introduction avant tout titre.")
    document.add_heading("Conditions générales", level=1)
    document.add_paragraph("La location est ouverte aux habitants.")
    document.add_heading("Pièces à fournir", level=2)
    document.add_paragraph("Le dossier comprend :")
    document.add_paragraph("une attestation d'assurance ;", style="List Bullet")
    document.add_paragraph("un justificatif de domicile ;", style="List Bullet")
    document.add_paragraph("le chèque de caution.", style="List Bullet 2")
    document.add_heading("Tarifs", level=1)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("Salle", "Résident", "Extérieur"), ("Fêtes", "250 €", "400 €")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    merged = table.cell(2, 0).merge(table.cell(2, 2))
    merged.text = "Caution : 500 € pour toutes les salles"
    document.add_paragraph("Les tarifs sont révisés chaque année.")
    document.save(str(path))
    return path


def by_kind(document: LoadedDocument, kind: str) -> list[str]:
    return [section.text for section in document.sections if section.kind == kind]


def test_docx_structure(tmp_path: Path) -> None:
    document = load_path(make_docx(tmp_path / "salles.docx"), Settings()).documents[0]
    assert document.title == "Règlement des salles"
    assert document.doc_id is None
    headings = [section.headings for section in document.sections]
    assert () in headings  # the introduction comes before any heading
    assert ("Conditions générales", "Pièces à fournir") in headings
    lists = by_kind(document, "list")
    assert lists == [
        "Le dossier comprend :\n- une attestation d'assurance ;\n- un justificatif de domicile ;"
        "\n  - le chèque de caution."
    ]
    tables = by_kind(document, "table")
    assert tables == [
        "Salle | Résident | Extérieur\nFêtes | 250 € | 400 €\n"
        "Caution : 500 € pour toutes les salles"
    ]
    table_section = next(s for s in document.sections if s.kind == "table")
    assert table_section.headings == ("Tarifs",)
    text = "\n".join(section.text for section in document.sections)
    assert "Location des salles municipales" not in text  # the Title paragraph is the title


def test_docx_title_style_when_no_core_title(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "salles.docx", core_title="")
    assert load_path(path, Settings()).documents[0].title == "Location des salles municipales"


def test_docx_styles_are_looked_up_once_per_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python-docx finds the default style of an unstyled paragraph by scanning every style of
    the document: once per paragraph, a 50 KB DOCX of short paragraphs took over a minute."""
    from docx.styles.styles import Styles

    document = docx.Document()
    for i in range(200):
        document.add_paragraph(f"Délibération numéro {i}.")
    document.add_heading("Annexe", level=1)
    document.add_paragraph("Texte de l'annexe.")
    path = tmp_path / "deliberations.docx"
    document.save(str(path))
    calls: list[object] = []
    scan = Styles.default

    def counted(self: Styles, style_type: object) -> object:
        calls.append(style_type)
        return scan(self, style_type)  # type: ignore[arg-type]

    monkeypatch.setattr(Styles, "default", counted)
    loaded = load_path(path, Settings(parse_isolated=False)).documents[0]
    assert len(calls) == 1
    assert [section.headings for section in loaded.sections][-1] == ("Annexe",)
    assert "Délibération numéro 199." in loaded.sections[0].text


def test_docx_without_text(tmp_path: Path) -> None:
    path = tmp_path / "vide.docx"
    docx.Document().save(str(path))
    with pytest.raises(EmptyDocument):
        load_path(path, Settings())


def test_docx_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "casse.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "pas un document Word")
    with pytest.raises(CorruptDocument) as info:
        load_path(path, Settings())
    assert info.value.message.startswith("DOCX illisible")


def test_docx_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "texte.docx"
    path.write_text("du texte brut renommé en .docx", encoding="utf-8")
    with pytest.raises(CorruptDocument):
        load_path(path, Settings())


def test_password_protected_office_file(tmp_path: Path) -> None:
    path = tmp_path / "protege.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(EncryptedDocument) as info:
        load_path(path, Settings())
    assert "chiffré" in info.value.message


def test_legacy_doc_refused_with_hint(tmp_path: Path) -> None:
    path = tmp_path / "ancien.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(UnsupportedFormat) as info:
        load_path(path, Settings())
    assert info.value.message == (
        "format .doc (Word 97-2003) non pris en charge : convertissez-le en .docx ou en PDF"
    )


def test_doc_extension_holding_a_docx_is_read(tmp_path: Path) -> None:
    source = make_docx(tmp_path / "salles.docx")
    renamed = tmp_path / "salles.doc"
    renamed.write_bytes(source.read_bytes())
    assert load_path(renamed, Settings()).documents[0].title == "Règlement des salles"


def make_odt(path: Path, *, title: str = "Collecte des déchets") -> Path:
    document = OdfDocument("text")
    document.body.clear()
    if title:
        document.meta.set_title(title)
    document.body.append(Header(1, "Collecte des déchets ménagers"))
    document.body.append(Paragraph("La collecte est assurée par la communauté de communes."))
    document.body.append(Header(2, "Jours de collecte"))
    document.body.append(Paragraph("Les bacs sont à sortir la veille :"))
    document.body.append(List(["bac vert le lundi", "bac jaune le jeudi"]))
    table = Table("Secteurs", width=2, height=2)
    table.set_values([["Secteur", "Jour"], ["Centre", "Lundi"]])
    document.body.append(table)
    document.body.append(Header(1, "Encombrants"))
    document.body.append(Paragraph("Sur rendez-vous, une fois par mois."))
    document.save(str(path))
    return path


def test_odt_structure(tmp_path: Path) -> None:
    document = load_path(make_odt(tmp_path / "dechets.odt"), Settings()).documents[0]
    assert document.title == "Collecte des déchets"
    assert document.metadata["format"] == "odt"
    lists = [s for s in document.sections if s.kind == "list"]
    assert [s.text for s in lists] == [
        "Les bacs sont à sortir la veille :\n- bac vert le lundi\n- bac jaune le jeudi"
    ]
    assert lists[0].headings == ("Collecte des déchets ménagers", "Jours de collecte")
    assert by_kind(document, "table") == ["Secteur | Jour\nCentre | Lundi"]
    last = document.sections[-1]
    assert last.headings == ("Encombrants",)
    assert last.text == "Sur rendez-vous, une fois par mois."


def test_odt_title_from_first_heading(tmp_path: Path) -> None:
    path = make_odt(tmp_path / "dechets.odt", title="")
    assert load_path(path, Settings()).documents[0].title == "Collecte des déchets ménagers"


def test_odt_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "casse.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content><non-ferme>")
    with pytest.raises(CorruptDocument) as info:
        load_path(path, Settings())
    assert info.value.message.startswith("ODT illisible")


def test_odt_encrypted(tmp_path: Path) -> None:
    source = make_odt(tmp_path / "dechets.odt")
    path = tmp_path / "chiffre.odt"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as target:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "META-INF/manifest.xml":
                data = data.replace(
                    b"</manifest:manifest>",
                    b"<manifest:encryption-data/></manifest:manifest>",
                )
            target.writestr(item, data)
    with pytest.raises(EncryptedDocument):
        load_path(path, Settings())
