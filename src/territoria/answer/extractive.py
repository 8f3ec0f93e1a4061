"""Extractive answers: the part of the top passages that holds the fact asked for, quoted
verbatim, then at most one supporting part.

A passage is cut into parts a citizen could be given as an answer (`answer.parts`:
sentences, list items, whole lists, table rows with their headers, whole tables).

Each part is scored by how much of the question it covers (idf-weighted analysed terms; its
heading and the document title count for the terms they hold, and so does the rest of its
section for a table that states the kind of fact asked: a price table whose rows never say
"cantine" is still the cantine's price table), whether it holds the kind of fact the question
asks for (an amount, hours, a date, a place, a list...: `answer.question`) or is the whole
list or table of it, whether it holds the values the question names (a day, a number inside a
stated range, a period of the year), and a prior for its section's rank. The best part comes
first; a second is added only when it covers terms the first does not. A sentence that
depends on its heading ("son renouvellement coûte 25 €" under "Carte nationale d'identité")
is preceded by that heading, marked as such.

Every quoted piece (sentence, list item, table cell, header, heading) is an exact substring of
the passage it cites, so an extractive answer cannot state anything the documents do not say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from territoria.answer.parts import Analyzer, Part, list_head, passage_parts, word_count
from territoria.answer.question import (
    Kind,
    QuestionInfo,
    analyse_question,
    narrowest,
    range_match,
)
from territoria.answer.scoring import (
    IdfLookup,
    Setting,
    held_kinds,
    is_number,
    part_features,
    part_score,
    settings_of,
    share,
    term_weights,
)
from territoria.search.analysis import QUESTION_WORDS
from territoria.types import Citation, Hit, Passage

# Words that make a sentence lean on what precedes it (its heading, the previous sentence).
_ANAPHORA = re.compile(
    r"^(?:son|sa|ses|leur|leurs|il|elle|ils|elles|ce|cet|cette|ces|celui|celle|ceux|celles"
    r"|cela|ça|y|en|lui|dernier|derniere|ceci)\b",
    re.I,
)
_SUPPORT_RATIO = 0.6  # a second part must score at least this share of the first
_SUPPORT_GAIN = 0.15  # and cover this much more of the question


@dataclass(frozen=True)
class Scored:
    part: Part
    score: float
    coverage: float
    features: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Extract:
    text: str
    citations: tuple[Citation, ...]
    coverage: float  # idf-weighted share of the question's terms found in the answer
    sentences: tuple[tuple[int, str], ...]  # (citation number, quoted text)
    question: QuestionInfo | None = None
    holds_kind: bool = False  # the answer holds the kind of fact the question asks for
    # the question's numbers that fall in a range the answer states ("QF de 1200" against
    # "de 1 001 € à 1 400 €"): values the answer matched, not words it should contain
    values: frozenset[str] = frozenset()
    # what the part given first was scored on (`part_features`), and its similarity to the
    # question (the passage embedder's cosine; None without one)
    features: Mapping[str, float] = field(default_factory=dict)
    dense: float | None = None


def _context(
    part: Part, passage: Passage, q_terms: set[str], analyze: Analyzer, *, named: bool = False
) -> str:
    """The heading to show before a part that depends on it, or ""; always the heading of a
    division the question names (`named`: "l'article 7"). A list item that completes the
    line introducing its list ("L'inscription est nécessaire :") is shown after that line
    (without its colon), whose words it depends on more than on the heading's."""
    if part.intro and not named:
        return part.intro.rstrip(" :")
    if part.kind == "row" or not passage.headings:
        return ""
    heading = passage.headings[-1]
    if heading in part.text:
        return ""
    if named:
        return heading
    if part.kind == "table":  # the heading says what the table lists
        return heading
    if part.kind == "list":  # a list without the line introducing it
        return "" if part.text.split("\n", 1)[0].rstrip().endswith(":") else heading
    heading_terms = set(analyze(heading))
    needs = bool(_ANAPHORA.match(part.text)) or bool(
        (q_terms & heading_terms) - part.terms and len(passage.headings) > 1
    )
    return heading if needs else ""


Encoder = Callable[[Sequence[str]], "npt.NDArray[np.float32]"]


@dataclass(frozen=True)
class Dense:
    """The question's vector and an encoder of short texts (the passage embedder), both
    L2-normalised: the answer's own similarity to the question is part of its evidence."""

    query: npt.NDArray[np.float32]
    encode: Encoder

    def similarity(self, text: str) -> float:
        return float(np.asarray(self.encode([text]) @ self.query).reshape(-1)[0])


def score_parts(
    question: str,
    info: QuestionInfo,
    hits: Sequence[Hit],
    analyze: Analyzer,
    idf: IdfLookup,
    terms: Mapping[str, float] | None = None,
    headers: Mapping[str, str] | None = None,
    subject: frozenset[str] = frozenset(),
) -> list[Scored]:
    """Score every part of the hits (`part_score`); `terms` are the query's weighted
    analysed terms (by default, the question's own terms, weight 1); `headers` the header
    rows of tables that passages start in the middle of, by passage id (`table_header`);
    `subject` a follow-up's own subject terms (`part_features`)."""
    headers = headers or {}
    weights = term_weights(terms if terms is not None else analyze(question), idf)
    cues: dict[Kind, set[str]] = {}
    for kind, word in info.cues:
        cues.setdefault(kind, set()).update(analyze(word))
    scored: list[Scored] = []
    settings = settings_of(hits, analyze)
    for rank, hit in enumerate(hits):
        for part in passage_parts(rank, hit.passage, analyze, headers.get(hit.passage.passage_id)):
            features = part_features(
                info, part, hit, weights, cues, analyze, subject, settings[rank]
            )
            if features is not None:
                scored.append(Scored(part, part_score(features), features["coverage"], features))
    scored = _narrowest_range(scored, info)
    scored = _whole_only_if_complete(scored, settings, weights, cues)
    # rounded: parts that score the same up to the last digits of a float sum are ordered by
    # their rank and place, the same in every process
    scored.sort(key=lambda s: (-round(s.score, 9), s.part.hit_rank, s.part.start))
    # a numbered division the question names ("que dit l'article 7") is quoted from its start
    named = [s for s in scored if s.features["division"]]
    if named:
        named.sort(key=lambda s: (_ordinal(hits[s.part.hit_rank].passage), s.part.start))
        scored = named + [s for s in scored if not s.features["division"]]
    return scored


def _whole_only_if_complete(
    scored: list[Scored],
    settings: Sequence[Setting],
    weights: Mapping[str, float],
    cues: Mapping[Kind, set[str]],
) -> list[Scored]:
    """A whole table or list of the kind asked (`of_kind`) is the answer only when no other
    part holds a word of the question that it lacks, in its text, title, headings or section:
    "si on rend la salle sale, ça coûte combien ?" asks for the cleaning fee the sentence
    states, not for the whole table of rental prices."""
    wholes = [s for s in scored if s.features.get("of_kind")]
    if not wholes:
        return scored
    cue_terms = set().union(*cues.values()) if cues else set()
    topic = {t for t in weights if t not in cue_terms and not is_number(t)}
    named = set().union(*(s.part.terms & topic for s in scored if not s.features.get("of_kind")))
    out = []
    for s in scored:
        if s.features.get("of_kind"):
            setting = settings[s.part.hit_rank]
            if named - (s.part.terms | setting.around | setting.section):
                features = {**s.features, "of_kind": 0.0}
                s = Scored(s.part, part_score(features), s.coverage, features)
        out.append(s)
    return out


def _narrowest_range(scored: list[Scored], info: QuestionInfo) -> list[Scored]:
    """Where several parts state a range holding the question's number, the narrowest one
    states the rule for it, the special rule over the general one: for "un abri de 15 m²",
    "entre 5 m² et 20 m²" over "moins de 20 m²" or "plus de 5 m²". The wider ones count as
    ranges that miss it."""
    widths = {
        id(s): w
        for s in scored
        if s.features["range"] > 0
        and (w := narrowest(info.numbers, s.part.text, info.units)) is not None
    }
    if not widths:
        return scored
    best = min(widths.values())
    out = []
    for s in scored:
        if widths.get(id(s), best) > best:
            features = {**s.features, "range": -1.0}  # a range that misses it
            s = Scored(s.part, part_score(features), s.coverage, features)
        out.append(s)
    return out


def _own_score(scored: Scored) -> float:
    """A part's score on what it holds itself (no credit from the rest of its section): a
    supporting part must come near the first on its own words."""
    return part_score({**scored.features, "section": 0.0, "setting": 0.0})


def _ordinal(passage: Passage) -> int:
    """The passage's place in its document (ids end with "#<n>")."""
    tail = passage.passage_id.rpartition("#")[2]
    return int(tail) if tail.isdigit() else 0


def compose(
    question: str,
    hits: Sequence[Hit],
    *,
    analyze: Analyzer,
    idf: IdfLookup,
    max_words: int,
    terms: Mapping[str, float] | None = None,
    headers: Mapping[str, str] | None = None,
    dense: Dense | None = None,
    subject: frozenset[str] = frozenset(),
    own: str | None = None,
) -> Extract:
    """The best part of the top passages, then at most one supporting part.

    `terms` are the query's weighted analysed terms (`Retriever.query(...).weights()`:
    corrections, synonyms and a follow-up's context terms weigh less); by default, the
    question's own terms. The kind of fact asked is read from `question`. `headers` and
    `subject`: see `score_parts`. `own` is a follow-up's own text, where `question` holds the
    question it continues too: the numbers and days it names replace the earlier ones ("et
    pour un QF de 1200 ?" after a question on a QF of 600), and so does the kind of fact it
    asks with a question word of its own ("comment la contester ?" after "Combien coûte une
    amende ?" asks how, not how much)."""
    info = analyse_question(question)
    if own is not None:
        mine = analyse_question(own)
        if mine.numbers:
            info = replace(info, numbers=mine.numbers, units=mine.units)
        info = replace(info, days=mine.days or info.days)
        if any(word in QUESTION_WORDS for _, word in mine.cues):  # it asks its own kind
            info = replace(info, kinds=mine.kinds, cues=mine.cues, asked_with=mine.asked_with)
    weights = term_weights(terms if terms is not None else analyze(question), idf)
    q_terms = set(weights)
    total = sum(weights.values()) or 1.0
    chosen: list[Scored] = []
    covered: set[str] = set()
    ranked = score_parts(question, info, hits, analyze, idf, terms, headers, subject)
    for cand in ranked:
        if word_count(cand.part.text) > max_words:
            head = list_head(cand.part, max_words)
            if head is None:
                continue
            cand = Scored(head, cand.score, cand.coverage, cand.features)
        chosen.append(cand)
        covered = set(cand.part.terms & q_terms)
        break
    # a supporting part, judged on what it holds itself
    for cand in sorted(ranked, key=lambda s: -round(_own_score(s), 9)) if chosen else ():
        best = chosen[0]
        n = word_count(cand.part.text)
        gain = share(weights, (cand.part.terms & q_terms) - covered, total)
        same_document = (
            hits[cand.part.hit_rank].passage.doc_id == hits[best.part.hit_rank].passage.doc_id
        )
        # another row of the table a row answers from is another record, not support
        sibling_row = best.part.kind == "row" and cand.part.kind in ("row", "table")
        if (
            same_document
            and not sibling_row
            and _own_score(cand) >= _SUPPORT_RATIO * _own_score(best)
            and gain >= _SUPPORT_GAIN
            and word_count(best.part.text) + n <= max_words
            and cand.part.quote not in best.part.quote
            and best.part.quote not in cand.part.quote
        ):
            chosen.append(cand)
            covered |= cand.part.terms & q_terms
            break
    if not chosen:
        return Extract("", (), 0.0, (), info)
    numbers: dict[int, int] = {}
    quotes: dict[int, list[str]] = {}
    parts: list[tuple[int, str]] = []
    for cand in chosen:
        rank = cand.part.hit_rank
        n = numbers.setdefault(rank, len(numbers) + 1)
        named = bool(cand.features.get("division"))
        heading = _context(cand.part, hits[rank].passage, q_terms, analyze, named=named)
        cited = quotes.setdefault(rank, [])
        introduced = bool(cand.part.intro) and heading == cand.part.intro.rstrip(" :")
        if introduced and cand.part.intro not in cited:  # passage text: cited too
            cited.append(cand.part.intro)
        cited.append(cand.part.quote)
        shown = f"« {heading} » : {cand.part.text}" if heading else cand.part.text
        parts.append((n, shown))
        covered |= set(analyze(heading)) & q_terms if heading else set()
    citations = tuple(
        Citation(
            n=n,
            doc_id=hits[rank].passage.doc_id,
            passage_id=hits[rank].passage.passage_id,
            title=hits[rank].passage.title,
            source=hits[rank].passage.source,
            quote="\n".join(quotes[rank]),
            page=hits[rank].passage.page,
            heading=hits[rank].passage.heading_path,
        )
        for rank, n in numbers.items()
    )
    text = " ".join(f"{shown} [{n}]" for n, shown in parts)
    held = set().union(*(held_kinds(info, c.part) for c in chosen))
    for kind_held, word in info.cues:
        if kind_held in held:
            covered |= set(analyze(word)) & q_terms
    values: set[str] = set()
    if any(range_match(info.numbers, c.part.text, info.units) for c in chosen):
        values = {t for t in q_terms if is_number(t)}
        covered |= values
    coverage = sum(w for t, w in weights.items() if t in covered) / total
    kind = bool(held)
    return Extract(
        text,
        citations,
        coverage,
        tuple(parts),
        info,
        kind,
        frozenset(values),
        chosen[0].features,
        dense.similarity(chosen[0].part.text) if dense is not None else None,
    )
