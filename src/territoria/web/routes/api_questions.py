"""API: ask a question, search passages, give feedback on an answer.

The question path is `web/questions.py`, shared with the pages; `search` follows the same rules
(length, readiness, metered CPU time).

Questions and queries are sent in a JSON body (POST): the documented way. The GET forms with
`?q=` still answer, for existing clients, but are marked deprecated in the OpenAPI
description: a question in an address lands in proxy logs and browser histories.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field, StringConstraints

from territoria.contract import hits_json
from territoria.errors import InvalidRequest
from territoria.web.auth import AdminDep, Caller, CallerDep
from territoria.web.limits import metered
from territoria.web.openapi import problems
from territoria.web.questions import MAX_PREVIOUS, Mode, ask, check_length, record_feedback
from territoria.web.render import render
from territoria.web.schemas import (
    NOT_BLANK,
    AskResponse,
    FeedbackIn,
    FeedbackList,
    FeedbackOut,
    JsonInt,
    SearchResponse,
    StrictBody,
)
from territoria.web.state import StateDep, WebState
from territoria.web.views import copy_text

router = APIRouter(prefix="/api", tags=["questions"])


_LENGTH = "2 000 caractères au plus par défaut, réglage question_max_chars"


_PREVIOUS = (
    "Les questions précédentes de la conversation, la plus récente en dernier (3 au plus). "
    "Une question qui prolonge la précédente (« et le samedi ? ») est comprise avec elle ; la "
    "réponse indique alors la question poursuivie (champ `continues`)."
)

# A request id, or empty for an earlier question that got none (the pages send both in pairs).
RequestId = Annotated[str, StringConstraints(pattern="^(?:[0-9a-f]{16})?$")]
_PREVIOUS_IDS = (
    "Facultatif : les `request_id` des réponses aux questions précédentes. Le journal d'audit "
    "d'une question de suite garde ces identifiants, jamais le texte des questions précédentes."
)


class AskIn(StrictBody):
    question: str = Field(
        min_length=1, pattern=NOT_BLANK, description=f"La question posée ({_LENGTH})."
    )
    mode: Mode = Field("extractive", description="extractive (défaut) ou generative.")
    simple: bool = Field(False, description="Langage simplifié : la phrase la plus utile.")
    previous: list[str] = Field(
        default_factory=list, max_length=MAX_PREVIOUS, description=_PREVIOUS
    )
    previous_ids: list[RequestId] = Field(
        default_factory=list, max_length=MAX_PREVIOUS, description=_PREVIOUS_IDS
    )


class SearchIn(StrictBody):
    query: str = Field(min_length=1, pattern=NOT_BLANK, description=f"La requête ({_LENGTH}).")
    k: JsonInt = Field(10, ge=1, le=100, description="Nombre de documents (10 par défaut).")


_IN_ADDRESS = (
    "Déconseillé : la question voyage dans l'adresse (journaux des proxys, historique du "
    "navigateur) ; utilisez la forme POST, corps JSON."
)


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
    # 400: generative mode without an LLM server; 502/504: the LLM server failed; 507: the
    # audit log could not record the question (no answer is given unaudited).
    **problems(400, 502, 504, 507),
}


@router.get(
    "/ask",
    summary="Poser une question (dans l'adresse, déconseillé)",
    response_model=AskResponse,
    responses=_RESPONSES,
    deprecated=True,
    description="Comme `POST /api/ask`, paramètre `previous` répétable. " + _IN_ADDRESS,
)
def ask_get(
    request: Request,
    q: Annotated[
        str, Query(min_length=1, pattern=NOT_BLANK, description=f"La question ({_LENGTH}).")
    ],
    caller: CallerDep,
    state: StateDep,
    mode: Mode = "extractive",
    simple: bool = False,
    previous: Annotated[list[str], Query(description=_PREVIOUS)] = [],  # noqa: B006
    previous_id: Annotated[list[RequestId], Query(description=_PREVIOUS_IDS)] = [],  # noqa: B006
) -> Any:
    view = ask(
        state,
        caller,
        q,
        mode=mode,
        simple=simple,
        previous=previous,
        previous_ids=previous_id,
    )
    return _respond(request, caller, view)


@router.post(
    "/ask",
    summary="Poser une question",
    response_model=AskResponse,
    responses=_RESPONSES,
)
def ask_post(
    request: Request,
    body: AskIn,
    caller: CallerDep,
    state: StateDep,
) -> Any:
    """Réponse citée (ou abstention), avec sources numérotées, fiche d'explication et
    identifiant de la réponse (pour un avis). Chaque question est journalisée. Avec
    `Accept: text/html`, la réponse est le fragment HTML qu'affiche la page."""
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


def _search(state: WebState, caller: Caller, query: str, k: int) -> dict[str, object]:
    if not query.strip():
        raise InvalidRequest("La requête est vide.")
    check_length(query, state.settings, what="La requête")
    state.readiness.require()
    with metered():
        return hits_json(state.runtime.retriever.search_documents(query, k=k, access=caller.access))


@router.post("/search", summary="Rechercher des passages", response_model=SearchResponse)
def search_post(body: SearchIn, caller: CallerDep, state: StateDep) -> dict[str, object]:
    """Documents que l'appelant a le droit de voir, les plus pertinents d'abord, chacun
    par son meilleur passage."""
    return _search(state, caller, body.query, body.k)


@router.get(
    "/search",
    summary="Rechercher des passages (dans l'adresse, déconseillé)",
    response_model=SearchResponse,
    deprecated=True,
    description="Comme `POST /api/search`. " + _IN_ADDRESS,
)
def search(
    q: Annotated[
        str, Query(min_length=1, pattern=NOT_BLANK, description=f"La requête ({_LENGTH}).")
    ],
    caller: CallerDep,
    state: StateDep,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, object]:
    return _search(state, caller, q, k)


@router.post(
    "/feedback", summary="Donner un avis sur une réponse", status_code=201,
    response_model=FeedbackOut, responses=problems(404, 507),
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
