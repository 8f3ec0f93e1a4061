"""How well a part of a passage answers a question: what it is scored on, and its score.

A part (`answer.parts`) is scored by how much of the question it covers (idf-weighted
analysed terms; its heading and the document title count for the terms they hold, and so
does the rest of its section for a table that states the kind of fact asked: a price table
whose rows never say "cantine" is still the cantine's price table), whether it holds the
kind of fact the question asks for (an amount, hours, a date, a place, a list...:
`answer.question`) or is the whole list or table of it, whether it holds the values the
question names (a day, a number inside a stated range, a period of the year), and a prior
for its section's rank. `answer.extractive` composes the answer from the best parts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from territoria.answer.parts import Analyzer, Part, word_count
from territoria.answer.question import (
    Kind,
    QuestionInfo,
    asks_another,
    divisions_in,
    fold,
    holds,
    holds_weakly,
    numbers_in,
    range_match,
    states_period,
)
from territoria.types import Hit

IdfLookup = Callable[[str], float]

_TYPE_BONUS = 1.0  # a part that holds the kind of fact asked for
_VALUE_BONUS = 0.6  # a part that holds a value the question names (a day, a number in range)
_MISS = 0.35  # a part stating ranges none of which holds the question's number
_WHOLE_BONUS = 1.0  # a whole list or table of the kind of fact asked: the kind, many times
_PERIOD = 0.7  # a part restricted to a part of the year the question does not name

_PREAMBLE = re.compile(r"^(?:Vu|VU|Considérant|CONSIDÉRANT|Sur proposition|Après en avoir)\b")


def share(weights: Mapping[str, float], terms: Collection[str], total: float) -> float:
    """The weight of `terms` over `total`, summed in the order of `weights` (a set's order
    follows the process's string hashing: summed in it, equal scores would differ in their
    last digits from one process to the next, and so would the part chosen)."""
    return sum(w for t, w in weights.items() if t in terms) / total


def term_weights(
    question_terms: Sequence[str] | Mapping[str, float], idf: IdfLookup
) -> dict[str, float]:
    """idf of each question term, times its query weight when the terms come weighted (a
    rewritten `Query`: corrections, synonyms and context terms weigh less than asked ones)."""
    if isinstance(question_terms, Mapping):
        return {t: idf(t) * w for t, w in question_terms.items() if w > 0}
    return {t: idf(t) for t in set(question_terms)}


def held_kinds(info: QuestionInfo, part: Part) -> set[Kind]:
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


def _strongly_held(part: Part, held: set[Kind]) -> set[Kind]:
    """The kinds held that the part states fully (`holds_weakly`: days of the week without
    hours, a place without an address, are weaker evidence)."""
    return {k for k in held if not holds_weakly(k, part.text)}


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
    document: frozenset[str] = frozenset()  # the terms of its document's hits


def settings_of(hits: Sequence[Hit], analyze: Analyzer) -> list[Setting]:
    """The `Setting` of each hit's parts."""
    keys = [(h.passage.doc_id, h.passage.headings) for h in hits]
    members: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for rank, key in enumerate(keys):
        members.setdefault(key, []).append(rank)
    texts = [frozenset(analyze(h.passage.text)) for h in hits]
    arounds = [frozenset(analyze(" ".join([h.passage.title, *h.passage.headings]))) for h in hits]
    documents: dict[str, set[str]] = {}
    for h, text, around in zip(hits, texts, arounds, strict=True):
        documents.setdefault(h.passage.doc_id, set()).update(text, around)
    out = []
    for rank, (key, h) in enumerate(zip(keys, hits, strict=True)):
        p = h.passage
        ranks = members[key]
        out.append(
            Setting(
                arounds[rank],
                frozenset().union(*(texts[r] for r in ranks if r != rank)),
                1.0 / math.sqrt(ranks[0] + 1),
                frozenset(documents[p.doc_id]),
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

    - `coverage`: idf-weighted share of the question's terms the part holds (a term a
      kind of fact it states fully answers counts: "combien" is answered by an amount, not
      "horaires" by a day without hours); `context`: the share held only by its title and
      headings (counted whole when the title is a question, as a FAQ's are: the question
      the passage answers; half otherwise); `context_asked`: the part of it held by a
      heading that is a question ("Comment faire la demande ?"), counted whole; `section`: for a
      row or table that holds the kind of fact asked, the share held only by the text of
      its section among the hits (numbers aside: a value must be in the part itself):
      "cantine" said in the sentence beside the price table carries the table (`Setting`);
      `setting`: the share of the place an existence question looks in ("Y a-t-il des repas
      végétariens à la cantine ?": `existence_setting`) held only by the rest of the part's
      document among the hits (counted half: the sentence that answers need not repeat it);
    - `kind`: it holds the kind of fact asked (1; 0.5 when it holds it only weakly:
      `holds_weakly`); `day`: it names a day the question names; `range`: a number of the question
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
      title and headings name any of it: an answer about the earlier subject;
    - `other_question`: the part's section heading is a question asked with other question
      words, about other kinds of fact ("Qui doit être inscrit ?" for "Quand inscrire … ?":
      `asks_another`): its parts answer that question, not this one."""
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
    held = held_kinds(info, part)
    answered = part.terms.union(*(cues.get(k, set()) for k in _strongly_held(part, held)))
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
    title_question = p.title.rstrip().endswith("?")
    asked_by_title = title_question and bool(q_terms & around)
    if not (part.terms & q_terms or (held and q_terms & carried) or division or asked_by_title):
        return None
    in_range = range_match(info.numbers, part.text, info.units) if part.kind != "table" else None
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
    # a heading that is a question is the question its section answers, as a FAQ's title is
    asked = {h for h in p.headings if h.rstrip().endswith("?")}
    in_asked = in_context & set(analyze(" ".join(asked))) if asked else set()
    in_section = {
        t
        for t in q_terms
        if held
        and part.kind in ("row", "table")
        and t in setting.section
        and t not in answered | in_context
        and not is_number(t)
    }
    # where the question looks for what it asks exists: said elsewhere in the part's document
    at = set(analyze(info.setting)) if info.setting else set()
    in_setting = {
        t for t in at & q_terms if t in setting.document and t not in answered | in_context
    }
    period = 0.0
    if states_period(part.text):
        if info.period:
            period = 1.0
        elif not (info.asks("date") or info.asks("duration")):
            period = -1.0
    return {
        "coverage": sum(w for t, w in weights.items() if t in answered) / total,
        "context": share(weights, in_context, total),
        "context_asked": share(weights, in_asked, total),
        "section": share(weights, in_section, total),
        "setting": share(weights, in_setting, total),
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
        "other_question": float(len(p.headings) > 1 and asks_another(p.headings[-1], info)),
        "title_question": float(title_question),
    }


def part_score(f: Mapping[str, float]) -> float:
    """How well a part answers: its coverage (the words only its headings, its section or,
    for the place an existence question looks in, its document hold count half), raised
    when it holds the kind of fact asked, a value the question names, or is a whole list or
    table of that kind of fact; lowered when it states ranges that miss the question's
    number, is a preamble, restricted to a period not asked, a whole list where one item is
    asked, off a follow-up's subject or under a heading asking another question, or long;
    times a prior for its section's rank.
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
    if f.get("off_subject") or f.get("other_question"):
        factor *= 0.5
    heading = 1.0 if f.get("title_question") else 0.5
    asked = 0.0 if f.get("title_question") else 0.5 * f.get("context_asked", 0.0)
    coverage = f["coverage"] + heading * f["context"] + asked
    coverage += 0.5 * (f.get("section", 0.0) + f.get("setting", 0.0))
    return coverage * factor * f["rank"] / (1.0 + f["long"])


def is_number(term: str) -> bool:
    return term.replace(",", "").replace(".", "").isdigit()
