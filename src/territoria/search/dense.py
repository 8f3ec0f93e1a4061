"""Exact dense search: a float32 matrix of L2-normalised rows, scored by one dot product.

Brute force is exact and fast enough for the embedded default (16 ms at 100k x 384 on one
core); the matrix is saved as `.npy` and memory-mapped on load.

Rows that repeat (every passage of a document carries its title vector) can be stored once:
`build(..., dedupe=True)` keeps the distinct vectors and, per row, which one it uses, so the
dot product runs over distinct vectors only.
"""

from __future__ import annotations

import functools
import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from territoria.embed import Matrix, normalize
from territoria.errors import StoreError

Vector = npt.NDArray[np.float32]
Rows = npt.NDArray[np.int64]


@functools.cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_thread() -> AbstractContextManager[Any]:
    """BLAS limited to one thread for a query's dot products: on a shared 2-core server the
    library's threads spin against each other and the requests (17.7 ms of CPU per search
    on the 5,475-doc corpus with its default threads, 5.3 ms with one)."""
    return _blas().limit(limits=1, user_api="blas")  # type: ignore[no-any-return]


class DenseIndex:
    """Cosine similarity against every row; rows of zeros (not embedded yet) score 0."""

    def __init__(self, matrix: Matrix, rows: Rows | None = None) -> None:
        if matrix.ndim != 2:
            raise StoreError("La matrice de vecteurs doit avoir deux dimensions.")
        self.matrix = matrix
        self.rows = rows  # row -> line of `matrix`, when rows were deduplicated
        distinct_present = np.any(matrix != 0, axis=1)
        self.present: npt.NDArray[np.bool_] = (
            distinct_present if rows is None else distinct_present[rows]
        )

    @classmethod
    def build(cls, vectors: npt.ArrayLike, *, dedupe: bool = False) -> DenseIndex:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise StoreError("La matrice de vecteurs doit avoir deux dimensions.")
        if len(matrix):
            matrix = normalize(matrix)
        if not dedupe:
            return cls(matrix)
        seen: dict[bytes, int] = {}
        rows = np.fromiter(
            (seen.setdefault(row.tobytes(), len(seen)) for row in matrix),
            dtype=np.int64,
            count=len(matrix),
        )
        first = np.zeros(len(seen), dtype=np.int64)
        first[rows[::-1]] = np.arange(len(matrix))[::-1]
        return cls(np.ascontiguousarray(matrix[first]), rows)

    @property
    def size(self) -> int:
        return int(self.present.shape[0])

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def _query(self, query_vector: npt.ArrayLike) -> Vector:
        q: Vector = normalize(query_vector)[0]
        if q.shape[0] != self.dim:
            raise StoreError(
                f"Vecteur de requête de dimension {q.shape[0]}, index de dimension {self.dim} : "
                "le modèle d'embeddings a changé, reconstruisez l'index."
            )
        return q

    def scores(self, query_vector: npt.ArrayLike) -> Vector:
        """Cosine similarity of the (normalised) query with every row."""
        distinct = self.distinct_scores(query_vector)
        return distinct if self.rows is None else distinct[self.rows]

    def scores_of(self, query_vector: npt.ArrayLike, rows: Rows) -> Vector:
        """Cosine similarity of the query with the given rows only."""
        q = self._query(query_vector)
        lines = rows if self.rows is None else self.rows[rows]
        with one_thread():
            return np.asarray(self.matrix[lines] @ q, dtype=np.float32)

    def distinct_scores(self, query_vector: npt.ArrayLike) -> Vector:
        """Cosine similarity of the query with each stored (distinct) vector."""
        q = self._query(query_vector)
        with one_thread():
            return np.asarray(self.matrix @ q, dtype=np.float32)

    def save(self, path: Path) -> None:
        """`path` (.npy) holds the vectors; `path` with suffix .rows.npy the row map if any.
        Each file is replaced atomically: another process may be reading them."""
        path.parent.mkdir(parents=True, exist_ok=True)
        rows_path = path.with_suffix(".rows.npy")
        if self.rows is not None:
            _save_atomic(rows_path, self.rows)
        else:
            rows_path.unlink(missing_ok=True)
        _save_atomic(path, np.ascontiguousarray(self.matrix))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        rows_path = path.with_suffix(".rows.npy")
        try:
            matrix = np.load(path, mmap_mode="r", allow_pickle=False)
            rows = np.load(rows_path, allow_pickle=False) if rows_path.exists() else None
        except (OSError, ValueError) as exc:
            raise StoreError(f"Vecteurs illisibles ({path}) : {exc}") from exc
        return cls(matrix, rows)


def _save_atomic(path: Path, array: npt.NDArray[Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with tmp.open("wb") as out:
        np.save(out, array, allow_pickle=False)
    os.replace(tmp, path)
