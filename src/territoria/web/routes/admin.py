"""Admin pages: dashboard (charts + tables), register entry, documents (upload, list,
delete, re-index). Forms work without JavaScript; the script adds upload progress."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from territoria.answer.calibration import describe
from territoria.ingest import FileResult
from territoria.ingest.library import (
    delete_document,
    find_documents,
    reindex_document,
)
from territoria.register import entry, to_markdown
from territoria.types import Visibility
from territoria.web.auth import AdminDep, Caller
from territoria.web.charts import bar_chart, day_label
from territoria.web.render import render
from territoria.web.state import StateDep, WebState
from territoria.web.stats import dashboard
from territoria.web.upload_files import ingest_files
from territoria.web.views import document_json

router = APIRouter(prefix="/admin", include_in_schema=False)


def charts(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = data["per_day"]
    labels = [day_label(r["day"]) for r in rows]
    small = max((r["wh"] for r in rows), default=0.0) < 1.0
    energy = [r["wh"] * (1000 if small else 1) for r in rows]
    energy_unit = "mWh" if small else "Wh"
    rates = [100.0 * r["abstained"] / r["questions"] if r["questions"] else 0.0 for r in rows]
    return [
        {
            "id": "questions",
            "title": "Questions par jour",
            "svg": bar_chart(
                "g-questions", "Questions par jour", labels,
                [("Questions", [r["questions"] for r in rows], "serie-a")],
            ),
            "legend": "",
        },
        {
            "id": "abstention",
            "title": "Taux d'abstention par jour (%)",
            "svg": bar_chart(
                "g-abstention", "Taux d'abstention par jour", labels,
                [("Abstentions", rates, "serie-a")], unit=" %",
            ),
            "legend": "",
        },
        {
            "id": "avis",
            "title": "Avis par jour",
            "svg": bar_chart(
                "g-avis", "Avis par jour", labels,
                [
                    ("Utiles", [r["useful"] for r in rows], "serie-a"),
                    ("Pas utiles", [r["not_useful"] for r in rows], "hachure"),
                ],
            ),
            "legend": "Barres pleines : réponses jugées utiles ; barres hachurées : pas utiles.",
        },
        {
            "id": "energie",
            "title": f"Énergie par jour ({energy_unit})",
            "svg": bar_chart(
                "g-energie", f"Énergie consommée par jour ({energy_unit})", labels,
                [("Énergie", energy, "serie-a")], digits=2, unit=f" {energy_unit}",
            ),
            "legend": "",
        },
    ]  # fmt: skip


@router.get("", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    caller: AdminDep,
    state: StateDep,
    days: int = 30,
) -> HTMLResponse:
    days = min(max(days, 1), 366)
    data = dashboard(state.runtime.audit, state.feedback, tenant=caller.access.tenant, days=days)
    documents = state.runtime.store.list_documents(tenant=caller.access.tenant)
    register_md = to_markdown(entry(state.settings, documents))
    base = str(request.base_url).rstrip("/")
    snippet = (
        f'<iframe src="{base}/widget" title="Assistant de la {state.settings.commune}" '
        'width="100%" height="600" style="border:1px solid #ccc" loading="lazy"></iframe>'
    )
    return render(
        request,
        "admin.html",
        {
            "data": data,
            "charts": charts(data),
            "register_md": register_md,
            "snippet": snippet,
        },
        caller=caller,
    )


def documents_context(
    request: Request, state: WebState, caller: Caller, results: list[FileResult] | None = None
) -> dict[str, Any]:
    params = request.query_params
    tenant = caller.access.tenant
    found = find_documents(
        state.runtime,
        tenant,
        collection=params.get("collection", ""),
        visibility=params.get("visibility", ""),
        text=params.get("q", ""),
    )
    every = state.runtime.store.list_documents(tenant=tenant)
    return {
        "documents": [document_json(d, flagged) for d, flagged in found],
        "collections": sorted({d.collection for d in every}),
        "filters": {k: params.get(k, "") for k in ("collection", "visibility", "q")},
        "failures": state.runtime.journal.failures(tenant=tenant),
        "results": results,
        "max_files": state.settings.upload_max_files,
        "vectors": vector_summary(state.runtime.retriever.vector_status()),
        "abstention": [
            describe(s)
            for s in state.runtime.assistant.thresholds.threshold_states()
            if s.tenant == tenant
        ],
    }


def vector_summary(status: dict[str, Any]) -> dict[str, Any]:
    """The share of passages whose vectors are computed (every tenant's: no counts shown)
    and whether a computation is running."""
    channels = status["channels"].values()
    rows = sum(c["rows"] for c in channels)
    present = sum(c["present"] for c in channels)
    job = status.get("job") or {}
    return {
        "complete": status["complete"],
        "percent": round(100 * present / rows) if rows else 100,
        "running": bool(job.get("running")),
        "models": sorted({c["model"] for c in channels}),
    }


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, caller: AdminDep, state: StateDep) -> HTMLResponse:
    return render(
        request, "admin_documents.html", documents_context(request, state, caller), caller=caller
    )


@router.post("/documents", response_class=HTMLResponse)
async def upload_form(
    request: Request,
    files: Annotated[list[UploadFile], File()],
    caller: AdminDep,
    state: StateDep,
    collection: Annotated[str, Form(max_length=64)] = "default",
    visibility: Annotated[Visibility, Form()] = "public",
) -> HTMLResponse:
    results = await ingest_files(state, caller, files, collection=collection, visibility=visibility)
    context = await run_in_threadpool(documents_context, request, state, caller, results)
    return render(request, "admin_documents.html", context, caller=caller)


@router.post("/documents/{doc_id}/supprimer")
def delete_form(doc_id: str, caller: AdminDep, state: StateDep) -> Response:
    delete_document(state.runtime, doc_id, caller.access.tenant)
    state.runtime.refresh(vectors="background")
    return RedirectResponse("/admin/documents?" + urlencode({"supprime": doc_id}), status_code=303)


@router.post("/documents/{doc_id}/reindexer", response_class=HTMLResponse)
def reindex_form(
    request: Request,
    doc_id: str,
    caller: AdminDep,
    state: StateDep,
) -> HTMLResponse:
    result = reindex_document(state.runtime, doc_id, caller.access.tenant, user=caller.name)
    state.runtime.refresh(vectors="background")
    context = documents_context(request, state, caller, [result])
    return render(request, "admin_documents.html", context, caller=caller)
