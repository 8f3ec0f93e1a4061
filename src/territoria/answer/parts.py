"""The parts of a passage that can be given as an answer, each quoted verbatim.

A passage is cut into parts a citizen could be given as an answer:
- a sentence of running text (list markers such as "- " are not part of it);
- a whole list, with the line that introduces it ("Pièces à fournir :"), for questions that
  ask for a list; each item on its own otherwise;
- a table row with the table's header row: the row's cells are quoted with their column
  headers ("Prix du repas : 3,10 €"), so a row is never cut from what its cells mean;
- a whole table, header row first, for a question that names no row ("Combien coûte la
  cantine ?" against the price table: every row states an amount).

Which part answers is `answer.extractive`'s choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from territoria.answer.sentences import Span, split_sentences
from territoria.types import Passage

Analyzer = Callable[[str], list[str]]

_MIN_WORDS = 3
_INTRO_WORDS = 15  # the longest line introducing a list that is shown before one item
LIST_ITEM = re.compile(r"^[ \t]*(?:[-•*–]|\d+[.)°])[ \t]+")
_HEADING_LINE = re.compile(r"^#{1,6}\s")
CELL = " | "


@dataclass(frozen=True)
class Part:
    """A piece of a passage that can be given as an answer, with its rendering."""

    hit_rank: int
    text: str  # what the answer shows (verbatim pieces of the passage)
    quote: str  # the verbatim passage text it comes from (cited)
    start: int
    kind: str  # sentence | item | list | row
    terms: frozenset[str]
    # the sentence introducing the list of an item that completes it ("Sont interdits :",
    # "les déchets contenant de l'amiante"), verbatim
    intro: str = ""


def word_count(text: str) -> int:
    return len(text.split())


def _unmark(span: Span) -> Span:
    """The span without a leading list marker."""
    marker = LIST_ITEM.match(span.text)
    if not marker:
        return span
    cut = marker.end()
    return Span(span.text[cut:], span.start + cut, span.end)


def _rows(text: str) -> list[tuple[int, str]]:
    """Lines of the passage with their offsets."""
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def table_header(before: Sequence[str], passage_text: str) -> str | None:
    """The header row of the table a passage starts in the middle of, or None.

    A long table is cut into passages between rows, so a passage may start with rows whose
    header is in an earlier passage. `before` are the texts of the passages before it, the
    nearest last. Walking back while each one ends with a row of as many columns, the
    header is the first row of the table where it starts: inside a passage, or at the start
    of the passage after one that does not end with the table."""
    first = passage_text.split("\n", 1)[0]
    if CELL not in first:
        return None
    columns = first.count(CELL)
    header: str | None = None
    for text in reversed(before):
        lines = text.rstrip("\n").split("\n")
        if CELL not in lines[-1] or lines[-1].count(CELL) != columns:
            break
        start = len(lines) - 1
        while start > 0 and CELL in lines[start - 1]:
            start -= 1
        header = lines[start]
        if start > 0:  # the table starts inside this passage
            break
    return header


def passage_parts(
    rank: int, passage: Passage, analyze: Analyzer, header_before: str | None = None
) -> list[Part]:
    """The parts of a passage; `header_before` is the header row of a table the passage
    starts in the middle of (`table_header`)."""
    text = passage.text
    parts: list[Part] = []
    lines = _rows(text)
    header: str | None = header_before
    table_lines: set[int] = set()
    table: list[tuple[int, str]] = []  # the current table's lines when its header is here

    def close_table() -> None:
        if len(table) >= 3:  # a header and two rows or more
            parts.append(_table_part(rank, text, table, analyze))

    for offset, line in lines:
        if CELL not in line:
            close_table()
            header, table = None, []
            continue
        table_lines.add(offset)
        if header is None:
            header = line
            table = [(offset, line)] if header_before is None else []
            continue
        if table:
            table.append((offset, line))
        parts.append(_row_part(rank, header, line, offset, analyze, cited=header != header_before))
    close_table()
    # lists: runs of item lines, with the line introducing them
    run: list[tuple[int, str]] = []
    intro: tuple[int, str] | None = None
    previous: tuple[int, str] | None = None
    intros: dict[int, str] = {}  # item line offset -> the line introducing its list

    def close() -> None:
        if len(run) >= 2:
            items = [LIST_ITEM.sub("", line).rstrip(" ;,.") for _, line in run]
            head = [intro[1].strip()] if intro else []
            shown = "\n".join(head + items)
            start = intro[0] if intro else run[0][0]
            end = run[-1][0] + len(run[-1][1])
            parts.append(
                Part(rank, shown, text[start:end], start, "list", frozenset(analyze(shown)))
            )

    for offset, line in lines:
        if offset in table_lines:
            continue
        if LIST_ITEM.match(line):
            if not run:
                intro = previous if previous and previous[1].rstrip().endswith(":") else None
            run.append((offset, line))
            if intro:
                intros[offset] = _last_sentence(intro[1])
        else:
            close()
            run, intro = [], None
            if line.strip():
                previous = (offset, line)
    close()
    # sentences and single items; a passage of a few words is whole, not a fragment (a FAQ's
    # "oui", "Toute personne" under its question)
    whole = word_count(text) < _MIN_WORDS
    for offset, line in lines:
        if offset in table_lines or not line.strip() or _HEADING_LINE.match(line):
            continue
        is_item = bool(LIST_ITEM.match(line))
        for n, span in enumerate(split_sentences(line)):
            span = _unmark(Span(span.text, offset + span.start, offset + span.end))
            if (word_count(span.text) < _MIN_WORDS and not whole) or (
                span.text.rstrip().endswith(":") and not is_item
            ):
                continue
            shown = span.text.rstrip(" ;,")
            kind = "item" if is_item else "sentence"
            terms = frozenset(analyze(span.text))
            # an item's first sentence that starts in lower case completes the line
            # introducing its list ("Sont interdits :" / "les déchets contenant de l'amiante")
            completes = is_item and n == 0 and shown[:1].islower()
            opening = intros.get(offset, "") if completes else ""
            parts.append(Part(rank, shown, span.text, span.start, kind, terms, opening))
    return parts


def _last_sentence(line: str) -> str:
    """The last sentence of a line introducing a list, verbatim; "" when it is longer than
    `_INTRO_WORDS` (a long sentence says more than what the items complete)."""
    spans = split_sentences(line)
    last = spans[-1].text if spans else ""
    return last if word_count(last) <= _INTRO_WORDS else ""


def _row_part(
    rank: int, header: str, row: str, offset: int, analyze: Analyzer, *, cited: bool = True
) -> Part:
    """A table row shown with its column headers ("Prix du repas : 3,10 €"). The quote is
    the header and the row when both are in the passage (`cited`), else the row alone (the
    header then comes from the passage before: a long table cut between rows)."""
    names = header.split(CELL)
    cells = row.split(CELL)
    pairs = [
        f"{name.strip()} : {cell.strip()}" if name.strip() else cell.strip()
        for name, cell in zip(names, cells, strict=False)
        if cell.strip()
    ]
    shown = " ; ".join(pairs)
    quote = f"{header}\n{row}" if cited else row
    return Part(rank, shown, quote, offset, "row", frozenset(analyze(shown)))


def _table_part(rank: int, text: str, table: Sequence[tuple[int, str]], analyze: Analyzer) -> Part:
    """A whole table, its header row first: for a question that names no row (no value, no
    day) about what the table lists ("Combien coûte la cantine ?" against a price table)."""
    start = table[0][0]
    end = table[-1][0] + len(table[-1][1])
    shown = "\n".join(line.strip() for _, line in table)
    return Part(rank, shown, text[start:end], start, "table", frozenset(analyze(shown)))


def list_head(part: Part, max_words: int) -> Part | None:
    """A list too long to give whole, cut after the items that fit (at least two), marked
    "…"; the quote stays the verbatim start of the list. None for any other part."""
    shown, quoted = part.text.split("\n"), part.quote.split("\n")
    if part.kind not in ("list", "table") or len(shown) != len(quoted):
        return None
    keep, words = 0, 0
    for line in shown:
        if words + word_count(line) > max_words - 1:
            break
        keep, words = keep + 1, words + word_count(line)
    if keep < 3:
        return None
    text = "\n".join([*shown[:keep], "…"])
    return replace(part, text=text, quote="\n".join(quoted[:keep]))
