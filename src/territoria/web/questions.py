"""The question path of the web, shared by the pages (citizen, widget, agent) and the API.

`ask` refuses questions longer than `question_max_chars` with a French message (HTTP 422; the
pages show it with 400), answers 503 until the server is ready (web/readiness.py), and runs
under `metered()`, so that its CPU time counts in the caller's rate limit (web/limits.py).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from fastapi.responses import HTMLResponse

from territoria.errors import InvalidRequest, NotFound
from territoria.settings import Settings
from territoria.web.auth import Caller
from territoria.web.limits import metered
from territoria.web.render import render
from territoria.web.state import WebState
from territoria.web.views import answer_view

Mode = Literal["extractive", "generative"]


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


def ask(
    state: WebState, caller: Caller, question: str, *, mode: Mode = "extractive", simple: bool
) -> dict[str, Any]:
    """The one question path of the web: `Runtime.ask` (screened, answered, audited)."""
    check_length(question, state.settings)
    state.readiness.require()
    with metered():
        answer = state.runtime.ask(
            question, access=caller.access, mode=mode, subject=caller.subject
        )
        return answer_view(answer, state.settings, simple=simple)


def question_page(
    request: Request,
    template: str,
    q: str,
    simple: bool,
    caller: Caller,
    state: WebState,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    """A page with the question form, and the answer when `q` is given."""
    view, error = None, ""
    if q.strip():
        try:
            view = ask(state, caller, q, simple=simple)
        except InvalidRequest as exc:
            error = exc.message
    context = {"q": q, "simple": simple, "view": view, "error": error, **(extra or {})}
    return render(request, template, context, caller=caller, status=400 if error else 200)


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
