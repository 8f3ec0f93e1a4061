"""Fusing the evidence of several channels into one ranking: the one place that decides it.

A channel scores the same candidates (documents, or passages) in its own units: BM25 over
whole documents, BM25 of a document's best passage, cosine similarity of its best passage
vector, of its title vector. `fuse` puts them on one scale and adds them, weighted:

- `normalization="minmax"` (default): each channel's scores between its `depth`-th best
  candidate (0) and its best (1) for this query, floored at 0: a channel moves only the
  candidates among its own best, and one weak candidate far below the others cannot stretch
  the scale of the rest;
- `"zscore"`: centred on the mean of the channel's `depth` best candidates and divided by
  their spread, so each channel counts in units of how far a candidate stands out among its
  own best ones; `"zpos"` keeps only the part above the mean (a channel can lift a
  candidate, never push one down);
- `"max"`: scores over the channel's best (BM25's scale, cosine's theoretical minimum 0);
- `method="rrf"`: weighted reciprocal rank fusion instead of scores.

The default (minmax, depth 200, weights 1 for both lexical channels and 0.5 for both vector
channels) is the configuration leave-themes-out cross-validation chose on qa/cdtn-dev
(bench/bench_retrieval.py: 450 points; in 12 of the 15 training parts a minmax one won;
z-score configurations are within 0.003 nDCG@10).

Statistics come from each channel's `depth` best allowed candidates only, so a backend that
fetches only each channel's top candidates (PostgreSQL) fuses exactly as the embedded one.
Arrays may hold one query (shape (n,)) or a batch (shape (q, n)): the benchmark fuses all its
questions at once with this same function.

A candidate a dense channel cannot score yet (its vector is not computed: documents are
searchable lexically while vectors are filled in the background) takes the normalised
lexical evidence in that channel's place, so it is not pushed down meanwhile.

A query that names an identifier ("délibération 2024-117", "article L2212-2") is a lookup:
only exact terms find it, so the lexical weights are multiplied by `identifier_boost`.

Every tuned value (weights, normalisation, depth) is chosen by leave-themes-out
cross-validation on qa/cdtn-dev: bench/bench_retrieval.py prints the grid's out-of-theme
figures beside the in-sample ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]
Normalization = Literal["zscore", "zpos", "max", "minmax"]

# Digits joined by - / . to digits ("2024-117", "12/03/2020", "L2212-2", "L. 2212-2"), or
# letters glued to 3+ digits ("R123", "F1234").
_IDENTIFIER = re.compile(r"\b[A-Za-z]{0,3}\.?\s?\d+(?:[-/.]\d+)+\b|\b[A-Za-z]{1,3}\d{3,}\b")
_EPS = 1e-6


@dataclass(frozen=True)
class FusionParams:
    """How channels are fused. Weights per channel: `document_weight` (whole-document
    BM25F), `lexical_weight` (BM25 of the best passage), `dense_weight` (best passage
    vector), `title_vector_weight` (title vector)."""

    method: Literal["linear", "rrf"] = "linear"
    normalization: Normalization = "minmax"
    depth: int = 200
    candidates: int = 100  # documents taken from each channel's best (ranking.py)
    document_weight: float = 1.0
    lexical_weight: float = 1.0
    dense_weight: float = 0.5
    title_vector_weight: float = 0.5
    rrf_k: int = 60
    rrf_depth: int = 200
    identifier_boost: float = 3.0


@dataclass(frozen=True)
class Channel:
    """One channel's raw scores over the candidates, its weight, and which candidates it can
    score (None: all). A lexical channel scores 0 where no query term occurs."""

    scores: Vector
    weight: float
    present: Mask | None = None
    lexical: bool = False


def has_identifier(query: str) -> bool:
    """Whether the query names a document or an article by its number."""
    return bool(_IDENTIFIER.search(query))


def _top(scores: Vector, allowed: Mask, depth: int) -> npt.NDArray[np.float64]:
    """The `depth` best allowed scores along the last axis (NaN where fewer are allowed)."""
    masked = np.where(allowed, scores, -np.inf).astype(np.float64)
    n = masked.shape[-1]
    depth = max(1, min(depth, n))
    if depth < n:
        masked = -np.partition(-masked, depth - 1, axis=-1)[..., :depth]
    return np.where(np.isfinite(masked), masked, np.nan)


def normalize(
    scores: Vector,
    allowed: Mask,
    how: Normalization,
    depth: int,
    values: Vector | None = None,
    values_allowed: Mask | None = None,
) -> Vector:
    """Scores on a common scale (see the module docstring); 0 outside `allowed`. The
    statistics come from `scores` over `allowed`; `values` (default: `scores`) are the ones
    put on that scale: a document's passages scored with its channel's statistics. With
    minmax, the scale of `values` reaches down to the lowest of them (those of
    `values_allowed`): among few candidate documents (one, in a small corpus) the passages
    of a document still differ instead of all falling below the worst document's score."""
    out_of = scores if values is None else values
    if scores.shape[-1] == 0:
        return np.zeros_like(out_of, dtype=np.float32)
    top = _top(scores, allowed, depth)
    empty = np.all(np.isnan(top), axis=-1, keepdims=True)
    top = np.where(empty, 0.0, top)
    best = np.nanmax(top, axis=-1, keepdims=True)
    if how == "max":
        out = np.where(best > _EPS, out_of / np.maximum(best, _EPS), 0.0)
    elif how == "minmax":
        low = np.nanmin(top, axis=-1, keepdims=True)
        if values is not None:
            inside = np.ones(out_of.shape, dtype=bool) if values_allowed is None else values_allowed
            lowest = np.min(np.where(inside, out_of, np.inf), axis=-1, keepdims=True)
            low = np.where(np.isfinite(lowest), np.minimum(low, lowest), low)
        out = np.clip((out_of - low) / np.maximum(best - low, _EPS), 0.0, None)
    else:
        mean = np.nanmean(top, axis=-1, keepdims=True)
        spread = np.nanstd(top, axis=-1, keepdims=True)
        # a flat channel (all top scores equal) carries no ranking evidence
        out = np.where(spread > _EPS, (out_of - mean) / np.maximum(spread, _EPS), 0.0)
        if how == "zpos":
            out = np.maximum(out, 0.0)
    if values is not None:
        return np.where(empty, 0.0, out).astype(np.float32)
    return np.where(allowed & ~empty, out, 0.0).astype(np.float32)


def _ranks(scores: Vector, allowed: Mask, depth: int) -> Vector:
    """1-based rank of each allowed candidate among the `depth` best, +inf elsewhere."""
    masked = np.where(allowed, scores, -np.inf)
    order = np.argsort(-masked, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, masked.shape[-1] + 1), axis=-1)
    keep = allowed & (ranks <= depth) & np.isfinite(masked)
    return np.where(keep, ranks, np.inf).astype(np.float32)


def scale(channels: Sequence[Channel], allowed: Mask, params: FusionParams) -> list[Vector]:
    """Each channel's scores on the common scale of `params` (normalised scores, or
    reciprocal ranks for RRF)."""
    parts: list[Vector] = []
    for channel in channels:
        present = allowed if channel.present is None else allowed & channel.present
        if params.method == "rrf":
            ranked = present & (channel.scores > 0) if channel.lexical else present
            part = 1.0 / (params.rrf_k + _ranks(channel.scores, ranked, params.rrf_depth))
        else:  # a lexical channel's 0 (no query term) is a score like any other
            part = normalize(channel.scores, present, params.normalization, params.depth)
        parts.append(part.astype(np.float32))
    return parts


def combine(
    channels: Sequence[Channel],
    parts: Sequence[Vector],
    allowed: Mask,
    boost: float | npt.NDArray[np.float32] = 1.0,
) -> Vector:
    """The weighted sum of the scaled channels (`scale`); -inf outside `allowed`."""
    lexical = [p for c, p in zip(channels, parts, strict=True) if c.lexical]
    lexical_mean = sum(lexical) / len(lexical) if lexical else None
    total: npt.NDArray[np.float32] | float = 0.0
    for channel, part in zip(channels, parts, strict=True):
        if not channel.weight:
            continue
        weight = channel.weight * (boost if channel.lexical else 1.0)
        if channel.present is not None and lexical_mean is not None:
            part = np.where(channel.present, part, lexical_mean)
        total = total + weight * part
    return np.where(allowed, total, -np.inf).astype(np.float32)


def fuse(
    channels: Sequence[Channel],
    allowed: Mask,
    params: FusionParams,
    *,
    boost: float | npt.NDArray[np.float32] = 1.0,
) -> Vector:
    """One fused score per candidate; candidates outside `allowed` score -inf.

    `boost` multiplies the lexical channels' weights (the identifier boost; one per query
    in a batch, shape (q, 1))."""
    return combine(channels, scale(channels, allowed, params), allowed, boost)
