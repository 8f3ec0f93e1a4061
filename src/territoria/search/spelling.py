"""Spelling correction of query words against the corpus's own vocabulary.

Only a word the index does not know is corrected ("horraires", "decheterie", "asso"); a word
the corpus contains is never changed, so identifiers, names and rare terms are safe. The
candidates are the corpus's words (accent-folded, lower case, with their frequencies) within
an edit distance that grows with the word's length, as Elasticsearch's `fuzziness: AUTO`
(here AUTO:4,6): no correction under 4 letters, 1 edit from 4 to 5 letters, 2 from 6 on.
Edits are optimal string alignment (a transposition counts as one), by rapidfuzz.

Among the candidates at the smallest distance, the most frequent wins; a second one is kept,
at a weight in proportion to its frequency, when it is almost as frequent. A word with no
candidate that is the beginning of corpus words ("asso", "biblio", "urba") is completed to
the most frequent of them: the truncations people type.

A word of everyday French that the corpus happens not to use ("fils", "chasser", "boulot")
is not a typo: it is never "corrected" into a corpus word that looks like it ("film",
"chaises"), only into another form of itself (same first letters but the last two:
"malade" -> "maladie"; the rewriter asks word vectors to confirm it: "canapé" is no form of
"canal"). French words are those of pyspellchecker's French word-frequency list (about
140,000 forms counted on subtitles) seen at least `FRENCH_MIN_COUNT` times: rarer forms of
that list are often typos themselves. The list is read (0.4 s) the first time a word is
looked up.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from importlib import resources

from rapidfuzz import process
from rapidfuzz.distance import OSA

from territoria.search.analysis import QUESTION_WORDS, fold, normalize, words

MIN_LENGTH = 4  # shorter words are abbreviations, not typos (see sms.py)
_SECOND = 0.5  # a second candidate is kept when at least this share of the first's frequency
_MAX_CANDIDATES = 2
FRENCH_MIN_COUNT = 50  # a form of the French frequency list seen fewer times may be a typo


@lru_cache(maxsize=1)
def french_counts() -> dict[str, int]:
    """pyspellchecker's French word-frequency list: about 140,000 forms (accented, lower
    case) and how often each was seen in film subtitles (50 times at least)."""
    data = resources.files("spellchecker") / "resources" / "fr.json.gz"
    counts: dict[str, int] = json.loads(gzip.decompress(data.read_bytes()))
    return counts


@lru_cache(maxsize=1)
def _folded_forms() -> list[tuple[str, str, int]]:
    """(folded form, form, count) of each form of the French list, the most frequent last:
    folded once (0.35 s), for `french_words` and `written_form` alike."""
    forms = ((fold(w.lower()), w, n) for w, n in french_counts().items())
    return sorted(forms, key=lambda form: form[2])


@lru_cache(maxsize=1)
def french_words() -> frozenset[str]:
    """Accent-folded lower-case words of everyday French (see the module docstring)."""
    return frozenset(f for f, _, n in _folded_forms() if n >= FRENCH_MIN_COUNT)


@lru_cache(maxsize=1)
def _written_forms() -> dict[str, str]:
    return {folded: form for folded, form, _ in _folded_forms()}  # the most frequent stays


def written_form(word: str) -> str:
    """`word` as French usually writes it, accents included ("decede" -> "décédé"): the
    most frequent form of the French list with the same letters; `word` when none."""
    if not word.isascii():
        return word
    return _written_forms().get(word, word)


def max_edits(word: str) -> int:
    """Edits allowed for a word of this length (Elasticsearch fuzziness AUTO:4,6)."""
    n = len(word)
    if n < MIN_LENGTH:
        return 0
    return 1 if n < 6 else 2


def count_words(texts: Iterable[str]) -> Counter[str]:
    """Lower-case words of letters (no digits) as the texts write them (accents kept: word
    vectors know "école", not "ecole"), and their counts."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words(normalize(text)))
    return counts


def fold_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """`counts` merged by accent-folded form ("école" and "ecole" count as one word)."""
    folded: Counter[str] = Counter()
    for word, n in counts.items():
        folded[fold(word)] += n
    return dict(folded)


class Speller:
    """Corrections of unknown words from a vocabulary of corpus words and their counts."""

    def __init__(
        self, vocabulary: Mapping[str, int], *, language: Collection[str] = frozenset()
    ) -> None:
        """`vocabulary`: the corpus's words (as written or folded) and their counts;
        `language`: words of the language that are never typos (`french_words()`)."""
        self.vocabulary = fold_counts(vocabulary)
        self.language = language
        self._by_length: dict[int, list[str]] = {}
        for word in self.vocabulary:
            if len(word) >= MIN_LENGTH - 1:
                self._by_length.setdefault(len(word), []).append(word)
        self._sorted = sorted(self.vocabulary)

    def __len__(self) -> int:
        return len(self.vocabulary)

    def __contains__(self, word: str) -> bool:
        return word in self.vocabulary

    def correct(self, word: str) -> list[tuple[str, float]]:
        """Corpus words `word` may have meant, each with a weight in (0, 1]; [] when none.

        `word` is folded and lower case. A word of the vocabulary is its own correction; a
        question word ("combien", "peux") is never corrected.
        """
        if word in self.vocabulary:
            return [(word, 1.0)]
        edits = max_edits(word)
        if edits == 0 or not word.isalpha() or word in QUESTION_WORDS:
            return []
        if word in self.language:
            # a real word: only another form of it ("malade" -> "maladie"), never a word
            # that merely looks like it ("fils" -> "film", "chasser" -> "chaises")
            stem = max(MIN_LENGTH, len(word) - 2)
            return [(w, wt) for w, wt in self._within(word, edits) if w[:stem] == word[:stem]]
        found = self._within(word, edits)
        if not found:
            found = self._completions(word)
        return found

    def _within(self, word: str, edits: int) -> list[tuple[str, float]]:
        choices = [
            w
            for n in range(len(word) - edits, len(word) + edits + 1)
            for w in self._by_length.get(n, ())
        ]
        if not choices:
            return []
        matches = process.extract(
            word, choices, scorer=OSA.distance, score_cutoff=edits, limit=None
        )
        if not matches:
            return []
        best = min(int(m[1]) for m in matches)
        nearest = sorted(
            (m[0] for m in matches if int(m[1]) == best),
            key=lambda w: (-self.vocabulary[w], w),
        )
        return self._weighted(nearest)

    def _completions(self, word: str) -> list[tuple[str, float]]:
        import bisect

        start = bisect.bisect_left(self._sorted, word)
        longer: list[str] = []
        for w in self._sorted[start:]:
            if not w.startswith(word):
                break
            if len(w) > len(word):
                longer.append(w)
        longer.sort(key=lambda w: (-self.vocabulary[w], w))
        return self._weighted(longer)

    def _weighted(self, ranked: list[str]) -> list[tuple[str, float]]:
        if not ranked:
            return []
        top = self.vocabulary[ranked[0]]
        out = [(ranked[0], 1.0)]
        for w in ranked[1:_MAX_CANDIDATES]:
            share = self.vocabulary[w] / top
            if share >= _SECOND:
                out.append((w, round(share, 3)))
        return out
