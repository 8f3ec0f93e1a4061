"""PDF loader on PDFs generated here: pages, cleaning, structure, titles, bad files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from territoria.errors import CorruptDocument, EncryptedDocument, IngestError, NoTextLayer
from territoria.ingest.loaders import load_path, pdf
from territoria.settings import Settings
from territoria.types import LoadedDocument

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

BODY = [
    [
        "Article 1 - Objet",
        "Le présent règlement s'applique à toute la collec-",
        "tivité et à ses usagers, sans exception aucune.",
        "Il est peut-",
        "être modifié par le conseil municipal.",
    ],
    [
        "Article 2 - Horaires",
        "La salle est ouverte de 9 h à 18 h ; Mme Chantal LEVY-",
        "RAMEAU en assure la gestion pour le compte de la commune.",
    ],
    [
        "Article 3 - Tarifs",
        "Les tarifs sont fixés par délibération du conseil.",
        "Le conseil peut les réviser chaque année.",
    ],
]


def _font(doc: FPDF) -> None:
    if not (FONT_DIR / "DejaVuSans.ttf").exists():
        pytest.fail("DejaVu fonts missing: apt-get install -y fonts-dejavu-core")
    doc.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    doc.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))


def make_pdf(
    path: Path,
    pages: list[list[str]],
    *,
    header: str | None = "Mairie de Testville - Règlement intérieur",
    footer: bool = True,
    title: str | None = None,
    big_title: str | None = None,
) -> Path:
    doc = FPDF()
    doc.set_auto_page_break(False)
    _font(doc)
    if title is not None:
        doc.set_title(title)
    for number, lines in enumerate(pages, start=1):
        doc.add_page()
        if header:
            doc.set_font("DejaVu", size=8)
            doc.cell(0, 6, header, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            doc.ln(6)
        if big_title and number == 1:
            doc.set_font("DejaVu", "B", size=20)
            doc.cell(0, 12, big_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            doc.ln(4)
        doc.set_font("DejaVu", size=11)
        for line in lines:
            doc.cell(0, 7, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if footer:
            doc.set_y(-20)
            doc.set_font("DejaVu", size=8)
            doc.cell(0, 6, f"Page {number} / {len(pages)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.output(str(path))
    return path


def text_of(document: LoadedDocument) -> str:
    return "\n".join(section.text for section in document.sections)


def test_pages_numbered_and_header_footer_removed(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "reglement.pdf", BODY)
    document = load_path(path, Settings()).documents[0]
    assert document.pages == 3
    assert document.doc_id is None
    assert document.metadata["extractor"] == "pypdf"
    assert {section.page for section in document.sections} == {1, 2, 3}
    text = text_of(document)
    assert "Mairie de Testville" not in text
    assert not re.search(r"Page \d / 3", text)
    assert "Les tarifs sont fixés par délibération du conseil." in text


def test_line_end_hyphens(tmp_path: Path) -> None:
    text = text_of(load_path(make_pdf(tmp_path / "r.pdf", BODY), Settings()).documents[0])
    assert "collectivité" in text
    assert "collec-" not in text
    assert "peut-être" in text
    assert "LEVY-RAMEAU" in text


def test_article_lines_become_headings_kept_across_pages(tmp_path: Path) -> None:
    document = load_path(make_pdf(tmp_path / "r.pdf", BODY), Settings()).documents[0]
    by_heading = {section.headings: section for section in document.sections}
    assert ("Article 2 - Horaires",) in by_heading
    assert by_heading[("Article 2 - Horaires",)].page == 2
    assert "LEVY-RAMEAU" in by_heading[("Article 2 - Horaires",)].text
    # the heading line itself is not repeated as body text
    assert all("Article 3 - Tarifs" not in section.text for section in document.sections)


def test_two_page_document_keeps_repeated_lines(tmp_path: Path) -> None:
    """Under 3 pages, a line on every page is content, not a running header."""
    path = make_pdf(tmp_path / "r.pdf", BODY[:2], footer=False)
    assert "Mairie de Testville" in text_of(load_path(path, Settings()).documents[0])


def test_title_from_metadata_cleaned(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "r.pdf", BODY, title="Microsoft Word - compte rendu CM.doc")
    assert load_path(path, Settings()).documents[0].title == "Compte rendu CM"


def test_title_from_largest_type_when_no_metadata(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "r.pdf", BODY, big_title="Règlement de la salle des fêtes")
    assert load_path(path, Settings()).documents[0].title == "Règlement de la salle des fêtes"


def test_title_falls_back_to_first_heading(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "reglement_salle.pdf", BODY, header=None, footer=False)
    assert load_path(path, Settings()).documents[0].title == "Article 1 - Objet"


def test_scanned_pdf_without_text_layer(tmp_path: Path) -> None:
    from PIL import Image

    image = tmp_path / "scan.png"
    Image.new("RGB", (200, 280), "white").save(image)
    doc = FPDF()
    for _ in range(2):
        doc.add_page()
        doc.image(str(image), x=10, y=10, w=190)
    path = tmp_path / "scan.pdf"
    doc.output(str(path))
    with pytest.raises(NoTextLayer) as info:
        load_path(path, Settings())
    assert "OCR" in info.value.message
    assert "sans couche texte" in info.value.message


def _encrypt(source: Path, target: Path, user_password: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="proprio", algorithm="AES-256")
    with target.open("wb") as handle:
        writer.write(handle)
    return target


def test_encrypted_pdf(tmp_path: Path) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", BODY)
    locked = _encrypt(plain, tmp_path / "locked.pdf", "secret")
    with pytest.raises(EncryptedDocument) as info:
        load_path(locked, Settings())
    assert info.value.message == "PDF chiffré (protégé par mot de passe)"


def test_pdf_encrypted_with_empty_user_password_opens(tmp_path: Path) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", BODY)
    restricted = _encrypt(plain, tmp_path / "restricted.pdf", "")
    assert "collectivité" in text_of(load_path(restricted, Settings()).documents[0])


def test_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "faux.pdf"
    path.write_bytes(b"PK\x03\x04 this is a zip, not a PDF" * 10)
    with pytest.raises(CorruptDocument) as info:
        load_path(path, Settings())
    assert info.value.message.startswith("PDF corrompu")


def test_garbage_after_pdf_signature(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    with pytest.raises(CorruptDocument) as info:
        load_path(path, Settings())
    assert info.value.message.startswith("PDF corrompu : structure illisible")
    assert isinstance(info.value.__cause__, Exception)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_pdf_loads_or_fails_cleanly(tmp_path: Path, keep: float) -> None:
    data = make_pdf(tmp_path / "full.pdf", BODY).read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: int(len(data) * keep)])
    try:
        result = load_path(path, Settings())
    except IngestError as exc:
        assert exc.message  # a French reason, never a bare library exception
    else:
        assert result.documents[0].sections


def test_broken_xref_table_is_repaired(tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "full.pdf", BODY).read_bytes()
    start = data.rindex(b"startxref")
    broken = data[:start] + b"startxref\n999999\n%%EOF\n"
    xref = broken.rindex(b"\nxref")
    broken = broken[:xref] + broken[xref:].replace(b" 00000 n", b" 00000 f")
    path = tmp_path / "broken.pdf"
    path.write_bytes(broken)
    document = load_path(path, Settings()).documents[0]
    assert "collectivité" in text_of(document)


def test_pdfminer_fallback_when_pypdf_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: bytes) -> object:
        raise PdfReadError("simulated broken xref")

    monkeypatch.setattr(pdf, "_read_pypdf", broken)  # in this process: parse here
    path = make_pdf(tmp_path / "r.pdf", BODY)
    document = load_path(path, Settings(parse_isolated=False)).documents[0]
    assert document.metadata["extractor"] == "pdfminer"
    assert document.pages == 3
    assert {section.page for section in document.sections} == {1, 2, 3}
    assert "collectivité" in text_of(document)


def test_partially_scanned_pdf_reports_pages_without_text(tmp_path: Path) -> None:
    from PIL import Image

    text_pdf = make_pdf(tmp_path / "t.pdf", BODY[:2])
    image = tmp_path / "scan.png"
    Image.new("RGB", (50, 70), "white").save(image)
    scan = FPDF()
    scan.add_page()
    scan.image(str(image), x=10, y=10, w=100)
    writer = PdfWriter(clone_from=PdfReader(text_pdf))
    writer.append(PdfReader(io.BytesIO(bytes(scan.output()))))
    path = tmp_path / "mixed.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    document = load_path(path, Settings()).documents[0]
    assert document.pages == 3
    assert document.metadata["pages_without_text"] == "3"


# --- cleaning functions ----------------------------------------------------------------------


def test_dehyphenate_rules() -> None:
    lines = [
        "la collec-",
        "tivité territoriale",
        "eux-",
        "mêmes, ci-",
        "dessous",
        "l'institut médico-",
        "éducatif",
        "Mme DRAY-",
        "FITOUSSI",
        "décret n°2012-",
        "902 du 20 juillet",
    ]
    out = pdf.dehyphenate(lines)
    assert out == [
        "la collectivité",
        "territoriale",
        "eux-mêmes,",
        "ci-dessous",
        "l'institut médico-éducatif",
        "Mme DRAY-FITOUSSI",
        "décret n°2012-902",
        "du 20 juillet",
    ]


def test_dehyphenate_uses_document_vocabulary() -> None:
    vocabulary = frozenset({"porte-monnaie", "prolongation"})
    assert pdf.dehyphenate(["un porte-", "monnaie vide"], vocabulary)[0] == "un porte-monnaie"
    assert pdf.dehyphenate(["une pro-", "longation"], vocabulary)[0] == "une prolongation"
    assert pdf.dehyphenate(["une pro-", "longation"], frozenset({"pro-longation"}))[0] == (
        "une pro-longation"
    )


def test_dehyphenate_keeps_blank_lines_and_list_dashes() -> None:
    lines = ["Présents :", "", "- Jean", "- Marie-", "Claire", "-"]
    assert pdf.dehyphenate(lines) == ["Présents :", "", "- Jean", "- Marie-Claire", "-"]


def test_repeated_lines_removed_only_when_once_per_page() -> None:
    pages = [
        ["Ville de X - Conseil", "Point 1", "Adopté à l'unanimité", "Point 2", "Page 1 sur 3"],
        ["Ville de X - Conseil", "Point 3", "Adopté à l'unanimité", "Adopté à l'unanimité"],
        ["Ville de X - Conseil", "Point 5", "Adopté à l'unanimité", "Page 3 sur 3"],
    ]
    cleaned = pdf.remove_repeated_lines(pages)
    assert cleaned[0] == ["Point 1", "Adopté à l'unanimité", "Point 2"]
    assert cleaned[1] == ["Point 3", "Adopté à l'unanimité", "Adopté à l'unanimité"]
    assert "Ville de X - Conseil" not in cleaned[2]


def test_lone_number_removed_only_when_it_is_the_page_number() -> None:
    pages = [["Texte", "551"], ["Autre texte", "2"]]
    assert pdf.remove_repeated_lines(pages) == [["Texte", "551"], ["Autre texte"]]
