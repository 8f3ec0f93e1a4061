"""Structure-aware chunking of a loaded document into passages.

The document's text is its sections joined by a blank line (`document_text`); every chunk is a
slice of it, so `start`/`end` locate a quote exactly. Units are paragraphs (lists and tables
kept whole when they fit), split at sentence boundaries when longer than `chunk_max_words`.
Units are packed up to `chunk_words`; a new chunk starts at an "Article N" and at a change of
heading path, unless the current chunk is still too small to stand alone (a heading over a
one-line paragraph would otherwise make a passage with nothing to retrieve). A chunk's heading
path is the one where it starts, or, when it starts before any heading, its first one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from territoria.settings import Settings
from territoria.types import LoadedDocument, Section

SECTION_SEPARATOR = "\n\n"

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n|\n(?=[ \t]*(?:[-•*–]|\d+[.)°]|#{1,6})\s)")
_LINE_BREAK = re.compile(r"\n")
# A sentence ends with . ! ? or … followed by space and a capital, a digit or an opening mark;
# "M.", "art.", "L." and friends are abbreviations, not ends.
_SENTENCE_END = re.compile(
    r"(?<=[.!?…;])(?<!\b[A-Z]\.)(?<!\bM\.)(?<!\bMme\.)(?<!\bart\.)(?<!\bArt\.)(?<!\bcf\.)"
    r"(?<!\bp\.)\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ0-9«\"(\-–•])"
)
_MARKDOWN_HEADING = re.compile(r"(#{1,6})[ \t]+([^\n]+)")
_ARTICLE = re.compile(r"\s*(?:Article|ARTICLE|Art\.)\s+(?:[LRDA]\.?\s*)?\d", re.UNICODE)


@dataclass(frozen=True)
class Chunk:
    text: str
    headings: tuple[str, ...]
    page: int | None
    start: int
    end: int


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    words: int
    headings: tuple[str, ...]
    page: int | None
    hard_break: bool  # must start a new chunk (an article)
    is_heading: bool = False  # a Markdown heading line


def document_text(doc: LoadedDocument) -> str:
    """The text chunk offsets refer to: section texts joined by a blank line."""
    return SECTION_SEPARATOR.join(section.text for section in doc.sections)


def _words(text: str) -> int:
    return len(text.split())


def _spans(text: str, pattern: re.Pattern[str], start: int, end: int) -> Iterator[tuple[int, int]]:
    """Non-blank pieces of text[start:end] between matches of `pattern`, stripped."""
    pos = start
    for match in pattern.finditer(text, start, end):
        yield from _strip(text, pos, match.start())
        pos = match.end()
    yield from _strip(text, pos, end)


def _strip(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def _word_windows(text: str, start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """Cut text[start:end] every `size` words (last resort for a run-on sentence)."""
    bounds = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[start:end])]
    for i in range(0, len(bounds), size):
        window = bounds[i : i + size]
        yield start + window[0][0], start + window[-1][1]


def _split_long(text: str, start: int, end: int, max_words: int) -> Iterator[tuple[int, int]]:
    """Sentences of an over-long unit, run-on sentences cut by word count."""
    for s_start, s_end in _spans(text, _SENTENCE_END, start, end):
        if _words(text[s_start:s_end]) <= max_words:
            yield s_start, s_end
        else:
            yield from _word_windows(text, s_start, s_end, max_words)


def _section_units(
    text: str, section: Section, offset: int, max_words: int
) -> Iterator[tuple[int, int, bool]]:
    end = offset + len(section.text)
    if section.kind in ("list", "table"):
        pieces = [(offset, end)] if _words(section.text) <= max_words else []
        if not pieces:
            # Too long to keep whole: rows (lines) stay whole, packed back together later.
            pieces = list(_spans(text, _LINE_BREAK, offset, end))
    else:
        pieces = list(_spans(text, _PARAGRAPH_BREAK, offset, end))
    for p_start, p_end in pieces:
        article = bool(_ARTICLE.match(text, p_start))
        if _words(text[p_start:p_end]) <= max_words:
            yield p_start, p_end, article
        else:
            for i, (s_start, s_end) in enumerate(_split_long(text, p_start, p_end, max_words)):
                yield s_start, s_end, article and i == 0


def _units(doc: LoadedDocument, text: str, max_words: int) -> list[_Unit]:
    units: list[_Unit] = []
    offset = 0
    for section in doc.sections:
        # Markdown headings left inside a section's text ("## Tarifs") extend its heading path
        inline: list[tuple[int, str]] = []
        for start, end, article in _section_units(text, section, offset, max_words):
            heading = _MARKDOWN_HEADING.match(text, start, end) if section.kind == "text" else None
            if heading:
                level = len(heading.group(1))
                inline = [(lv, h) for lv, h in inline if lv < level]
                inline.append((level, heading.group(2).strip()))
            headings = section.headings + tuple(h for _, h in inline)
            units.append(
                _Unit(
                    start,
                    end,
                    _words(text[start:end]),
                    headings,
                    section.page,
                    hard_break=article,
                    is_heading=heading is not None,
                )
            )
        offset += len(section.text) + len(SECTION_SEPARATOR)
    return units


def chunk_document(
    doc: LoadedDocument, settings: Settings, *, min_words: int | None = None
) -> list[Chunk]:
    """Cut a document into passages of about `settings.chunk_words` words.

    `min_words` (default: a third of `chunk_words`) is the size under which a chunk does not
    end at a heading change: it takes in the next section instead of standing alone.
    """
    target = max(1, settings.chunk_words)
    hard_max = max(target, settings.chunk_max_words)
    floor = target // 3 if min_words is None else min_words
    text = document_text(doc)
    chunks: list[Chunk] = []
    current: list[_Unit] = []

    def emit(units: list[_Unit]) -> None:
        first, last = units[0], units[-1]
        chunks.append(
            Chunk(
                text=text[first.start : last.end],
                # where the chunk starts; if that is before any heading, its first heading
                headings=next((u.headings for u in units if u.headings), ()),
                page=first.page,
                start=first.start,
                end=last.end,
            )
        )

    for unit in _units(doc, text, hard_max):
        size = sum(u.words for u in current)
        if current and (
            unit.hard_break
            or size + unit.words > hard_max
            or (unit.headings != current[-1].headings and size >= floor)
            or (size + unit.words > target and size >= floor)
        ):
            # a heading line never ends a chunk: it moves on with what it introduces
            carried: list[_Unit] = []
            while (
                len(current) > 1
                and current[-1].is_heading
                and sum(u.words for u in carried) + current[-1].words + unit.words <= hard_max
            ):
                carried.insert(0, current.pop())
            emit(current)
            current = carried
        current.append(unit)
    if current:
        emit(current)
    return chunks
