"""Ingestion: walk files, load, chunk, and write each document in one transaction.

Unchanged content (same content hash) is a no-op; changed content replaces the old version.
One bad file never aborts a batch: the report names each failed file and why. Every passage
is screened for instructions aimed at a model; flagged passages stay searchable (they are
quoted, never obeyed) but are kept out of generative prompts until an admin approves them.

Documents belong to one tenant (collectivité): ids are unique within it, so ingesting for
tenant B never touches a document of tenant A, whatever its id. The bytes of each ingested
file are kept under `<home>/originals` (`Originals`) for the "original file" link; a
document's `source` is metadata only. `territoria.ingest.library` adds the rules around it
(upload limits, the journal, delete, re-index) for the CLI and the web alike.
"""

from __future__ import annotations

import dataclasses
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
from territoria.ingest.originals import Originals
from territoria.settings import Settings
from territoria.store import Store, StoredDocument
from territoria.types import LoadedDocument, Passage, Visibility

Progress = Callable[[int, int, str], None]
DocStatus = Literal["ingested", "replaced", "unchanged"]
FileStatus = Literal["ingested", "replaced", "unchanged", "failed"]


@dataclass(frozen=True)
class FileResult:
    """What became of one file: its documents, or why it failed (French). A JSONL file read
    in part is not failed: `reason` lists its bad lines."""

    file_name: str
    status: FileStatus
    doc_ids: tuple[str, ...] = ()
    reason: str = ""
    time: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file_name,
            "status": self.status,
            "doc_ids": list(self.doc_ids),
            "reason": self.reason,
        }


@dataclass
class IngestReport:
    ingested: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    documents: list[tuple[str, str, DocStatus]] = field(default_factory=list)
    files: list[FileResult] = field(default_factory=list)

    @property
    def files_read(self) -> int:
        return len({path for path, _, _ in self.documents})

    def extend(self, other: IngestReport) -> None:
        self.ingested += other.ingested
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.documents += other.documents
        self.files += other.files

    def to_json(self) -> dict[str, object]:
        return {
            "ingested": self.ingested,
            "unchanged": self.unchanged,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "documents": [{"path": p, "doc_id": d, "status": s} for p, d, s in self.documents],
        }


def _file_result(name: str, statuses: list[tuple[str, DocStatus]], failed: list[str]) -> FileResult:
    if not statuses:
        return FileResult(name, "failed", reason="; ".join(failed) or "aucun texte à indexer")
    kinds = {status for _, status in statuses}
    status: FileStatus = "ingested" if "ingested" in kinds else sorted(kinds)[0]
    return FileResult(name, status, tuple(d for d, _ in statuses), "; ".join(failed))


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


def content_hash(
    doc: LoadedDocument, collection: str, visibility: str, tenant: str, original: str = ""
) -> str:
    h = hashlib.sha256()
    parts = [doc.title, doc.source, collection, visibility, tenant, document_text(doc)]
    for part in [*parts, original] if original else parts:
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
    source: str | None = None,
) -> IngestReport:
    """Ingest files and folders for `tenant`. `source` replaces the file path as the
    documents' source metadata (an upload is named, not located); a JSONL line's own
    `source` is kept."""
    report = IngestReport()
    originals = Originals(settings.originals_dir)
    files = list(iter_files(paths))
    for n, path in enumerate(files, start=1):
        if progress:
            progress(n, len(files), path.name)
        name = source or str(path)
        if not path.exists():
            report.failed.append((name, "fichier introuvable"))
            report.files.append(FileResult(name, "failed", reason="fichier introuvable"))
            continue
        try:
            result = load_path(path, settings)
        except IngestError as exc:
            report.failed.append((name, exc.message))
            report.files.append(FileResult(name, "failed", reason=exc.message))
            continue
        report.failed.extend(result.failures)
        failed = [f"{where} : {why}" for where, why in result.failures]
        statuses: list[tuple[str, DocStatus]] = []
        # a file read as one document has an original; JSONL lines are not files
        single = len(result.documents) == 1 and result.documents[0].doc_id is None
        original = originals.keep(path) if single else ""
        for doc in result.documents:
            doc_id = doc.doc_id or slugify(path.stem)
            if source and doc.source == str(path):
                doc = dataclasses.replace(doc, source=source)
            target = Target(doc_id, tenant, collection, visibility, original, path.name)
            status = _write(target, doc, path, settings, store)
            if status is None:
                report.failed.append((f"{name}#{doc_id}", "aucun texte à indexer"))
                failed.append(f"{doc_id} : aucun texte à indexer")
                continue
            if status == "unchanged":
                report.unchanged += 1
            else:
                report.ingested += 1
            report.documents.append((name, doc_id, status))
            statuses.append((doc_id, status))
        report.files.append(_file_result(name, statuses, failed))
    return report


@dataclass(frozen=True)
class Target:
    """Where a loaded document goes: its id and tenant, its access, its original."""

    doc_id: str
    tenant: str
    collection: str
    visibility: Visibility
    original: str = ""
    file_name: str = ""


def _write(
    target: Target, doc: LoadedDocument, path: Path, settings: Settings, store: Store
) -> DocStatus | None:
    t = target
    digest = content_hash(doc, t.collection, t.visibility, t.tenant, t.original)
    previous = store.get_document(t.doc_id, tenant=t.tenant)
    if previous is not None and previous.content_hash == digest:
        return "unchanged"
    passages = to_passages(t.doc_id, doc, settings, path)
    if not passages:
        return None
    store.put_document(
        StoredDocument(
            doc_id=t.doc_id,
            title=doc.title,
            source=doc.source or path.name,
            content_hash=digest,
            collection=t.collection,
            visibility=t.visibility,
            tenant=t.tenant,
            format=path.suffix.lower().lstrip("."),
            pages=doc.pages,
            original=t.original,
            file_name=t.file_name if t.original else "",
        ),
        passages,
    )
    if previous is not None and previous.original != t.original:
        release_original(store, Originals(settings.originals_dir), previous.original)
    return "replaced" if previous is not None else "ingested"


def release_original(store: Store, originals: Originals, digest: str) -> None:
    """Remove a stored original once no document of any tenant names it."""
    if digest and not any(d.original == digest for d in store.list_documents()):
        originals.discard(digest)
