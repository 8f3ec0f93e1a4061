"""Extractive answers: the best supporting sentences of the top passages, kept verbatim.

Each chosen sentence is an exact substring of the passage it cites, so an extractive answer
cannot state anything the documents do not say. Sentences are scored by how much of the
question they cover (idf-weighted analysed terms), with a prior for the passage's rank.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from territoria.answer.sentences import Span, split_sentences
from territoria.types import Citation, Hit

Analyzer = Callable[[str], list[str]]
IdfLookup = Callable[[str], float]

_MAX_SENTENCES = 3
_MIN_WORDS = 3
_HEADING_LIKE = re.compile(r"^#+\s|^[-*•]\s*$")


@dataclass(frozen=True)
class Scored:
    hit_rank: int
    span: Span
    score: float
    coverage: float


@dataclass(frozen=True)
class Extract:
    text: str
    citations: tuple[Citation, ...]
    coverage: float  # idf-weighted share of the question's terms found in the cited sentences
    sentences: tuple[tuple[int, str], ...]  # (citation number, verbatim sentence)


def _words(text: str) -> int:
    return len(text.split())


def term_weights(
    question_terms: Sequence[str] | Mapping[str, float], idf: IdfLookup
) -> dict[str, float]:
    """idf of each question term, times its query weight when the terms come weighted (a
    rewritten `Query`: corrections, synonyms and context terms weigh less than asked ones)."""
    if isinstance(question_terms, Mapping):
        return {t: idf(t) * w for t, w in question_terms.items()}
    return {t: idf(t) for t in set(question_terms)}


def score_sentences(
    question_terms: Sequence[str] | Mapping[str, float],
    hits: Sequence[Hit],
    analyze: Analyzer,
    idf: IdfLookup,
) -> list[Scored]:
    weights = term_weights(question_terms, idf)
    total = sum(weights.values()) or 1.0
    scored: list[Scored] = []
    for rank, hit in enumerate(hits):
        prior = 1.0 / math.sqrt(rank + 1)
        for span in split_sentences(hit.passage.text):
            if _words(span.text) < _MIN_WORDS or _HEADING_LIKE.match(span.text):
                continue
            terms = set(analyze(span.text))
            covered = sum(w for t, w in weights.items() if t in terms) / total
            scored.append(Scored(rank, span, covered * prior, covered))
    scored.sort(key=lambda s: (-s.score, s.hit_rank, s.span.start))
    return scored


def compose(
    question: str,
    hits: Sequence[Hit],
    *,
    analyze: Analyzer,
    idf: IdfLookup,
    max_words: int,
    terms: Mapping[str, float] | None = None,
) -> Extract:
    """Pick up to three verbatim sentences (at most `max_words` words) and number citations.

    `terms` are the query's weighted analysed terms (`Retriever.query(...).weights()`); by
    default, the question's own terms."""
    q_terms: Sequence[str] | Mapping[str, float] = terms if terms is not None else analyze(question)
    chosen: list[Scored] = []
    words = 0
    for cand in score_sentences(q_terms, hits, analyze, idf):
        if cand.score <= 0 or len(chosen) == _MAX_SENTENCES:
            break
        n = _words(cand.span.text)
        if chosen and words + n > max_words:
            continue
        if not chosen and n > max_words:
            continue
        chosen.append(cand)
        words += n
    if not chosen:
        return Extract("", (), 0.0, ())
    # Keep document order inside a passage, passages in rank order.
    chosen.sort(key=lambda s: (s.hit_rank, s.span.start))
    numbers: dict[int, int] = {}
    quotes: dict[int, list[str]] = {}
    parts: list[tuple[int, str]] = []
    for cand in chosen:
        n = numbers.setdefault(cand.hit_rank, len(numbers) + 1)
        quotes.setdefault(cand.hit_rank, []).append(cand.span.text)
        parts.append((n, cand.span.text))
    citations = tuple(
        Citation(
            n=n,
            doc_id=hits[rank].passage.doc_id,
            passage_id=hits[rank].passage.passage_id,
            title=hits[rank].passage.title,
            source=hits[rank].passage.source,
            quote=" ".join(quotes[rank]),
            page=hits[rank].passage.page,
            heading=hits[rank].passage.heading_path,
        )
        for rank, n in numbers.items()
    )
    text = " ".join(f"{sentence} [{n}]" for n, sentence in parts)
    found: set[str] = set()
    for cand in chosen:
        found.update(analyze(cand.span.text))
    weights = term_weights(q_terms, idf)
    covered = sum(w for t, w in weights.items() if t in found)
    coverage = covered / (sum(weights.values()) or 1.0)
    return Extract(text, citations, coverage, tuple(parts))
