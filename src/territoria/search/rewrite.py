"""Turning a question as typed into a weighted `Query` (see query.py for the whole picture).

Per word of the question (chat abbreviations spelled out first):
1. its analysed terms, weight 1, kept whatever happens, except a question word ("combien",
   "peux") that the corpus does not know: it says what is asked, not what about;
2. if the corpus knows none of them and spelling correction is on: the corrections of the
   word from the corpus vocabulary (`Speller`), at the correction's weight;
3. if still unknown and a `Related` source is given: related corpus words, at their weight
   (not for question words, nor words under `MIN_LENGTH` letters: "ça", "va", "peux"), from
   French word vectors (`word_vectors.VectorNeighbours`), which also confirm that a real
   word's correction is another form of it.
A follow-up adds the terms of the question it continues (`context.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from territoria.search.analysis import _TOKEN, QUESTION_WORDS, fold, normalize, words
from territoria.search.context import continues, merge_context
from territoria.search.query import Query, Term
from territoria.search.sms import expand
from territoria.search.spelling import MIN_LENGTH, Speller, french_words, written_form

Analyzer = Callable[[str], list[str]]
UNKNOWN_WEIGHT = 0.25  # weight of a word the corpus does not know, once corrected
# A real word's spelling correction needs this cosine similarity in the word vectors: on the
# demo, cnil-faq, crpa-faq and 5,475-fiche questions, the wrong one ("canapé" -> "canal") is
# at 0.17, the right ones ("décédé" -> "décès", "conduire" -> "conduite") 0.56-0.81.
FORM_SIMILARITY = 0.5


class Related(Protocol):
    """A source of corpus words related to a word the corpus does not know (synonyms)."""

    def related(self, word: str) -> list[tuple[str, float]]: ...

    def similarity(self, word: str, corpus_word: str) -> float | None: ...


class Vocabulary(Protocol):
    """What the rewriter needs of the lexical index."""

    analyzer: Analyzer
    words: dict[str, int]

    def knows(self, term: str) -> bool: ...


class Rewriter:
    def __init__(
        self,
        lexical: Vocabulary,
        *,
        spelling: bool = True,
        related: Related | None = None,
        context_weight: float = 0.5,
    ) -> None:
        self.lexical = lexical
        self.analyze = lexical.analyzer
        self.spelling = spelling
        self.related = related
        self.context_weight = context_weight
        self._speller: Speller | None = None

    @property
    def speller(self) -> Speller:
        """Built on first use from the index's words (a few ms per 10,000 words)."""
        if self._speller is None:
            self._speller = Speller(self.lexical.words, language=french_words())
        return self._speller

    def query(self, text: str, previous: Sequence[str] = ()) -> Query:
        """The query of `text`; `previous` are the earlier questions of the conversation, the
        most recent last. Each earlier question is rewritten in turn, so that a chain
        ("horaires de la mairie ?" / "et le jeudi ?" / "et le samedi ?") keeps its subject."""
        context: Query | None = None
        for earlier in previous[-3:]:
            own = self._own(earlier)
            context = self._continue(own, context) if context is not None else own
        own = self._own(text)
        if context is None:
            return own
        return self._continue(own, context)

    def _continue(self, own: Query, context: Query) -> Query:
        if not continues(own, context, self.analyze):
            return own
        return merge_context(own, context, self.context_weight, self.lexical.knows)

    def _own(self, text: str) -> Query:
        normalized = expand(text)
        terms: list[Term] = []
        corrections: dict[str, tuple[str, ...]] = {}
        for match in _TOKEN.finditer(normalize(normalized)):
            raw = match.group()
            found = self.analyze(raw)
            if any(c.isdigit() for c in raw) or any(self.lexical.knows(t) for t in found):
                terms.extend(Term(t, 1.0, "question", raw) for t in found)
                continue
            if fold(raw.lower()) in QUESTION_WORDS:
                # "combien", "peux", "quand" where the corpus never says them: what the
                # question asks, not what it is about; no passage holds them, so they would
                # only lower every passage's coverage (the question's kind is read from its text).
                continue
            repaired = [t for word in words(raw) for t in self._repair(word, corrections)]
            # An unknown word is kept (a name, an identifier), at a low weight once it has
            # stand-ins: no passage holds it, so it would only lower every sentence's coverage.
            # (Keeping a real word's full weight beside its related words was measured: the
            # everyday and demo gains went, the out-of-scope declines stayed the same.)
            weight = UNKNOWN_WEIGHT if repaired else 1.0
            terms.extend(Term(t, weight, "question", raw) for t in found)
            terms.extend(repaired)
        return Query(
            text=text,
            terms=tuple(terms),
            normalized=normalized,
            corrections=corrections,
        )

    def _repair(self, word: str, corrections: dict[str, tuple[str, ...]]) -> list[Term]:
        """Terms for a word whose analysed terms the corpus does not know."""
        folded = fold(word)
        out: list[Term] = []
        # its key in the word vectors ("decede" -> "décédé"), looked up only where they serve
        written = word if self.related is None else written_form(word)
        if self.spelling:
            fixed = [(w, wt) for w, wt in self.speller.correct(folded) if w != folded]
            if fixed and self.related is not None and folded in self.speller.language:
                # a real word is only another form of a corpus word its meaning confirms
                # ("décédé" -> "décès", not "canapé" -> "canal")
                related = self.related
                fixed = [(w, wt) for w, wt in fixed if _confirmed(related, written, w)]
            for candidate, weight in fixed:
                out.extend(Term(t, weight, "spelling", word) for t in self.analyze(candidate))
            if fixed:
                corrections[word] = tuple(w for w, _ in fixed)
                return out
        if self.related is not None and len(folded) >= MIN_LENGTH and folded not in QUESTION_WORDS:
            for candidate, weight in self.related.related(written):
                out.extend(Term(t, weight, "synonym", word) for t in self.analyze(candidate))
        return out


def _confirmed(related: Related, written: str, candidate: str) -> bool:
    """Whether word vectors allow `candidate` as a form of the word `written` (yes when either
    lacks a vector)."""
    similarity = related.similarity(written, candidate)
    return similarity is None or similarity >= FORM_SIMILARITY
