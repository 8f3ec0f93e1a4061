"""Generate the demo corpus of the fictional commune of Val-Fleuri.

Dev tool only: the generated files are committed under ``src/territoria/demo/corpus/`` and the
package never runs this script. The texts live in ``scripts/demo_sources/`` as a small Markdown
subset (``#``/``##``/``###`` headings, paragraphs, ``-`` and ``1.`` lists, ``|`` tables,
``**bold**``, and a trailing `` \\`` to force a line break in PDF output). This script renders each
source to the format a mairie would publish it in: PDF (fpdf2), DOCX (python-docx), ODT (odfdo),
HTML with site boilerplate, Markdown, and a cp1252 text file.

Every date written into the files is fixed and ZIP timestamps are normalised, so re-running the
script gives the same text content (and, for DOCX and ODT, the same bytes).

Usage (needs fpdf2, python-docx, odfdo and the DejaVu fonts from Debian ``fonts-dejavu-core``)::

    .venv/bin/python scripts/make_demo_corpus.py [--out DIR]
"""

from __future__ import annotations

import argparse
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph as DocxParagraph
    from fpdf import FPDF

ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "demo_sources"
DEFAULT_OUT = ROOT / "src" / "territoria" / "demo" / "corpus"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

FIXED_DATE = datetime(2025, 4, 15, 9, 0, 0, tzinfo=UTC)
ZIP_DATE = (2025, 4, 15, 9, 0, 0)

COMMUNE = "Mairie de Val-Fleuri"
ADDRESS = "Mairie de Val-Fleuri, 1 place de la République, 31990 Val-Fleuri"
PHONE = "05 00 00 00 00"
EMAIL = "accueil@mairie-exemple.fr"


@dataclass(frozen=True)
class DemoDoc:
    """One document of the corpus: its source, output format and page furniture."""

    slug: str
    fmt: str  # pdf | docx | odt | html | md | txt
    header: str = COMMUNE  # running header (PDF, DOCX, ODT)
    footer: str = f"{ADDRESS} - Tél. {PHONE}"
    subdir: str = ""  # "internal" for documents reserved to agents
    section: str = "Vie pratique"  # HTML breadcrumb


DOCS: tuple[DemoDoc, ...] = (
    DemoDoc("horaires-mairie", "html", section="Mairie"),
    DemoDoc("etat-civil", "md"),
    DemoDoc(
        "restauration-scolaire",
        "pdf",
        header="Ville de Val-Fleuri - Service Enfance-Éducation - Restauration scolaire 2025-2026",
    ),
    DemoDoc(
        "collecte-dechets", "odt", header="Ville de Val-Fleuri - Environnement et cadre de vie"
    ),
    DemoDoc(
        "reglement-dechetterie",
        "pdf",
        header="Communauté de communes des Coteaux du Val - Règlement intérieur de la déchetterie",
        footer="CCCV - Déchetterie intercommunale, chemin de la Garrigue, 31990 Val-Fleuri",
    ),
    DemoDoc("location-salles", "docx", header="Ville de Val-Fleuri - Location des salles"),
    DemoDoc("urbanisme", "docx", header="Ville de Val-Fleuri - Service urbanisme"),
    DemoDoc("marche-hebdomadaire", "odt", header="Ville de Val-Fleuri - Marchés de plein air"),
    DemoDoc("stationnement", "html", section="Vie pratique"),
    DemoDoc(
        "deliberation-2025-041-budget-primitif",
        "pdf",
        header="Commune de Val-Fleuri - Registre des délibérations - Séance du 2 avril 2025",
        footer="Délibération n° 2025-041 - Budget primitif 2025",
    ),
    DemoDoc(
        "compte-rendu-conseil-municipal-2025-03-12",
        "pdf",
        header="Commune de Val-Fleuri - Compte rendu du conseil municipal du 12 mars 2025",
    ),
    DemoDoc("inscriptions-scolaires", "md"),
    DemoDoc("bibliotheque", "txt"),
    DemoDoc("associations", "html", section="Associations"),
    DemoDoc(
        "procedure-accueil-etat-civil",
        "docx",
        header="Mairie de Val-Fleuri - Document interne - Ne pas diffuser",
        footer="Note de service DGS-2025-07 - Service Population",
        subdir="internal",
    ),
)


# --- source parsing -------------------------------------------------------------------------

Block = tuple[str, object]  # ("h1"|"h2"|"h3"|"p", str) | ("ul"|"ol", list[str]) | ("table", rows)

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ORDERED = re.compile(r"^\d+\.\s+")


def parse_blocks(text: str) -> list[Block]:
    """Split a source into blocks; paragraph lines are joined, `` \\`` keeps a hard break."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = chunk.splitlines()
        first = lines[0]
        if first.startswith("#"):
            level = len(first) - len(first.lstrip("#"))
            blocks.append((f"h{level}", first[level:].strip()))
        elif first.startswith("|"):
            rows = [
                [cell.strip() for cell in line.strip().strip("|").split("|")]
                for line in lines
                if not re.fullmatch(r"\|[\s|:-]+\|", line.strip())
            ]
            blocks.append(("table", rows))
        elif first.startswith("- "):
            blocks.append(("ul", [line[2:].strip() for line in lines]))
        elif _ORDERED.match(first):
            blocks.append(("ol", [_ORDERED.sub("", line).strip() for line in lines]))
        else:
            para = ""
            for line in lines:
                if line.endswith(" \\"):
                    para += line[:-2] + "\n"
                else:
                    para += line + " "
            blocks.append(("p", para.strip()))
    return blocks


def plain(text: str) -> str:
    return _BOLD.sub(r"\1", text)


def split_title(blocks: list[Block]) -> tuple[str, list[Block]]:
    kind, title = blocks[0]
    if kind != "h1" or not isinstance(title, str):
        raise ValueError("a source must start with a '# ' title")
    return title, blocks[1:]


# --- PDF ------------------------------------------------------------------------------------


def render_pdf(doc: DemoDoc, blocks: list[Block], dest: Path) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    title, body = split_title(blocks)

    class MairiePDF(FPDF):
        def header(self) -> None:
            self.set_font("DejaVu", "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, doc.header, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
            self.ln(6)
            self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            self.set_y(-16)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 4, doc.footer, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.cell(0, 4, f"Page {self.page_no()}/{{nb}}", align="C")
            self.set_text_color(0, 0, 0)

    pdf = MairiePDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=22)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVu", "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
    pdf.set_title(title)
    pdf.set_author(COMMUNE)
    pdf.set_subject(title)
    pdf.set_creator("Ville de Val-Fleuri")
    pdf.set_lang("fr-FR")
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()

    full = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(full, 7.5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    for kind, payload in body:
        if kind in ("h2", "h3"):
            assert isinstance(payload, str)
            if pdf.get_y() > pdf.h - 50:  # keep a heading with its first lines
                pdf.add_page()
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 12 if kind == "h2" else 10.5)
            pdf.multi_cell(full, 6, payload, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.5)
        elif kind == "p":
            assert isinstance(payload, str)
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(full, 5, payload, markdown=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2.5)
        elif kind in ("ul", "ol"):
            assert isinstance(payload, list)
            pdf.set_font("DejaVu", "", 10)
            for number, item in enumerate(payload, start=1):
                pdf.set_x(pdf.l_margin + 4)
                pdf.cell(6, 5, "•" if kind == "ul" else f"{number}.")
                pdf.multi_cell(
                    full - 10, 5, item, markdown=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT
                )
                pdf.ln(0.8)
            pdf.ln(2)
        elif kind == "table":
            assert isinstance(payload, list)
            _pdf_table(pdf, payload, full)
            pdf.ln(3)
    pdf.output(str(dest))


def _pdf_table(pdf: FPDF, rows: list[list[str]], full: float) -> None:
    from fpdf.fonts import FontFace

    ncols = len(rows[0])
    lengths = [max(min(len(row[i]), 45) for row in rows) + 4 for i in range(ncols)]
    widths = tuple(full * n / sum(lengths) for n in lengths)
    pdf.set_font("DejaVu", "", 8.5)
    with pdf.table(
        col_widths=widths,
        width=full,
        text_align="LEFT",
        line_height=4.6,
        padding=1.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 232, 240)),
    ) as table:
        for row in rows:
            cells = table.row()
            for value in row:
                cells.cell(plain(value))


# --- DOCX -----------------------------------------------------------------------------------


def render_docx(doc: DemoDoc, blocks: list[Block], dest: Path) -> None:
    from docx import Document
    from docx.shared import Pt

    title, body = split_title(blocks)
    document = Document()
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(11)
    props = document.core_properties
    props.title = title
    props.author = COMMUNE
    props.last_modified_by = COMMUNE
    props.subject = title
    props.language = "fr-FR"
    props.keywords = "Val-Fleuri; mairie"
    props.comments = ""
    props.revision = 1
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.last_printed = FIXED_DATE.replace(tzinfo=None)

    section = document.sections[0]
    section.header.paragraphs[0].text = doc.header
    section.footer.paragraphs[0].text = doc.footer

    document.add_heading(title, level=0)
    for kind, payload in body:
        if kind in ("h2", "h3"):
            assert isinstance(payload, str)
            document.add_heading(payload, level=1 if kind == "h2" else 2)
        elif kind == "p":
            assert isinstance(payload, str)
            _docx_runs(document.add_paragraph(), payload.replace("\n", ""))
        elif kind in ("ul", "ol"):
            assert isinstance(payload, list)
            style = "List Bullet" if kind == "ul" else "List Number"
            for item in payload:
                _docx_runs(document.add_paragraph(style=style), item)
        elif kind == "table":
            assert isinstance(payload, list)
            table = document.add_table(rows=len(payload), cols=len(payload[0]))
            table.style = "Table Grid"
            for r, row in enumerate(payload):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    run = cell.paragraphs[0].add_run(plain(value))
                    run.bold = r == 0
            document.add_paragraph()
    buffer = io.BytesIO()
    document.save(buffer)
    dest.write_bytes(normalise_zip(buffer.getvalue()))


def _docx_runs(paragraph: DocxParagraph, text: str) -> None:
    for i, part in enumerate(_BOLD.split(text)):
        if part:
            run = paragraph.add_run(part)
            run.bold = i % 2 == 1


# --- ODT ------------------------------------------------------------------------------------


def render_odt(doc: DemoDoc, blocks: list[Block], dest: Path) -> None:
    from odfdo import Cell, Document, Header, List, Paragraph, Row, StyleMasterPage, Table

    title, body = split_title(blocks)
    document = Document("text")
    content = document.body
    for empty in content.get_paragraphs():
        content.delete(empty)
    meta = document.meta
    meta.set_title(title)
    meta.set_subject(title)
    meta.set_initial_creator(COMMUNE)
    meta.set_creator(COMMUNE)
    meta.set_language("fr-FR")
    meta.set_generator("Ville de Val-Fleuri")
    meta.set_creation_date(FIXED_DATE)
    meta.set_modification_date(FIXED_DATE)

    master = document.get_style("master-page", "Standard")
    assert isinstance(master, StyleMasterPage)
    master.set_page_header(doc.header)
    master.set_page_footer(doc.footer)
    content.append(Header(1, title))
    tables = 0
    for kind, payload in body:
        if kind in ("h2", "h3"):
            assert isinstance(payload, str)
            content.append(Header(2 if kind == "h2" else 3, payload))
        elif kind == "p":
            assert isinstance(payload, str)
            content.append(Paragraph(plain(payload).replace("\n", "")))
        elif kind in ("ul", "ol"):
            assert isinstance(payload, list)
            content.append(List([plain(item) for item in payload]))
        elif kind == "table":
            assert isinstance(payload, list)
            tables += 1
            table = Table(f"Tableau{tables}")
            for values in payload:
                row = Row()
                for value in values:
                    row.append_cell(Cell(plain(value)))
                table.append_row(row)
            content.append(table)
    buffer = io.BytesIO()
    document.save(buffer)
    dest.write_bytes(normalise_zip(buffer.getvalue()))


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a ZIP package with fixed timestamps (``mimetype`` first and stored, for ODF)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        infos = sorted(src.infolist(), key=lambda info: info.filename != "mimetype")
        for info in infos:
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.external_attr = 0o644 << 16
            stored = info.filename == "mimetype" or info.compress_type == zipfile.ZIP_STORED
            entry.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


# --- HTML -----------------------------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Ville de Val-Fleuri</title>
<meta name="description" content="{description}">
<meta property="og:site_name" content="Ville de Val-Fleuri">
<meta property="og:title" content="{title}">
<link rel="stylesheet" href="/themes/valfleuri/css/main.css">
<script src="/themes/valfleuri/js/tarteaucitron.js"></script>
</head>
<body class="page-interieure">
<div id="cookie-banner" class="cookie-banner" role="dialog" aria-label="Gestion des cookies">
  <p>Ce site utilise des cookies pour mesurer l’audience et améliorer votre navigation.
  Vous pouvez accepter ou refuser ces cookies, ou personnaliser vos choix.</p>
  <button type="button">Tout accepter</button> <button type="button">Tout refuser</button>
  <a href="/politique-cookies">Personnaliser</a>
</div>
<a class="skip-link" href="#contenu">Aller au contenu</a>
<header class="site-header">
  <a href="/" class="logo"><img src="/themes/valfleuri/img/logo.svg"
    alt="Ville de Val-Fleuri - retour à l’accueil"></a>
  <form class="search" action="/recherche" role="search"><label for="q">Rechercher</label>
  <input id="q" name="q" type="search"><button>OK</button></form>
  <nav class="main-nav" aria-label="Menu principal">
    <ul>
      <li><a href="/">Accueil</a></li>
      <li><a href="/mairie">Mairie</a>
        <ul><li><a href="/mairie/conseil-municipal">Conseil municipal</a></li>
        <li><a href="/mairie/deliberations">Délibérations</a></li>
        <li><a href="/mairie/horaires">Horaires et contacts</a></li></ul></li>
      <li><a href="/vie-pratique">Vie pratique</a>
        <ul><li><a href="/vie-pratique/etat-civil">État civil</a></li>
        <li><a href="/vie-pratique/urbanisme">Urbanisme</a></li>
        <li><a href="/vie-pratique/dechets">Déchets</a></li>
        <li><a href="/vie-pratique/stationnement">Stationnement</a></li></ul></li>
      <li><a href="/enfance-jeunesse">Enfance-Jeunesse</a></li>
      <li><a href="/culture-loisirs">Culture et loisirs</a></li>
      <li><a href="/associations">Associations</a></li>
      <li><a href="/contact">Contact</a></li>
    </ul>
  </nav>
</header>
<nav class="breadcrumb" aria-label="Fil d’Ariane">
  <a href="/">Accueil</a> &gt; <a href="/{section_slug}">{section}</a> &gt; <span>{title}</span>
</nav>
<main id="contenu">
<article class="page">
<h1>{title}</h1>
<p class="date-maj">Mis à jour le 15 avril 2025</p>
{body}
</article>
<aside class="partage">
  <p>Partager cette page :</p>
  <ul><li><a href="#">Facebook</a></li><li><a href="#">LinkedIn</a></li>
  <li><a href="#">Courriel</a></li><li><a href="#">Imprimer</a></li></ul>
</aside>
</main>
<footer class="site-footer">
  <div class="footer-contact">
    <p><strong>Mairie de Val-Fleuri</strong><br>1 place de la République<br>31990 Val-Fleuri</p>
    <p>Tél. : 05 00 00 00 00<br>accueil@mairie-exemple.fr</p>
  </div>
  <div class="newsletter">
    <p>Recevez chaque mois la lettre d’information de Val-Fleuri.</p>
    <form action="/newsletter"><label for="nl">Votre adresse électronique</label>
    <input id="nl" type="email"><button>S’abonner</button></form>
  </div>
  <ul class="footer-links">
    <li><a href="/mentions-legales">Mentions légales</a></li>
    <li><a href="/accessibilite">Accessibilité : partiellement conforme</a></li>
    <li><a href="/donnees-personnelles">Données personnelles</a></li>
    <li><a href="/plan-du-site">Plan du site</a></li>
    <li><a href="/politique-cookies">Gestion des cookies</a></li>
  </ul>
  <p class="copyright">© 2025 Ville de Val-Fleuri - Tous droits réservés</p>
</footer>
</body>
</html>
"""


def render_html(doc: DemoDoc, blocks: list[Block], dest: Path) -> None:
    title, body = split_title(blocks)
    parts: list[str] = []
    description = ""
    for kind, payload in body:
        if kind in ("h2", "h3"):
            parts.append(f"<{kind}>{_html_inline(str(payload))}</{kind}>")
        elif kind == "p":
            text = str(payload).replace("\n", "")
            description = description or plain(text)[:155]
            parts.append(f"<p>{_html_inline(text)}</p>")
        elif kind in ("ul", "ol"):
            assert isinstance(payload, list)
            items = "".join(f"\n  <li>{_html_inline(item)}</li>" for item in payload)
            parts.append(f"<{kind}>{items}\n</{kind}>")
        elif kind == "table":
            assert isinstance(payload, list)
            head = "".join(f'<th scope="col">{_html_inline(v)}</th>' for v in payload[0])
            rows = "".join(
                "\n  <tr>" + "".join(f"<td>{_html_inline(v)}</td>" for v in row) + "</tr>"
                for row in payload[1:]
            )
            parts.append(
                f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{rows}\n</tbody>\n</table>"
            )
    page = HTML_PAGE.format(
        title=html.escape(title),
        description=html.escape(description, quote=True),
        section=html.escape(doc.section),
        section_slug=doc.section.lower().replace(" ", "-"),
        body="\n".join(parts),
    )
    dest.write_text(page, encoding="utf-8")


def _html_inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(text, quote=False))


# --- Markdown and text ----------------------------------------------------------------------


def render_md(source: str, dest: Path) -> None:
    dest.write_text(source.strip() + "\n", encoding="utf-8")


def render_txt(source: str, dest: Path) -> None:
    """Windows-style text file: cp1252 with CRLF line endings (exercises encoding detection)."""
    dest.write_bytes(source.strip().replace("\n", "\r\n").encode("cp1252") + b"\r\n")


# --- driver ---------------------------------------------------------------------------------


def build(out: Path) -> list[Path]:
    written: list[Path] = []
    for doc in DOCS:
        folder = out / doc.subdir if doc.subdir else out
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{doc.slug}.{doc.fmt}"
        if doc.fmt == "txt":
            render_txt((SOURCES / f"{doc.slug}.txt").read_text(encoding="utf-8"), dest)
        else:
            source = (SOURCES / f"{doc.slug}.md").read_text(encoding="utf-8")
            if doc.fmt == "md":
                render_md(source, dest)
            else:
                blocks = parse_blocks(source)
                {"pdf": render_pdf, "docx": render_docx, "odt": render_odt, "html": render_html}[
                    doc.fmt
                ](doc, blocks, dest)
        written.append(dest)
    return written


def check_questions(demo_dir: Path) -> int:
    """Check ``questions.jsonl`` against the sources: each ``answer_contains`` must appear in
    every document listed in ``relevant_ids``. Returns the number of questions checked."""
    texts: dict[str, str] = {}
    for doc in DOCS:
        path = SOURCES / f"{doc.slug}.{'txt' if doc.fmt == 'txt' else 'md'}"
        text = plain(path.read_text(encoding="utf-8")).replace("- \\\n", "").replace("|", " ")
        texts[doc.slug] = " ".join(text.split())
    count = 0
    seen: set[str] = set()
    for name in ("questions.jsonl", "out_of_scope.jsonl"):
        for line in (demo_dir / name).read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item["id"] in seen:
                raise SystemExit(f"identifiant en double : {item['id']}")
            seen.add(item["id"])
            for slug in item.get("relevant_ids", []):
                fragment = " ".join(item["answer_contains"].split())
                if fragment not in texts.get(slug, ""):
                    raise SystemExit(f"{item['id']} : « {fragment} » absent de {slug}")
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args()
    if not FONT_DIR.joinpath("DejaVuSans.ttf").exists():
        raise SystemExit("Police DejaVu absente : apt-get install -y fonts-dejavu-core")
    for path in build(args.out):
        print(f"{path.stat().st_size:>8}  {path.relative_to(args.out)}")
    if args.out == DEFAULT_OUT:
        print(f"{check_questions(DEFAULT_OUT.parent)} questions vérifiées")


if __name__ == "__main__":
    main()
