"""A document's page (the cited passage highlighted) and its original file."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from territoria.errors import NotFound
from territoria.store import StoredDocument
from territoria.types import Passage
from territoria.web.auth import Caller, CallerDep
from territoria.web.render import render
from territoria.web.state import StateDep, WebState
from territoria.web.views import anchor

router = APIRouter(include_in_schema=False)


def visible_document(
    state: WebState, caller: Caller, doc_id: str
) -> tuple[StoredDocument, list[Passage]]:
    """The document and its passages, if the caller may see it (else 404, not 403: the
    existence of an internal document is not disclosed)."""
    doc = state.runtime.store.get_document(doc_id)
    access = caller.access
    if doc is None or doc.tenant != access.tenant or doc.visibility not in access.visibilities:
        raise NotFound("Document introuvable.")
    ids = [f"{doc_id}#{i}" for i in range(doc.n_passages)]
    found = state.runtime.store.get_passages(ids)
    passages = [found[i] for i in ids if i in found]
    if len(passages) < doc.n_passages:  # ids of another shape: read them all
        passages = [p for p in state.runtime.store.iter_passages() if p.doc_id == doc_id]
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
    has_original = Path(doc.source).is_file()
    return render(
        request,
        "document.html",
        {
            "doc": doc,
            "passages": passages,
            "highlight": p,
            "anchor": anchor,
            "has_original": has_original,
        },
        caller=caller,
    )


@router.get("/documents/{doc_id}/original")
def original(
    doc_id: str,
    caller: CallerDep,
    state: StateDep,
) -> FileResponse:
    doc, _ = visible_document(state, caller, doc_id)
    path = Path(doc.source)
    if not path.is_file():
        raise NotFound("Fichier d'origine indisponible.")
    return FileResponse(path, filename=path.name, content_disposition_type="inline")
