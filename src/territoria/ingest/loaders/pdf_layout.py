"""What a PDF's text layer alone does not say: tables and headings.

- Tables (`page_tables`): pdfplumber finds ruled tables on a page; each becomes rows of cells,
  its header row first. A header spread over two rows (a merged cell above sub-columns:
  "Représentants du personnel" over "Titulaire | Suppléant") becomes one row
  ("Représentants du personnel - Titulaire"); a cell merged down a column repeats the value
  above, so that no row loses what its cells mean. The page's other text is read band by band
  around the tables, and each table stands in the text as a marker line (`TABLE_MARK`) that
  the loader replaces with a table section. Only pages whose content draws lines or
  rectangles are looked at (`may_hold_table`): the layout analysis costs about as much again
  as reading the text.
- Headings (`FontRuns`): lines set wholly in type larger than the body, or in bold, short and
  without a final period, are headings; their level follows the type size.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from territoria.ingest.loaders.structure import clean_line

TABLE_MARK = "\ue000"  # private-use character: a line standing for a table
_NUM = rb"(-?\d*\.?\d+)"
_RECT = re.compile(rb"%s\s+%s\s+%s\s+%s\s+re\s+([A-Za-z*]+)" % ((_NUM,) * 4))
_LINE = re.compile(rb"%s\s+%s\s+m\s+%s\s+%s\s+l\b" % ((_NUM,) * 4))
_STROKE = frozenset([b"S", b"s", b"B", b"b", b"B*", b"b*"])
_RULE_RATIO = 20  # a filled rectangle this much longer than wide is a rule
_GRID = 3  # rules each way, crossing: two rows and two columns of cells
_TOUCH = 0.003  # rules meet within this share of the drawing's extent
_HEADING_MAX_WORDS = 14
_LARGER = 1.04  # a heading's type is at least this much larger than the body's


@dataclass(frozen=True)
class Table:
    """A table of a page: its header row, then its body rows (cells cleaned)."""

    rows: tuple[tuple[str, ...], ...]

    @property
    def columns(self) -> int:
        return len(self.rows[0]) if self.rows else 0


def mark(n: int) -> str:
    """The marker line of the table numbered `n` (letters only: the loader's repeated-line
    removal folds digits, and must never take two markers for one running header)."""
    letters = ""
    while True:
        n, rest = divmod(n, 26)
        letters = chr(ord("a") + rest) + letters
        if n == 0:
            return f"{TABLE_MARK}{letters}"


def may_hold_table(page: Any) -> bool:
    """Whether a pypdf page's content draws a grid: at least three horizontal rules each
    crossed by at least three vertical rules (two rows of two cells), read from stroked
    rectangles, thin filled rectangles and straight lines. A framed stamp, a rule under a
    letterhead or a logo's strokes make no such grid, so the layout analysis, which costs
    about twice the reading of the text, runs only where a table may be."""
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    across: list[tuple[float, float, float]] = []  # (y, x0, x1)
    down: list[tuple[float, float, float]] = []  # (x, y0, y1)
    for match in _RECT.finditer(data):
        x, y, w, h = (float(v) for v in match.group(1, 2, 3, 4))
        x0, x1, y0, y1 = min(x, x + w), max(x, x + w), min(y, y + h), max(y, y + h)
        if match.group(5) in _STROKE:
            across += [(y0, x0, x1), (y1, x0, x1)]
            down += [(x0, y0, y1), (x1, y0, y1)]
        elif min(x1 - x0, y1 - y0) > 0 and max(x1 - x0, y1 - y0) >= _RULE_RATIO * min(
            x1 - x0, y1 - y0
        ):
            if y1 - y0 > x1 - x0:
                down.append(((x0 + x1) / 2, y0, y1))
            else:
                across.append(((y0 + y1) / 2, x0, x1))
    for match in _LINE.finditer(data):
        x1, y1, x2, y2 = (float(v) for v in match.group(1, 2, 3, 4))
        if abs(x1 - x2) < 1 <= abs(y1 - y2):
            down.append((x1, min(y1, y2), max(y1, y2)))
        elif abs(y1 - y2) < 1 <= abs(x1 - x2):
            across.append((y1, min(x1, x2), max(x1, x2)))
    if len(across) < _GRID or len(down) < _GRID:
        return False
    extent = max(max(x1 for _, _, x1 in across), max(y1 for _, _, y1 in down)) - min(
        min(x0 for _, x0, _ in across), min(y0 for _, y0, _ in down)
    )
    tol = _TOUCH * extent  # rules drawn as rectangles have a thickness
    rows: dict[int, set[int]] = {}
    for y, x0, x1 in across:
        crossing = {
            round(x / tol)
            for x, y0, y1 in down
            if x0 - tol <= x <= x1 + tol and y0 - tol <= y <= y1 + tol
        }
        rows.setdefault(round(y / tol), set()).update(crossing)
    return sum(len(columns) >= _GRID for columns in rows.values()) >= _GRID


def page_tables(data: bytes, pages: Sequence[int]) -> dict[int, list[str | Table]]:
    """For each page index in `pages` that holds a usable table: the page in reading order,
    text bands between the tables and the tables themselves."""
    import pdfplumber

    out: dict[int, list[str | Table]] = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for index in pages:
            page = pdf.pages[index]
            found = []
            for table in page.find_tables():
                rows = _rows(table.extract())
                if rows is not None:
                    found.append((table.bbox, rows))
            if not found:
                continue
            found.sort(key=lambda item: item[0][1])
            x0, top, x1, bottom = page.bbox
            segments: list[str | Table] = []
            for bbox, rows in found:
                segments.append(_band(page, (x0, top, x1, bbox[1])))
                segments.append(rows)
                top = max(top, bbox[3])
            segments.append(_band(page, (x0, top, x1, bottom)))
            out[index] = segments
    return out


def _band(page: Any, bbox: tuple[float, float, float, float]) -> str:
    if bbox[3] - bbox[1] <= 1:
        return ""
    return str(page.within_bbox(bbox).extract_text() or "")


def _rows(raw: Sequence[Sequence[str | None]]) -> Table | None:
    """Cleaned rows with one header row, or None when this is no table (a framed paragraph,
    a stamp: fewer than two columns or two rows holding text)."""
    rows = [[clean_line(cell) if cell else None for cell in row] for row in raw]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2 or sum(sum(1 for c in row if c) >= 2 for row in rows) < 2:
        return None
    width = max(len(row) for row in rows)
    rows = [row + [None] * (width - len(row)) for row in rows]
    header = rows[0]
    body = rows[1:]
    if None in header[1:] and len(body) >= 2:  # a cell merged across sub-columns
        spanned: list[str | None] = []
        for cell in header:
            spanned.append(cell if cell is not None else (spanned[-1] if spanned else None))
        sub = body[0]
        header = [
            " - ".join(dict.fromkeys(part for part in (top, low) if part)) or None
            for top, low in zip(spanned, sub, strict=True)
        ]
        body = body[1:]
    filled: list[tuple[str, ...]] = [tuple(cell or "" for cell in header)]
    above: list[str | None] = list(header)
    for row in body:
        cells = [cell if cell is not None else above[i] for i, cell in enumerate(row)]
        filled.append(tuple(cell or "" for cell in cells))
        above = cells
    return Table(tuple(filled))


class FontRuns:
    """Runs of text of one type size and weight, gathered by pypdf's text visitor.

    `title()` is the run of page 1 set in the largest type (a document without a title in
    its metadata); `headings()` maps each heading line to its level.
    """

    def __init__(self) -> None:
        self.runs: list[tuple[int, float, bool, str]] = []  # page index, size, bold, text
        self.page = 0

    def visitor(self, page: int) -> Any:
        def visit(
            text: str, cm: Sequence[float], tm: Sequence[float], font: object, size: float
        ) -> None:
            if not text:
                return
            a = tm[0] * cm[0] + tm[1] * cm[2]
            b = tm[0] * cm[1] + tm[1] * cm[3]
            c = tm[2] * cm[0] + tm[3] * cm[2]
            d = tm[2] * cm[1] + tm[3] * cm[3]
            effective = round(size * abs(a * d - b * c) ** 0.5, 1)
            bold = _is_bold(font)
            last = self.runs[-1] if self.runs else None
            if last is not None and last[:3] == (page, effective, bold):
                self.runs[-1] = (page, effective, bold, last[3] + text)
            elif text.strip():
                self.runs.append((page, effective, bold, text))

        return visit

    def body_size(self) -> float:
        chars: Counter[float] = Counter()
        for _, size, _, text in self.runs:
            chars[size] += len(text.strip())
        return chars.most_common(1)[0][0] if chars else 0.0

    def first_page(self) -> list[tuple[float, str]]:
        return [(size, text) for page, size, _, text in self.runs if page == 0]

    def headings(self) -> dict[str, int]:
        """Heading line -> level (1 = largest type). Bold at the body's size is not enough:
        real minutes set vote results and names in bold ("Pour : 59 Adopté à l'unanimité"),
        which are content, not headings."""
        body = self.body_size()
        if not body:
            return {}
        candidates: list[tuple[float, str]] = []
        for _, size, _, text in self.runs:
            if size < body * _LARGER:
                continue
            lines = [line for raw in text.split("\n") if (line := clean_line(raw))]
            if len(lines) > 1 and _heading_like(" ".join(lines), 2 * _HEADING_MAX_WORDS):
                # a heading set on several lines: each line is part of it
                candidates.extend((size, line) for line in lines)
                continue
            candidates.extend((size, line) for line in lines if _heading_like(line))
        # a line that recurs, numbers aside, is a formula of the body set large ("Pour : 59
        # Adopté à l'unanimité" after each deliberation), not a heading
        recurs = Counter(re.sub(r"\d+", "#", line) for _, line in candidates)
        candidates = [(s, line) for s, line in candidates if recurs[re.sub(r"\d+", "#", line)] < 3]
        sizes = sorted({size for size, _ in candidates}, reverse=True)
        levels = {size: rank for rank, size in enumerate(sizes, start=1)}
        out: dict[str, int] = {}
        for size, line in candidates:
            out.setdefault(line, levels[size])
        return out


def _is_bold(font: object) -> bool:
    name = ""
    if isinstance(font, dict):
        name = str(font.get("/BaseFont", ""))
    return bool(re.search(r"bold|black|heavy|semibold|demi|,b\b|-b\b", name, re.IGNORECASE))


def _heading_like(line: str, max_words: int = _HEADING_MAX_WORDS) -> bool:
    words = line.split()
    letters = sum(ch.isalpha() for ch in line)
    return (
        letters >= 3
        and 1 <= len(words) <= max_words
        and not line.endswith((".", ";", ",", "…"))
        and not line.startswith(("•", "-", "–", "*"))
        and not _LABEL_VALUE.search(line)  # "Contre : 8", "Tarif : 15 €": data, not a title
    )


_LABEL_VALUE = re.compile(r"\w\s?:\s*\d")
