"""The question path of the web, shared by the pages (citizen, widget, agent) and the API.

`ask` refuses questions longer than `question_max_chars` with a French message (HTTP 422; the
pages show it with 400), answers 503 until the server is ready (web/readiness.py), and runs
under `metered()`, so that its CPU time counts in the caller's rate limit (web/limits.py).

A short conversation: `previous` are the last questions (at most `MAX_PREVIOUS`, the most recent
last) and `previous_ids` their answers' request ids, sent back by the pages' hidden fields or
an API client; no profile is kept on the server. A follow-up ("et le samedi ?") is understood
with the question it continues; its audit record keeps the earlier ids, never their text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
MAX_PREVIOUS = 3
_RECORD_ID = re.compile(r"[0-9a-f]{16}")


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
    state.readiness.require()
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


def conversation(previous: list[str], previous_ids: list[str]) -> list[tuple[str, str]]:
    """The (question, request id) pairs a page's hidden fields carry, the last three: the
    fields come in pairs, an id being empty where the question had none."""
    ids = [*previous_ids, *[""] * max(0, len(previous) - len(previous_ids))]
    pairs = [(q.strip(), i.strip()) for q, i in zip(previous, ids, strict=False) if q.strip()]
    return pairs[-MAX_PREVIOUS:]


def question_page(
    request: Request,
    template: str,
    q: str,
    simple: bool,
    caller: Caller,
    state: WebState,
    extra: dict[str, Any] | None = None,
    previous: list[str] | None = None,
    previous_ids: list[str] | None = None,
) -> HTMLResponse:
    """A page with the question form, and the answer when `q` is given; `previous` are the
    conversation's earlier questions (hidden fields of the form, so that the page keeps a
    short conversation without JavaScript or a profile)."""
    view, error = None, ""
    history = conversation(previous or [], previous_ids or [])
    if q.strip():
        try:
            view = ask(
                state,
                caller,
                q,
                simple=simple,
                previous=[text for text, _ in history],
                previous_ids=[i for _, i in history if i],
            )
            history = [*history, (q.strip(), str(view["request_id"]))][-MAX_PREVIOUS:]
        except InvalidRequest as exc:
            error = exc.message
    context = {
        "q": q,
        "simple": simple,
        "view": view,
        "error": error,
        "history": history,
        **(extra or {}),
    }
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
