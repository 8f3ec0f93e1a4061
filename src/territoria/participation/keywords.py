"""Discriminative keywords of themes (class-based TF-IDF over French stems).

A stem's weight in a theme is the share of the theme's contributions that use it times its
inverse document frequency over all contributions (c-TF-IDF on document frequencies, so one long
contribution cannot carry a theme). Stems are matched on folded, stemmed forms; the word shown is
the most frequent spelling of the stem inside the theme. Stop words are French (Snowball's list
from `territoria.search.analysis` plus common verbs and adverbs of opinions) and a few English
ones (pol.is conversations); pseudonyms such as "[PERSONNE_3f2a1c]" are never keywords.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import Stemmer

from territoria.search.analysis import STOP_WORDS, fold

_PSEUDONYM = re.compile(r"\[[A-Z]+_[0-9a-f]+\]")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)
_ELISION = re.compile(r"^(?:jusqu|lorsqu|puisqu|qu|l|d|j|n|s|c|m|t)['’]", re.IGNORECASE)
_EXTRA_STOP = """
plus faut faire fait font tout tous toute toutes etre avoir peut peuvent doit doivent comme
aussi bien tres trop encore cela ca donc car alors dont non oui chaque autre autres entre
etc deja avant apres ainsi moins peu beaucoup fois celui celle ceux celles afin lors vers chez
depuis pourquoi comment quand rien va vont pourrait pourraient devrait devraient serait seraient
faudrait falloir mettre dire certains certaines plusieurs toujours jamais souvent egalement
notamment cas exemple sinon puis parce quoi tant tel telle tels telles leur leurs sous sur
selon contre pendant lequel laquelle lesquels cette cet ces voila voici surtout vraiment
simplement juste enfin pense crois trouve propose proposons suis sommes avons ete etes sont ont
pas ne plutot quelque quelques aucun aucune chose choses part lorsque puisque celle-ci
celui-ci ici the and of to is in that for be should are it not we this with on as have more
can they will by or an if but all their there would what about so from our has was do no
"""
DISPLAY_STOP_WORDS: frozenset[str] = frozenset(STOP_WORDS | set(_EXTRA_STOP.split()))
_MIN_LETTERS = 3


class Tokenizer:
    """(stem, spelling) pairs of the content words of a text."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("french")
        self._cache: dict[str, str | None] = {}

    def tokens(self, text: str) -> list[tuple[str, str]]:
        out = []
        for match in _WORD.finditer(_PSEUDONYM.sub(" ", text)):
            word = _ELISION.sub("", match.group().lower()).replace("’", "'")
            stem = self._cache.get(word, "")
            if stem == "":
                stem = self._stem(word)
                if len(self._cache) < 500_000:
                    self._cache[word] = stem
            if stem:
                out.append((stem, word))
        return out

    def stems(self, text: str) -> set[str]:
        return {stem for stem, _ in self.tokens(text)}

    def _stem(self, word: str) -> str | None:
        folded = fold(word)
        if len(folded) < _MIN_LETTERS or folded in DISPLAY_STOP_WORDS:
            return None
        return str(self._stemmer.stemWord(folded))


def theme_keywords(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    top: int = 8,
    tokenizer: Tokenizer | None = None,
) -> dict[int, list[tuple[str, str, float]]]:
    """For each label >= 0: [(spelling, stem, weight)], best first."""
    tokenizer = tokenizer or Tokenizer()
    n = len(texts)
    df: Counter[str] = Counter()
    df_in: dict[int, Counter[str]] = defaultdict(Counter)
    spellings: dict[int, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    sizes: Counter[int] = Counter()
    for text, label in zip(texts, labels, strict=True):
        tokens = tokenizer.tokens(text)
        stems = {s for s, _ in tokens}
        df.update(stems)
        if label < 0:
            continue
        sizes[label] += 1
        df_in[label].update(stems)
        for stem, word in tokens:
            spellings[label][stem][word] += 1
    result: dict[int, list[tuple[str, str, float]]] = {}
    for label, counts in df_in.items():
        size = sizes[label]
        floor = max(2, math.ceil(0.02 * size)) if size >= 10 else 1
        scored = [
            (count / size * math.log(n / df[stem]), stem)
            for stem, count in counts.items()
            if count >= floor and df[stem] < n
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        words = []
        for weight, stem in scored[:top]:
            spelling = spellings[label][stem].most_common(1)[0][0]
            words.append((spelling, stem, round(weight, 4)))
        result[label] = words
    return result


def label_from(keywords: Iterable[tuple[str, str, float]], size: int = 3) -> str:
    words = [w for w, _, _ in keywords][:size]
    return " · ".join(words) if words else "(sans mot-clé distinctif)"
