"""Citizen pages: the question page, the embeddable widget, display preferences, feedback
without JavaScript, and the API description page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from territoria.web.auth import CallerDep
from territoria.web.questions import (
    AskedDep,
    conversation,
    question_page,
    record_feedback,
)
from territoria.web.render import PREFS_COOKIE, local_path, render
from territoria.web.state import StateDep

router = APIRouter(include_in_schema=False)
_YEAR = 365 * 24 * 3600


@router.get("/", response_class=HTMLResponse)
def home(request: Request, caller: CallerDep, state: StateDep, q: str = "") -> HTMLResponse:
    """The question form; `?q=` (an old link) only fills it in (web/questions.py)."""
    return question_page(request, "index.html", caller, state, prefill=q)


@router.post("/", response_class=HTMLResponse)
def home_answer(
    request: Request, caller: CallerDep, state: StateDep, asked: AskedDep
) -> HTMLResponse:
    """The answer to the question the form sent (POST: the question stays out of the URL)."""
    return question_page(request, "index.html", caller, state, asked)


@router.get("/widget", response_class=HTMLResponse)
def widget(request: Request, caller: CallerDep, state: StateDep, q: str = "") -> HTMLResponse:
    return question_page(request, "widget.html", caller, state, prefill=q)


@router.post("/widget", response_class=HTMLResponse)
def widget_answer(
    request: Request, caller: CallerDep, state: StateDep, asked: AskedDep
) -> HTMLResponse:
    return question_page(request, "widget.html", caller, state, asked)


@router.get("/preferences")
def preferences(
    texte: Annotated[str, Query(pattern="^(grand|normal)$")] = "grand",
    retour: str = "/",
) -> Response:
    """Large text on or off (a cookie), then back to the page (links of older pages)."""
    return _text_size(texte, local_path(retour), status=303)


@router.post("/preferences")
def preferences_form(
    texte: Annotated[str, Form(pattern="^(grand|normal)$")],
    asked: AskedDep,
    retour: Annotated[str, Form(max_length=3000)] = "/",
) -> Response:
    """The text-size button of every page (works without JavaScript). On an answer page the
    form also carries the question: a 307 has the browser send that same form to the page
    again, so that the answer comes back without the question ever being in an address."""
    back = local_path(retour)
    return _text_size(texte, back, status=307 if asked.can_resend_to(back) else 303)


def _text_size(texte: str, back: str, *, status: int) -> Response:
    response = RedirectResponse(back, status_code=status)
    response.set_cookie(PREFS_COOKIE, texte, max_age=_YEAR, samesite="lax", httponly=False)
    return response


@router.post("/retour", response_class=HTMLResponse)
def feedback_form(
    request: Request,
    request_id: Annotated[str, Form(max_length=64)],
    useful: Annotated[str, Form(pattern="^(oui|non)$")],
    caller: CallerDep,
    state: StateDep,
    asked: AskedDep,
    reason: Annotated[str, Form(max_length=1000)] = "",
    retour: Annotated[str, Form(max_length=3000)] = "/",
) -> HTMLResponse:
    """Feedback posted by the page's form (without JavaScript). The form also carries the
    question and its conversation, so that "Revenir à la réponse" can send them again."""
    record_feedback(state, caller, request_id, useful=useful == "oui", reason=reason)
    back = local_path(retour)
    context = {
        "back": back,
        "resend": asked.can_resend_to(back),
        "q": asked.q,
        "simple": asked.simple,
        "history": conversation(asked.previous, asked.previous_ids),
    }
    return render(request, "thanks.html", context, caller=caller)


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
