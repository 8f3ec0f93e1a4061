"""Ingestion: walk files, load, chunk, and write each document in one transaction.

Unchanged content (same content hash) is a no-op; changed content replaces the old version.
One bad file never aborts a batch: the report names each failed file and why. Every passage
is screened for instructions aimed at a model; flagged passages stay searchable (they are
quoted, never obeyed) but are kept out of generative prompts until an admin approves them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from territoria.errors import IngestError
from territoria.guard.injection import screen, screen_html
from territoria.ingest.chunking import chunk_document, document_text
from territoria.ingest.loaders import load_path
from territoria.settings import Settings
from territoria.store import Store, StoredDocument
from territoria.types import LoadedDocument, Passage, Visibility

Progress = Callable[[int, int, str], None]
DocStatus = Literal["ingested", "replaced", "unchanged"]


@dataclass
class IngestReport:
    ingested: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    documents: list[tuple[str, str, DocStatus]] = field(default_factory=list)

    @property
    def files_read(self) -> int:
        return len({path for path, _, _ in self.documents})

    def to_json(self) -> dict[str, object]:
        return {
            "ingested": self.ingested,
            "unchanged": self.unchanged,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "documents": [{"path": p, "doc_id": d, "status": s} for p, d, s in self.documents],
        }


def slugify(text: str) -> str:
    """A stable, readable document id from a file name."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug or "document"


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths, folders walked recursively in a stable order; hidden
    files and folders are skipped. A path that does not exist is yielded as is, so that the
    caller reports it."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield child
        else:
            yield path


def content_hash(doc: LoadedDocument, collection: str, visibility: str, tenant: str) -> str:
    h = hashlib.sha256()
    for part in (doc.title, doc.source, collection, visibility, tenant, document_text(doc)):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


def document_flags(doc: LoadedDocument, path: Path) -> tuple[str, ...]:
    """Injection-screening reasons that concern the whole document: its title and metadata
    (PDF/DOCX properties) and, for HTML, text hidden from readers (removed before indexing,
    but it says the page was crafted)."""
    reasons: list[str] = []
    meta = screen("\n".join([doc.title, *doc.metadata.values()]))
    if meta.flagged:
        reasons.extend(f"métadonnées : {r}" for r in meta.reasons)
    if path.suffix.lower() in _HTML_SUFFIXES and path.is_file():
        raw = path.read_text(encoding="utf-8", errors="replace")
        hidden = screen_html(raw)
        if hidden.flagged:
            reasons.extend(f"HTML : {r}" for r in hidden.reasons)
    return tuple(dict.fromkeys(reasons))


def passage_flags(text: str, doc_flags: tuple[str, ...]) -> tuple[str, ...]:
    screening = screen(text)
    own = screening.reasons if screening.flagged else ()
    return tuple(dict.fromkeys((*doc_flags, *own)))


def to_passages(
    doc_id: str, doc: LoadedDocument, settings: Settings, path: Path | None = None
) -> list[Passage]:
    doc_flags = document_flags(doc, path) if path is not None else ()
    return [
        Passage(
            passage_id=f"{doc_id}#{i}",
            doc_id=doc_id,
            title=doc.title,
            text=chunk.text,
            headings=chunk.headings,
            page=chunk.page,
            start=chunk.start,
            end=chunk.end,
            source=doc.source,
            flags=passage_flags(chunk.text, doc_flags),
        )
        for i, chunk in enumerate(chunk_document(doc, settings))
    ]


def ingest_paths(
    paths: Iterable[Path],
    *,
    settings: Settings,
    store: Store,
    collection: str = "default",
    visibility: Visibility = "public",
    tenant: str = "default",
    progress: Progress | None = None,
) -> IngestReport:
    report = IngestReport()
    files = list(iter_files(paths))
    for n, path in enumerate(files, start=1):
        if progress:
            progress(n, len(files), path.name)
        if not path.exists():
            report.failed.append((str(path), "fichier introuvable"))
            continue
        try:
            result = load_path(path, settings)
        except IngestError as exc:
            report.failed.append((str(path), exc.message))
            continue
        report.failed.extend(result.failures)
        for doc in result.documents:
            doc_id = doc.doc_id or slugify(path.stem)
            status = _write(doc_id, doc, path, settings, store, collection, visibility, tenant)
            if status == "unchanged":
                report.unchanged += 1
            elif status is not None:
                report.ingested += 1
            if status is None:
                report.failed.append((f"{path}#{doc_id}", "aucun texte à indexer"))
            else:
                report.documents.append((str(path), doc_id, status))
    return report


def _write(
    doc_id: str,
    doc: LoadedDocument,
    path: Path,
    settings: Settings,
    store: Store,
    collection: str,
    visibility: Visibility,
    tenant: str,
) -> DocStatus | None:
    digest = content_hash(doc, collection, visibility, tenant)
    previous = store.get_document(doc_id)
    if previous is not None and previous.content_hash == digest:
        return "unchanged"
    passages = to_passages(doc_id, doc, settings, path)
    if not passages:
        return None
    store.put_document(
        StoredDocument(
            doc_id=doc_id,
            title=doc.title,
            source=doc.source or str(path),
            content_hash=digest,
            collection=collection,
            visibility=visibility,
            tenant=tenant,
            format=path.suffix.lower().lstrip("."),
            pages=doc.pages,
        ),
        passages,
    )
    return "replaced" if previous is not None else "ingested"
