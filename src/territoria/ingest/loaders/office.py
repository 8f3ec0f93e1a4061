"""Office loaders: DOCX (python-docx) and ODT (odfdo), in reading order.

Heading styles (and outline levels) give the heading path, list paragraphs are grouped into
one "list" section, tables become "table" sections with one "cell | cell" line per row.
Page headers and footers, tables of contents and tracked deletions are left out.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from territoria.errors import CorruptDocument, EmptyDocument, EncryptedDocument
from territoria.ingest.loaders.structure import (
    SectionBuilder,
    clean_line,
    clean_text,
    clean_title,
    readable_stem,
    table_rows,
)
from territoria.types import LoadedDocument

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_OFFICE = "document Office chiffré (protégé par mot de passe)"
_HEADING_STYLE = re.compile(r"^(?:heading|titre)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(?:title|titre)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"^(?:list|liste|paragraphe de liste)", re.IGNORECASE)


def _read_errors() -> tuple[type[BaseException], ...]:
    from lxml.etree import LxmlError

    return (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        LxmlError,
        RecursionError,
        EOFError,
    )


def _check_container(path: Path, kind: str) -> None:
    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic == _OLE_MAGIC:  # password-protected OOXML/ODF files are wrapped in an OLE file
        raise EncryptedDocument(_ENCRYPTED_OFFICE)
    if not zipfile.is_zipfile(path):
        raise CorruptDocument(f"{kind} illisible : fichier endommagé ou d'un autre format")


# --- DOCX --------------------------------------------------------------------------------------


def load_docx(path: Path) -> LoadedDocument:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    _check_container(path, "DOCX")
    errors: tuple[type[BaseException], ...] = (PackageNotFoundError, *_read_errors())
    try:
        document = Document(str(path))
        core_title = clean_title(document.core_properties.title)
        builder = SectionBuilder()
        style_title = _docx_body(document, builder)
    except errors as exc:
        raise CorruptDocument(
            "DOCX illisible : fichier endommagé ou qui n'est pas un document Word (.docx)"
        ) from exc
    sections = builder.sections()
    if not sections:
        raise EmptyDocument("document sans texte")
    title = core_title or style_title or builder.first_heading() or readable_stem(path.stem)
    return LoadedDocument(
        title=title, sections=sections, source=str(path), metadata={"format": "docx"}
    )


def _docx_body(document: Any, builder: SectionBuilder) -> str:
    """Feed the body to `builder`; return the text of the first "Title" paragraph."""
    from docx.table import Table

    title = ""
    items: list[str] = []
    # Style id -> style, looked up once per document: python-docx scans every style of the
    # document for each paragraph without a style (a 50 KB DOCX of short paragraphs took 67 s).
    styles: dict[str | None, Any] = {}
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            _flush_items(builder, items)
            builder.block(table_rows(_docx_rows(block)), "table")
            continue
        text = clean_line(block.text)
        if not text:
            continue
        style_id = block._p.style
        if style_id not in styles:
            styles[style_id] = block.style
        paragraph_style = styles[style_id]
        style = _style_names(paragraph_style)
        level = _docx_heading_level(block, paragraph_style, style)
        if any(_TITLE_STYLE.match(name) for name in style[:1]):
            _flush_items(builder, items)
            title = title or clean_title(text)
        elif level is not None:
            _flush_items(builder, items)
            builder.heading(level, text)
        elif (depth := _docx_list_depth(block, paragraph_style, style)) is not None:
            items.append("  " * depth + "- " + text)
        else:
            _flush_items(builder, items)
            builder.paragraph(clean_text(block.text).strip())
    _flush_items(builder, items)
    return title


def _flush_items(builder: SectionBuilder, items: list[str]) -> None:
    if items:
        builder.block(items, "list")
        items.clear()


def _style_names(style: Any) -> list[str]:
    """The paragraph style's name, then the names of the styles it is based on."""
    names: list[str] = []
    while style is not None and len(names) < 10:
        names.append(style.name or "")
        style = style.base_style
    return names


def _docx_heading_level(paragraph: Any, style: Any, style_names: list[str]) -> int | None:
    for name in style_names:
        match = _HEADING_STYLE.match(name)
        if match:
            return max(1, int(match.group(1)))
    outline = _outline_level(paragraph._p.pPr)
    if outline is None and style is not None:
        outline = _outline_level(style.element.pPr)
    return outline + 1 if outline is not None and outline < 9 else None


def _outline_level(ppr: Any) -> int | None:
    from docx.oxml.ns import qn

    if ppr is None:
        return None
    element = ppr.find(qn("w:outlineLvl"))
    if element is None:
        return None
    try:
        return int(element.get(qn("w:val")))
    except (TypeError, ValueError):
        return None


def _docx_list_depth(paragraph: Any, style: Any, style_names: list[str]) -> int | None:
    """Nesting depth of a list paragraph (numbering on the paragraph or on its style, or a
    "List ..." style: "List Bullet 2" is depth 1), None for other paragraphs."""
    numpr = _numbering(paragraph._p.pPr)
    while numpr is None and style is not None:
        numpr = _numbering(style.element.pPr)
        style = style.base_style
    level = style_names[0].rsplit(" ", 1)[-1] if style_names else ""
    by_name = int(level) - 1 if level.isdigit() else 0
    if numpr is not None:
        if numpr.ilvl is not None and numpr.ilvl.val:
            return min(int(numpr.ilvl.val), 8)
        return min(by_name, 8)
    if any(_LIST_STYLE.match(name) for name in style_names[:1]):
        return min(by_name, 8)
    return None


def _numbering(ppr: Any) -> Any:
    numpr = ppr.numPr if ppr is not None else None
    if numpr is None or numpr.numId is None or numpr.numId.val == 0:
        return None
    return numpr


def _docx_rows(table: Any) -> Iterator[list[str]]:
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell is repeated for every grid column
                continue
            previous = cell._tc
            cells.append(clean_line(cell.text))
        yield cells


# --- ODT ---------------------------------------------------------------------------------------

_SKIPPED_ODT = frozenset(
    {
        "text:table-of-content",
        "text:alphabetical-index",
        "text:illustration-index",
        "text:table-index",
        "text:object-index",
        "text:user-index",
        "text:bibliography",
        "text:tracked-changes",
        "text:sequence-decls",
        "text:variable-decls",
        "text:user-field-decls",
        "office:forms",
    }
)
_CONTAINERS_ODT = frozenset({"text:section", "text:index-body"})
_ROWS_XPATH = (
    "table:table-row | table:table-header-rows/table:table-row | "
    "table:table-rows/table:table-row | table:table-row-group/table:table-row"
)


def load_odt(path: Path) -> LoadedDocument:
    from odfdo import Document

    _check_container(path, "ODT")
    with zipfile.ZipFile(path) as archive:
        try:
            manifest = archive.read("META-INF/manifest.xml")
        except KeyError:
            manifest = b""
    if b"encryption-data" in manifest:
        raise EncryptedDocument(_ENCRYPTED_OFFICE)
    try:
        document = Document(str(path))
        meta_title = clean_title(document.meta.get_title())
        builder = SectionBuilder()
        _odt_children(document.body, builder)
    except _read_errors() as exc:
        raise CorruptDocument(
            "ODT illisible : fichier endommagé ou qui n'est pas un document OpenDocument texte"
        ) from exc
    sections = builder.sections()
    if not sections:
        raise EmptyDocument("document sans texte")
    title = meta_title or builder.first_heading() or readable_stem(path.stem)
    return LoadedDocument(
        title=title, sections=sections, source=str(path), metadata={"format": "odt"}
    )


def _odt_children(element: Any, builder: SectionBuilder) -> None:
    for child in element.children:
        tag = child.tag
        if tag in _SKIPPED_ODT:
            continue
        if tag == "text:h":
            level = child.get_attribute_integer("text:outline-level") or 1
            builder.heading(level, child.text_recursive or "")
        elif tag == "text:p":
            builder.paragraph(clean_text(child.text_recursive or "").strip())
        elif tag == "text:list":
            items: list[str] = []
            _odt_list(child, 0, items)
            builder.block(items, "list")
        elif tag == "table:table":
            builder.block(table_rows(_odt_rows(child)), "table")
        elif tag in _CONTAINERS_ODT:
            _odt_children(child, builder)


def _odt_list(element: Any, depth: int, items: list[str]) -> None:
    for item in element.children:
        if item.tag not in ("text:list-item", "text:list-header"):
            continue
        for part in item.children:
            if part.tag == "text:list":
                _odt_list(part, min(depth + 1, 8), items)
            elif part.tag in ("text:p", "text:h"):
                text = clean_line(part.text_recursive or "")
                if text:
                    items.append("  " * depth + "- " + text)


def _odt_rows(table: Any) -> Iterator[list[str]]:
    for row in table.xpath(_ROWS_XPATH):
        cells: list[str] = []
        for cell in row.children:
            if cell.tag != "table:table-cell":
                continue  # covered (merged) cells carry no text of their own
            text = clean_line(cell.text_recursive or "")
            repeat = cell.get_attribute_integer("table:number-columns-repeated") or 1
            cells.extend([text] * (min(repeat, 50) if text else 1))
        yield cells
