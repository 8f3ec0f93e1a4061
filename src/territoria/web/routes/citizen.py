"""Citizen pages: the question page, the embeddable widget, display preferences, feedback
without JavaScript, and the API description page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from territoria.web.auth import CallerDep
from territoria.web.questions import question_page, record_feedback
from territoria.web.render import PREFS_COOKIE, local_path, render
from territoria.web.state import StateDep

router = APIRouter(include_in_schema=False)
_YEAR = 365 * 24 * 3600


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    caller: CallerDep,
    state: StateDep,
    q: str = "",
    simple: bool = False,
    previous: Annotated[list[str] | None, Query()] = None,
    previous_id: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    return question_page(
        request, "index.html", q, simple, caller, state, previous=previous, previous_ids=previous_id
    )


@router.get("/widget", response_class=HTMLResponse)
def widget(
    request: Request,
    caller: CallerDep,
    state: StateDep,
    q: str = "",
    simple: bool = False,
    previous: Annotated[list[str] | None, Query()] = None,
    previous_id: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    return question_page(
        request,
        "widget.html",
        q,
        simple,
        caller,
        state,
        previous=previous,
        previous_ids=previous_id,
    )


@router.get("/preferences")
def preferences(
    texte: Annotated[str, Query(pattern="^(grand|normal)$")] = "grand",
    retour: str = "/",
) -> Response:
    """Large text on or off (a cookie), then back to the page: works without JavaScript."""
    response = RedirectResponse(local_path(retour), status_code=303)
    response.set_cookie(PREFS_COOKIE, texte, max_age=_YEAR, samesite="lax", httponly=False)
    return response


@router.post("/retour", response_class=HTMLResponse)
def feedback_form(
    request: Request,
    request_id: Annotated[str, Form(max_length=64)],
    useful: Annotated[str, Form(pattern="^(oui|non)$")],
    caller: CallerDep,
    state: StateDep,
    reason: Annotated[str, Form(max_length=1000)] = "",
    q: Annotated[str, Form(max_length=2000)] = "",
    retour: Annotated[str, Form(max_length=3000)] = "/",
) -> HTMLResponse:
    """Feedback posted by the page's form (without JavaScript)."""
    record_feedback(state, caller, request_id, useful=useful == "oui", reason=reason)
    back = local_path(retour)
    return render(request, "thanks.html", {"back": back, "q": q}, caller=caller)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, caller: CallerDep) -> HTMLResponse:
    """The API described from its OpenAPI document, served locally (no CDN)."""
    spec = request.app.openapi()
    operations = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or ["autres"])[0],
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p["in"],
                            "required": p.get("required", False),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": "requestBody" in op,
                }
            )
    return render(request, "api_docs.html", {"operations": operations, "spec": spec}, caller=caller)
