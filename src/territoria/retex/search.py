"""Search over the fiches: the project's French BM25 (search/lexical.py: elisions, stop words,
Snowball stems, accent folding, spelling-free) on two fields, the title field (title, themes,
collectivité) counted `title_weight` times and the rest of the public text.

Only the public part of a fiche is indexed, for local fiches too: what search finds is what
may be shown to anyone who may see the commons. Built in memory from the RETEX store (10,000
fiches in a few seconds) and rebuilt when the store's generation moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from territoria.retex.text import search_fields
from territoria.search.lexical import BM25Params, LexicalIndex

# BM25 constants of the fiche index; title_weight 2 as the document index (not tuned on the
# RETEX question set, which measures them).
FICHE_BM25 = BM25Params(k1=1.2, b=0.75, title_weight=2.0)


@dataclass(frozen=True)
class IndexedFiche:
    id: str
    view: dict[str, object]


class FicheIndex:
    def __init__(self, fiches: Sequence[IndexedFiche], params: BM25Params = FICHE_BM25) -> None:
        self.fiches = list(fiches)
        fields = [search_fields(f.view) for f in self.fiches]
        self.lexical = LexicalIndex.build(
            [title for title, _ in fields], [text for _, text in fields], params
        )

    def search(self, query: str, k: int = 10) -> list[tuple[IndexedFiche, float]]:
        """The k best fiches for `query` with their BM25 score (only fiches that share a
        term with it), best first."""
        if not self.fiches:
            return []
        scores = self.lexical.scores(query)
        hits = np.flatnonzero(scores > 0)
        if hits.size > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        order = hits[np.argsort(-scores[hits], kind="stable")]
        return [(self.fiches[i], float(scores[i])) for i in order]
