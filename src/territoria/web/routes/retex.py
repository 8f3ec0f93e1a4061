"""The RETEX commons on the web: the signed feed other instances follow (public), and the
agents' pages: search and list the fiches, read one with its origin, write or edit one of
ours, withdraw it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from territoria.errors import InvalidRequest, NotFound
from territoria.retex.commons import origin_of
from territoria.retex.documents import public_view
from territoria.retex.form import fiche_data, form_fields
from territoria.retex.model import (
    COLLECTIVITE_LABELS,
    STATUS_LABELS,
    BudgetBand,
    PopulationBand,
)
from territoria.retex.storage import StoredFiche
from territoria.retex.text import fiche_sections
from territoria.web.auth import AgentDep, Caller
from territoria.web.render import render
from territoria.web.state import StateDep

router = APIRouter(include_in_schema=False)


def _ours(fiche: StoredFiche, caller: Caller) -> bool:
    """A fiche this caller's collectivité wrote on this instance (may edit, withdraw, and see
    its restricted fields)."""
    return (
        fiche.origin == "local"
        and fiche.body is not None
        and (fiche.tenant == caller.access.tenant)
    )


@router.get("/retex/feed.json")
def feed(state: StateDep) -> JSONResponse:
    """This instance's signed RETEX feed: public by design (only public fields, free text
    pseudonymised, each entry signed)."""
    return JSONResponse(state.runtime.retex.feed(), headers={"Cache-Control": "no-cache"})


def _choices() -> dict[str, Any]:
    return {
        "statuses": STATUS_LABELS,
        "types": COLLECTIVITE_LABELS,
        "populations": PopulationBand.__args__,  # type: ignore[attr-defined]
        "budgets": BudgetBand.__args__,  # type: ignore[attr-defined]
    }


@router.get("/agent/retex", response_class=HTMLResponse)
def retex_page(request: Request, caller: AgentDep, state: StateDep, q: str = "") -> HTMLResponse:
    commons = state.runtime.retex
    q = q.strip()[: state.settings.question_max_chars]
    if q:
        items = [
            {"id": h.id, "title": h.title, "origin": h.origin, "view": h.view, "score": h.score}
            for h in commons.search(q, k=20)
        ]
    else:
        items = []
        for f in sorted(commons.fiches(), key=lambda f: f.updated, reverse=True):
            view = public_view(f) or (f.body if f.origin == "local" else None)
            if view is not None:
                items.append(
                    {
                        "id": f.id,
                        "title": view["title"],
                        "origin": origin_of(f, view),
                        "view": view,
                        "draft": not f.published,
                    }
                )
    return render(
        request,
        "retex.html",
        {
            "q": q,
            "items": items,
            "statuses": STATUS_LABELS,
            "public_key": commons.key.public_key,
            "follows": commons.store.follows(),
        },
        caller=caller,
    )


def _form(
    request: Request, caller: AgentDep, state: StateDep, fields: dict[str, str], **extra: Any
) -> HTMLResponse:
    return render(
        request,
        "retex_form.html",
        {"fields": fields, **_choices(), **extra},
        caller=caller,
        status=400 if extra.get("error") else 200,
    )


@router.get("/agent/retex/nouvelle", response_class=HTMLResponse)
def new_form(request: Request, caller: AgentDep, state: StateDep, modele: str = "") -> HTMLResponse:
    """An empty form, or one filled from one of our fiches (`modele`) to edit it."""
    fields = {"collectivite_name": state.settings.commune, "status": "experimentation"}
    if modele:
        found = state.runtime.retex.get(modele)
        if not _ours(found, caller):
            raise NotFound("Seules les fiches de votre collectivité se modifient ici.")
        assert found.body is not None
        fields = form_fields(found.body)
    return _form(request, caller, state, fields, fiche_id=modele)


@router.post("/agent/retex/nouvelle", response_model=None)
async def create(request: Request, caller: AgentDep, state: StateDep) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    fiche_id = fields.pop("fiche_id", "")
    draft = bool(fields.pop("draft", ""))
    known = state.runtime.retex.store.get(fiche_id) if fiche_id else None
    if known is not None and not _ours(known, caller):
        raise NotFound("Seules les fiches de votre collectivité se modifient ici.")
    data = fiche_data(fields, fiche_id=fiche_id)
    try:
        stored = await run_in_threadpool(
            state.runtime.retex.add, data, tenant=caller.access.tenant, draft=draft
        )
    except InvalidRequest as exc:
        return _form(request, caller, state, fields, fiche_id=fiche_id, error=exc.message)
    return RedirectResponse(f"/agent/retex/{stored.id}", status_code=303)


@router.get("/agent/retex/{fiche_id}", response_class=HTMLResponse)
def fiche_page(request: Request, fiche_id: str, caller: AgentDep, state: StateDep) -> HTMLResponse:
    found = state.runtime.retex.get(fiche_id)
    view = public_view(found) or (found.body if found.origin == "local" else None)
    if view is None:
        raise NotFound("Fiche retirée par son instance d'origine.")
    origin = origin_of(found, view)
    where = "cette instance" if origin["local"] else f"l'instance {origin['instance']}"
    restricted = []
    if _ours(found, caller) and found.body is not None:
        restricted = [
            (name, found.body.get(name)) for name in ("contact", "budget_detail", "internal_notes")
            if found.body.get(name) and name not in view
        ]  # fmt: skip
    return render(
        request,
        "retex_fiche.html",
        {
            "fiche": found,
            "view": view,
            "origin": origin,
            "sections": fiche_sections(view, f"{where}, {found.updated[:10]}"),
            "restricted": restricted,
            "ours": _ours(found, caller),
        },
        caller=caller,
    )


@router.post("/agent/retex/{fiche_id}/retirer")
def withdraw(
    fiche_id: str, caller: AgentDep, state: StateDep, confirm: Annotated[str, Form()] = ""
) -> Response:
    if confirm != "oui":
        raise InvalidRequest("Cochez la confirmation pour retirer la fiche.")
    if not _ours(state.runtime.retex.get(fiche_id), caller):
        raise NotFound("Seules les fiches de votre collectivité se retirent ici.")
    state.runtime.retex.withdraw(fiche_id)
    return RedirectResponse("/agent/retex", status_code=303)
