"""The document library of a collectivité: the rules around ingestion that the CLI, the
admin page and the API share.

- A tenant name is checked; a document id is only ever looked up within its tenant.
- An upload is streamed to a private temporary folder (size limit on the way), read, kept
  as an original by its hash (`Originals`), then the temporary copy is removed.
- Every file's result, failures included, goes to the ingestion journal.
- Deleting a document removes its original once no document names it; re-indexing reads
  the stored original again, never a path taken from the document's metadata.
"""

from __future__ import annotations

import re
import secrets
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from territoria.accounts import check_name
from territoria.errors import InvalidRequest, NotFound
from territoria.ingest import (
    FileResult,
    IngestReport,
    Progress,
    ingest_paths,
    release_original,
)
from territoria.ingest.originals import Originals
from territoria.settings import Settings
from territoria.store import StoredDocument
from territoria.types import Visibility

if TYPE_CHECKING:
    from territoria.runtime import Runtime

MAX_NAME_CHARS = 120
CLI_USER = "ligne de commande"
_CHUNK = 1 << 20
_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def check_tenant(tenant: str) -> str:
    return check_name(tenant, "Collectivité")


def safe_name(name: str) -> str:
    """A plain file name (no folders, no odd characters) of at most MAX_NAME_CHARS,
    keeping its extension."""
    base = Path(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base).strip().lstrip(".")
    folded = "".join(c for c in unicodedata.normalize("NFKD", base) if not unicodedata.combining(c))
    cleaned = _SAFE.sub("-", folded).strip(" -")
    if not cleaned or cleaned.startswith(".") or not Path(cleaned).stem:
        raise InvalidRequest(f"Nom de fichier invalide : {name!r}.")
    return shorten(cleaned)


def shorten(name: str) -> str:
    """`name` cut to MAX_NAME_CHARS, keeping its extension (a suffix of 16 characters at most)."""
    suffix = Path(name).suffix
    if len(suffix) > 16 or not name.endswith(suffix):  # not an extension
        suffix = ""
    stem = name[: len(name) - len(suffix)]
    return stem[: MAX_NAME_CHARS - len(suffix)].rstrip(" .-") + suffix


def tmp_root(settings: Settings) -> Path:
    return settings.home / "tmp" / "uploads"


def clear_tmp(settings: Settings) -> None:
    """Remove temporary files left by an interrupted upload."""
    shutil.rmtree(tmp_root(settings), ignore_errors=True)


def _private_dir(settings: Settings) -> Path:
    folder = tmp_root(settings) / secrets.token_hex(8)
    folder.mkdir(parents=True, mode=0o700)
    return folder


def _stream_to(path: Path, data: BinaryIO, settings: Settings) -> None:
    limit = int(settings.max_file_mb * 1024 * 1024)
    size = 0
    with path.open("wb") as out:
        while chunk := data.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise InvalidRequest(
                    f"Fichier trop volumineux (plus de {settings.max_file_mb:g} Mo)."
                )
            out.write(chunk)


def _journal(runtime: Runtime, results: Iterable[FileResult], tenant: str, user: str) -> None:
    for result in results:
        runtime.journal.add(result, tenant=tenant, user=user)


def ingest_files(
    runtime: Runtime,
    paths: Sequence[Path],
    *,
    collection: str = "default",
    visibility: Visibility = "public",
    tenant: str = "default",
    user: str = CLI_USER,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files and folders given by an operator (the index is refreshed by the caller)."""
    report = ingest_paths(
        paths,
        settings=runtime.settings,
        store=runtime.store,
        collection=collection.strip() or "default",
        visibility=visibility,
        tenant=check_tenant(tenant),
        progress=progress,
    )
    _journal(runtime, report.files, tenant, user)
    return report


def ingest_upload(
    runtime: Runtime,
    name: str,
    data: BinaryIO,
    *,
    collection: str,
    visibility: Visibility,
    tenant: str,
    user: str,
) -> FileResult:
    """Save, read and keep one uploaded file; journal its result (the index is refreshed by
    the caller, once per batch)."""
    try:
        clean = safe_name(name)
    except InvalidRequest as exc:
        result = FileResult(shorten(name) or "(sans nom)", "failed", reason=exc.message)
        _journal(runtime, [result], tenant, user)
        return result
    folder = _private_dir(runtime.settings)
    try:
        path = folder / clean
        try:
            _stream_to(path, data, runtime.settings)
        except InvalidRequest as exc:
            result = FileResult(clean, "failed", reason=exc.message)
        else:
            report = ingest_paths(
                [path],
                settings=runtime.settings,
                store=runtime.store,
                collection=collection.strip() or "default",
                visibility=visibility,
                tenant=tenant,
                source=clean,
            )
            result = report.files[0]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _journal(runtime, [result], tenant, user)
    return result


def ingest_uploads(
    runtime: Runtime,
    uploads: Sequence[tuple[str, BinaryIO]],
    *,
    collection: str,
    visibility: Visibility,
    tenant: str,
    user: str,
) -> list[FileResult]:
    """Ingest a batch of uploaded files (one failure never stops it), then refresh the index
    once."""
    check_tenant(tenant)
    if len(uploads) > runtime.settings.upload_max_files:
        raise InvalidRequest(
            f"Trop de fichiers : {runtime.settings.upload_max_files} au plus par dépôt."
        )
    results = [
        ingest_upload(
            runtime,
            name,
            data,
            collection=collection,
            visibility=visibility,
            tenant=tenant,
            user=user,
        )
        for name, data in uploads
    ]
    runtime.refresh(vectors="background")
    return results


def tenant_document(runtime: Runtime, doc_id: str, tenant: str) -> StoredDocument:
    doc = runtime.store.get_document(doc_id, tenant=tenant)
    if doc is None:
        raise NotFound("Document introuvable.")
    return doc


def original_file(runtime: Runtime, doc: StoredDocument) -> Path | None:
    """The stored copy of the document's file, if the server kept one."""
    return Originals(runtime.settings.originals_dir).path(doc.original) if doc.original else None


def delete_document(runtime: Runtime, doc_id: str, tenant: str) -> StoredDocument:
    """Delete a document of `tenant`, and its original when no document names it any more
    (the index is refreshed by the caller)."""
    doc = tenant_document(runtime, doc_id, tenant)
    runtime.store.delete_document(doc_id, tenant=tenant)
    release_original(runtime.store, Originals(runtime.settings.originals_dir), doc.original)
    return doc


def reindex_document(runtime: Runtime, doc_id: str, tenant: str, *, user: str) -> FileResult:
    """Read a document's stored original again (the index is refreshed by the caller)."""
    doc = tenant_document(runtime, doc_id, tenant)
    stored = original_file(runtime, doc)
    if stored is None:
        raise NotFound("Le fichier d'origine n'est plus disponible : déposez-le à nouveau.")
    folder = _private_dir(runtime.settings)
    try:
        path = folder / (doc.file_name or f"{doc.doc_id}.{doc.format}")
        shutil.copyfile(stored, path)
        report = ingest_paths(
            [path],
            settings=runtime.settings,
            store=runtime.store,
            collection=doc.collection,
            visibility=doc.visibility,
            tenant=doc.tenant,
            source=doc.source,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = report.files[0]
    _journal(runtime, [result], tenant, user)
    return result


def find_documents(
    runtime: Runtime,
    tenant: str,
    *,
    collection: str = "",
    visibility: str = "",
    text: str = "",
) -> list[tuple[StoredDocument, int]]:
    """The tenant's documents matching the filters (title or id contains `text`), each with
    its number of passages flagged by injection screening."""
    flagged: dict[str, int] = {}
    for p in runtime.store.iter_passages(tenant=tenant):
        if p.flags:
            flagged[p.doc_id] = flagged.get(p.doc_id, 0) + 1
    needle = text.strip().lower()
    return [
        (d, flagged.get(d.doc_id, 0))
        for d in runtime.store.list_documents(tenant=tenant)
        if (not collection or d.collection == collection)
        and (not visibility or d.visibility == visibility)
        and (not needle or needle in d.title.lower() or needle in d.doc_id.lower())
    ]


def collections(docs: Sequence[StoredDocument]) -> list[dict[str, object]]:
    counts: dict[str, dict[str, int]] = {}
    for d in docs:
        entry = counts.setdefault(d.collection, {"documents": 0, "passages": 0})
        entry["documents"] += 1
        entry["passages"] += d.n_passages
    return [{"name": name, **counts[name]} for name in sorted(counts)]
