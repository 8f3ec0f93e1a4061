"""What a question is searched by: its analysed terms, each with a weight and where it came from.

A citizen types "c koi les horraires de la dechetterie" or "et le samedi ?". Before scoring,
the question becomes a `Query`:

- its own terms (weight 1), after chat abbreviations are spelled out (`sms.expand`);
- corrections of the words the corpus does not know, found in the corpus's own vocabulary
  (`spelling.Speller`): "horraires" -> "horaires", "asso" -> "associations";
- related corpus words of a word still unknown (`synonyms`), at a lower weight;
- for a follow-up, the terms of the question it continues (`context.py`), at a lower weight.

The original terms are always kept (an identifier or a name unknown to the corpus is never
dropped). Every channel reads the same object: BM25 sums the weighted columns of `weights()`,
the dense channels embed `dense_text`, and the extractive composer scores sentences with
`weights()` so that a correction or a context term can select the sentence that answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

TermSource = Literal["question", "spelling", "synonym", "context"]


@dataclass(frozen=True)
class Term:
    """One analysed term of a query. `origin` is the word it came from (for a correction or
    a synonym, the word as typed; for a context term, the earlier question's word)."""

    term: str
    weight: float
    source: TermSource = "question"
    origin: str = ""


@dataclass(frozen=True)
class Query:
    """A question ready to be scored. `text` is the question as asked; `normalized` the same
    text with chat abbreviations spelled out; `continues` the earlier question this one
    continues ("" when it stands alone)."""

    text: str
    terms: tuple[Term, ...] = ()
    normalized: str = ""
    continues: str = ""
    context_text: str = ""  # the earlier question(s) whose terms were added, for dense search
    corrections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def weights(self) -> dict[str, float]:
        """Analysed term -> weight (the highest where a term comes from several sources)."""
        out: dict[str, float] = {}
        for t in self.terms:
            if t.weight > out.get(t.term, 0.0):
                out[t.term] = t.weight
        return out

    @property
    def dense_text(self) -> str:
        """What the dense channels embed: the question, after the question it continues."""
        base = self.normalized or self.text
        return f"{self.context_text} {base}".strip() if self.context_text else base

    @property
    def read_text(self) -> str:
        """What the kind of fact asked is read from: `dense_text` with each misspelt word
        replaced by its first correction ("c koi les horraires" asks for hours)."""
        text = self.dense_text
        for word, fixed in self.corrections.items():
            if fixed:
                text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", fixed[0], text)
        return text

    def asked_terms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.term for t in self.terms if t.source == "question"))

    def describe(self) -> dict[str, object]:
        """A JSON-able account of the rewriting (shown in the explanation sheet)."""
        return {
            "continues": self.continues,
            "corrections": {k: list(v) for k, v in self.corrections.items()},
            "terms": [
                {
                    "term": t.term,
                    "weight": round(t.weight, 3),
                    "source": t.source,
                    "origin": t.origin,
                }
                for t in self.terms
                if t.source != "question"
            ],
        }


def plain_query(text: str, terms: list[str]) -> Query:
    """A query of the question's own terms only (no rewriting)."""
    return Query(
        text=text, terms=tuple(Term(t, 1.0) for t in dict.fromkeys(terms)), normalized=text
    )
