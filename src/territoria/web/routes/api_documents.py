"""API: documents (upload, list with failures, delete, re-index) and collections.

HTTP only: the rules (tenant, limits, journal, originals) are in `territoria.ingest.library`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response

from territoria.ingest.library import (
    collections,
    delete_document,
    find_documents,
    reindex_document,
)
from territoria.types import Visibility
from territoria.web.auth import AdminDep, CallerDep
from territoria.web.openapi import problems
from territoria.web.schemas import CollectionList, DocumentList, FailureOut, UploadOut
from territoria.web.state import StateDep
from territoria.web.upload_files import ingest_files
from territoria.web.views import document_json

router = APIRouter(prefix="/api", tags=["documents"])


@router.get("/documents", summary="Lister les documents et les échecs", response_model=DocumentList)
def list_documents(
    caller: AdminDep,
    state: StateDep,
    collection: str = "",
    visibility: Annotated[str, Query(pattern="^(public|internal)?$")] = "",
    q: Annotated[str, Query(max_length=200, description="Filtre sur le titre.")] = "",
) -> dict[str, object]:
    tenant = caller.access.tenant
    found = find_documents(
        state.runtime, tenant, collection=collection, visibility=visibility, text=q
    )
    return {
        "documents": [document_json(d, flagged) for d, flagged in found],
        "failures": [f.to_json() for f in state.runtime.journal.failures(tenant=tenant)],
    }


@router.post(
    "/documents", summary="Déposer des documents", response_model=UploadOut, status_code=201,
    responses=problems(507),
)  # fmt: skip
async def upload(
    files: Annotated[list[UploadFile], File(description="Un ou plusieurs fichiers.", min_length=1)],
    caller: AdminDep,
    state: StateDep,
    collection: Annotated[str, Form(max_length=64)] = "default",
    visibility: Annotated[Visibility, Form()] = "public",
) -> dict[str, object]:
    """Chaque fichier est lu et indexé ; le résultat est donné fichier par fichier."""
    results = await ingest_files(state, caller, files, collection=collection, visibility=visibility)
    count = len(state.runtime.store.list_documents(tenant=caller.access.tenant))
    return {"results": [r.to_json() for r in results], "documents": count}


@router.delete(
    "/documents/{doc_id}", summary="Supprimer un document", status_code=204,
    responses=problems(404, 507),
)  # fmt: skip
def delete(doc_id: str, caller: AdminDep, state: StateDep) -> Response:
    delete_document(state.runtime, doc_id, caller.access.tenant)
    state.runtime.refresh(vectors="background")
    return Response(status_code=204)


@router.post(
    "/documents/{doc_id}/reindex", summary="Relire et réindexer un document",
    response_model=FailureOut, responses=problems(404, 507),
)  # fmt: skip
def reindex(doc_id: str, caller: AdminDep, state: StateDep) -> dict[str, object]:
    result = reindex_document(state.runtime, doc_id, caller.access.tenant, user=caller.name)
    state.runtime.refresh(vectors="background")
    return result.to_json()


@router.get("/collections", summary="Collections visibles", response_model=CollectionList)
def list_collections(caller: CallerDep, state: StateDep) -> dict[str, object]:
    access = caller.access
    docs = [
        d
        for d in state.runtime.store.list_documents(tenant=access.tenant)
        if d.visibility in access.visibilities
    ]
    return {"collections": collections(docs)}
