"""BM25 over passages, with the title counted `title_weight` times (a simple BM25F).

The BM25 weight of every (passage, term) pair is computed once at build time and kept in a
scipy CSC matrix, one column per term (the bm25s approach): a query's scores are the sum of the
columns of its terms, read straight from the CSC arrays, and top-k is an `np.argpartition`.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from territoria.errors import StoreError
from territoria.search.analysis import make_analyzer
from territoria.search.spelling import count_words

Analyzer = Callable[[str], list[str]]
Vector = npt.NDArray[np.float32]

_FORMAT = 1
MAX_QUERY_TERMS = 32


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75
    title_weight: float = 2.0


class LexicalIndex:
    """Precomputed BM25 weights: `scores(query)` returns one float per passage row."""

    def __init__(
        self,
        matrix: sp.csc_matrix,
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
        df = 0 if col is None else int(self._indptr[col + 1] - self._indptr[col])
        n = self.size
        return float(np.log1p((n - df + 0.5) / (df + 0.5)))

    @classmethod
    def build(
        cls,
        titles: Sequence[str],
        texts: Sequence[str],
        params: BM25Params | None = None,
        analyzer: Analyzer | None = None,
    ) -> LexicalIndex:
        """Index rows made of a title field (weighted) and a text field."""
        params = params or BM25Params()
        analyze = analyzer or make_analyzer()
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        lengths = np.zeros(len(texts), dtype=np.float64)
        title_cache: dict[str, Counter[str]] = {}
        for row, (title, text) in enumerate(zip(titles, texts, strict=True)):
            title_terms = title_cache.get(title)
            if title_terms is None:
                title_terms = Counter(analyze(title))
                title_cache[title] = title_terms
            counts: dict[str, float] = {
                term: params.title_weight * n for term, n in title_terms.items()
            }
            body = analyze(text)
            for term in body:
                counts[term] = counts.get(term, 0.0) + 1.0
            lengths[row] = len(body) + params.title_weight * sum(title_terms.values())
            for term, tf in counts.items():
                if tf <= 0:
                    continue
                col = vocabulary.setdefault(term, len(vocabulary))
                rows.append(row)
                cols.append(col)
                tfs.append(tf)
        n_rows = len(texts)
        tf_values = np.asarray(tfs, dtype=np.float64)
        row_idx = np.asarray(rows, dtype=np.int64)
        col_idx = np.asarray(cols, dtype=np.int64)
        df = np.bincount(col_idx, minlength=len(vocabulary)).astype(np.float64)
        idf = np.log1p((n_rows - df + 0.5) / (df + 0.5))
        avg = float(lengths.mean()) if n_rows and lengths.mean() > 0 else 1.0
        norm = params.k1 * (1.0 - params.b + params.b * lengths / avg)
        weights = idf[col_idx] * tf_values * (params.k1 + 1.0) / (tf_values + norm[row_idx])
        matrix = sp.csc_matrix(
            (weights.astype(np.float32), (row_idx, col_idx)),
            shape=(n_rows, len(vocabulary)),
            dtype=np.float32,
        )
        matrix.sort_indices()
        words = count_words([*dict.fromkeys(titles), *texts])
        return cls(matrix, vocabulary, params, analyze, words)

    def knows(self, term: str) -> bool:
        """Whether an analysed term occurs in the corpus."""
        return term in self.vocabulary

    def weighted_ids(self, query: str | Mapping[str, float]) -> dict[int, float]:
        """Column id -> weight of the query's known terms; beyond MAX_QUERY_TERMS, the rarest
        ones."""
        weights = dict.fromkeys(self.analyzer(query), 1.0) if isinstance(query, str) else query
        seen: dict[int, float] = {}
        for term, weight in weights.items():
            col = self.vocabulary.get(term)
            if col is not None and weight > 0:
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

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(
            directory / "lexical.npz",
            data=self.matrix.data,
            indices=self.matrix.indices,
            indptr=self.matrix.indptr,
            shape=np.asarray(self.matrix.shape, dtype=np.int64),
        )
        meta = {
            "format": _FORMAT,
            "params": {
                "k1": self.params.k1,
                "b": self.params.b,
                "title_weight": self.params.title_weight,
            },
            "vocabulary": self.vocabulary,
            "words": self.words,
        }
        (directory / "lexical.json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path, analyzer: Analyzer | None = None) -> LexicalIndex:
        try:
            meta = json.loads((directory / "lexical.json").read_text())
            with np.load(directory / "lexical.npz", allow_pickle=False) as arrays:
                shape = tuple(int(x) for x in arrays["shape"])
                matrix = sp.csc_matrix(
                    (arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape
                )
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"Index lexical illisible dans {directory} : {exc}") from exc
        if meta.get("format") != _FORMAT:
            raise StoreError(f"Format d'index lexical inconnu dans {directory} : reconstruisez-le.")
        params = BM25Params(**meta["params"])
        return cls(matrix, meta["vocabulary"], params, analyzer, meta.get("words", {}))
