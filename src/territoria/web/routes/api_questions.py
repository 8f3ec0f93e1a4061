"""API: ask a question, search passages, give feedback on an answer.

The question path (`ask`, `search`) refuses questions longer than `question_max_chars` with a
French message (HTTP 422; the pages show it with 400) and runs under `metered()`, so that its
CPU time counts in the caller's rate limit (web/limits.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from territoria.contract import hits_json
from territoria.errors import InvalidRequest, NotFound
from territoria.settings import Settings
from territoria.web.auth import AdminDep, Caller, CallerDep
from territoria.web.limits import metered
from territoria.web.render import render
from territoria.web.schemas import (
    AskResponse,
    FeedbackIn,
    FeedbackList,
    FeedbackOut,
    SearchResponse,
)
from territoria.web.state import StateDep, WebState
from territoria.web.views import answer_view, copy_text

router = APIRouter(prefix="/api", tags=["questions"])
Mode = Literal["extractive", "generative"]


_LENGTH = "2 000 caractères au plus par défaut, réglage question_max_chars"


MAX_PREVIOUS = 3
_RECORD_ID = re.compile(r"[0-9a-f]{16}")
_PREVIOUS = (
    "Les questions précédentes de la conversation, la plus récente en dernier (3 au plus). "
    "Une question qui prolonge la précédente (« et le samedi ? ») est comprise avec elle ; la "
    "réponse indique alors la question poursuivie (champ `continues`)."
)

_PREVIOUS_IDS = (
    "Facultatif : les `request_id` des réponses aux questions précédentes. Le journal d'audit "
    "d'une question de suite garde ces identifiants, jamais le texte des questions précédentes."
)


class AskIn(BaseModel):
    question: str = Field(min_length=1, description=f"La question posée ({_LENGTH}).")
    mode: Mode = Field("extractive", description="extractive (défaut) ou generative.")
    simple: bool = Field(False, description="Langage simplifié : la phrase la plus utile.")
    previous: list[str] = Field(
        default_factory=list, max_length=MAX_PREVIOUS, description=_PREVIOUS
    )
    previous_ids: list[str] = Field(
        default_factory=list, max_length=MAX_PREVIOUS, description=_PREVIOUS_IDS
    )


class QuestionTooLong(InvalidRequest):
    status = 422


def _number(n: int) -> str:
    """French thousands: 2 000 (narrow no-break space)."""
    return f"{n:,}".replace(",", "\u202f")


def check_length(text: str, settings: Settings, *, what: str = "La question") -> None:
    """Raise QuestionTooLong when `text` is over `question_max_chars`."""
    limit = settings.question_max_chars
    if len(text) > limit:
        raise QuestionTooLong(
            f"{what} est trop longue ({_number(len(text))} caractères) : "
            f"{_number(limit)} caractères au plus. Raccourcissez-la et réessayez."
        )


def recent(previous: Sequence[str]) -> list[str]:
    """The earlier questions kept by a page or sent to the API: the last three, non-empty."""
    return [p.strip() for p in previous if p.strip()][-MAX_PREVIOUS:]


def ask(
    state: WebState,
    caller: Caller,
    question: str,
    *,
    mode: Mode = "extractive",
    simple: bool,
    previous: Sequence[str] = (),
    previous_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """The one question path of the web: `Runtime.ask` (screened, answered, audited)."""
    check_length(question, state.settings)
    earlier = recent(previous)
    for text in earlier:
        check_length(text, state.settings, what="Une question précédente")
    ids = [i for i in recent(previous_ids) if _RECORD_ID.fullmatch(i)]
    with metered():
        answer = state.runtime.ask(
            question,
            access=caller.access,
            mode=mode,
            subject=caller.subject,
            previous=earlier,
            previous_ids=ids,
        )
        return answer_view(answer, state.settings, simple=simple)


def _respond(request: Request, caller: Caller, view: dict[str, Any]) -> Any:
    """JSON, or the answer as an HTML fragment when the page's script asks for it."""
    if request.headers.get("accept", "").startswith("text/html"):
        context: dict[str, Any] = {"view": view}
        if caller.is_agent:  # agents get the copy tools, as on their page
            base = str(request.base_url).rstrip("/")
            context["copy_text"] = lambda v: copy_text(v, base)
        return render(request, "_answer.html", context, caller=caller)
    return view


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}},
}


@router.get(
    "/ask",
    summary="Poser une question",
    response_model=AskResponse,
    responses=_RESPONSES,
)
def ask_get(
    request: Request,
    q: Annotated[str, Query(min_length=1, description=f"La question ({_LENGTH}).")],
    caller: CallerDep,
    state: StateDep,
    mode: Mode = "extractive",
    simple: bool = False,
    previous: Annotated[list[str] | None, Query(description=_PREVIOUS)] = None,
    previous_id: Annotated[list[str] | None, Query(description=_PREVIOUS_IDS)] = None,
) -> Any:
    """Réponse citée (ou abstention), avec sources numérotées, fiche d'explication et
    identifiant de la réponse (pour un avis). Chaque question est journalisée.
    Paramètre `previous` répétable pour une question de suite."""
    view = ask(
        state,
        caller,
        q,
        mode=mode,
        simple=simple,
        previous=previous or (),
        previous_ids=previous_id or (),
    )
    return _respond(request, caller, view)


@router.post(
    "/ask",
    summary="Poser une question (corps JSON)",
    response_model=AskResponse,
    responses=_RESPONSES,
)
def ask_post(
    request: Request,
    body: AskIn,
    caller: CallerDep,
    state: StateDep,
) -> Any:
    view = ask(
        state,
        caller,
        body.question,
        mode=body.mode,
        simple=body.simple,
        previous=body.previous,
        previous_ids=body.previous_ids,
    )
    return _respond(request, caller, view)


@router.get("/search", summary="Rechercher des passages", response_model=SearchResponse)
def search(
    q: Annotated[str, Query(min_length=1, description=f"La requête ({_LENGTH}).")],
    caller: CallerDep,
    state: StateDep,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, object]:
    """Passages que l'appelant a le droit de voir, les plus pertinents d'abord."""
    if not q.strip():
        raise InvalidRequest("La requête est vide.")
    check_length(q, state.settings, what="La requête")
    with metered():
        return hits_json(state.runtime.retriever.search(q, k=k, access=caller.access))


def record_feedback(
    state: WebState, caller: Caller, request_id: str, *, useful: bool, reason: str
) -> str:
    """Store a vote on an answer the caller's collectivité received; return its id."""
    try:
        record = state.runtime.audit.get(request_id) if len(request_id) == 16 else None
    except NotFound:
        record = None
    if record is None or record.tenant != caller.access.tenant:
        raise NotFound("Réponse inconnue : impossible d'enregistrer l'avis.")
    item = state.feedback.add(
        record.record_id, useful=useful, reason=reason, tenant=caller.access.tenant
    )
    return item.feedback_id


@router.post(
    "/feedback", summary="Donner un avis sur une réponse", status_code=201,
    response_model=FeedbackOut,
)  # fmt: skip
def feedback(
    body: FeedbackIn,
    caller: CallerDep,
    state: StateDep,
) -> dict[str, object]:
    """Utile / pas utile, avec un motif facultatif (pseudonymisé avant d'être conservé)."""
    feedback_id = record_feedback(
        state, caller, body.request_id, useful=body.useful, reason=body.reason
    )
    return {"feedback_id": feedback_id, "message": "Merci pour votre avis."}


@router.get("/feedback", summary="Avis reçus (administrateurs)", response_model=FeedbackList)
def feedback_list(
    caller: AdminDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, object]:
    items = state.feedback.items(tenant=caller.access.tenant, limit=limit)
    return {
        "feedback": [
            {
                "feedback_id": f.feedback_id,
                "time": f.time,
                "request_id": f.request_id,
                "useful": f.useful,
                "reason": f.reason,
            }
            for f in items
        ]
    }


__all__ = ["QuestionTooLong", "ask", "check_length", "recent", "record_feedback", "router"]
