"""Abstention calibrated for each deployment, from its own corpus.

One threshold cannot fit every corpus: the same confidence that is weak evidence among 15
documents of a commune is strong among 50,000 passages of national fiches, and the other way
round. So the threshold is derived from the deployment's own documents when its index is
built, and stored beside the index:

- positives: questions written from the corpus itself (a few content words of a sentence,
  sometimes a word of its document's title, sometimes a word from elsewhere in the corpus, as
  people mix the words of the text with their own), asked of the whole corpus. Writing a
  share of them the way citizens type (`citizen_form`: a question frame, everyday words the
  corpus may lack, politeness, no accents, typos; `citizen_share`) lowers the threshold: more
  everyday questions answered on the demo, but fewer real out-of-scope questions declined on
  cnil-faq and the demo (bench/calibrate_abstain.py), so the product keeps plain questions;
- negatives: the same questions asked of the corpus *without the document they come from*:
  exactly the questions a deployment meets about documents it does not hold, in its own
  domain and vocabulary (near misses), the hardest ones to decline;
- the threshold declines a fixed share of the near misses (`NEAR_MISSES_DECLINED`, the
  quantile of their confidences: `near_miss_threshold`). The share was chosen by leaving one
  deployment out over five real ones (bench/calibrate_abstain.py), against the rule that
  best separates positives from negatives (Youden's J, `choose_threshold`): the separating
  rule follows the positives, which are easier than real questions, and answered 25 % of the
  real out-of-scope questions on the 5,475-fiche corpus and 12 % on cnil-faq; the quantile
  depends only on what the deployment must decline.

The operator may override it (`Settings.abstain_threshold`); `territoria documents` and the
admin page show which one applies and how it was obtained.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from territoria.answer.sentences import split_sentences
from territoria.french_numbers import french, number
from territoria.search.analysis import fold
from territoria.search.spelling import french_counts
from territoria.types import Access, Passage

if TYPE_CHECKING:
    from territoria.search import Lexicon

CALIBRATION_FORMAT = 1
# Everyday French around a question, general and never from a corpus: how people open and
# close what they type (frames), and the share of everyday words they add.
_FRAMES = (
    "bonjour", "bonjour je voudrais savoir", "je voudrais savoir", "est-ce que", "comment",
    "comment faire pour", "c'est quand", "c'est combien", "on peut", "il faut", "quel est",
    "j'ai une question", "svp", "je cherche", "c quoi", "ou trouver", "qui contacter pour",
)  # fmt: skip
_CLOSINGS = ("svp", "merci", "merci d'avance", "stp", "?", "??", "svp merci")
_EVERYDAY_RANKS = (150, 5000)  # frequency ranks of the everyday words added (past grammar)
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_MIN_SENTENCE_WORDS = 6


@dataclass(frozen=True)
class Calibration:
    """The abstention threshold of one tenant's corpus and how it was obtained."""

    threshold: float
    questions: int = 0  # synthetic questions asked (each as a positive and a negative)
    answered_positives: float = 0.0  # share of positives above the threshold
    declined_negatives: float = 0.0  # share of negatives below it
    documents: int = 0
    passages: int = 0
    method: str = "corpus"

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @property
    def source(self) -> str:
        """How the threshold was obtained: "corpus" (calibrated) or "défaut" (too few
        documents)."""
        return "corpus" if self.method == "corpus" else "défaut"


@dataclass
class CalibrationSet:
    """The calibration of every tenant of an index, stamped with the index it was made on."""

    stamp: dict[str, object]
    tenants: dict[str, Calibration] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "format": CALIBRATION_FORMAT,
            "stamp": self.stamp,
            "tenants": {t: c.to_json() for t, c in self.tenants.items()},
        }
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> CalibrationSet | None:
        """The set `to_json` wrote (None for another format or damaged data)."""
        try:
            data = json.loads(text)
            if data.get("format") != CALIBRATION_FORMAT:
                return None
            tenants = {t: Calibration(**c) for t, c in data["tenants"].items()}
            return cls(data["stamp"], tenants)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> CalibrationSet | None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        return cls.from_json(text)


@lru_cache(maxsize=1)
def everyday_words() -> tuple[str, ...]:
    """Words of everyday French past the grammatical ones (frequency ranks 150 to 5,000 of
    pyspellchecker's French list, counted on film subtitles: "demain", "boulot", "passer",
    "fils"), the words people add around what they ask."""
    counts = french_counts()
    ranked = sorted(counts, key=lambda w: -counts[w])
    lo, hi = _EVERYDAY_RANKS
    return tuple(w for w in ranked[lo:hi] if w.isalpha() and len(w) >= 3)


def _typo(word: str, rng: random.Random) -> str:
    """One slip of the keyboard: a letter dropped, doubled, or two swapped."""
    i = rng.randrange(1, len(word) - 1)
    slip = rng.randrange(3)
    if slip == 0:
        return word[:i] + word[i + 1 :]
    if slip == 1:
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def citizen_form(question: str, rng: random.Random, everyday: Sequence[str]) -> str:
    """`question` written as a citizen might type it: each of these with its own chance, a
    question frame before it ("bonjour je voudrais savoir", "c'est quand"), one to three
    everyday words slipped in (`everyday_words`), a closing ("svp", "merci"), accents
    dropped, all in lower case, a typo in a long word. A general process: nothing in it
    comes from a corpus."""
    words = question.split()
    if everyday and rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randint(0, len(words)), rng.choice(everyday))
    words = [_typo(w, rng) if len(w) >= 5 and rng.random() < 0.08 else w for w in words]
    if rng.random() < 0.6:
        words.insert(0, rng.choice(_FRAMES))
    if rng.random() < 0.3:
        words.append(rng.choice(_CLOSINGS))
    text = " ".join(words)
    if rng.random() < 0.5:
        text = fold(text)
    return text.lower() if rng.random() < 0.5 else text


def synthetic_questions(
    passages: Sequence[Passage],
    analyze: Callable[[str], list[str]],
    idf: Callable[[str], float],
    *,
    n: int,
    seed: int = 0,
    citizen_share: float = 0.0,
) -> list[tuple[str, str]]:
    """Up to `n` (doc_id, question) pairs, one document at a time, reproducible; a share
    `citizen_share` of them written as citizens type (`citizen_form`)."""
    rng = random.Random(seed)
    everyday = everyday_words() if citizen_share > 0 else ()
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    docs = sorted(by_doc)
    rng.shuffle(docs)
    all_words = [
        w for p in passages[:: max(1, len(passages) // 500)] for w in _WORD.findall(p.text)
    ]
    out: list[tuple[str, str]] = []
    rounds = 0
    while len(out) < n and docs and rounds < 20:
        rounds += 1
        for doc_id in docs:
            if len(out) >= n:
                break
            question = _question(rng.choice(by_doc[doc_id]), analyze, idf, rng, all_words)
            if question:
                if rng.random() < citizen_share:
                    question = citizen_form(question, rng, everyday)
                out.append((doc_id, question))
    return out


def _question(
    passage: Passage,
    analyze: Callable[[str], list[str]],
    idf: Callable[[str], float],
    rng: random.Random,
    noise: Sequence[str],
) -> str:
    sentences = [
        s.text for s in split_sentences(passage.text) if len(s.text.split()) >= _MIN_SENTENCE_WORDS
    ]
    if not sentences:
        return ""
    words: list[str] = []
    for word in _WORD.findall(rng.choice(sentences)):
        terms = analyze(word)
        if terms and word.lower() not in {w.lower() for w in words}:
            words.append(word)
    if len(words) < 2:
        return ""
    k = min(len(words), rng.choice((2, 3, 3, 4)))
    weights = [max(idf(analyze(w)[0]), 0.1) for w in words]
    picked: set[int] = set()
    while len(picked) < k:
        picked.add(rng.choices(range(len(words)), weights)[0])
    chosen = [words[i] for i in sorted(picked)]
    title = [w for w in _WORD.findall(passage.title) if analyze(w)]
    if title and rng.random() < 0.5:
        chosen.insert(0, rng.choice(title))
    if noise and rng.random() < 0.5:
        extra = rng.choice(noise)
        if analyze(extra):
            chosen.append(extra)
    return " ".join(chosen)


Progress = Callable[[int, int, str], None]
MIN_DOCUMENTS = 10  # fewer: too few to learn from; FALLBACK_THRESHOLD applies
FALLBACK_THRESHOLD = 0.35  # between the thresholds of the five bench corpora
STALE_SHARE = 0.05  # recalibrate when a tenant's passages changed by more than this


class Asker(Protocol):
    """What calibration needs of the assistant: the evidence of a question, with documents
    left out."""

    def evidence_confidence(
        self, question: str, *, access: Access, exclude: Collection[str] = ()
    ) -> float: ...


def calibrate(
    asker: Asker,
    lexicon: Lexicon,
    passages: Sequence[Passage],
    tenant: str,
    *,
    n: int,
    progress: Progress | None = None,
) -> Calibration:
    """The threshold of one tenant's corpus from `n` synthetic questions (see the module)."""
    docs = {p.doc_id for p in passages}
    if len(docs) < MIN_DOCUMENTS:
        return Calibration(
            FALLBACK_THRESHOLD, documents=len(docs), passages=len(passages), method="défaut"
        )
    questions = synthetic_questions(passages, lexicon.analyze, lexicon.idf, n=n, seed=len(docs))
    access = Access(role="admin", tenant=tenant)  # every visibility: the whole corpus
    positives, negatives = [], []
    for i, (doc_id, question) in enumerate(questions, start=1):
        positives.append(asker.evidence_confidence(question, access=access))
        holding = lexicon.documents_with_all_terms(question, tenant) | {doc_id}
        negatives.append(asker.evidence_confidence(question, access=access, exclude=holding))
        if progress:
            progress(i, len(questions), "calibrage de l'abstention")
    threshold = near_miss_threshold(negatives)
    answered, declined = rates(threshold, positives, negatives)
    return Calibration(
        round(threshold, 4),
        questions=len(questions),
        answered_positives=round(answered, 4),
        declined_negatives=round(declined, 4),
        documents=len(docs),
        passages=len(passages),
    )


@dataclass(frozen=True)
class ThresholdState:
    """The abstention threshold of one tenant as it stands, for operators (`describe`)."""

    tenant: str
    threshold: float | None  # None: to be calibrated (at the next question)
    source: str  # "réglage" (the operator), "corpus" (calibrated), "défaut", "à calculer"
    calibration: Calibration | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "tenant": self.tenant,
            "threshold": self.threshold,
            "source": self.source,
            "calibration": self.calibration.to_json() if self.calibration else None,
            "text": describe(self),
        }


def describe(state: ThresholdState) -> str:
    """One French sentence: the threshold, where it comes from, how to change it."""
    c = state.calibration
    if state.source == "réglage" and state.threshold is not None:
        return (
            f"Seuil d'abstention : {french(f'{state.threshold:g}')}, fixé par l'opérateur "
            "(TERRITORIA_ABSTAIN_THRESHOLD)."
        )
    if state.threshold is None or c is None:
        return (
            "Seuil d'abstention : pas encore calibré pour le corpus actuel ; il le sera à la "
            "prochaine question ou par « territoria index vectors »."
        )
    if state.source == "défaut":
        return (
            f"Seuil d'abstention : {number(state.threshold, 3)}, valeur par défaut "
            f"({c.documents} document(s) : moins de {MIN_DOCUMENTS}, trop peu pour calibrer). "
            "Réglable par TERRITORIA_ABSTAIN_THRESHOLD."
        )
    return (
        f"Seuil d'abstention : {number(state.threshold, 3)}, calibré sur ce corpus "
        f"({c.documents} documents, {c.passages} passages) : {c.questions} questions tirées "
        f"des documents, {c.answered_positives * 100:.0f} % répondues ; posées sans le "
        f"document qui y répond, {c.declined_negatives * 100:.0f} % écartées. Réglable par "
        "TERRITORIA_ABSTAIN_THRESHOLD."
    )


def is_current(calibration: Calibration, passages: int) -> bool:
    """Whether a tenant's calibration still fits a corpus of `passages` passages."""
    before = max(calibration.passages, 1)
    return abs(passages - calibration.passages) <= STALE_SHARE * before


NEAR_MISSES_DECLINED = 0.85  # bench/calibrate_abstain.py: chosen leaving one deployment out


def near_miss_threshold(
    negatives: Sequence[float], declined: float = NEAR_MISSES_DECLINED
) -> float:
    """The confidence under which `declined` of the near misses fall (a quantile)."""
    if not len(negatives):
        return 0.0
    return float(np.quantile(np.asarray(negatives, dtype=np.float64), declined))


def choose_threshold(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """The threshold that best separates positives (answer) from negatives (decline):
    the largest sum of the two rates (Youden's J); ties go to the lower threshold."""
    pos = np.sort(np.asarray(positives, dtype=np.float64))
    neg = np.sort(np.asarray(negatives, dtype=np.float64))
    if not len(pos) or not len(neg):
        return 0.0
    candidates = np.unique(np.concatenate([pos, neg, [math.nextafter(pos.max(), math.inf)]]))
    answered = 1.0 - np.searchsorted(pos, candidates, side="left") / len(pos)
    declined = np.searchsorted(neg, candidates, side="left") / len(neg)
    best = int(np.argmax(answered + declined))
    return float(candidates[best])


def rates(
    threshold: float, positives: Sequence[float], negatives: Sequence[float]
) -> tuple[float, float]:
    pos = np.asarray(positives, dtype=np.float64)
    neg = np.asarray(negatives, dtype=np.float64)
    answered = float(np.mean(pos >= threshold)) if len(pos) else 0.0
    declined = float(np.mean(neg < threshold)) if len(neg) else 0.0
    return answered, declined
