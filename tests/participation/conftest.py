"""Fakes for the participation tests: a PII guard that masks known names, in memory."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from territoria.participation.keywords import Tokenizer

FIXTURES = Path(__file__).parent / "fixtures"
_NAMES = re.compile(r"Jean Dupont|Marie Martin|06 12 34 56 78|jean\.dupont@example\.fr")


@dataclass(frozen=True)
class Masked:
    text: str


class FakeGuard:
    """Replaces a fixed list of personal data with pseudonyms; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def pseudonymize(self, text: str, *, tenant: str) -> Masked:
        self.calls += 1
        return Masked(_NAMES.sub("[PERSONNE_0a1b2c]", text))


@pytest.fixture
def guard() -> FakeGuard:
    return FakeGuard()


@pytest.fixture
def questionnaire_path() -> Path:
    return FIXTURES / "questionnaire_mobilite.csv"


class WordEmbedder:
    """Bag of hashed content-word stems: texts that share topic words end up close."""

    name = "words"
    dim = 512

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        tokenizer = Tokenizer()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for stem in tokenizer.stems(text):
                out[i, zlib.crc32(stem.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


@pytest.fixture
def embedder() -> WordEmbedder:
    return WordEmbedder()
