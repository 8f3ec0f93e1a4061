"""Corpus words related to a query word the corpus does not know, learned from an embedder.

A citizen writes "boulot", "gamin" or "flics"; the documents say "emploi", "enfant",
"police". No French lexical resource with synonyms installs offline from pip (the `wn` package
downloads its data at run time), so the relation is learned: the corpus's own words and the
unknown word are embedded with the retriever's passage embedder (the multilingual Universal
Sentence Encoder by default) and the nearest corpus words, above a cosine similarity, become
extra query terms at a low weight (`Rewriter`: only for a word that is neither known nor
corrected by spelling).

The vocabulary is embedded once per index, on the first unknown word (18,750 words of the
5,475-document corpus in about 6 s with USE on one core; 2,200 words of the demo in under 1 s),
and kept in memory: a 512-dimension float32 matrix (37 MB for 18,750 words). Words seen once
and words under three letters are left out (typos and abbreviations of the corpus itself).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from territoria.embed import Embedder

Matrix = npt.NDArray[np.float32]
MIN_COUNT = 2
MIN_LENGTH = 3


class EmbeddedNeighbours:
    """`Related` words from the nearest corpus words in an embedder's space."""

    def __init__(
        self,
        embedder: Embedder,
        vocabulary: Mapping[str, int],
        *,
        min_similarity: float,
        weight: float,
        k: int = 2,
    ) -> None:
        self.embedder = embedder
        self.words = sorted(
            (w for w, n in vocabulary.items() if n >= MIN_COUNT and len(w) >= MIN_LENGTH),
            key=lambda w: (-vocabulary[w], w),
        )
        self.min_similarity = min_similarity
        self.weight = weight
        self.k = k
        self._matrix: Matrix | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, list[tuple[str, float]]] = {}

    @property
    def matrix(self) -> Matrix:
        """The vocabulary's vectors, one row per word (embedded on first use)."""
        with self._lock:
            if self._matrix is None:
                if self.words:
                    self._matrix = np.asarray(
                        self.embedder.embed_passages(self.words), dtype=np.float32
                    )
                else:
                    self._matrix = np.zeros((0, self.embedder.dim), dtype=np.float32)
            return self._matrix

    def related(self, word: str) -> list[tuple[str, float]]:
        """Up to `k` corpus words near `word`, each with `weight` x its cosine similarity."""
        if word in self._cache:
            return self._cache[word]
        matrix = self.matrix
        out: list[tuple[str, float]] = []
        if len(matrix):
            vector = np.asarray(self.embedder.embed_queries([word]), dtype=np.float32)[0]
            scores = matrix @ vector
            top = np.argsort(-scores)[: self.k]
            out = [
                (self.words[int(i)], round(float(scores[i]) * self.weight, 4))
                for i in top
                if float(scores[i]) >= self.min_similarity
            ]
        self._cache[word] = out
        return out
