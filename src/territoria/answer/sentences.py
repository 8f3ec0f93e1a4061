"""Sentence splitting that keeps character offsets, so quotes stay verbatim."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? or … followed by a space and an uppercase letter, digit or quote,
# or at a line break (list items, table rows and headings are units of their own).
_BOUNDARY = re.compile(r"(?<=[.!?…])\s+(?=[«\"(A-ZÀ-Ý0-9])|\n+")
# Abbreviations after which a period does not end a sentence.
_ABBREV = re.compile(
    r"(?:\b(?:M|Mme|Mlle|MM|Dr|Me|St|Ste|art|Art|n°|no|p|cf|etc|av|bd|vol|al|ex|éd|env)\.)$"
)


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for match in _BOUNDARY.finditer(text):
        piece = text[pos : match.start()]
        if "\n" not in match.group() and _ABBREV.search(piece):
            continue
        spans.extend(_strip(text, pos, match.start()))
        pos = match.end()
    spans.extend(_strip(text, pos, len(text)))
    return spans


def _strip(text: str, start: int, end: int) -> list[Span]:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece.rstrip())
    if trail <= lead:
        return []
    return [Span(piece[lead:trail], start + lead, start + trail)]
