"""The agents' page: questions over public and internal documents, answers to copy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from territoria.web.auth import AgentDep
from territoria.web.questions import AskedDep, question_page
from territoria.web.state import StateDep
from territoria.web.views import copy_text

router = APIRouter(include_in_schema=False)


def _copy_tools(request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {"copy_text": lambda view: copy_text(view, base)}


@router.get("/agent", response_class=HTMLResponse)
def agent_page(request: Request, caller: AgentDep, state: StateDep, q: str = "") -> HTMLResponse:
    """The question form; `?q=` (an old link) only fills it in (web/questions.py)."""
    return question_page(
        request, "agent.html", caller, state, prefill=q, extra=_copy_tools(request)
    )


@router.post("/agent", response_class=HTMLResponse)
def agent_answer(
    request: Request, caller: AgentDep, state: StateDep, asked: AskedDep
) -> HTMLResponse:
    """The answer to the question the form sent (POST: the question stays out of the URL)."""
    return question_page(request, "agent.html", caller, state, asked, extra=_copy_tools(request))
