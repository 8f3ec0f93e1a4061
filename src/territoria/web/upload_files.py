"""The one HTTP adaptor from uploaded form files to `ingest_uploads` (admin page and API)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import UploadFile
from fastapi.concurrency import run_in_threadpool

from territoria.ingest import FileResult
from territoria.ingest.library import ingest_uploads
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
