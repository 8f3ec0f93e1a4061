"""Turning extracted text into sections: shared by every loader.

- `clean_text` / `clean_line`: Unicode NFKC, soft hyphens and control characters removed, runs of
  blanks collapsed (newlines kept).
- `clean_title` / `readable_stem`: titles that are worth showing (no "Microsoft Word - x.doc").
- `SectionBuilder`: accumulates headings, paragraphs, lists and tables in reading order and emits
  `Section`s carrying the heading path.
- `add_plain_lines`: structure for formats without markup (PDF pages, plain text): legal headings
  ("TITRE I", "Chapitre 2", "Article 3"), bullet lists, paragraphs re-flowed from wrapped lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from territoria.types import Section

SectionKind = Literal["text", "list", "table"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff\ufffd]")
_BLANKS = re.compile(r"[ \t\f\v\r\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_SOFT_HYPHEN_BREAK = re.compile(r"\u00ad[ \t]*\n[ \t]*")


def clean_text(text: str, *, keep_indent: bool = False) -> str:
    """NFKC, soft hyphens and control characters removed, blanks collapsed, lines stripped
    (leading spaces kept with `keep_indent`, tabs counting 4)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _SOFT_HYPHEN_BREAK.sub("", text).replace("\u00ad", "")
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub("", text)
    lines = []
    for line in text.split("\n"):
        indent = ""
        if keep_indent:
            stripped = line.lstrip(" \t")
            indent = " " * len(line[: len(line) - len(stripped)].expandtabs(4))
        cleaned = _BLANKS.sub(" ", line).strip()
        lines.append(indent + cleaned if cleaned else "")
    return "\n".join(lines)


def clean_line(text: str) -> str:
    """`clean_text` on one line: every newline becomes a space."""
    return " ".join(clean_text(text).split())


_USELESS_TITLE = re.compile(
    r"^(untitled|sans titre|document\s*\d*|doc\d*|titre|title|page \d+|diapositive \d+|"
    r"microsoft word|word|pdf|new document|nouveau document|\W*)$",
    re.IGNORECASE,
)
_TITLE_PREFIX = re.compile(r"^(microsoft (word|excel|powerpoint)|word|writer)\s*-\s*", re.I)
_FILE_SUFFIX = re.compile(r"\.(docx?|odt|rtf|pdf|xlsx?|pptx?|txt|html?)$", re.IGNORECASE)


def clean_title(raw: object, *, max_chars: int = 200) -> str:
    """A displayable title, or "" when `raw` is empty or a placeholder left by a tool.

    "Microsoft Word - Compte-rendu CM 07 02 2011.doc" becomes "Compte-rendu CM 07 02 2011".
    """
    if not isinstance(raw, str):
        return ""
    title = clean_line(raw)
    title = _FILE_SUFFIX.sub("", _TITLE_PREFIX.sub("", title)).strip()
    if len(title) < 2 or _USELESS_TITLE.match(title):
        return ""
    title = title[0].upper() + title[1:]
    if len(title) > max_chars:
        title = title[:max_chars].rsplit(" ", 1)[0] + " …"
    return title


def readable_stem(stem: str) -> str:
    """File stem made readable: "reglement_interieur-piscine" -> "Reglement interieur piscine"."""
    words = re.sub(r"[_\-.\s]+", " ", stem).strip()
    if not words:
        return stem or "Document sans titre"
    return words[0].upper() + words[1:]


class SectionBuilder:
    """Collects content in reading order under a heading path and emits `Section`s.

    Consecutive paragraphs under the same heading path (and the same page) are merged into one
    "text" section, separated by blank lines; lists and tables are sections of their own.
    """

    def __init__(self) -> None:
        self._headings: list[tuple[int, str]] = []
        self._paragraphs: list[str] = []
        self._page: int | None = None
        self._sections: list[Section] = []

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._headings)

    def heading(self, level: int, text: str) -> None:
        """Open a heading of `level` (1 = top): deeper or equal headings are closed."""
        text = clean_line(text)
        if not text:
            return
        self._flush()
        while self._headings and self._headings[-1][0] >= level:
            self._headings.pop()
        self._headings.append((level, text))

    def page(self, number: int | None) -> None:
        """Following content belongs to page `number` (1-based)."""
        if number != self._page:
            self._flush()
            self._page = number

    def paragraph(self, text: str) -> None:
        text = text.strip()
        if text:
            self._paragraphs.append(text)

    def block(self, lines: Iterable[str], kind: SectionKind, *, extend: bool = False) -> None:
        """A list (one item per line) or a table (one row per line, cells joined by " | ").

        A short paragraph ending with ":" just before a list introduces it and joins it;
        a list right after a list (same heading path and page) extends it; a table with
        `extend` (the rest of a table split over pages) extends the table just before.
        """
        text = "\n".join(line.rstrip() for line in lines if line.strip())
        if not text:
            return
        if kind == "list" and self._paragraphs:
            head, _, lead = self._paragraphs[-1].rpartition("\n")
            if lead.endswith(":") and len(lead) <= 300:
                if head.strip():
                    self._paragraphs[-1] = head.rstrip()
                else:
                    self._paragraphs.pop()
                text = f"{lead}\n{text}"
        self._flush()
        last = self._sections[-1] if self._sections else None
        if (
            kind == "list"
            and last is not None
            and last.kind == "list"
            and (last.headings, last.page) == (self.path, self._page)
        ) or (extend and kind == "table" and last is not None and last.kind == "table"):
            assert last is not None
            self._sections[-1] = Section(f"{last.text}\n{text}", last.headings, last.page, kind)
        else:
            self._sections.append(Section(text, self.path, self._page, kind))

    def sections(self) -> tuple[Section, ...]:
        self._flush()
        return tuple(self._sections)

    def first_heading(self) -> str:
        for section in self._sections:
            if section.headings:
                return section.headings[0]
        return self._headings[0][1] if self._headings else ""

    def _flush(self) -> None:
        if self._paragraphs:
            text = "\n\n".join(self._paragraphs)
            self._sections.append(Section(text, self.path, self._page, "text"))
            self._paragraphs = []


@dataclass(frozen=True)
class TableBlock:
    """A table to put where its marker line stands in plain lines (`add_plain_lines`)."""

    rows: list[str]  # "cell | cell" lines, the header row first
    continues: bool = False  # the rest of the table just before (split over pages)


def table_rows(rows: Iterable[Sequence[str]]) -> list[str]:
    """Rows of cells as "cell | cell" lines; empty rows and trailing empty cells dropped."""
    lines = []
    for row in rows:
        cells = [clean_line(cell) for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


# --- plain lines (PDF pages, plain text) ----------------------------------------------------

_LEGAL_LEVELS = {
    "titre": 1,
    "livre": 1,
    "partie": 1,
    "chapitre": 2,
    "section": 3,
    "sous-section": 4,
    "paragraphe": 4,
    "article": 5,
    "art.": 5,
}
_LEGAL_HEADING = re.compile(
    r"^(?P<kw>TITRE|Titre|LIVRE|Livre|PARTIE|Partie|CHAPITRE|Chapitre|SECTION|Section|"
    r"SOUS-SECTION|Sous-section|PARAGRAPHE|Paragraphe|ARTICLE|Article|Art\.)"
    r"\s+(?P<num>premier|PREMIER|1er|unique|UNIQUE|[LRDA]\.?\s?\d+(?:[-.]\d+)*|"
    r"[IVXLC]+|\d+(?:[-.]\d+)*(?:\s?(?:bis|ter|quater))?|[A-Z])\b\.?(?P<rest>.*)$"
)
_SEPARATORS = " :-–—.)"
_BULLET = re.compile(r"^(?:[-–—•▪◦●○■□➢►✓*·]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+\S")
_SENTENCE_END = re.compile(r"[.:;!?»)]$")
_UNDERLINE = re.compile(r"^(?:={3,}|-{3,})$")


def legal_heading(line: str) -> tuple[int, str, bool] | None:
    """(level, heading text, whole line is the heading) for "Article 3 - Horaires"-like lines."""
    match = _LEGAL_HEADING.match(line)
    if not match:
        return None
    level = _LEGAL_LEVELS[match["kw"].lower()]
    rest = match["rest"].strip(_SEPARATORS + " ")
    label = f"{match['kw']} {match['num']}"
    whole = not rest or (
        len(rest) <= 90 and not rest.endswith((".", ";", ",")) and len(rest.split()) <= 14
    )
    if not whole and match["num"][0] in "LRDA":
        return None  # "Article L. 2121-8 du CGCT dispose que ..." cites, it does not open
    if not rest:
        return level, label, True
    if whole:
        return level, f"{label} - {rest}", True
    return level, label, False


def add_plain_lines(
    builder: SectionBuilder,
    lines: Sequence[str],
    *,
    wrap_width: int | None = None,
    tables: Mapping[str, TableBlock] | None = None,
    headings: Mapping[str, int] | None = None,
) -> None:
    """Add lines of plain text: blank lines end paragraphs, legal headings open sections,
    bullet lines make lists.

    `wrap_width`: lines at least this long were wrapped by the layout, so the next line
    continues the same sentence (joined with a space); shorter lines keep their line break.
    `tables`: marker lines standing for tables; `headings`: lines known to be headings from
    the layout (a PDF's type sizes), with their level, below the legal headings' levels
    when both occur.
    """
    tables = tables or {}
    headings = headings or {}
    open_heading: tuple[int, str] | None = None  # a layout heading with nothing under it yet
    paragraph: list[str] = []
    items: list[str] = []
    previous = ""

    def end_paragraph() -> None:
        if paragraph:
            builder.paragraph("".join(paragraph))
            paragraph.clear()

    def end_list() -> None:
        if items:
            builder.block(items, "list")
            items.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            end_paragraph()
            end_list()
            previous = ""
            continue
        if line in tables:
            end_paragraph()
            end_list()
            block = tables[line]
            builder.block(block.rows, "table", extend=block.continues)
            previous = ""
            open_heading = None
            continue
        starts_block = not previous or bool(_SENTENCE_END.search(previous))
        heading = legal_heading(line) if starts_block else None
        if heading is None and line in headings:
            level = headings[line]
            if open_heading is not None and open_heading[0] == level:
                line = f"{open_heading[1]} {line}"  # the next line of a heading on two lines
            heading = (level, line, True)
            open_heading = (level, line)
        else:
            open_heading = None
        if heading:
            end_paragraph()
            end_list()
            level, text, whole = heading
            builder.heading(level, text)
            if not whole:
                paragraph.append(line)
            previous = line if not whole else ""
            continue
        if _UNDERLINE.match(line):
            if len(paragraph) == 1 and "\n" not in paragraph[0] and not items:
                builder.heading(1 if line[0] == "=" else 2, paragraph.pop())
            end_paragraph()
            end_list()
            previous = ""
            continue
        runs_on = _runs_on(previous, wrap_width)
        if items and not _BULLET.match(line) and not runs_on:
            end_list()
        if _BULLET.match(line) and (starts_block or items):
            end_paragraph()
            items.append(line)
        elif items:  # a continuation line of the last item
            items[-1] += f" {line}"
        elif paragraph:
            paragraph[-1] += f" {line}" if runs_on or wrap_width is None else f"\n{line}"
        else:
            paragraph.append(line)
        previous = line
    end_paragraph()
    end_list()


def _runs_on(line: str, wrap_width: int | None) -> bool:
    """Whether `line` was wrapped by the layout: long enough and not ending a sentence."""
    if not line or line.endswith((".", ";", "!", "?")):
        return False
    return wrap_width is None or len(line) >= wrap_width


def wrap_width(lines: Iterable[str]) -> int | None:
    """Length from which a line counts as wrapped by the layout (80 % of long lines)."""
    lengths = sorted(len(line) for line in lines if line.strip())
    if len(lengths) < 3:
        return None
    long_line = lengths[int(len(lengths) * 0.9) - 1 if len(lengths) >= 10 else -1]
    return max(20, int(long_line * 0.8))
