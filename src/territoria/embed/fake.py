"""A deterministic embedder for unit tests: hashed character trigrams, no model.

Its limits are those of `use` (the default embedder), so tests see the same cuts.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence

import numpy as np

from territoria.embed import InputLimit, Matrix, normalize


class FakeEmbedder:
    name = "fake"
    query_limit = InputLimit(chars=1000)
    passage_limit = InputLimit(chars=4000)

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _one(self, text: str) -> np.ndarray:
        folded = unicodedata.normalize("NFKD", text.lower())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in folded.split():
            padded = f" {word} "
            for i in range(len(padded) - 2):
                h = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
                vec[int.from_bytes(h, "little") % self.dim] += 1.0
        return vec

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalize(np.stack([self._one(t) for t in texts]))
