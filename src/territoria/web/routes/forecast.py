"""The forecast page (agents and admins of a collectivité): upload series, pick one, read the
forecast, its backtest, its warnings and its peers; print it or download the data.

    GET  /prevision                       upload form and the tenant's latest runs
    POST /prevision                       run `territoria.forecast.run_forecast`
    GET  /prevision/{run}?serie=ID         one run, one series at a time (no script needed)
    GET  /prevision/{run}/rapport          the self-contained printable report (all series)
    GET  /prevision/{run}/forecast.json    the JSON contract

Uploaded files are read then deleted; the run (its report document) is kept in the run store,
and logged in the audit log. Another tenant's run is a 404.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from territoria.errors import InvalidRequest, NotFound, TerritoriaError
from territoria.forecast import StoredRun, run_forecast
from territoria.forecast.html import render as render_report
from territoria.forecast.html import series_section
from territoria.forecast.importer import SUFFIXES
from territoria.register import forecast_notice
from territoria.web.auth import AgentDep, Caller
from territoria.web.render import render
from territoria.web.state import StateDep, WebState
from territoria.web.upload_files import save_upload

router = APIRouter(include_in_schema=False)

_ID = re.compile(r"[0-9a-f]{16}")
_FORMATS = "CSV, XLSX ou JSON"
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def stored_run(state: WebState, caller: Caller, run_id: str) -> StoredRun:
    if not _ID.fullmatch(run_id):
        raise NotFound("Prévision introuvable.")
    return state.runtime.runs.get(caller.access.tenant, run_id)


def demo_series() -> list[Path]:
    """The fictional series of Val-Fleuri shipped with the package (scripts/make_demo_series.py)."""
    root = Path(str(resources.files("territoria") / "demo" / "series"))
    return sorted(root.glob("*.csv"))


def forecast_uploads(
    state: WebState,
    caller: Caller,
    uploads: list[tuple[str, BinaryIO]],
    population: list[tuple[str, BinaryIO]],
    *,
    mapping: str,
    horizon: int | None,
) -> str:
    """Save the uploads in a temporary folder, forecast them, delete them; the run id."""
    settings = state.settings
    (settings.home / "tmp").mkdir(parents=True, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="prevision-", dir=settings.home / "tmp")
    try:
        root = Path(folder)
        (root / "series").mkdir()
        (root / "population").mkdir()
        paths = [
            save_upload(settings, root / "series", name, data, suffixes=SUFFIXES, formats=_FORMATS)
            for name, data in uploads
        ]
        extra = [
            save_upload(
                settings, root / "population", name, data, suffixes=SUFFIXES, formats=_FORMATS
            )
            for name, data in population
        ]
        run = run_forecast(
            paths,
            settings,
            horizon=horizon,
            mapping=mapping.strip() or None,
            population=extra,
            access=caller.access,
            user=caller.name,
            audit=state.runtime.audit,
            store=state.runtime.runs,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return run.run_id


def _page(
    request: Request,
    caller: Caller,
    state: WebState,
    *,
    error: str = "",
    mapping: str = "",
    horizon: str = "",
) -> HTMLResponse:
    runs = state.runtime.runs.list(caller.access.tenant)
    return render(
        request,
        "prevision.html",
        {
            "error": error,
            "mapping": mapping,
            "horizon": horizon,
            "runs": runs,
            "max_files": state.settings.upload_max_files,
            "notice": forecast_notice(state.settings),
        },
        caller=caller,
        status=400 if error else 200,
    )


@router.get("/prevision", response_class=HTMLResponse)
def forecast_page(request: Request, caller: AgentDep, state: StateDep) -> HTMLResponse:
    return _page(request, caller, state)


@router.post("/prevision", response_class=HTMLResponse)
async def forecast_upload(
    request: Request,
    caller: AgentDep,
    state: StateDep,
    files: Annotated[list[UploadFile], File()],
    population: Annotated[list[UploadFile] | None, File()] = None,
    mapping: Annotated[str, Form(max_length=1000)] = "",
    horizon: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    chosen = [f for f in files if f.filename]
    extra = [f for f in population or [] if f.filename]
    try:
        if not chosen:
            raise InvalidRequest("Choisissez au moins un fichier de séries.")
        if len(chosen) + len(extra) > state.settings.upload_max_files:
            raise InvalidRequest(
                f"Trop de fichiers : {state.settings.upload_max_files} au plus par prévision."
            )
        periods = _horizon(horizon)
        run_id = await run_in_threadpool(
            forecast_uploads,
            state,
            caller,
            [(f.filename or "", f.file) for f in chosen],
            [(f.filename or "", f.file) for f in extra],
            mapping=mapping,
            horizon=periods,
        )
    except TerritoriaError as exc:
        message = f"La prévision n'a pas pu être faite : {exc.public}"
        return _page(request, caller, state, error=message, mapping=mapping, horizon=horizon)
    return RedirectResponse(f"/prevision/{run_id}", status_code=303)


def _horizon(text: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= 120:
        raise InvalidRequest("L'horizon doit être un nombre de périodes entre 1 et 120.")
    return int(text)


@router.post("/prevision/demo", response_class=HTMLResponse)
async def forecast_demo(request: Request, caller: AgentDep, state: StateDep) -> Response:
    """Forecast the demo series of Val-Fleuri (fictional budget, energy and canteen)."""

    def run() -> str:
        return run_forecast(
            demo_series(),
            state.settings,
            access=caller.access,
            user=caller.name,
            audit=state.runtime.audit,
            store=state.runtime.runs,
        ).run_id

    try:
        run_id = await run_in_threadpool(run)
    except TerritoriaError as exc:
        message = f"La prévision n'a pas pu être faite : {exc.public}"
        return _page(request, caller, state, error=message)
    return RedirectResponse(f"/prevision/{run_id}", status_code=303)


@router.get("/prevision/{run_id}", response_class=HTMLResponse)
def forecast_run(
    request: Request,
    run_id: str,
    caller: AgentDep,
    state: StateDep,
    serie: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    run = stored_run(state, caller, run_id)
    entries: list[dict[str, Any]] = run.document["series"]
    index = next((i for i, e in enumerate(entries) if e["series_id"] == serie), 0)
    return render(
        request,
        "prevision_resultat.html",
        {
            "run": run,
            "document": run.document,
            "entries": entries,
            "current": entries[index],
            "section": series_section(entries[index], f"s{index}"),
            "abstained": sum(1 for e in entries if e["abstained"]),
            "notice": forecast_notice(state.settings),
        },
        caller=caller,
    )


@router.get("/prevision/{run_id}/rapport", response_class=HTMLResponse)
def forecast_report(run_id: str, caller: AgentDep, state: StateDep) -> HTMLResponse:
    run = stored_run(state, caller, run_id)
    return HTMLResponse(
        render_report(run.document, state.settings),
        headers={"Content-Security-Policy": REPORT_CSP},
    )


@router.get("/prevision/{run_id}/forecast.json")
def forecast_json(run_id: str, caller: AgentDep, state: StateDep) -> JSONResponse:
    run = stored_run(state, caller, run_id)
    return JSONResponse(
        run.document,
        headers={"Content-Disposition": f'attachment; filename="prevision-{run_id}.json"'},
    )
