"""PDF tables and headings from the layout (pdfplumber tables, type sizes), on PDFs made here."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from territoria.ingest.chunking import chunk_document
from territoria.ingest.loaders import load_path
from territoria.ingest.loaders.pdf_layout import mark
from territoria.settings import Settings
from territoria.types import LoadedDocument

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
HEADER = ["Quotient familial (QF)", "Prix du repas"]
ROWS = [
    ["QF inférieur ou égal à 400 €", "1,00 €"],
    ["QF de 401 € à 700 €", "2,10 €"],
    ["QF de 701 € à 1 000 €", "3,10 €"],
    ["QF supérieur à 1 000 €", "4,50 €"],
]
BODY = "Le prix du repas dépend du quotient familial de la famille, calculé par la CAF."


def _pdf() -> FPDF:
    if not (FONT_DIR / "DejaVuSans.ttf").exists():
        pytest.fail("DejaVu fonts missing: apt-get install -y fonts-dejavu-core")
    doc = FPDF()
    doc.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    doc.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    return doc


def _heading(doc: FPDF, text: str, size: float) -> None:
    doc.set_font("DejaVu", "B", size)
    doc.multi_cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _paragraph(doc: FPDF, text: str) -> None:
    doc.set_font("DejaVu", "", 10)
    doc.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(doc: FPDF, rows: list[list[str]], *, header: bool = True) -> None:
    doc.set_font("DejaVu", "", 9)
    with doc.table(first_row_as_headings=header) as table:
        for row in rows:
            cells = table.row()
            for value in row:
                cells.cell(value)


def _load(path: Path) -> LoadedDocument:
    return load_path(path, Settings()).documents[0]


def test_table_kept_as_rows_with_header_under_its_heading(tmp_path: Path) -> None:
    doc = _pdf()
    doc.add_page()
    _heading(doc, "Restauration scolaire", 16)
    _heading(doc, "Tarifs des repas", 12)
    _paragraph(doc, BODY)
    _table(doc, [HEADER, *ROWS])
    _paragraph(doc, "Un menu végétarien est proposé une fois par semaine.")
    doc.output(str(tmp_path / "cantine.pdf"))
    document = _load(tmp_path / "cantine.pdf")
    tables = [s for s in document.sections if s.kind == "table"]
    assert len(tables) == 1
    assert tables[0].text.split("\n") == [" | ".join(row) for row in [HEADER, *ROWS]]
    assert tables[0].headings == ("Restauration scolaire", "Tarifs des repas")
    text = "\n".join(s.text for s in document.sections if s.kind != "table")
    assert "3,10 €" not in text  # the table's text is not repeated as plain lines
    assert BODY in text and "végétarien" in text
    assert document.metadata["tables"] == "1"


def test_table_split_over_pages_is_one_table_with_its_header_once(tmp_path: Path) -> None:
    doc = _pdf()
    doc.add_page()
    _heading(doc, "Tarifs", 14)
    _table(doc, [HEADER, *ROWS[:2]])
    doc.add_page()
    _table(doc, [HEADER, *ROWS[2:]])  # the header repeated on the new page
    doc.add_page()
    _table(doc, [["Repas adulte", "6,20 €"]] * 2, header=False)  # no header this time
    doc.output(str(tmp_path / "split.pdf"))
    tables = [s for s in _load(tmp_path / "split.pdf").sections if s.kind == "table"]
    assert len(tables) == 1
    lines = tables[0].text.split("\n")
    assert lines[0] == " | ".join(HEADER)
    assert lines.count(" | ".join(HEADER)) == 1
    assert lines[1:] == [" | ".join(r) for r in ROWS] + ["Repas adulte | 6,20 €"] * 2


def test_framed_paragraph_is_not_a_table(tmp_path: Path) -> None:
    doc = _pdf()
    doc.add_page()
    _paragraph(doc, BODY)
    _table(doc, [["Acte certifié exécutoire"], ["Reçu en préfecture le 25/04/2014"]])
    doc.output(str(tmp_path / "stamp.pdf"))
    document = _load(tmp_path / "stamp.pdf")
    assert all(s.kind != "table" for s in document.sections)
    assert "Acte certifié exécutoire" in "\n".join(s.text for s in document.sections)


def test_headings_from_type_size_and_a_title_on_two_lines(tmp_path: Path) -> None:
    doc = _pdf()
    doc.add_page()
    _heading(doc, "Règlement intérieur de la déchetterie intercommunale\ndes Coteaux du Val", 16)
    _heading(doc, "Jours et heures d'ouverture", 12)
    _paragraph(doc, "La déchetterie est ouverte du lundi au samedi de 9h00 à 12h00.")
    _heading(doc, "Déchets refusés", 12)
    _paragraph(doc, "Les ordures ménagères et l'amiante sont refusés.")
    doc.output(str(tmp_path / "reglement.pdf"))
    sections = _load(tmp_path / "reglement.pdf").sections
    title = "Règlement intérieur de la déchetterie intercommunale des Coteaux du Val"
    by_text = {s.text: s.headings for s in sections}
    assert by_text["La déchetterie est ouverte du lundi au samedi de 9h00 à 12h00."] == (
        title,
        "Jours et heures d'ouverture",
    )
    assert by_text["Les ordures ménagères et l'amiante sont refusés."] == (title, "Déchets refusés")


def test_body_lines_set_large_and_repeated_are_not_headings(tmp_path: Path) -> None:
    doc = _pdf()
    doc.add_page()
    for n in (59, 58, 57):
        _paragraph(doc, f"Le conseil approuve la délibération numéro {n} relative aux tarifs.")
        _heading(doc, f"Pour : {n} Adopté à l'unanimité", 12)
    doc.output(str(tmp_path / "votes.pdf"))
    document = _load(tmp_path / "votes.pdf")
    assert not any(s.headings for s in document.sections)
    assert "Pour : 58 Adopté à l'unanimité" in "\n".join(s.text for s in document.sections)


def test_long_table_chunks_cut_between_rows(tmp_path: Path) -> None:
    doc = _pdf()
    doc.add_page()
    rows = [[f"Salle numéro {n} du centre culturel municipal", f"{100 + n} €"] for n in range(40)]
    _table(doc, [["Salle", "Tarif journée"], *rows])
    doc.output(str(tmp_path / "salles.pdf"))
    document = _load(tmp_path / "salles.pdf")
    chunks = chunk_document(document, Settings(chunk_words=120, chunk_max_words=220))
    assert len(chunks) >= 2
    assert all(line.count(" | ") == 1 for c in chunks for line in c.text.split("\n"))


def test_marker_lines_are_distinct_letters() -> None:
    marks = {mark(n) for n in range(200)}
    assert len(marks) == 200
    assert not any(ch.isdigit() for m in marks for ch in m)


def test_only_a_real_grid_is_analysed_for_tables(tmp_path: Path) -> None:
    """A letterhead (a rule across, a separator down, a logo's short strokes) draws rules
    both ways but no grid: the page is not sent to the layout analysis; a table is."""
    from pypdf import PdfReader

    from territoria.ingest.loaders.pdf_layout import may_hold_table

    doc = _pdf()
    doc.add_page()  # letterhead
    doc.line(20, 60, 190, 60)
    doc.line(80, 20, 80, 60)
    for x in (30, 34, 38, 42):  # a logo
        doc.line(x, 20, x, 28)
    doc.line(28, 20, 44, 20)
    doc.line(28, 24, 36, 24)
    _paragraph(doc, BODY)
    doc.add_page()
    _table(doc, [HEADER, *ROWS])
    doc.output(str(tmp_path / "pages.pdf"))
    pages = PdfReader(tmp_path / "pages.pdf").pages
    assert [may_hold_table(page) for page in pages] == [False, True]
