"""The search index of one corpus: BM25, passage vectors, title vectors, access codes.

Rows are passages. Each row keeps its document, tenant, visibility and collection as small
integer codes, and `search` turns an `Access` into a boolean mask applied to every score vector
*before* top-k selection: a row the user may not see scores -inf and can never be returned,
whatever the query.

Two dense channels, both optional and row-aligned with the passages:
- `vectors`: the passage embedding (title, heading path and text; `Settings.embedder`);
- `title_vectors`: the embedding of the passage's document title (`Settings.title_embedder`):
  titles are short and few, so a slower, better model can embed them (e5: nDCG@10 0.473
  against 0.432 for BM25 + passage vectors alone on qa/cdtn-dev). Repeated rows are stored
  once.
Rows of zeros are passages not embedded yet: they are found lexically meanwhile.

`search` ranks passages; `search_documents` ranks documents (each channel's best passage per
document, then fusion) and returns each document's best passage. On disk: JSON, `.npz` and
`.npy` files, no pickle.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from territoria.embed import Matrix
from territoria.errors import StoreError
from territoria.search.dense import DenseIndex
from territoria.search.fields import Codes, build_lexical
from territoria.search.fusion import FusionParams
from territoria.search.lexical import LexicalIndex
from territoria.search.parameters import INDEX_FORMAT, fusion_params
from territoria.search.query import Query
from territoria.search.ranking import Evidence, gather, rank_documents, rank_passages
from territoria.settings import Settings
from territoria.types import VISIBILITIES, Access, Passage

Vector = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class IndexHit:
    passage_id: str
    score: float
    lexical_score: float | None = None
    dense_score: float | None = None


def document_key(tenant: str, doc_id: str) -> str:
    """A document's key in the index: ids are unique within a tenant only."""
    return f"{tenant}\x1f{doc_id}"


def _codes(values: Sequence[str]) -> tuple[list[str], Codes]:
    names: dict[str, int] = {}
    codes = np.fromiter((names.setdefault(v, len(names)) for v in values), dtype=np.int32)
    return list(names), codes


class SearchIndex:
    def __init__(
        self,
        *,
        passage_ids: list[str],
        doc_ids: list[str],  # document keys (`document_key`)
        row_doc: Codes,
        tenants: list[str],
        row_tenant: Codes,
        row_visibility: Codes,
        collections: list[str],
        row_collection: Codes,
        lexical: LexicalIndex,
        documents: LexicalIndex,
        dense: DenseIndex | None,
        titles: DenseIndex | None,
        fusion: FusionParams,
    ) -> None:
        self.passage_ids = passage_ids
        self.doc_ids = doc_ids
        self.row_doc = row_doc
        self.tenants = tenants
        self.row_tenant = row_tenant
        self.row_visibility = row_visibility
        self.collections = collections
        self.row_collection = row_collection
        self.lexical = lexical
        self.documents = documents
        self.dense = dense
        self.titles = titles
        self.fusion = fusion
        # rows grouped by document, for per-document maxima (np.maximum.reduceat)
        self._by_doc = np.argsort(row_doc, kind="stable")
        counts = np.bincount(row_doc, minlength=len(doc_ids))
        self._doc_start = (np.cumsum(counts) - counts).astype(np.int64)
        self._doc_count = counts
        self._masks: dict[tuple[object, ...], Mask] = {}
        self._rows: dict[tuple[str, str], int] | None = None

    def __len__(self) -> int:
        return len(self.passage_ids)

    def with_parts(self, **parts: Any) -> SearchIndex:
        """The same rows with some parts replaced (`lexical`, `documents`, `dense`, `titles`,
        `fusion`): vectors filled in, other weights, another lexical index."""
        unknown = set(parts) - {"lexical", "documents", "dense", "titles", "fusion"}
        if unknown:
            raise TypeError(f"not a replaceable part: {sorted(unknown)}")
        new = copy.copy(self)
        new.__dict__.update(parts)
        new._masks = {}
        return new

    def analyze(self, text: str) -> list[str]:
        """The index's analyzer: the terms a text is searched by."""
        return self.lexical.analyzer(text)

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term over the passages."""
        return self.lexical.idf(term)

    def knows(self, term: str) -> bool:
        """Whether an analysed term occurs in the corpus."""
        return self.lexical.knows(term)

    def lexical_ceiling(self, query: str | Mapping[str, float]) -> float:
        """The BM25 score a passage would reach holding every query term at saturation: the
        scale of lexical scores for this query, whatever the corpus (0 for no term). A
        mapping is a rewritten query's weighted terms (`Query.weights()`)."""
        weights = dict.fromkeys(self.analyze(query), 1.0) if isinstance(query, str) else query
        return sum(self.idf(t) * w for t, w in weights.items()) * (self.lexical.params.k1 + 1.0)

    def lexical_scores(
        self, query: str | Mapping[str, float], passage_ids: Sequence[str], tenant: str
    ) -> list[float]:
        """BM25 score of `query` (a text or weighted terms) for the given passages of
        `tenant` only (0 for an unknown id: passage ids are unique within a tenant only)."""
        if self._rows is None:
            self._rows = {
                (self.tenants[self.row_tenant[row]], pid): row
                for row, pid in enumerate(self.passage_ids)
            }
        rows = [self._rows.get((tenant, pid), -1) for pid in passage_ids]
        found = iter(self.lexical.row_scores(query, [r for r in rows if r >= 0]))
        return [next(found) if r >= 0 else 0.0 for r in rows]

    def documents_with_all_terms(self, query: str, tenant: str) -> set[str]:
        """Ids of the tenant's documents whose passages, together, hold every analysed term
        of `query` (an unknown term: none)."""
        found: set[int] | None = None
        matrix = self.lexical.matrix
        for term in set(self.analyze(query)):
            col = self.lexical.vocabulary.get(term)
            if col is None:
                return set()
            rows = matrix.indices[matrix.indptr[col] : matrix.indptr[col + 1]]
            docs = set(np.unique(self.row_doc[rows]).tolist())
            found = docs if found is None else found & docs
            if not found:
                return set()
        prefix = f"{tenant}\x1f"
        keys = [self.doc_ids[d] for d in found or ()]
        return {key[len(prefix) :] for key in keys if key.startswith(prefix)}

    def tenants_present(self) -> list[str]:
        return list(self.tenants)

    # --- building -----------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        passages: Sequence[Passage],
        vectors: Matrix | None,
        settings: Settings,
        *,
        title_vectors: Matrix | None = None,
    ) -> SearchIndex:
        """Index passages; `vectors`/`title_vectors` are row-aligned with them, or None."""
        for name, matrix in (("vectors", vectors), ("title_vectors", title_vectors)):
            if matrix is not None and len(matrix) != len(passages):
                raise StoreError(
                    f"{len(matrix)} lignes de {name} pour {len(passages)} passages : "
                    "reconstruisez l'index."
                )
        doc_ids, row_doc = _codes([document_key(p.tenant, p.doc_id) for p in passages])
        tenants, row_tenant = _codes([p.tenant for p in passages])
        collections, row_collection = _codes([p.collection for p in passages])
        row_visibility = np.asarray(
            [VISIBILITIES.index(p.visibility) for p in passages], dtype=np.int32
        )
        lexical, documents = build_lexical(passages, row_doc, len(doc_ids), settings)
        return cls(
            passage_ids=[p.passage_id for p in passages],
            doc_ids=doc_ids,
            row_doc=row_doc,
            tenants=tenants,
            row_tenant=row_tenant,
            row_visibility=row_visibility,
            collections=collections,
            row_collection=row_collection,
            lexical=lexical,
            documents=documents,
            dense=DenseIndex.build(vectors) if vectors is not None else None,
            titles=(
                DenseIndex.build(title_vectors, dedupe=True) if title_vectors is not None else None
            ),
            fusion=fusion_params(settings),
        )

    # --- access -------------------------------------------------------------------------

    def mask(self, access: Access) -> Mask:
        """Rows this user may retrieve: same tenant, allowed visibility and collection.

        The index never changes once built, so masks are computed once per kind of access.
        """
        key = (access.tenant, access.visibilities, access.collections)
        cached = self._masks.get(key)
        if cached is None:
            if len(self._masks) >= 64:
                self._masks.clear()
            cached = self._masks[key] = self._compute_mask(access)
            cached.flags.writeable = False
        return cached

    def _allowed(self, access: Access, exclude: Collection[str]) -> Mask:
        """The access mask, without the rows of the documents named in `exclude` (used to
        ask what the corpus would answer if it did not hold those documents)."""
        mask = self.mask(access)
        if not exclude:
            return mask
        keys = {document_key(access.tenant, d) for d in exclude}
        codes = [i for i, key in enumerate(self.doc_ids) if key in keys]
        return mask & ~np.isin(self.row_doc, codes)

    def _compute_mask(self, access: Access) -> Mask:
        n = len(self.passage_ids)
        if access.tenant not in self.tenants:
            return np.zeros(n, dtype=bool)
        allowed: Mask = self.row_tenant == self.tenants.index(access.tenant)
        visibilities = [VISIBILITIES.index(v) for v in access.visibilities]
        allowed &= np.isin(self.row_visibility, visibilities)
        if access.collections is not None:
            codes = [self.collections.index(c) for c in access.collections if c in self.collections]
            allowed &= np.isin(self.row_collection, codes)
        return allowed

    # --- search -------------------------------------------------------------------------

    def allowed_rows(self, access: Access, exclude: Collection[str] = ()) -> Mask:
        """The rows this user may retrieve, without the documents named in `exclude`."""
        return self._allowed(access, exclude)

    def per_doc_max(self, scores: Vector, rows: Mask) -> Vector:
        """Best score of each document over `rows` (-inf where it has none)."""
        if not len(self._doc_start):
            return np.zeros(0, dtype=np.float32)
        masked = np.where(rows, scores, -np.inf).astype(np.float32)
        return np.maximum.reduceat(masked[self._by_doc], self._doc_start).astype(np.float32)

    def docs_with(self, rows: Mask) -> Mask:
        """Documents with at least one of `rows`."""
        if not len(self._doc_start):
            return np.zeros(0, dtype=bool)
        return np.asarray(np.logical_or.reduceat(rows[self._by_doc], self._doc_start))

    def title_scores(self, query_vector: Matrix) -> tuple[Vector, Mask]:
        """Cosine similarity of each document's title vector, and which documents have one."""
        assert self.titles is not None
        first_rows = self._by_doc[self._doc_start]
        lines = first_rows if self.titles.rows is None else self.titles.rows[first_rows]
        return self.titles.distinct_scores(query_vector)[lines], self.titles.present[first_rows]

    def gather(
        self,
        query: str | Query,
        *,
        access: Access,
        query_vector: Matrix | None = None,
        title_query_vector: Matrix | None = None,
        exclude: Collection[str] = (),
    ) -> Evidence:
        """What the query finds: candidate documents and every channel's scores (ranking.py)."""
        return gather(
            self,
            query,
            access=access,
            exclude=exclude,
            query_vector=query_vector,
            title_query_vector=title_query_vector,
        )

    def search(
        self,
        query: str | Query,
        *,
        k: int,
        access: Access,
        query_vector: Matrix | None = None,
        title_query_vector: Matrix | None = None,
        exclude: Collection[str] = (),
    ) -> list[IndexHit]:
        """The k best passages this user may see, best first. `query` is a text (its own
        terms) or a rewritten `Query` (weighted terms)."""
        evidence = self.gather(
            query,
            access=access,
            exclude=exclude,
            query_vector=query_vector,
            title_query_vector=title_query_vector,
        )
        return rank_passages(self, evidence, k)

    def search_documents(
        self,
        query: str | Query,
        *,
        k: int,
        access: Access,
        query_vector: Matrix | None = None,
        title_query_vector: Matrix | None = None,
        exclude: Collection[str] = (),
    ) -> list[IndexHit]:
        """The k best documents, each as its best passage, best first (ranking.py)."""
        evidence = self.gather(
            query,
            access=access,
            exclude=exclude,
            query_vector=query_vector,
            title_query_vector=title_query_vector,
        )
        return rank_documents(self, evidence, k)

    # --- persistence --------------------------------------------------------------------

    def save_vectors(self, directory: Path) -> None:
        """Write the dense parts only (the lexical parts are unchanged)."""
        for name, channel in (("vectors.npy", self.dense), ("titles.npy", self.titles)):
            path = directory / name
            if channel is not None:
                channel.save(path)
            else:
                path.unlink(missing_ok=True)
                path.with_suffix(".rows.npy").unlink(missing_ok=True)

    @staticmethod
    def load_vectors(directory: Path) -> dict[str, DenseIndex | None]:
        """The dense parts saved in `directory` (for `with_parts`)."""
        vectors, titles = directory / "vectors.npy", directory / "titles.npy"
        return {
            "dense": DenseIndex.load(vectors) if vectors.exists() else None,
            "titles": DenseIndex.load(titles) if titles.exists() else None,
        }

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.lexical.save(directory)
        self.documents.save(directory, "documents", vocabulary=False)
        self.save_vectors(directory)
        np.savez(
            directory / "rows.npz",
            doc=self.row_doc,
            tenant=self.row_tenant,
            visibility=self.row_visibility,
            collection=self.row_collection,
        )
        meta = {
            "format": INDEX_FORMAT,
            "passage_ids": self.passage_ids,
            "doc_ids": self.doc_ids,
            "tenants": self.tenants,
            "collections": self.collections,
            "fusion": asdict(self.fusion),
        }
        (directory / "index.json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> SearchIndex:
        try:
            meta = json.loads((directory / "index.json").read_text())
            with np.load(directory / "rows.npz", allow_pickle=False) as rows:
                codes = {name: rows[name].astype(np.int32) for name in rows.files}
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"Index de recherche illisible dans {directory} : {exc}") from exc
        if meta.get("format") != INDEX_FORMAT:
            raise StoreError(f"Format d'index inconnu dans {directory} : reconstruisez l'index.")
        vectors, titles = directory / "vectors.npy", directory / "titles.npy"
        lexical = LexicalIndex.load(directory)
        return cls(
            passage_ids=meta["passage_ids"],
            doc_ids=meta["doc_ids"],
            row_doc=codes["doc"],
            tenants=meta["tenants"],
            row_tenant=codes["tenant"],
            row_visibility=codes["visibility"],
            collections=meta["collections"],
            row_collection=codes["collection"],
            lexical=lexical,
            documents=LexicalIndex.load(
                directory, lexical.analyzer, "documents", vocabulary=lexical.vocabulary
            ),
            dense=DenseIndex.load(vectors) if vectors.exists() else None,
            titles=DenseIndex.load(titles) if titles.exists() else None,
            fusion=FusionParams(**meta["fusion"]),
        )
