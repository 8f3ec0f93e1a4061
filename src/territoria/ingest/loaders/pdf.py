"""PDF loader: the text layer page by page (pypdf; pdfminer.six when pypdf fails).

Text is NFKC-normalised, line-end hyphenation is undone where the hyphen only broke a word,
header and footer lines repeated on most pages are dropped, and "Titre / Chapitre / Article"
lines open sections. Ruled tables become table sections (rows with their header, a table split
over pages joined) and lines set in larger type become headings (`pdf_layout`). Scanned PDFs
(no text layer) and encrypted PDFs raise clear errors.
"""

from __future__ import annotations

import io
import math
import re
import struct
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from territoria.errors import CorruptDocument, EncryptedDocument, NoTextLayer
from territoria.ingest.loaders.pdf_layout import (
    TABLE_MARK,
    FontRuns,
    Table,
    mark,
    may_hold_table,
    page_tables,
)
from territoria.ingest.loaders.structure import (
    SectionBuilder,
    TableBlock,
    add_plain_lines,
    clean_line,
    clean_text,
    clean_title,
    readable_stem,
    table_rows,
    wrap_width,
)
from territoria.types import LoadedDocument

ENCRYPTED = "PDF chiffré (protégé par mot de passe)"
NO_TEXT_LAYER = (
    "PDF sans couche texte (document numérisé ?) : l'OCR n'est pas disponible, "
    "fournissez une version texte du document"
)
# Exceptions raised by the PDF libraries on malformed files (they are not consistent).
_PARSE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    AssertionError,
    ArithmeticError,
    RecursionError,
    EOFError,
    zlib.error,
    struct.error,
)
_MIN_CHARS = 20  # fewer visible characters in the whole file: no usable text layer


def load_pdf(path: Path) -> LoadedDocument:
    with path.open("rb") as handle:
        data = handle.read()
    if b"%PDF" not in data[:1024]:
        raise CorruptDocument("PDF corrompu : ce fichier n'est pas un PDF (signature %PDF absente)")
    runs = FontRuns()
    ruled: list[int] = []
    try:
        pages, meta_title, ruled = _read_pypdf(data, runs)
        extractor = "pypdf"
    except EncryptedDocument:
        raise
    except _pypdf_errors() as exc:
        pages = _read_pdfminer(data, cause=exc)
        meta_title = ""
        extractor = "pdfminer"
    visual_title = _title(runs.first_page())
    if _visible_chars(pages) < _MIN_CHARS and extractor == "pypdf":
        try:  # second opinion before declaring the file scanned
            pages = _read_pdfminer(data, cause=None)
            extractor = "pdfminer"
        except CorruptDocument:
            pass
    if _visible_chars(pages) < _MIN_CHARS:
        raise NoTextLayer(NO_TEXT_LAYER)
    tables: dict[str, Table] = {}
    if extractor == "pypdf":
        pages = _with_tables(data, pages, ruled, tables)
    layout = Layout(tables, runs.headings() if extractor == "pypdf" else {})
    return _document(path, pages, extractor, meta_title, visual_title, layout)


@dataclass(frozen=True)
class Layout:
    """What the text layer does not say: the tables (by marker line) and the heading lines."""

    tables: dict[str, Table]
    headings: dict[str, int]


def _with_tables(
    data: bytes, pages: list[str], ruled: Sequence[int], tables: dict[str, Table]
) -> list[str]:
    """The pages, those holding tables read again around them, each table as a marker line
    (filled into `tables`). A failure of the layout analysis keeps the plain text."""
    try:
        found = page_tables(data, ruled)
    except _layout_errors():
        return pages
    out = list(pages)
    for index, segments in sorted(found.items()):
        parts = []
        for segment in segments:
            if isinstance(segment, Table):
                key = mark(len(tables))
                tables[key] = segment
                parts.append(f"\n{key}\n")
            else:
                parts.append(segment)
        out[index] = "\n".join(parts)
    return out


def _document(
    path: Path,
    raw_pages: Sequence[str],
    extractor: str,
    meta_title: str,
    visual_title: str,
    layout: Layout | None = None,
) -> LoadedDocument:
    layout = layout or Layout({}, {})
    page_lines = [clean_text(text).split("\n") for text in raw_pages]
    page_lines = remove_repeated_lines(page_lines)
    vocabulary = _vocabulary(page_lines)
    page_lines = [dehyphenate(lines, vocabulary) for lines in page_lines]
    width = wrap_width(
        line for lines in page_lines for line in lines if not line.startswith(TABLE_MARK)
    )
    blocks = _table_blocks(page_lines, layout.tables)
    builder = SectionBuilder()
    for number, lines in enumerate(page_lines, start=1):
        builder.page(number)
        add_plain_lines(builder, lines, wrap_width=width, tables=blocks, headings=layout.headings)
    sections = builder.sections()
    metadata = {"format": "pdf", "extractor": extractor}
    if layout.tables:
        metadata["tables"] = str(len(layout.tables))
    empty = [str(n) for n, lines in enumerate(page_lines, start=1) if not "".join(lines).strip()]
    if empty:
        metadata["pages_without_text"] = ",".join(empty)
    title = meta_title or visual_title or builder.first_heading() or readable_stem(path.stem)
    return LoadedDocument(
        title=title, sections=sections, source=str(path), pages=len(raw_pages), metadata=metadata
    )


def _table_blocks(
    page_lines: Sequence[Sequence[str]], tables: dict[str, Table]
) -> dict[str, TableBlock]:
    """The table sections to put in place of the marker lines. A table that opens a page
    right after a table that closed the previous one, with as many columns, continues it
    (a table split over pages): its rows join that table, under the first part's header,
    whether or not the page repeated it."""
    blocks: dict[str, TableBlock] = {}
    open_table: Table | None = None  # the first part of the table the previous page ended with
    for lines in page_lines:
        filled = [line for line in lines if line.strip()]
        head_of: dict[str, Table] = {}
        for line in filled:
            if line not in tables:
                continue
            table = head_of[line] = tables[line]
            continues = (
                open_table is not None and line == filled[0] and table.columns == open_table.columns
            )
            rows = table.rows
            if continues and open_table is not None:
                head_of[line] = open_table
                if rows[0] == open_table.rows[0]:
                    rows = rows[1:]  # the header repeated on the new page
            blocks[line] = TableBlock(table_rows(rows), continues=continues)
        open_table = head_of.get(filled[-1]) if filled else None
    return blocks


def _visible_chars(pages: Sequence[str]) -> int:
    return sum(len("".join(text.split())) for text in pages)


# --- readers ---------------------------------------------------------------------------------


def _pypdf_errors() -> tuple[type[BaseException], ...]:
    from pypdf.errors import PyPdfError

    return (PyPdfError, *_PARSE_ERRORS)


def _layout_errors() -> tuple[type[BaseException], ...]:
    from pdfminer.psexceptions import PSException

    return (PSException, *_PARSE_ERRORS)


def _read_pypdf(data: bytes, runs: FontRuns) -> tuple[list[str], str, list[int]]:
    """(text of each page, metadata title, indexes of the pages that may hold a table);
    `runs` gathers the type size and weight of the text, for the title and headings."""
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            decrypted = reader.decrypt("")  # many "protected" PDFs only restrict printing
        except DependencyError as exc:
            raise EncryptedDocument(
                f"{ENCRYPTED} : le module de déchiffrement (cryptography) n'est pas installé"
            ) from exc
        except _pypdf_errors() as exc:
            raise EncryptedDocument(ENCRYPTED) from exc
        if decrypted == PasswordType.NOT_DECRYPTED:
            raise EncryptedDocument(ENCRYPTED)
    try:
        meta = reader.metadata
        meta_title = clean_title(meta.title) if meta else ""
    except _pypdf_errors():
        meta_title = ""  # a broken /Info dictionary must not cost the text
    pages = []
    ruled = []
    try:
        for index, page in enumerate(reader.pages):
            pages.append(page.extract_text(visitor_text=runs.visitor(index)))
            try:
                if may_hold_table(page):
                    ruled.append(index)
            except _pypdf_errors():
                pass  # a content stream pypdf cannot decode: the page's text stays as read
    except FileNotDecryptedError as exc:
        raise EncryptedDocument(ENCRYPTED) from exc
    return pages, meta_title, ruled


def _read_pdfminer(data: bytes, cause: BaseException | None) -> list[str]:
    from pdfminer.high_level import extract_text
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.psexceptions import PSException

    errors: tuple[type[BaseException], ...] = (PSException, *_PARSE_ERRORS)
    try:
        text = extract_text(io.BytesIO(data))
    except PDFPasswordIncorrect as exc:
        raise EncryptedDocument(ENCRYPTED) from exc
    except errors as exc:
        detail = clean_line(str(cause or exc))[:160]
        reason = "PDF corrompu : structure illisible"
        raise CorruptDocument(f"{reason} ({detail})" if detail else reason) from (cause or exc)
    pages = text.split("\f")
    if len(pages) > 1 and not pages[-1].strip():
        pages.pop()  # pdfminer ends every page, the last one included, with a form feed
    return pages


def _title(runs: Sequence[tuple[float, str]]) -> str:
    """The run of page 1 set in the largest type, well above the body size, that reads like
    a title. Runs holding a full date ("Séance du jeudi 24 avril 2014") lose to runs
    without one."""
    chars: Counter[float] = Counter()
    for size, text in runs:
        chars[size] += len(text.strip())
    if not chars:
        return ""
    body = chars.most_common(1)[0][0]
    candidates = []
    for size, text in runs:
        line = clean_line(text)
        letters = sum(ch.isalpha() for ch in line)
        if size >= body * 1.2 and letters >= 8 and len(line.split()) >= 2 and len(line) <= 200:
            candidates.append((not _FULL_DATE.search(line), size, line))
    if not candidates:
        return ""
    return clean_title(max(candidates)[2])


_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"  # noqa: E501
_FULL_DATE = re.compile(rf"\b\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\s+\d{{4}}\b", re.IGNORECASE)


# --- cleaning across pages ---------------------------------------------------------------------

_ZONE = 3  # header / footer lines looked at, at the top and at the bottom of each page
_PAGE_NUMBER = re.compile(
    r"^(?:page|p\.)?\s*[-–(]?\s*\d{1,4}\s*[-–)]?(?:\s*(?:/|sur|of)\s*\d{1,4})?$", re.IGNORECASE
)


def _zone(lines: Sequence[str]) -> list[int]:
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:_ZONE] + filled[-_ZONE:]))


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", "".join(line.lower().split()))


def remove_repeated_lines(pages: Sequence[Sequence[str]]) -> list[list[str]]:
    """Drop header and footer lines.

    A line goes when, in documents of 3 pages or more, it sits among the first or last 3 lines
    of at least 60 % of the pages (digits aside: "Page 3 sur 12"), and never twice on a page:
    body lines that recur within a page ("Adopté à l'unanimité") stay. A bare page number
    equal to the page's position goes too.
    """
    count = len(pages)
    threshold = max(2, math.ceil(0.6 * count))
    page_keys = [Counter(_key(line) for line in lines if line.strip()) for lines in pages]
    body = {key for keys in page_keys for key, n in keys.items() if n > 1}
    seen: Counter[str] = Counter()
    for lines in pages:
        seen.update({_key(lines[i]) for i in _zone(lines)} - body)
    cleaned = []
    for number, lines in enumerate(pages, start=1):
        drop = set()
        zone = _zone(lines)
        for i in zone:
            key = _key(lines[i])
            repeated = count >= 3 and seen[key] >= threshold
            page_number = _PAGE_NUMBER.match(lines[i].strip())
            if repeated or (page_number and str(number) in re.findall(r"\d+", lines[i])):
                drop.add(i)
        cleaned.append([line for i, line in enumerate(lines) if i not in drop])
    return cleaned


# Words around a line-end hyphen that make a real compound ("peut-être", "ci-dessous").
_COMPOUND_RIGHT = frozenset(
    "être il ils elle elles on je tu nous vous le la les lui leur leurs moi toi y en ci là "  # noqa: SIM905
    "même mêmes t dessus dessous delà dedans dehors à de clé clés cadre type types".split()
)
_COMPOUND_LEFT = frozenset(
    "ci là eux elle elles lui moi toi soi nous vous celui celle celles ceux non demi semi "  # noqa: SIM905
    "mi ex vice quasi sous arrière avant après grand grande porte garde au peut est sont "
    "dit dite pêle vis rez tête chef belle beau sans médico socio psycho politico technico "
    "économico franco anglo gréco judéo italo hispano euro afro néo".split()
)
_LINE_END_HYPHEN = re.compile(r"([^\W_]+)-$")
_FIRST_WORD = re.compile(r"^(\S+)\s*(.*)$")
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _vocabulary(pages: Sequence[Sequence[str]]) -> frozenset[str]:
    return frozenset(_WORDS.findall(" ".join(" ".join(lines) for lines in pages).lower()))


def dehyphenate(lines: Sequence[str], vocabulary: frozenset[str] = frozenset()) -> list[str]:
    """Join words broken at a line end: "collec-" + "tivité" -> "collectivité".

    The hyphen stays when the next fragment starts with a capital or a digit ("LEVY-RAMEAU"),
    when the document spells the compound with a hyphen elsewhere, or when either side is a
    usual compound part ("peut-être", "ci-dessous", "médico-social"); the fragment then moves
    up to the line of its first half so that the word stays whole.
    """
    out = list(lines)
    dropped: set[int] = set()
    for i in range(len(out) - 1):
        match = _LINE_END_HYPHEN.search(out[i])
        if not match:
            continue
        j = i + 1
        if not out[j].strip() and j + 1 < len(out):
            j += 1  # pdfminer often puts a blank line between the lines of a paragraph
        nxt = _FIRST_WORD.match(out[j])
        if not nxt:
            continue
        left, (fragment, rest) = match.group(1), nxt.groups()
        right = re.match(r"[^\W\d_]+", fragment)
        if not fragment[:1].isalnum() or (j > i + 1 and not fragment[:1].islower()):
            continue
        if right is None or right.group(0)[:1].isupper() or not left.isalpha():
            out[i] = out[i] + fragment  # "LEVY-" "RAMEAU", "2011-" "2014": a real compound
        elif _keep_hyphen(left, right.group(0), vocabulary):
            out[i] = out[i] + fragment
        else:
            out[i] = out[i][:-1] + fragment
        out[j] = rest
        dropped.update(range(i + 1, j))
    # a line emptied by the move must not read as a paragraph break
    return [
        line
        for k, (line, original) in enumerate(zip(out, lines, strict=True))
        if k not in dropped and (line or not original)
    ]


def _keep_hyphen(left: str, right: str, vocabulary: frozenset[str]) -> bool:
    lower_left, lower_right = left.lower(), right.lower()
    if f"{lower_left}-{lower_right}" in vocabulary:
        return True
    if lower_left + lower_right in vocabulary:
        return False
    return lower_left in _COMPOUND_LEFT or lower_right in _COMPOUND_RIGHT
