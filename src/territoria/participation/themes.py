"""Themes found in the texts themselves: a representation, k-means, k chosen by silhouette.

Representation: sentence embeddings from the configured embedder (multilingual USE by default)
up to `max_embedded` texts; beyond that, or without an embedder, TF-IDF over French stems
reduced by truncated SVD (latent semantic analysis), which is ~100x cheaper. The report states
which one was used.

Clustering: k-means for each k of a grid from 2 to `max_themes`; the k with the best mean
silhouette (cosine, on a fixed sample) wins. Themes smaller than `min_theme_size` and texts too
short to carry a theme (fewer than 3 content words) go to an explicit "other / not classified"
bucket (label -1). Nothing uses labels given by the source (questions, categories).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from territoria.embed import Embedder
from territoria.errors import ConfigError
from territoria.participation.keywords import Tokenizer

Matrix = npt.NDArray[np.float32]
OTHER = -1
_SILHOUETTE_SAMPLE = 3000
_MINIBATCH_ABOVE = 20_000
_EMBED_BATCH = 256
_MIN_CONTENT_WORDS = 3


@dataclass(frozen=True)
class Clustering:
    labels: npt.NDArray[np.int64]  # theme per text, OTHER for not classified
    k: int
    silhouette: float
    scores: dict[int, float]  # silhouette per k tried
    vectors: Matrix
    representation: str


def _sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "Analyse de participation indisponible : installez l'extra « participation » "
            "(pip install 'territoria[participation]')."
        ) from exc


def represent(
    texts: Sequence[str],
    *,
    embedder: Embedder | None,
    max_embedded: int,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Matrix, str]:
    """L2-normalised vectors of the texts and the name of the representation."""
    if embedder is not None and len(texts) <= max_embedded:
        parts = []
        for start in range(0, len(texts), _EMBED_BATCH):
            parts.append(embedder.embed_passages(list(texts[start : start + _EMBED_BATCH])))
            if progress is not None:
                progress(min(start + _EMBED_BATCH, len(texts)), len(texts))
        vectors = np.vstack(parts).astype(np.float32) if parts else np.zeros((0, embedder.dim))
        return _normalise(vectors), f"plongements ({embedder.name})"
    return lsa(texts, seed=seed), "TF-IDF + SVD tronquée (analyse sémantique latente)"


def lsa(texts: Sequence[str], *, seed: int = 0, dims: int = 100) -> Matrix:
    _sklearn()
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tokenizer = Tokenizer()
    vectorizer = TfidfVectorizer(
        analyzer=lambda t: [s for s, _ in tokenizer.tokens(t)],
        sublinear_tf=True,
        min_df=2 if len(texts) >= 50 else 1,
        max_df=0.5 if len(texts) >= 50 else 1.0,
        dtype=np.float32,
    )
    try:
        tfidf = vectorizer.fit_transform(texts)
    except ValueError:  # no term at all (empty or stop-word-only texts)
        return np.zeros((len(texts), 1), dtype=np.float32)
    components = min(dims, tfidf.shape[1] - 1, len(texts) - 1)
    if components < 2:
        return _normalise(tfidf.toarray().astype(np.float32))
    reduced = TruncatedSVD(components, random_state=seed).fit_transform(tfidf)
    return _normalise(np.asarray(reduced, dtype=np.float32))


def _normalise(matrix: npt.NDArray[np.floating]) -> Matrix:
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Matrix = (m / norms).astype(np.float32)
    return out


def k_grid(n: int, max_themes: int) -> list[int]:
    top = min(max_themes, max(2, int(math.sqrt(n))), n // 3)
    if top < 2:
        return []
    if top <= 16:
        return list(range(2, top + 1))
    return sorted({round(float(k)) for k in np.geomspace(2, top, 15)})


def cluster(
    vectors: Matrix,
    texts: Sequence[str],
    *,
    representation: str,
    seed: int = 0,
    max_themes: int = 30,
    min_theme_size: int = 3,
    reduce_dims: int = 12,
) -> Clustering:
    """Themes of the texts; `texts` only serve to set aside those with too few words."""
    _sklearn()
    from sklearn.metrics import silhouette_score

    n = len(texts)
    tokenizer = Tokenizer()
    classifiable = np.array([len(tokenizer.tokens(t)) >= _MIN_CONTENT_WORDS for t in texts])
    index = np.flatnonzero(classifiable)
    labels = np.full(n, OTHER, dtype=np.int64)
    grid = k_grid(len(index), max_themes)
    if len(index) < 2 * min_theme_size or not grid or np.allclose(vectors[index], 0):
        labels[index] = 0 if len(index) else OTHER
        return Clustering(labels, 1 if len(index) else 0, 0.0, {}, vectors, representation)
    points = reduce(vectors[index], dims=reduce_dims, seed=seed)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(points), min(len(points), _SILHOUETTE_SAMPLE), replace=False))
    scores: dict[int, float] = {}
    best: tuple[float, int, npt.NDArray[np.int64]] | None = None
    for k in grid:
        found = _kmeans(points, k, seed)
        if len(set(found[sample].tolist())) < 2:
            continue
        score = float(silhouette_score(points[sample], found[sample], metric="cosine"))
        scores[k] = round(score, 4)
        if best is None or score > best[0]:
            best = (score, k, found)
    if best is None:
        labels[index] = 0
        return Clustering(labels, 1, 0.0, scores, vectors, representation)
    labels[index] = best[2]
    labels = _drop_small(labels, min_theme_size)
    return Clustering(labels, best[1], round(best[0], 4), scores, vectors, representation)


def reduce(points: Matrix, *, dims: int, seed: int = 0) -> Matrix:
    """PCA to a few dimensions, then L2 again: the silhouette becomes informative there."""
    if points.shape[1] <= dims or len(points) <= dims:
        return points
    from sklearn.decomposition import PCA

    reduced = PCA(dims, random_state=seed, svd_solver="randomized").fit_transform(points)
    return _normalise(reduced)


def _kmeans(points: Matrix, k: int, seed: int) -> npt.NDArray[np.int64]:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if len(points) > _MINIBATCH_ABOVE:
        model = MiniBatchKMeans(k, random_state=seed, n_init=3, batch_size=4096)
    else:
        model = KMeans(k, random_state=seed, n_init=10)
    return np.asarray(model.fit_predict(points), dtype=np.int64)


def _drop_small(labels: npt.NDArray[np.int64], min_size: int) -> npt.NDArray[np.int64]:
    """Small themes go to OTHER; the others are renumbered 0.. by decreasing size."""
    values, counts = np.unique(labels[labels != OTHER], return_counts=True)
    order = sorted(
        ((int(c), int(v)) for v, c in zip(values, counts, strict=True) if c >= min_size),
        key=lambda item: (-item[0], item[1]),
    )
    renumber = {v: i for i, (_, v) in enumerate(order)}
    return np.array([renumber.get(int(x), OTHER) for x in labels], dtype=np.int64)


def centroids(vectors: Matrix, labels: npt.NDArray[np.int64]) -> dict[int, Matrix]:
    out = {}
    for label in sorted(set(labels.tolist()) - {OTHER}):
        centre = vectors[labels == label].mean(axis=0)
        norm = float(np.linalg.norm(centre))
        out[label] = (centre / norm if norm else centre).astype(np.float32)
    return out
