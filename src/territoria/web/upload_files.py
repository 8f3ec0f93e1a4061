"""From uploaded form files to the domain: `ingest_uploads` (admin page and API), and a
bounded copy of one upload (`save_upload`, the forecast page)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from fastapi import UploadFile
from fastapi.concurrency import run_in_threadpool

from territoria.errors import InvalidRequest
from territoria.ingest import FileResult
from territoria.ingest.library import ingest_uploads, safe_name
from territoria.settings import Settings
from territoria.types import Visibility
from territoria.web.auth import Caller
from territoria.web.state import WebState


async def ingest_files(
    state: WebState,
    caller: Caller,
    files: Sequence[UploadFile],
    *,
    collection: str,
    visibility: Visibility,
) -> list[FileResult]:
    """Ingest the caller's uploaded files into the caller's tenant, off the event loop."""
    return await run_in_threadpool(
        ingest_uploads,
        state.runtime,
        [(f.filename or "", f.file) for f in files],
        collection=collection,
        visibility=visibility,
        tenant=caller.access.tenant,
        user=caller.name,
    )


def save_upload(
    settings: Settings,
    folder: Path,
    name: str,
    data: BinaryIO,
    *,
    suffixes: Sequence[str],
    formats: str,
) -> Path:
    """Copy one uploaded stream into `folder` under a safe name, within the size limit
    (`max_file_mb`); other suffixes than `suffixes` are refused, naming the `formats`."""
    clean = safe_name(name)
    if Path(clean).suffix.lower() not in suffixes:
        raise InvalidRequest(f"Format non pris en charge : {clean}. Formats acceptés : {formats}.")
    target = folder / clean
    if target.exists():
        raise InvalidRequest(f"Deux fichiers portent le même nom : {clean}.")
    limit = int(settings.max_file_mb * 1024 * 1024)
    size = 0
    with target.open("wb") as out:
        while chunk := data.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise InvalidRequest(
                    f"Fichier trop volumineux : {clean} (plus de {settings.max_file_mb:g} Mo)."
                )
            out.write(chunk)
    return target
