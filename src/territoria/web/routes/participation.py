"""The participation page (agents and admins): upload contributions (CSV, XLSX, JSON, a pol.is
export), run `territoria.participation.analyze`, then read the generated report.

Each analysis works in a folder `<home>/participation/<id>/` (id: 16 hex digits): the uploads
in `input/` while they are read, then `report.json` / `report.html` written by `analyze`,
which go to the report store (`participation/storage.py`: SQLite in the home, or PostgreSQL,
read by every replica) with their owner; the folder is then removed. The raw uploads hold
personal data: they are deleted as soon as they are read, and the report keeps their SHA-256
(`territoria.participation.inputs`). Only agents and admins of the owning tenant can read a
report (others get a 404).
"""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Annotated, BinaryIO

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from territoria.errors import InvalidRequest, NotFound, TerritoriaError
from territoria.participation import AnalysisOptions, analyze, inputs
from territoria.participation.storage import StoredReport, now_iso
from territoria.settings import Settings
from territoria.web.auth import AgentDep, Caller
from territoria.web.render import render
from territoria.web.state import StateDep, WebState
from territoria.web.upload_files import save_upload

router = APIRouter(include_in_schema=False)

_ID = re.compile(r"[0-9a-f]{16}")
_SUFFIXES = (".csv", ".tsv", ".txt", ".md", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson")
# The report is one self-contained file with an inline <style> and no script: its own policy.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def analysis_root(settings: Settings) -> Path:
    return settings.home / "participation"


def stored_report(state: WebState, caller: Caller, analysis_id: str) -> StoredReport:
    """The report of an analysis of the caller's tenant (else 404: nothing is disclosed)."""
    if not _ID.fullmatch(analysis_id):
        raise NotFound("Synthèse introuvable.")
    return state.runtime.reports.get(caller.access.tenant, analysis_id)


def save_input(settings: Settings, folder: Path, name: str, data: BinaryIO) -> Path:
    """Copy one uploaded stream into `folder` under a safe name, within the size limit."""
    return save_upload(
        settings,
        folder,
        name,
        data,
        suffixes=_SUFFIXES,
        formats="CSV, XLSX, JSON, notes d'atelier (.md, .txt) (ou les fichiers comments.csv "
        "et participants-votes.csv d'un export pol.is)",
    )


def run_analysis(
    state: WebState, caller: Caller, uploads: list[tuple[str, BinaryIO]], mapping: str
) -> str:
    """Save the uploads, analyse them (the uploads are deleted once read), keep the report in
    the report store; return the new analysis id (the folder is removed in every case)."""
    settings = state.settings
    # Raw uploads that an older version kept:
    inputs.forget_finished(analysis_root(settings), inputs="input", done="owner.json")
    analysis_id = secrets.token_hex(8)
    folder = analysis_root(settings) / analysis_id
    received = folder / "input"
    received.mkdir(parents=True)
    try:
        paths = [save_input(settings, received, name, data) for name, data in uploads]
        report = analyze(
            paths,
            settings,
            out_dir=folder,
            mapping=mapping.strip() or None,
            pii=state.runtime.pii,
            embedder=state.runtime.embedder,
            options=AnalysisOptions(tenant=caller.access.tenant, keep_inputs=False),
        )
        state.runtime.reports.save(
            StoredReport(
                analysis_id,
                caller.access.tenant,
                caller.name,
                now_iso(),
                report.json_path.read_text(encoding="utf-8"),
                report.html_path.read_text(encoding="utf-8"),
            )
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return analysis_id


def _page(
    request: Request, caller: Caller, state: WebState, *, error: str = "", mapping: str = ""
) -> HTMLResponse:
    return render(
        request,
        "participation.html",
        {
            "error": error,
            "mapping": mapping,
            "max_files": state.settings.upload_max_files,
            "recent": state.runtime.reports.recent(caller.access.tenant, limit=20),
        },
        caller=caller,
        status=400 if error else 200,
    )


@router.get("/participation", response_class=HTMLResponse)
def participation_page(request: Request, caller: AgentDep, state: StateDep) -> HTMLResponse:
    return _page(request, caller, state)


@router.post("/participation", response_class=HTMLResponse)
async def participation_upload(
    request: Request,
    files: Annotated[list[UploadFile], File()],
    caller: AgentDep,
    state: StateDep,
    mapping: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    chosen = [f for f in files if f.filename]
    try:
        if not chosen:
            raise InvalidRequest("Choisissez au moins un fichier de contributions.")
        if len(chosen) > state.settings.upload_max_files:
            raise InvalidRequest(
                f"Trop de fichiers : {state.settings.upload_max_files} au plus par analyse."
            )
        uploads = [(f.filename or "", f.file) for f in chosen]
        analysis_id = await run_in_threadpool(run_analysis, state, caller, uploads, mapping)
    except TerritoriaError as exc:
        message = f"L'analyse n'a pas pu être faite : {exc.message}"
        return _page(request, caller, state, error=message, mapping=mapping)
    return RedirectResponse(f"/participation/{analysis_id}", status_code=303)


@router.get("/participation/{analysis_id}")
def participation_report(analysis_id: str, caller: AgentDep, state: StateDep) -> HTMLResponse:
    report = stored_report(state, caller, analysis_id)
    return HTMLResponse(report.html, headers={"Content-Security-Policy": REPORT_CSP})


@router.get("/participation/{analysis_id}/report.json")
def participation_json(analysis_id: str, caller: AgentDep, state: StateDep) -> Response:
    report = stored_report(state, caller, analysis_id)
    return Response(
        report.data,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="report.json"'},
    )
