"""The agents' page: questions over public and internal documents, answers to copy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from territoria.web.auth import AgentDep
from territoria.web.questions import question_page
from territoria.web.state import StateDep
from territoria.web.views import copy_text

router = APIRouter(include_in_schema=False)


@router.get("/agent", response_class=HTMLResponse)
def agent_page(
    request: Request,
    caller: AgentDep,
    state: StateDep,
    q: str = "",
    simple: bool = False,
    previous: Annotated[list[str] | None, Query()] = None,
    previous_id: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    base = str(request.base_url).rstrip("/")
    return question_page(
        request,
        "agent.html",
        q,
        simple,
        caller,
        state,
        extra={"copy_text": lambda view: copy_text(view, base)},
        previous=previous,
        previous_ids=previous_id,
    )
