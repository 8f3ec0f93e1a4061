"""Abstention: how strong is the evidence behind an answer?

`Evidence` gathers what an answer rests on, each in [0, 1] whatever the corpus:
- `dense`: the cosine similarity of the best passage (when a dense index exists);
- `lexical`: the best passage's BM25 score over the score a passage holding every question
  term would reach (`SearchIndex.lexical_ceiling`);
- `title_coverage`, `passage_coverage`: the idf-weighted share of the question's terms found
  in the best passage's document title, and in that passage (text, headings, title);
- `answer_dense`: the cosine similarity of the question and the part given as the answer
  (the passage embedder, USE): evidence at the level of the sentence, where the passage's
  may come from another part of it;
- `coverage`: the same share over the quoted answer (shown, not weighed).

The lexical and coverage signals weigh the question's *topic*: the words that only say which
kind of fact is asked ("combien", "coûte", "horaires", "adresse": `QuestionInfo.cues`) are
left out, since the passage that answers "Combien coûte la cantine ?" says "3,10 €", not
"combien coûte"; and a passage that only shares "horaires" with "horaires de la piscine" is
no evidence about the piscine.

`confidence` blends them with fixed weights chosen by leave-one-corpus-out validation over
five real deployments (bench/calibrate_abstain.py: the demo commune, crpa-faq, cnil-faq, 150
fiches of one domain, 5,475 national fiches). The threshold it is compared with is calibrated
for each deployment from its own corpus (`answer.calibration`), or set by the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from territoria.types import Hit

CONFIDENCE_VERSION = "evidence-16"  # 8: threshold = share of the near misses; 9, 10: composer;
# 11: cue phrases (all their words), request verbs secondary to a specific kind asked;
# 12: equal-scoring parts ordered by rank whatever the process (the part given first moves)
# 13: a section under a heading asking another question weighs less (the part given first moves)
# 14: the narrowest range holding the question's number states the rule for it
# 15: where an existence question looks ("à la cantine") may be held by the part's document
# 16: the modal verb opening a yes/no question ("Dois-je", "Faut-il") is a cue, not the topic
# weights of (dense, lexical, title coverage, passage coverage, answer dense):
# bench/calibrate_abstain.py
WEIGHTS = (3.0, 3.0, 1.0, 2.0, 3.0)


class EvidenceIndex(Protocol):
    def analyze(self, text: str) -> list[str]: ...

    def idf(self, term: str) -> float: ...

    def lexical_ceiling(self, query: str | Mapping[str, float]) -> float: ...

    def lexical_scores(
        self, query: str | Mapping[str, float], passage_ids: Sequence[str], tenant: str
    ) -> list[float]: ...


@dataclass(frozen=True)
class Evidence:
    coverage: float = 0.0
    dense: float | None = None
    lexical: float = 0.0
    title_coverage: float = 0.0
    passage_coverage: float = 0.0
    holds_kind: bool | None = None  # None: the question asks for no particular kind of fact
    answered: bool = False  # an extract was found at all
    answer_dense: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "coverage": round(self.coverage, 4),
            "dense": None if self.dense is None else round(self.dense, 4),
            "lexical": round(self.lexical, 4),
            "title_coverage": round(self.title_coverage, 4),
            "passage_coverage": round(self.passage_coverage, 4),
            "holds_kind": self.holds_kind,
            "answer_dense": None if self.answer_dense is None else round(self.answer_dense, 4),
        }


def _share(weights: dict[str, float], terms: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total else 0.0


def weigh(
    question: str,
    hits: Sequence[Hit],
    index: EvidenceIndex,
    *,
    coverage: float,
    holds_kind: bool | None,
    answered: bool,
    terms: Mapping[str, float] | None = None,
    cue_terms: Collection[str] = (),
    answer_dense: float | None = None,
) -> Evidence:
    """The evidence behind an answer to `question`. `terms` are the query's weighted analysed
    terms when it was rewritten (`Retriever.query`), by default the question's own;
    `cue_terms` are the analysed words that only name the kind of fact asked, left out of
    the topic unless the question has no other."""
    if not hits:
        return Evidence(coverage, holds_kind=holds_kind, answered=False)
    analyze: Callable[[str], list[str]] = index.analyze
    asked = dict(terms) if terms is not None else dict.fromkeys(analyze(question), 1.0)
    asked = {t: w for t, w in asked.items() if w > 0}
    topic = {t: w for t, w in asked.items() if t not in cue_terms} or asked
    weights = {t: index.idf(t) * w for t, w in topic.items()}
    top = hits[0].passage
    title = set(analyze(top.title))
    passage = set(analyze(f"{top.text}\n{top.heading_path}")) | title
    ceiling = index.lexical_ceiling(topic)
    if topic != asked:  # the hits were scored with the cue words: score the topic alone
        tenant = top.tenant  # every hit is of the caller's tenant
        scores = index.lexical_scores(topic, [h.passage.passage_id for h in hits], tenant)
    else:
        scores = [h.lexical_score or 0.0 for h in hits]
    best_lexical = max(scores)
    dense = max((h.dense_score for h in hits if h.dense_score is not None), default=None)
    return Evidence(
        coverage=coverage,
        dense=dense,
        lexical=min(1.0, best_lexical / ceiling) if ceiling > 0 else 0.0,
        title_coverage=_share(weights, title),
        passage_coverage=_share(weights, passage),
        holds_kind=holds_kind,
        answered=answered,
        answer_dense=answer_dense,
    )


def features(evidence: Evidence) -> tuple[float, ...]:
    """The weighed signals, in the order of `WEIGHTS` (dense ones 0 when absent)."""
    return (
        max(evidence.dense or 0.0, 0.0),
        evidence.lexical,
        evidence.title_coverage,
        evidence.passage_coverage,
        max(evidence.answer_dense or 0.0, 0.0),
    )


def confidence(evidence: Evidence, weights: Sequence[float] = WEIGHTS) -> float:
    """The weighted mean of the signals; without a dense index, the lexical ones alone."""
    if not evidence.answered:
        return 0.0
    w = list(weights)
    if evidence.dense is None:
        w[0] = 0.0
    if evidence.answer_dense is None:
        w[4] = 0.0
    total = sum(w)
    return sum(a * b for a, b in zip(w, features(evidence), strict=True)) / total if total else 0.0
