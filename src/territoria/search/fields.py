"""The lexical fields of a corpus: a passage's text field, each whole document's three fields
(title, headings, body), and the two BM25 indexes built from them over one vocabulary.

Shared by the embedded index (index.py) and PostgreSQL's postings (pg_tables.py), so that both
backends count the same terms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from territoria.search.analysis import make_analyzer
from territoria.search.lexical import BM25Params, LexicalIndex, Row, analyze_rows
from territoria.search.spelling import count_words
from territoria.settings import Settings
from territoria.types import Passage

Codes = npt.NDArray[np.int32]


def lexical_text(passage: Passage) -> str:
    """The text field of a passage: its headings (unless the text already has them, as with
    Markdown headings kept inline), then its text."""
    missing = [h for h in passage.headings if h not in passage.text]
    return "\n".join([*missing, passage.text])


def build_lexical(
    passages: Sequence[Passage],
    row_doc: Codes,
    n_docs: int,
    settings: Settings,
    *,
    rows: Sequence[Row] | None = None,
) -> tuple[LexicalIndex, LexicalIndex]:
    """The passage index and the whole-document index (BM25F over each document's title,
    headings and body), sharing one vocabulary; every text is analysed once (`rows`: the
    passages already analysed, to build variants of the same corpus)."""
    analyzer = make_analyzer()
    texts = [lexical_text(p) for p in passages]
    if rows is None:
        rows = analyze_rows([p.title for p in passages], texts, analyzer)
    words = count_words([*dict.fromkeys(p.title for p in passages), *texts])
    vocabulary: dict[str, int] = {}
    lexical = LexicalIndex.from_rows(
        rows,
        BM25Params(settings.bm25_k1, settings.bm25_b, settings.title_weight),
        analyzer,
        vocabulary=vocabulary,
        words=words,
    )
    doc_rows = document_rows(passages, rows, row_doc, n_docs, analyzer)
    documents = LexicalIndex.from_rows(
        doc_rows,
        BM25Params(
            settings.document_k1,
            settings.bm25_b,
            settings.document_title_weight,
            settings.document_heading_weight,
        ),
        analyzer,
        vocabulary=vocabulary,
    )
    return lexical, documents


def document_rows(
    passages: Sequence[Passage],
    rows: Sequence[Row],
    row_doc: Codes,
    n_docs: int,
    analyzer: Callable[[str], list[str]],
) -> list[Row]:
    """Whole documents as rows of three fields: the title, the distinct headings of its
    passages, and the body (every passage's text, from the passages' analysed rows)."""
    titles: list[Mapping[str, int]] = [{} for _ in range(n_docs)]
    bodies: list[Counter[str]] = [Counter() for _ in range(n_docs)]
    headings: list[dict[str, None]] = [{} for _ in range(n_docs)]
    for passage, row, doc in zip(passages, rows, row_doc.tolist(), strict=True):
        titles[doc] = row.title
        bodies[doc].update(row.body)
        headings[doc].update(dict.fromkeys(passage.headings))
    return [
        Row(titles[d], bodies[d], Counter(analyzer("\n".join(headings[d])))) for d in range(n_docs)
    ]
