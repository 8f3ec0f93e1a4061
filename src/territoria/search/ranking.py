"""Ranking one query over a `SearchIndex`: candidates, channels, fusion, best passages.

1. Lexical evidence of every allowed document: its whole-document BM25F score (title,
   headings, body) and the BM25F score of its best passage; its title vector's cosine.
2. Candidates: the `candidates` best allowed documents of each of those channels. Every
   candidate's passages are then compared with the query vector: the passage vectors are
   read for a few thousand rows instead of the whole corpus (without a title channel the
   passage vectors of every row are compared, and their best documents join the candidates).
3. Channels over the candidates: `document`, `passage`, `dense` (cosine of the best passage
   vector) and `title`, fused by `fusion.fuse` into one score per document.
4. A document is returned as its best passage; passages are ranked with the same channels at
   passage level (a passage carries its document's whole-document and title scores, and its
   own BM25F and vector), each channel on the scale of its document-level statistics
   (with minmax, reaching down to the lowest passage: among few candidate documents, one in
   a small corpus, the passages of a document still differ).

A backend that fetches each channel's best candidates itself (PostgreSQL) fuses them with the
same `fusion` functions: the statistics only need each channel's best candidates.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from territoria.embed import Matrix
from territoria.search.fusion import Channel, combine, has_identifier, normalize, scale
from territoria.search.query import Query
from territoria.types import Access

if TYPE_CHECKING:
    from territoria.search.index import IndexHit, SearchIndex

Vector = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Evidence:
    """What one query found: candidate documents (codes) and the channels over them; the
    candidates' allowed passage rows with their own lexical and vector scores."""

    docs: Codes
    channels: dict[str, Channel]
    rows: Codes
    row_doc: Codes  # position in `docs` of each row's document
    row_lexical: Vector
    row_dense: Vector | None  # 0 where a passage has no vector yet
    row_present: Mask | None
    boost: float


def _best(scores: Vector, allowed: Mask, n: int) -> Mask:
    """The n best of the `allowed` entries."""
    out = np.zeros(scores.shape, dtype=bool)
    idx = np.flatnonzero(allowed)
    if not idx.size:
        return out
    if idx.size > n:
        idx = idx[np.argpartition(-scores[idx], n - 1)[:n]]
    out[idx] = True
    return out


def gather(
    index: SearchIndex,
    query: str | Query,
    *,
    access: Access,
    exclude: Collection[str] = (),
    query_vector: Matrix | None = None,
    title_query_vector: Matrix | None = None,
) -> Evidence:
    fusion = index.fusion
    terms = query.weights() if isinstance(query, Query) else query
    text = query.text if isinstance(query, Query) else query
    allowed_rows = index.allowed_rows(access, exclude)
    allowed = index.docs_with(allowed_rows)
    row_lexical = index.lexical.scores(terms)
    document = np.where(allowed, index.documents.scores(terms), 0.0).astype(np.float32)
    passage = np.maximum(index.per_doc_max(row_lexical, allowed_rows), 0.0)
    n = fusion.candidates
    wanted = _best(document, allowed & (document > 0), n) | _best(
        passage, allowed & (passage > 0), n
    )
    title = title_present = None
    if index.titles is not None and title_query_vector is not None:
        title, title_present = index.title_scores(title_query_vector)
        wanted |= _best(title, allowed & title_present, n)
    dense_all = None
    if index.dense is not None and query_vector is not None and title is None:
        dense_all = index.dense.scores(query_vector)
        present_rows = allowed_rows & index.dense.present
        wanted |= _best(
            index.per_doc_max(dense_all, present_rows), index.docs_with(present_rows), n
        )
    docs = np.flatnonzero(wanted & allowed)
    rows = np.flatnonzero(allowed_rows & wanted[index.row_doc])
    row_doc = np.searchsorted(docs, index.row_doc[rows])
    channels = {
        "document": Channel(document[docs], fusion.document_weight, lexical=True),
        "passage": Channel(passage[docs], fusion.lexical_weight, lexical=True),
    }
    row_dense = row_present = None
    if index.dense is not None and query_vector is not None:
        row_dense = (
            dense_all[rows] if dense_all is not None else index.dense.scores_of(query_vector, rows)
        )
        row_present = index.dense.present[rows]
        row_dense = np.where(row_present, row_dense, 0.0).astype(np.float32)
        best = np.full(len(docs), -np.inf, dtype=np.float32)
        np.maximum.at(best, row_doc[row_present], row_dense[row_present])
        present = np.isfinite(best)
        channels["dense"] = Channel(
            np.where(present, best, 0.0).astype(np.float32), fusion.dense_weight, present
        )
    if title is not None and title_present is not None:
        channels["title"] = Channel(
            title[docs], fusion.title_vector_weight, present=title_present[docs]
        )
    return Evidence(
        docs=docs,
        channels=channels,
        rows=rows,
        row_doc=row_doc,
        row_lexical=row_lexical[rows],
        row_dense=row_dense,
        row_present=row_present,
        boost=fusion.identifier_boost if has_identifier(text) else 1.0,
    )


def document_scores(index: SearchIndex, evidence: Evidence) -> Vector:
    """The fused score of each candidate document."""
    channels = list(evidence.channels.values())
    everything = np.ones(len(evidence.docs), dtype=bool)
    return combine(channels, scale(channels, everything, index.fusion), everything, evidence.boost)


def passage_scores(index: SearchIndex, evidence: Evidence) -> Vector:
    """The fused score of each candidate passage: the channels at passage level, each on the
    scale of its document-level statistics (reciprocal ranks among passages for RRF)."""
    fusion = index.fusion
    doc_channels = evidence.channels
    everything = np.ones(len(evidence.docs), dtype=bool)
    at = evidence.row_doc
    rows: dict[str, Channel] = {
        name: replace(channel, scores=channel.scores[at], present=None)
        if channel.present is None
        else replace(channel, scores=channel.scores[at], present=channel.present[at])
        for name, channel in doc_channels.items()
    }
    rows["passage"] = replace(doc_channels["passage"], scores=evidence.row_lexical)
    if "dense" in doc_channels and evidence.row_dense is not None:
        rows["dense"] = replace(
            doc_channels["dense"], scores=evidence.row_dense, present=evidence.row_present
        )
    channels = list(rows.values())
    on_rows = np.ones(len(evidence.rows), dtype=bool)
    if fusion.method == "rrf":
        return combine(channels, scale(channels, on_rows, fusion), on_rows, evidence.boost)
    parts = [
        normalize(
            doc.scores,
            everything if doc.present is None else doc.present,
            fusion.normalization,
            fusion.depth,
            values=row.scores,
            values_allowed=row.present,
        )
        for doc, row in zip(doc_channels.values(), channels, strict=True)
    ]
    return combine(channels, parts, on_rows, evidence.boost)


def _hit(index: SearchIndex, evidence: Evidence, position: int, score: float) -> IndexHit:
    from territoria.search.index import IndexHit

    dense = evidence.row_dense
    if dense is None and "title" in evidence.channels:
        dense = evidence.channels["title"].scores[evidence.row_doc]
    return IndexHit(
        passage_id=index.passage_ids[int(evidence.rows[position])],
        score=float(score),
        lexical_score=float(evidence.row_lexical[position]),
        dense_score=None if dense is None else float(dense[position]),
    )


def rank_documents(index: SearchIndex, evidence: Evidence, k: int) -> list[IndexHit]:
    """The k best documents, best first, each as its best passage."""
    if not len(evidence.docs) or not len(evidence.rows):
        return []
    docs = document_scores(index, evidence)
    rows = passage_scores(index, evidence)
    order = np.argsort(-docs, kind="stable")[:k]
    # each document's best passage: rows sorted by document, then best first
    by_doc = np.lexsort((-rows, evidence.row_doc))
    first = np.ones(len(by_doc), dtype=bool)
    first[1:] = evidence.row_doc[by_doc][1:] != evidence.row_doc[by_doc][:-1]
    best = np.full(len(evidence.docs), -1, dtype=np.int64)
    best[evidence.row_doc[by_doc[first]]] = by_doc[first]
    return [_hit(index, evidence, int(best[d]), float(docs[d])) for d in order if best[d] >= 0]


def rank_passages(index: SearchIndex, evidence: Evidence, k: int) -> list[IndexHit]:
    """The k best candidate passages, best first."""
    if not len(evidence.rows):
        return []
    rows = passage_scores(index, evidence)
    order = np.argsort(-rows, kind="stable")[:k]
    return [_hit(index, evidence, int(p), float(rows[p])) for p in order]
