"""The `Store` protocol: documents, their passages, and cached passage vectors.

SQLite (`store.sqlite`) is the embedded default; a PostgreSQL backend implements the same
protocol. A document and its passages are always written in one transaction, and every write
bumps `generation()` so that derived search indexes know they are stale.

Documents are keyed by (tenant, doc_id) and passages by (tenant, passage_id): two
collectivités may hold documents of the same id, and neither can reach, replace or delete the
other's. Every method that names a document or a passage takes the tenant.

The column lists and the row mappers are written once here, for both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from territoria.types import Passage, Visibility

if TYPE_CHECKING:
    from territoria.settings import Settings


@dataclass(frozen=True)
class StoredDocument:
    """A document as stored. `source` is metadata (where it came from: a URL, a label, the
    path an operator gave): it is shown, never opened. `original` is the SHA-256 of the bytes
    kept by the server for the "original file" link (empty: none), `file_name` the name it is
    offered under."""

    doc_id: str
    title: str
    source: str
    content_hash: str
    collection: str = "default"
    visibility: Visibility = "public"
    tenant: str = "default"
    format: str = ""
    pages: int | None = None
    n_passages: int = 0
    ingested_at: str = ""
    original: str = ""
    file_name: str = ""


DOCUMENT_COLUMNS = (
    "doc_id, title, source, content_hash, collection, visibility, tenant, format, pages,"
    " n_passages, ingested_at, original, file_name"
)
PASSAGE_COLUMNS = (
    'p.passage_id, p.doc_id, d.title, p.text, p.headings, p.page, p.start, p."end", '
    "d.source, d.collection, d.visibility, d.tenant, p.flags, p.approved"
)
# passages joined to their document, within one tenant
PASSAGES_JOIN = "passages p JOIN documents d ON d.tenant = p.tenant AND d.doc_id = p.doc_id"


def document_row(doc: StoredDocument, n_passages: int, ingested_at: str) -> tuple[Any, ...]:
    """The values of DOCUMENT_COLUMNS for an insert."""
    return (
        doc.doc_id,
        doc.title,
        doc.source,
        doc.content_hash,
        doc.collection,
        doc.visibility,
        doc.tenant,
        doc.format,
        doc.pages,
        n_passages,
        ingested_at,
        doc.original,
        doc.file_name,
    )


def passage_from_row(row: Sequence[Any], strings: Callable[[Any], Iterable[str]]) -> Passage:
    """A Passage from a row of PASSAGE_COLUMNS; `strings` decodes the list columns (headings,
    flags: JSON text in SQLite, text[] in PostgreSQL)."""
    return Passage(
        passage_id=row[0],
        doc_id=row[1],
        title=row[2],
        text=row[3],
        headings=tuple(strings(row[4])),
        page=row[5],
        start=row[6],
        end=row[7],
        source=row[8],
        collection=row[9],
        visibility=cast(Visibility, row[10]),
        tenant=row[11],
        flags=tuple(strings(row[12])),
        approved=bool(row[13]),
    )


class Store(Protocol):
    def close(self) -> None: ...

    def get_document(self, doc_id: str, *, tenant: str) -> StoredDocument | None: ...

    def put_document(self, doc: StoredDocument, passages: Sequence[Passage]) -> None:
        """Insert or replace the document (doc.tenant, doc.doc_id) and all its passages,
        atomically."""
        ...

    def delete_document(self, doc_id: str, *, tenant: str) -> bool: ...

    def list_documents(self, *, tenant: str | None = None) -> list[StoredDocument]:
        """The documents of `tenant` (None: of every tenant), by tenant then id."""
        ...

    def approve_passage(self, passage_id: str, *, tenant: str) -> bool:
        """Let a flagged passage reach generative prompts (an admin's decision)."""
        ...

    def iter_passages(self, *, tenant: str | None = None) -> Iterator[Passage]:
        """Every passage (of `tenant`, or of all), in a stable order."""
        ...

    def get_passages(self, passage_ids: Sequence[str], *, tenant: str) -> dict[str, Passage]: ...

    def generation(self) -> int:
        """A counter bumped by every write of documents (not of vectors: the index follows
        the vectors of its rows on its own, `territoria.search.vectors`)."""
        ...

    def get_vectors(
        self, model: str, keys: Iterable[str]
    ) -> dict[str, npt.NDArray[np.float32]]: ...

    def put_vectors(self, model: str, vectors: Mapping[str, npt.NDArray[np.float32]]) -> None: ...

    def vector_models(self) -> list[str]:
        """The models that have cached vectors, by name."""
        ...

    def vector_keys(self, model: str) -> list[str]:
        """The keys of one model's cached vectors, sorted."""
        ...


def open_store(settings: Settings) -> Store:
    """The store named by `settings.store`."""
    if settings.store == "sqlite":
        from territoria.store.sqlite import SQLiteStore

        return SQLiteStore(settings.db_path)
    if settings.store == "postgres":
        from territoria.store.postgres import PostgresStore

        return PostgresStore(settings.postgres_dsn, pool_size=settings.postgres_pool_size)
    from territoria.errors import ConfigError

    raise ConfigError(f"Stockage inconnu : {settings.store!r} (sqlite ou postgres).")
