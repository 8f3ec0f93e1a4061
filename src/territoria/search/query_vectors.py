"""The vectors of questions and of short texts, embedded once and kept: a question asked
again (a frequent one, a question searched then answered, the calibration's two searches of
each question) and the parts of passages an answer is chosen from are not embedded again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from territoria.embed import Embedder, Matrix

QUERIES_CACHED = 512  # (1.8 MB with both default models)
TEXTS_CACHED = 4096  # parts of passages (8 MB at 512 dimensions)


class QueryVectors:
    """`embedder` encodes passages (and their parts), `title_embedder` document titles."""

    def __init__(self, embedder: Embedder | None, title_embedder: Embedder | None) -> None:
        self.embedder = embedder
        self.title_embedder = title_embedder
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, tuple[Matrix | None, Matrix | None]] = OrderedDict()
        self._texts: OrderedDict[str, Matrix] = OrderedDict()

    def queries(self, query: str) -> tuple[Matrix | None, Matrix | None]:
        """The query's passage-model and title-model vectors (None without the model).

        The last few hundred are kept: a question asked again (a frequent one, a question
        searched then answered, the calibration's two searches of each question) is not
        embedded again (e5 alone costs ~25 ms of CPU a query)."""
        with self._lock:
            cached = self._queries.get(query)
            if cached is not None:
                self._queries.move_to_end(query)
                return cached
        vector = self.embedder.embed_queries([query]) if self.embedder else None
        if self.title_embedder is None:
            vectors: tuple[Matrix | None, Matrix | None] = (vector, None)
        elif self.embedder is not None and self.title_embedder.name == self.embedder.name:
            vectors = (vector, vector)  # one model for both: one query vector
        else:
            vectors = (vector, self.title_embedder.embed_queries([query]))
        for matrix in vectors:
            if matrix is not None:
                matrix.flags.writeable = False  # shared by the requests that reuse it
        with self._lock:
            self._queries[query] = vectors
            while len(self._queries) > QUERIES_CACHED:
                self._queries.popitem(last=False)
        return vectors

    def texts(self, texts: Sequence[str]) -> Matrix:
        """Passage-embedder vectors of short texts (the parts of passages an answer is
        chosen from), L2-normalised; the last few thousand are kept (a frequent question
        meets the same parts again, and calibration asks each question twice)."""
        if self.embedder is None:
            raise ValueError("no passage embedder")
        with self._lock:
            found = {t: self._texts[t] for t in texts if t in self._texts}
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            found.update(zip(todo, self.embedder.embed_passages(todo), strict=True))
            with self._lock:
                for text in todo:
                    self._texts[text] = found[text]
                while len(self._texts) > TEXTS_CACHED:
                    self._texts.popitem(last=False)
        rows = [found[t] for t in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.embedder.dim)
