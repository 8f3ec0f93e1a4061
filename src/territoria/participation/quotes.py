"""Verbatim quotes: a sentence of a contribution, with its id and character offsets.

Quotes are cut from the stored (pseudonymised, NFC) text only, so `text[start:end] == quote`
holds by construction, and `verify` checks it again before the report is written. A quote is
the sentence of the contribution that shares the most stems with its theme's keywords, cut at
a word boundary when longer than `max_chars`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from territoria.participation.keywords import Tokenizer

_BOUNDARY = re.compile(r"(?<=[.!?…])\s+|\n+")
_MIN_QUOTE_CHARS = 25


@dataclass(frozen=True)
class Quote:
    contribution_id: str
    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, object]:
        return {
            "contribution_id": self.contribution_id,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, without surrounding whitespace."""
    spans = []
    position = 0
    for match in _BOUNDARY.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    out = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return out


def best_sentence(
    text: str,
    stems: set[str],
    *,
    max_chars: int = 280,
    tokenizer: Tokenizer | None = None,
) -> tuple[int, int]:
    """The span of the sentence that best carries `stems`, at most `max_chars` long."""
    tokenizer = tokenizer or Tokenizer()
    best: tuple[float, int, int] | None = None
    for start, end in sentence_spans(text):
        found = tokenizer.stems(text[start:end]) & stems
        length = end - start
        score = len(found) + (0.5 if length >= _MIN_QUOTE_CHARS else 0.0)
        if best is None or score > best[0]:
            best = (score, start, end)
    if best is None:
        return 0, len(text)
    _, start, end = best
    if end - start > max_chars:
        cut = text.rfind(" ", start, start + max_chars)
        end = cut if cut > start + max_chars // 2 else start + max_chars
        while end > start and text[end - 1] in " ,;:-–":
            end -= 1
    return start, end


def representatives(
    members: Sequence[int],
    vectors: npt.NDArray[np.float32],
    centre: npt.NDArray[np.float32],
    *,
    authors: Sequence[str],
    canonical: Sequence[int],
    count: int = 3,
    max_similarity: float = 0.9,
) -> list[int]:
    """Members closest to the theme's centre: distinct authors, no duplicates, not redundant."""
    if not members:
        return []
    index = np.asarray(members)
    order = index[np.argsort(-(vectors[index] @ centre), kind="stable")]
    chosen: list[int] = []
    seen_authors: set[str] = set()
    for i in order.tolist():
        if canonical[i] != i:
            continue
        if authors[i] and authors[i] in seen_authors:
            continue
        if any(float(vectors[i] @ vectors[j]) >= max_similarity for j in chosen):
            continue
        chosen.append(i)
        if authors[i]:
            seen_authors.add(authors[i])
        if len(chosen) == count:
            break
    return chosen


def make_quote(contribution_id: str, text: str, stems: set[str], **kwargs: object) -> Quote:
    start, end = best_sentence(text, stems, **kwargs)  # type: ignore[arg-type]
    return Quote(contribution_id, start, end, text[start:end])


def verify(quotes: Iterable[Quote], texts: Mapping[str, str]) -> list[str]:
    """Problems found (empty when every quote is verbatim at its offsets, after NFC)."""
    problems = []
    for q in quotes:
        stored = texts.get(q.contribution_id)
        if stored is None:
            problems.append(f"citation d'une contribution inconnue : {q.contribution_id}")
            continue
        nfc = unicodedata.normalize("NFC", stored)
        if nfc[q.start : q.end] != unicodedata.normalize("NFC", q.text) or not q.text:
            problems.append(f"citation non littérale de {q.contribution_id} [{q.start}:{q.end}]")
    return problems
