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

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from territoria.answer.parts import (
    Analyzer,
    Part,
    list_head,
    passage_parts,
    word_count,
)
from territoria.answer.question import (
    Kind,
    QuestionInfo,
    analyse_question,
    divisions_in,
    fold,
    holds,
    numbers_in,
    range_match,
    states_period,
)
from territoria.types import Citation, Hit, Passage

IdfLookup = Callable[[str], float]

_TYPE_BONUS = 1.0  # a part that holds the kind of fact asked for
_VALUE_BONUS = 0.6  # a part that holds a value the question names (a day, a number in range)
_MISS = 0.35  # a part stating ranges none of which holds the question's number
_WHOLE_BONUS = 1.0  # a whole list or table of the kind of fact asked: the kind, many times
_PERIOD = 0.7  # a part restricted to a part of the year the question does not name
# Words that make a sentence lean on what precedes it (its heading, the previous sentence).
_ANAPHORA = re.compile(
    r"^(?:son|sa|ses|leur|leurs|il|elle|ils|elles|ce|cet|cette|ces|celui|celle|ceux|celles"
    r"|cela|ça|y|en|lui|dernier|derniere|ceci)\b",
    re.I,
)
_PREAMBLE = re.compile(r"^(?:Vu|VU|Considérant|CONSIDÉRANT|Sur proposition|Après en avoir)\b")
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


def term_weights(
    question_terms: Sequence[str] | Mapping[str, float], idf: IdfLookup
) -> dict[str, float]:
    """idf of each question term, times its query weight when the terms come weighted (a
    rewritten `Query`: corrections, synonyms and context terms weigh less than asked ones)."""
    if isinstance(question_terms, Mapping):
        return {t: idf(t) * w for t, w in question_terms.items() if w > 0}
    return {t: idf(t) for t in set(question_terms)}


def _context(
    part: Part, passage: Passage, q_terms: set[str], analyze: Analyzer, *, named: bool = False
) -> str:
    """The heading to show before a part that depends on it, or ""; always the heading of a
    division the question names (`named`: "l'article 7")."""
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


def _held(info: QuestionInfo, part: Part) -> set[Kind]:
    """The kinds of fact asked for that the part holds."""
    found = {
        k
        for k in info.kinds
        if k not in ("yesno", "procedure", "list")
        and holds(k, part.text, days_asked=bool(info.days))
    }
    if part.kind in ("list", "table") and (info.asks("list") or info.asks("procedure")):
        found.add("list")
    return found


def _strongly_held(part: Part, held: set[Kind]) -> bool:
    """Hours asked and only days of the week stated is weaker evidence than the hours."""
    if held != {"time"}:
        return True
    return holds("time", part.text, days_asked=True)


Encoder = Callable[[Sequence[str]], "npt.NDArray[np.float32]"]


@dataclass(frozen=True)
class Dense:
    """The question's vector and an encoder of short texts (the passage embedder), both
    L2-normalised: the answer's own similarity to the question is part of its evidence."""

    query: npt.NDArray[np.float32]
    encode: Encoder

    def similarity(self, text: str) -> float:
        return float(np.asarray(self.encode([text]) @ self.query).reshape(-1)[0])


@dataclass(frozen=True)
class Setting:
    """Where a part stands: the terms of its passage's title and headings (`around`), the
    terms of its section among the hits (`section`: the texts of the other passages of the same
    document under the same headings; a chunker may cut a table from the sentence that says
    what it is about), and the retrieval prior of that section (`prior`: 1/sqrt(rank + 1) of
    its best-ranked passage, so a table is not ranked below its own section's prose)."""

    around: frozenset[str]
    section: frozenset[str]
    prior: float


def settings_of(hits: Sequence[Hit], analyze: Analyzer) -> list[Setting]:
    """The `Setting` of each hit's parts."""
    keys = [(h.passage.doc_id, h.passage.headings) for h in hits]
    members: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for rank, key in enumerate(keys):
        members.setdefault(key, []).append(rank)
    texts = [frozenset(analyze(h.passage.text)) for h in hits]
    out = []
    for rank, (key, h) in enumerate(zip(keys, hits, strict=True)):
        p = h.passage
        ranks = members[key]
        out.append(
            Setting(
                frozenset(analyze(" ".join([p.title, *p.headings]))),
                frozenset().union(*(texts[r] for r in ranks if r != rank)),
                1.0 / math.sqrt(ranks[0] + 1),
            )
        )
    return out


def _whole_of_kind(info: QuestionInfo, part: Part, q_terms: set[str], analyze: Analyzer) -> bool:
    """A list or table every item (row) of which states the kind of fact asked, for a
    question that asks that kind alone and names nothing to choose one item by (no number,
    no day, no word that some items hold and others not): a timetable for "Quels sont les
    horaires ?", a price table for "Combien coûte … ?"; not the table of services for
    "l'adresse des services techniques", whose row the question names."""
    asked = set(info.kinds) - {"yesno"}
    if part.kind not in ("list", "table") or info.numbers or info.days or len(asked) != 1:
        return False
    kind = next(iter(asked))
    if kind in ("list", "procedure"):
        return False
    lines = part.text.split("\n")
    if part.kind == "table" or lines[0].rstrip().endswith(":"):
        lines = lines[1:]  # the header row, the line introducing the list
    if len(lines) < 2 or not all(holds(kind, line) for line in lines):
        return False
    named = [set(analyze(line)) & q_terms for line in lines]
    return all(n == named[0] for n in named)


def part_features(
    info: QuestionInfo,
    part: Part,
    hit: Hit,
    weights: Mapping[str, float],
    cues: Mapping[Kind, set[str]],
    analyze: Analyzer,
    subject: frozenset[str] = frozenset(),
    setting: Setting | None = None,
) -> dict[str, float] | None:
    """What a part is scored on; None when it cannot answer (it shares no word with the
    question, and does not state a kind of fact asked under a section heading that holds
    the question's words, nor is data of that kind (a row, a whole table or list of it) whose
    title, headings or section hold them, nor answers a title that is a question holding
    them: a FAQ's "Toute personne", "oui").

    - `coverage`: idf-weighted share of the question's terms the part holds (a term a held
      kind of fact answers counts: "combien" is answered by an amount); `context`: the share
      held only by its title and headings (counted whole when the title is a question,
      as a FAQ's are: the question the passage answers; half otherwise); `section`: for a
      row or table that holds the kind of fact asked, the share held only by the text of
      its section among the hits (numbers aside: a value must be in the part itself):
      "cantine" said in the sentence beside the price table carries the table (`Setting`);
    - `kind`: it holds the kind of fact asked (1; 0.5 when only days of the week answer
      hours); `day`: it names a day the question names; `range`: a number of the question
      is inside a range it states (1), or outside all of them (-1); `key`: the part is a
      table row whose first cell states a number the question names;
    - `division`: the question names a numbered division ("l'article 7") and the part's own
      heading is that division ("Article 7 - Déchets refusés"): kept even when it shares no
      word with the question;
    - `rank`: 1/sqrt(rank + 1) of the best-ranked passage of its section; `long`: its words
      past 30, per 60 (not for a row or a whole table: a record, not prose);
    - `list_fit`: a whole list where a list, a procedure or a whole division is asked, a
      whole table where a list is asked and no row is named (1: a whole table is a part
      only then); a whole list where they are not (-1); `of_kind`: a whole list or table
      every item of which states the one kind of fact asked, for a question that names no
      value to choose one by;
    - `preamble`: "Vu…", "Considérant…" (the grounds of a decision, not the decision);
    - `period`: the part restricts itself to a part of the year ("Du 7 juillet au 29
      août…") that the question does not name, nor asks a date or duration: the exception,
      where the question asks for the rule ("Quels sont les horaires de la mairie ?");
    - `off_subject`: a follow-up names its own subject ("et la bibliothèque, le samedi ?"
      after a question on the marché: `subject`) and neither the part nor its passage's
      title and headings name any of it: an answer about the earlier subject."""
    p = hit.passage
    q_terms = set(weights)
    total = sum(weights.values()) or 1.0
    if setting is None:
        setting = Setting(
            frozenset(analyze(" ".join([p.title, *p.headings]))),
            frozenset(),
            1.0 / math.sqrt(part.hit_rank + 1),
        )
    around = setting.around
    held = _held(info, part)
    answered = part.terms.union(*(cues.get(k, set()) for k in held))
    # the division the question names ("article 7"), the whole of which is asked
    division = bool(info.divisions and p.headings) and set(info.divisions) <= divisions_in(
        p.headings[-1]
    )
    # a part without a word of the question answers by its setting: its own section's
    # heading names the question's words, or it is data of the kind asked (a table row, a
    # whole table or list of that kind) whose title, headings or section name them
    of_kind = _whole_of_kind(info, part, q_terms, analyze)
    data = part.kind in ("row", "table") or of_kind
    heading = set(analyze(p.headings[-1])) if len(p.headings) > 1 else set()
    carried = heading | (around | setting.section if data else set())
    # a FAQ's answer ("Toute personne", "oui") answers the question its title asks
    asked_by_title = p.title.rstrip().endswith("?") and bool(q_terms & around)
    if not (part.terms & q_terms or (held and q_terms & carried) or division or asked_by_title):
        return None
    in_range = range_match(info.numbers, part.text) if part.kind != "table" else None
    # a table row whose first cell (the row's key) states a number the question names
    # ("pour 2h" against "Durée de stationnement : 2 heures ; Tarif : 2,00 €")
    key = part.kind == "row" and bool(
        set(info.numbers) & set(numbers_in(part.text.split(" ; ", 1)[0]))
    )
    list_fit = 0.0
    if part.kind == "list":
        whole = info.asks("list") or info.asks("procedure") or division or of_kind
        list_fit = 1.0 if whole else -1.0
    elif part.kind == "table":
        if not (info.asks("list") or of_kind) or info.numbers or info.days:
            return None  # its rows answer, each with its headers
        list_fit = 1.0
    in_context = {t for t in q_terms if t in around and t not in answered}
    in_section = {
        t
        for t in q_terms
        if held
        and part.kind in ("row", "table")
        and t in setting.section
        and t not in answered | in_context
        and not _is_number(t)
    }
    period = 0.0
    if states_period(part.text):
        if info.period:
            period = 1.0
        elif not (info.asks("date") or info.asks("duration")):
            period = -1.0
    return {
        "coverage": sum(w for t, w in weights.items() if t in answered) / total,
        "context": sum(weights[t] for t in in_context) / total,
        "section": sum(weights[t] for t in in_section) / total,
        "kind": (1.0 if _strongly_held(part, held) else 0.5) if held else 0.0,
        "day": float(bool(info.days) and any(d in fold(part.text) for d in info.days)),
        "division": float(division),
        "range": 0.0 if in_range is None else (1.0 if in_range else -1.0),
        "key": float(key),
        "rank": setting.prior,
        "long": 0.0 if part.kind in ("row", "table") else max(0, word_count(part.text) - 30) / 60,
        "list_fit": list_fit,
        "of_kind": float(of_kind),
        "preamble": float(bool(_PREAMBLE.match(part.text))),
        "period": period,
        "off_subject": float(bool(subject) and not subject & (part.terms | around)),
        "title_question": float(p.title.rstrip().endswith("?")),
    }


def part_score(f: Mapping[str, float]) -> float:
    """How well a part answers: its coverage (the words only its headings or its section
    hold count half), raised when it holds the kind of fact asked, a value the question
    names, or is a whole list or table of that kind of fact; lowered when it states ranges
    that miss the question's number, is a preamble, restricted to a period not asked, a
    whole list where one item is asked, off a follow-up's subject, or long; times a prior
    for its section's rank.
    Set by hand on the kinds of fact public documents state; a logistic regression on the
    same features trained on real FAQ corpora did worse, on them and on the demo
    (bench/train_part_ranker.py)."""
    values = f["day"] + (f["range"] > 0) + f["division"] + f.get("key", 0.0)
    values += f.get("period", 0.0) > 0
    factor = 1.0 + _TYPE_BONUS * f["kind"] + _VALUE_BONUS * values
    factor += _WHOLE_BONUS * f.get("of_kind", 0.0)
    if f["range"] < 0:
        factor *= _MISS
    if f["preamble"]:
        factor *= 0.5
    if f.get("period", 0.0) < 0:
        factor *= _PERIOD
    if f["list_fit"] < 0:
        factor *= 0.7
    if f.get("off_subject"):
        factor *= 0.5
    heading = 1.0 if f.get("title_question") else 0.5
    coverage = f["coverage"] + heading * f["context"] + 0.5 * f.get("section", 0.0)
    return coverage * factor * f["rank"] / (1.0 + f["long"])


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
    scored = _whole_only_if_complete(scored, settings, weights, cues)
    scored.sort(key=lambda s: (-s.score, s.part.hit_rank, s.part.start))
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
    topic = {t for t in weights if t not in cue_terms and not _is_number(t)}
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


def _own_score(scored: Scored) -> float:
    """A part's score on what it holds itself (no credit from the rest of its section): a
    supporting part must come near the first on its own words."""
    return part_score({**scored.features, "section": 0.0})


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
) -> Extract:
    """The best part of the top passages, then at most one supporting part.

    `terms` are the query's weighted analysed terms (`Retriever.query(...).weights()`:
    corrections, synonyms and a follow-up's context terms weigh less); by default, the
    question's own terms. The kind of fact asked is read from `question`. `headers` and
    `subject`: see `score_parts`."""
    info = analyse_question(question)
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
    for cand in sorted(ranked, key=lambda s: -_own_score(s)) if chosen else ():
        best = chosen[0]
        n = word_count(cand.part.text)
        gain = sum(weights[t] for t in (cand.part.terms & q_terms) - covered) / total
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
        quotes.setdefault(rank, []).append(cand.part.quote)
        named = bool(cand.features.get("division"))
        heading = _context(cand.part, hits[rank].passage, q_terms, analyze, named=named)
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
    held = set().union(*(_held(info, c.part) for c in chosen))
    for kind_held, word in info.cues:
        if kind_held in held:
            covered |= set(analyze(word)) & q_terms
    values: set[str] = set()
    if any(range_match(info.numbers, c.part.text) for c in chosen):
        values = {t for t in q_terms if _is_number(t)}
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


def _is_number(term: str) -> bool:
    return term.replace(",", "").replace(".", "").isdigit()
