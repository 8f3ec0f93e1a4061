"""The `Store` protocol: documents, their passages, and cached passage vectors.

SQLite (`store.sqlite`) is the embedded default; a PostgreSQL backend implements the same
protocol. A document and its passages are always written in one transaction, and every write
bumps `generation()` so that derived search indexes know they are stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from territoria.types import Passage, Visibility

if TYPE_CHECKING:
    from territoria.settings import Settings


@dataclass(frozen=True)
class StoredDocument:
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


class Store(Protocol):
    def close(self) -> None: ...

    def get_document(self, doc_id: str) -> StoredDocument | None: ...

    def put_document(self, doc: StoredDocument, passages: Sequence[Passage]) -> None:
        """Insert or replace a document and all its passages, atomically."""
        ...

    def delete_document(self, doc_id: str) -> bool: ...

    def list_documents(self) -> list[StoredDocument]: ...

    def approve_passage(self, passage_id: str) -> bool:
        """Let a flagged passage reach generative prompts (an admin's decision)."""
        ...

    def iter_passages(self) -> Iterator[Passage]:
        """Every passage, in a stable order."""
        ...

    def get_passages(self, passage_ids: Sequence[str]) -> dict[str, Passage]: ...

    def generation(self) -> int:
        """A counter bumped by every write of documents or vectors."""
        ...

    def get_vectors(
        self, model: str, keys: Iterable[str]
    ) -> dict[str, npt.NDArray[np.float32]]: ...

    def put_vectors(self, model: str, vectors: Mapping[str, npt.NDArray[np.float32]]) -> None: ...


def open_store(settings: Settings) -> Store:
    """The store named by `settings.store`."""
    if settings.store == "sqlite":
        from territoria.store.sqlite import SQLiteStore

        return SQLiteStore(settings.db_path)
    if settings.store == "postgres":
        from territoria.store.postgres import PostgresStore

        return PostgresStore(settings.postgres_dsn)
    from territoria.errors import ConfigError

    raise ConfigError(f"Stockage inconnu : {settings.store!r} (sqlite ou postgres).")
