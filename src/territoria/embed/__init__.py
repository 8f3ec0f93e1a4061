"""Embedders: the `Embedder` protocol, and a factory from Settings.

Vectors of different models cannot be mixed, so the embedder's `name` is a property of an index.
Every backend returns L2-normalised float32 rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from territoria.settings import Settings

Matrix = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        """Embed search queries (some models encode queries differently from passages)."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        """Embed passages to index."""
        ...


def normalize(matrix: npt.ArrayLike) -> Matrix:
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim == 1:
        m = m.reshape(1, -1)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Matrix = (m / norms).astype(np.float32)
    return out


def make_embedder(settings: Settings, name: str | None = None) -> Embedder | None:
    """The embedder called `name` (default `settings.embedder`), or None for 'none'."""
    name = name or settings.embedder
    if name == "none":
        return None
    if name == "fake":
        from territoria.embed.fake import FakeEmbedder

        return FakeEmbedder()
    if name == "use":
        from territoria.embed.use import USEEmbedder

        return USEEmbedder(threads=settings.embedder_threads)
    if name == "e5":
        from territoria.embed.e5 import E5Embedder

        return E5Embedder(threads=settings.embedder_threads)
    if name == "openai":
        from territoria.embed.openai_compat import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    from territoria.errors import ConfigError

    raise ConfigError(f"Modèle d'embeddings inconnu : {name!r} (use, e5, openai, fake, none).")
