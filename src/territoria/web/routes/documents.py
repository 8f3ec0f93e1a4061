"""A document's page (the cited passage highlighted) and its original file.

A document is looked up within the caller's tenant only. The original is the copy the server
kept when the file was ingested (`territoria.ingest.originals`), never a path taken from the
document's metadata; it is served with a sandboxing CSP, and HTML is sent as an attachment,
so an uploaded page can never run in the site's origin.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from territoria.errors import NotFound
from territoria.ingest.library import original_file
from territoria.store import StoredDocument
from territoria.types import Passage
from territoria.web.auth import Caller, CallerDep
from territoria.web.render import render
from territoria.web.state import StateDep, WebState
from territoria.web.views import anchor

router = APIRouter(include_in_schema=False)

_INLINE = {"application/pdf", "text/plain"}
_ORIGINAL_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def visible_document(
    state: WebState, caller: Caller, doc_id: str
) -> tuple[StoredDocument, list[Passage]]:
    """The document and its passages, if the caller may see it (else 404, not 403: the
    existence of an internal document is not disclosed)."""
    access = caller.access
    store = state.runtime.store
    doc = store.get_document(doc_id, tenant=access.tenant)
    if doc is None or doc.visibility not in access.visibilities:
        raise NotFound("Document introuvable.")
    ids = [f"{doc_id}#{i}" for i in range(doc.n_passages)]
    found = store.get_passages(ids, tenant=access.tenant)
    passages = [found[i] for i in ids if i in found]
    if len(passages) < doc.n_passages:  # ids of another shape: read them all
        passages = [p for p in store.iter_passages(tenant=access.tenant) if p.doc_id == doc_id]
    return doc, passages


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(
    request: Request,
    doc_id: str,
    caller: CallerDep,
    state: StateDep,
    p: str = "",
) -> HTMLResponse:
    doc, passages = visible_document(state, caller, doc_id)
    return render(
        request,
        "document.html",
        {
            "doc": doc,
            "passages": passages,
            "highlight": p,
            "anchor": anchor,
            "has_original": original_file(state.runtime, doc) is not None,
            "doc_path": quote(doc.doc_id, safe=""),
        },
        caller=caller,
    )


@router.get("/documents/{doc_id}/original", response_model=None)
def original(doc_id: str, caller: CallerDep, state: StateDep) -> Response:
    """The file as it was ingested; without one (passages JSONL), the document's page."""
    doc, _ = visible_document(state, caller, doc_id)
    path = original_file(state.runtime, doc)
    if path is None:
        return RedirectResponse(f"/documents/{quote(doc.doc_id, safe='')}", status_code=303)
    name = doc.file_name or f"{doc.doc_id}.{doc.format}"
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(
        path,
        media_type=media_type,
        filename=name,
        content_disposition_type="inline" if media_type in _INLINE else "attachment",
        headers={"Content-Security-Policy": _ORIGINAL_CSP},
    )
