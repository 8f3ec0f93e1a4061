"""French text analysis for lexical search: the same function runs on passages and queries.

Pipeline: NFKC -> lowercase -> elisions removed (l', d', qu', jusqu'... with ' or ’) -> tokens ->
French stop words dropped -> accents folded -> Snowball French stem (PyStemmer).

Accents are folded *before* stemming so that a query typed without accents ("dechetterie",
"indemnite") gets the same stem as the accented text: Snowball stems "indemnités" and
"indemnite" differently, but "indemnites" and "indemnite" alike.

Tokens that contain a digit are identifiers ("2024-117", "L2212-2", "12/03/2020"): they are
kept whole (dots removed, so "L.2212-2" matches "L2212-2") and not stemmed; one that starts with
letters is also indexed without them, so "L. 2212-2" (two tokens) still finds "L2212-2".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import Stemmer

# Snowball's French stop list, folded, plus a few words of questions. "ete" is left out: folded,
# the participle of "être" is also the season ("horaires pendant l'été"), a topic word; as a
# participle it is frequent, so its idf keeps it light.
_STOP_WORDS = """
au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me meme mes moi
mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une
vos votre vous c d j l a m n s t y etee etees etes etant suis es est sommes etes sont serai
seras sera serons serez seront serais serait serions seriez seraient etais etait etions etiez
etaient fus fut fumes futes furent sois soit soyons soyez soient fusse fusses fut fussions
fussiez fussent ayant eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront
aurais aurait aurions auriez auraient avais avait avions aviez avaient eut eumes eutes eurent aie
aies ait ayons ayez aient eusse eusses eut eussions eussiez eussent ceci cela cet cette ici ils
les leurs quel quels quelle quelles sans soi
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS.split())

# Question words and modal verbs (folded): what a question asks, not what it is about. They
# are indexed like any word, but never "corrected" into a corpus word (spelling.py) and not
# counted as a question's subject (context.py).
_QUESTION_WORDS = """
combien comment quand quoi pourquoi quel quelle quels quelles lequel laquelle lesquels ou
faut faudrait falloir peut peux peuvent pouvoir pourrais pourrait puis doit dois doivent devoir
veux veut voudrais vouloir possible savoir sais sait voila bonjour merci salut ca cela ceci
"""
QUESTION_WORDS: frozenset[str] = frozenset(_QUESTION_WORDS.split())

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'"})
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
_ELISION = re.compile(r"\b(?:jusqu|lorsqu|puisqu|qu|l|d|j|n|s|c|m|t)'", re.UNICODE)
# A run of word characters, possibly joined by - . / (compounds, identifiers, dates).
_TOKEN = re.compile(r"[^\W_]+(?:[-./][^\W_]+)*", re.UNICODE)
_SPLIT_COMPOUND = re.compile(r"[-./]")
_LEADING_LETTERS = re.compile(r"^[a-z]+(?=\d)")


def fold(text: str) -> str:
    """Remove accents (é -> e, ç -> c) and expand ligatures (œ -> oe)."""
    if text.isascii():
        return text  # nothing to remove (most words: fold runs on every word of a corpus)
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """NFKC, lowercase, typographic apostrophes made plain, elisions removed."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    return _ELISION.sub(" ", text)


def words(normalized: str) -> list[str]:
    """The words of letters of a `normalize`d text, compounds split, stop words left out:
    the surface forms behind the index terms (the spelling vocabulary)."""
    out: list[str] = []
    for match in _TOKEN.finditer(normalized):
        raw = match.group()
        if any(c.isdigit() for c in raw):
            continue
        for word in _SPLIT_COMPOUND.split(raw):
            if len(word) >= 2 and fold(word) not in STOP_WORDS:
                out.append(word)
    return out


class FrenchAnalyzer:
    """Turns text into index terms. Stems are cached: the vocabulary of a corpus is small."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("french")
        self._cache: dict[str, tuple[str, ...]] = {}

    def __call__(self, text: str) -> list[str]:
        return self.analyze(text)

    def analyze(self, text: str) -> list[str]:
        terms: list[str] = []
        cache = self._cache
        for match in _TOKEN.finditer(normalize(text)):
            raw = match.group()
            found = cache.get(raw)
            if found is None:
                found = self._terms(raw)
                if len(cache) < 2_000_000:
                    cache[raw] = found
            terms.extend(found)
        return terms

    def _terms(self, raw: str) -> tuple[str, ...]:
        folded = fold(raw)
        if any(c.isdigit() for c in folded):
            ident = folded.replace(".", "")
            bare = _LEADING_LETTERS.sub("", ident)
            return (ident, bare) if bare != ident else (ident,)
        out: list[str] = []
        for word in _SPLIT_COMPOUND.split(folded):
            if len(word) < 2 or word in STOP_WORDS:
                continue
            out.append(self._stemmer.stemWord(word))
        return tuple(out)


def make_analyzer() -> Callable[[str], list[str]]:
    """The analyzer every lexical index of territoria uses."""
    return FrenchAnalyzer()
