"""BM25 over passages, with the title counted `title_weight` times (a simple BM25F).

The BM25 weight of every (passage, term) pair is computed once at build time and kept as a
CSC sparse matrix, one column per term (the bm25s approach): a query's scores are the sum of the
columns of its terms, read straight from the CSC arrays, and top-k is an `np.argpartition`.
scipy builds the matrix; the query path reads its plain arrays (`Csc`), so loading a saved
index and searching it never import scipy (~0.4 s of CPU at every start of the CLI).

A query's work grows with the postings of its terms, so a query is scored by at most
`MAX_QUERY_TERMS` distinct known terms: beyond that, the rarest ones (the most telling, and the
shortest posting lists). The longest question of the QA sets has 14 distinct terms.

A query is a text (its analysed terms, weight 1 each) or a mapping of analysed terms to
weights (a rewritten `Query`: corrections, synonyms and context terms weigh less): a row's score
is the weighted sum of its terms' BM25 weights.

The index also keeps the corpus's surface words and their counts (`words`, accent-folded): the
vocabulary that spelling correction draws from (`spelling.py`).

On disk: `lexical.npz` (the CSC arrays, no pickle) and `lexical.json` (vocabulary, words and
parameters).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from territoria.errors import StoreError
from territoria.search.analysis import make_analyzer
from territoria.search.spelling import count_words

Analyzer = Callable[[str], list[str]]
Vector = npt.NDArray[np.float32]
Indices = npt.NDArray[np.int32] | npt.NDArray[np.int64]

_FORMAT = 2  # 2: BM25F, one length normalisation per field
MAX_QUERY_TERMS = 32


@dataclass(frozen=True)
class BM25Params:
    """BM25F over up to three fields of a row: title, headings and body.

    A term's frequency in each field is normalised by that field's length (`b`, the same for
    every field) and weighted (`title_weight`, `heading_weight`; the body weighs 1); the sum
    is saturated once by `k1` (Robertson and Zaragoza's BM25F). A weight of 0 leaves a field
    out. Passages keep their headings in the body (`heading_weight` 0); whole documents give
    their headings a field of their own.
    """

    k1: float = 1.2
    b: float = 0.75
    title_weight: float = 2.0
    heading_weight: float = 0.0


@dataclass(frozen=True)
class Csc:
    """The arrays of a compressed sparse column matrix (scipy's layout, row indices sorted
    within each column): column `c` holds rows `indices[indptr[c]:indptr[c + 1]]` with the
    values `data[indptr[c]:indptr[c + 1]]`."""

    data: Vector
    indices: Indices
    indptr: Indices
    shape: tuple[int, int]


@dataclass(frozen=True)
class Row:
    """The analysed terms of one row, by field (term -> count)."""

    title: Mapping[str, int]
    body: Mapping[str, int]
    headings: Mapping[str, int] = field(default_factory=dict)


def analyze_rows(
    titles: Sequence[str],
    texts: Sequence[str],
    analyzer: Analyzer,
    headings: Sequence[str] | None = None,
) -> list[Row]:
    """Rows of analysed fields; a title shared by many rows is analysed once."""
    cache: dict[str, Counter[str]] = {}
    rows = []
    for i, (title, text) in enumerate(zip(titles, texts, strict=True)):
        terms = cache.get(title)
        if terms is None:
            terms = cache[title] = Counter(analyzer(title))
        heads = Counter(analyzer(headings[i])) if headings is not None else Counter()
        rows.append(Row(terms, Counter(analyzer(text)), heads))
    return rows


def bm25f_matrix(rows: Sequence[Row], params: BM25Params, vocabulary: dict[str, int]) -> Csc:
    """The BM25F weight of every (row, term) pair, one column per term of `vocabulary`
    (terms met for the first time are added to it)."""
    import scipy.sparse as sp  # building only: the query path reads the plain arrays

    fields = [
        (params.title_weight, [row.title for row in rows]),
        (params.heading_weight, [row.headings for row in rows]),
        (1.0, [row.body for row in rows]),
    ]
    n_rows = len(rows)
    row_parts: list[npt.NDArray[np.int64]] = []
    col_parts: list[npt.NDArray[np.int64]] = []
    tf_parts: list[npt.NDArray[np.float64]] = []
    for weight, counts in fields:
        if weight <= 0:
            continue
        lengths = np.fromiter((sum(c.values()) for c in counts), np.float64, n_rows)
        avg = float(lengths.mean()) if n_rows else 0.0
        norm = 1.0 - params.b + params.b * lengths / avg if avg > 0 else np.ones(n_rows)
        sizes = np.fromiter((len(c) for c in counts), np.int64, n_rows)
        row_idx = np.repeat(np.arange(n_rows, dtype=np.int64), sizes)
        cols = [vocabulary.setdefault(t, len(vocabulary)) for c in counts for t in c]
        tfs = np.fromiter((n for c in counts for n in c.values()), np.float64, len(cols))
        row_parts.append(row_idx)
        col_parts.append(np.asarray(cols, dtype=np.int64))
        tf_parts.append(weight * tfs / norm[row_idx])
    n_terms = len(vocabulary)
    if row_parts:
        tf = sp.csc_matrix(
            (np.concatenate(tf_parts), (np.concatenate(row_parts), np.concatenate(col_parts))),
            shape=(n_rows, n_terms),
        )  # duplicates (a term in several fields) are summed
    else:
        tf = sp.csc_matrix((n_rows, n_terms), dtype=np.float64)
    tf.sum_duplicates()
    df = np.diff(tf.indptr).astype(np.float64)
    idf = np.log1p((n_rows - df + 0.5) / (df + 0.5))
    col_of = np.repeat(np.arange(n_terms), np.diff(tf.indptr))
    values = idf[col_of] * tf.data * (params.k1 + 1.0) / (tf.data + params.k1)
    matrix = sp.csc_matrix(
        (values.astype(np.float32), tf.indices, tf.indptr), shape=(n_rows, n_terms)
    )
    matrix.sort_indices()
    return Csc(matrix.data, matrix.indices, matrix.indptr, (n_rows, n_terms))


class LexicalIndex:
    """Precomputed BM25F weights: `scores(query)` returns one float per row."""

    def __init__(
        self,
        matrix: Csc,
        vocabulary: dict[str, int],
        params: BM25Params,
        analyzer: Analyzer | None = None,
        words: Mapping[str, int] | None = None,
    ) -> None:
        self.matrix = matrix
        self.words: dict[str, int] = dict(words or {})
        self.vocabulary = vocabulary
        self.params = params
        self.analyzer: Analyzer = analyzer or make_analyzer()
        self._indptr = matrix.indptr
        self._indices = matrix.indices
        self._data = matrix.data

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    def idf(self, term: str) -> float:
        """BM25 idf of an analysed term; a term absent from the corpus gets the highest."""
        col = self.vocabulary.get(term)
        df = 0 if col is None or col >= self.matrix.shape[1] else self._df(col)
        n = self.size
        return float(np.log1p((n - df + 0.5) / (df + 0.5)))

    def _df(self, col: int) -> int:
        return int(self._indptr[col + 1] - self._indptr[col])

    @classmethod
    def build(
        cls,
        titles: Sequence[str],
        texts: Sequence[str],
        params: BM25Params | None = None,
        analyzer: Analyzer | None = None,
    ) -> LexicalIndex:
        """Index rows made of a title field (weighted) and a text field."""
        analyze = analyzer or make_analyzer()
        rows = analyze_rows(titles, texts, analyze)
        words = count_words([*dict.fromkeys(titles), *texts])
        return cls.from_rows(rows, params or BM25Params(), analyze, words=words)

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[Row],
        params: BM25Params,
        analyzer: Analyzer,
        *,
        vocabulary: dict[str, int] | None = None,
        words: Mapping[str, int] | None = None,
    ) -> LexicalIndex:
        """Index analysed rows; `vocabulary` is shared with another index of the same corpus
        (terms new to it are added: build the index with the most terms first)."""
        vocabulary = {} if vocabulary is None else vocabulary
        matrix = bm25f_matrix(rows, params, vocabulary)
        return cls(matrix, vocabulary, params, analyzer, words)

    def knows(self, term: str) -> bool:
        """Whether an analysed term occurs in the corpus."""
        return term in self.vocabulary

    def weighted_ids(self, query: str | Mapping[str, float]) -> dict[int, float]:
        """Column id -> weight of the query's known terms; beyond MAX_QUERY_TERMS, the rarest
        ones."""
        weights = dict.fromkeys(self.analyzer(query), 1.0) if isinstance(query, str) else query
        seen: dict[int, float] = {}
        n_cols = self.matrix.shape[1]
        for term, weight in weights.items():
            col = self.vocabulary.get(term)
            if col is not None and col < n_cols and weight > 0:
                seen[col] = max(seen.get(col, 0.0), weight)
        if len(seen) <= MAX_QUERY_TERMS:
            return seen
        indptr = self._indptr
        kept = sorted(seen, key=lambda c: int(indptr[c + 1] - indptr[c]))[:MAX_QUERY_TERMS]
        return {c: seen[c] for c in kept}

    def term_ids(self, query: str | Mapping[str, float]) -> list[int]:
        """Column ids of the query's known terms, each once (see `weighted_ids`)."""
        return list(self.weighted_ids(query))

    def scores(self, query: str | Mapping[str, float]) -> Vector:
        """BM25 score of every row (0 where no query term occurs), terms weighted."""
        cols = self.weighted_ids(query)
        n = self.size
        if not cols:
            return np.zeros(n, dtype=np.float32)
        indptr = self._indptr
        if len(cols) == 1:
            ((col, weight),) = cols.items()
            lo, hi = indptr[col], indptr[col + 1]
            out = np.zeros(n, dtype=np.float32)
            out[self._indices[lo:hi]] = self._data[lo:hi] * np.float32(weight)
            return out
        idx = np.concatenate([self._indices[indptr[c] : indptr[c + 1]] for c in cols])
        val = np.concatenate(
            [
                self._data[indptr[c] : indptr[c + 1]] * np.float32(w)
                if w != 1.0
                else self._data[indptr[c] : indptr[c + 1]]
                for c, w in cols.items()
            ]
        )
        return np.bincount(idx, weights=val, minlength=n).astype(np.float32)

    def row_scores(self, query: str | Mapping[str, float], rows: Sequence[int]) -> list[float]:
        """BM25 score of the given rows only, terms weighted (a few column lookups, not a
        full scoring)."""
        indptr, indices, data = self._indptr, self._indices, self._data
        out = [0.0] * len(rows)
        for col, weight in self.weighted_ids(query).items():
            column = indices[indptr[col] : indptr[col + 1]]
            for i, row in enumerate(rows):
                at = int(np.searchsorted(column, row))
                if at < len(column) and column[at] == row:
                    out[i] += float(data[indptr[col] + at]) * weight
        return out

    def save(self, directory: Path, name: str = "lexical", *, vocabulary: bool = True) -> None:
        """Write `name`.npz and `name`.json; `vocabulary=False` for an index that shares
        the vocabulary of another one saved beside it."""
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(
            directory / f"{name}.npz",
            data=self.matrix.data,
            indices=self.matrix.indices,
            indptr=self.matrix.indptr,
            shape=np.asarray(self.matrix.shape, dtype=np.int64),
        )
        meta: dict[str, object] = {"format": _FORMAT, "params": asdict(self.params)}
        if vocabulary:
            meta.update(vocabulary=self.vocabulary, words=self.words)
        (directory / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(
        cls,
        directory: Path,
        analyzer: Analyzer | None = None,
        name: str = "lexical",
        *,
        vocabulary: dict[str, int] | None = None,
    ) -> LexicalIndex:
        """Read an index saved by `save`; `vocabulary` when it was saved without its own."""
        try:
            meta = json.loads((directory / f"{name}.json").read_text())
            with np.load(directory / f"{name}.npz", allow_pickle=False) as arrays:
                shape = tuple(int(x) for x in arrays["shape"])
                matrix = _read_csc(arrays["data"], arrays["indices"], arrays["indptr"], shape)
            params = BM25Params(**meta["params"])
            vocab = meta["vocabulary"] if vocabulary is None else vocabulary
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"Index lexical illisible dans {directory} : {exc}") from exc
        if meta.get("format") != _FORMAT:
            raise StoreError(f"Format d'index lexical inconnu dans {directory} : reconstruisez-le.")
        return cls(matrix, vocab, params, analyzer, meta.get("words", {}))


def _read_csc(data: Vector, indices: Indices, indptr: Indices, shape: tuple[int, ...]) -> Csc:
    """The CSC arrays read from disk, checked enough that a query cannot read out of them."""
    if len(shape) != 2 or data.ndim != 1 or indices.shape != data.shape or indptr.ndim != 1:
        raise ValueError("matrice creuse mal formée")
    n_rows, n_cols = shape
    if len(indptr) != n_cols + 1 or (n_cols >= 0 and int(indptr[-1]) != len(data)):
        raise ValueError("matrice creuse mal formée")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n_rows):
        raise ValueError("matrice creuse mal formée")
    return Csc(data, indices, indptr, (n_rows, n_cols))
