"""The question path of the web, shared by the pages (citizen, widget, agent) and the API.

`ask` refuses questions longer than `question_max_chars` with a French message (HTTP 422; the
pages show it with 400), answers 503 until the server is ready (web/readiness.py), and runs
under `metered()`, so that its CPU time counts in the caller's rate limit (web/limits.py).

A short conversation: `previous` are the last questions (at most `MAX_PREVIOUS`, the most recent
last) and `previous_ids` their answers' request ids, sent back by the pages' hidden fields or
an API client; no profile is kept on the server. A follow-up ("et le samedi ?") is understood
with the question it continues; its audit record keeps the earlier ids, never their text.

The pages' forms send a question by POST (`asked_form`), never in the address: a question
often holds a name, an address or a situation, and an address lands in the browser's history,
in bookmarks and shared links, and in proxy logs. The answer is the POST's response (no
redirect: an address would have to carry the question); reloading it makes the browser offer
to send the question again. A GET `?q=` (an old bookmark, a link on the collectivité's site)
only fills in the field: nothing is asked, audited or counted until the person sends it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse

from territoria.errors import InvalidRequest, NotFound
from territoria.french_numbers import number
from territoria.settings import Settings
from territoria.web.auth import Caller
from territoria.web.limits import metered
from territoria.web.render import render
from territoria.web.state import WebState
from territoria.web.views import answer_view

Mode = Literal["extractive", "generative"]
MAX_PREVIOUS = 3
QUESTION_PAGES = ("/", "/widget", "/agent")  # the pages whose form a question is POSTed to
_RECORD_ID = re.compile(r"[0-9a-f]{16}")


class QuestionTooLong(InvalidRequest):
    status = 422


def check_length(text: str, settings: Settings, *, what: str = "La question") -> None:
    """Raise QuestionTooLong when `text` is over `question_max_chars`."""
    limit = settings.question_max_chars
    if len(text) > limit:
        raise QuestionTooLong(
            f"{what} est trop longue ({number(len(text))} caractères) : "
            f"{number(limit)} caractères au plus. Raccourcissez-la et réessayez."
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


@dataclass(frozen=True)
class Asked:
    """A question sent by a page's form: the text, the display choice and the conversation
    so far (the form's hidden fields, in pairs)."""

    q: str
    simple: bool = False
    previous: list[str] = field(default_factory=list)
    previous_ids: list[str] = field(default_factory=list)

    def can_resend_to(self, page: str) -> bool:
        """Whether this question can be sent again to `page` (a local path): a page that
        answers a POSTed question (a button that comes back to the answer)."""
        return bool(self.q.strip()) and urlsplit(page).path in QUESTION_PAGES


def asked_form(
    q: Annotated[str, Form()] = "",
    simple: Annotated[bool, Form()] = False,
    previous: Annotated[list[str] | None, Form()] = None,
    previous_id: Annotated[list[str] | None, Form()] = None,
) -> Asked:
    """The question form's fields (form-encoded POST; the CSRF field is checked by auth.py)."""
    return Asked(q, simple, previous or [], previous_id or [])


AskedDep = Annotated[Asked, Depends(asked_form)]


def question_page(
    request: Request,
    template: str,
    caller: Caller,
    state: WebState,
    asked: Asked | None = None,
    *,
    prefill: str = "",
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    """A page with the question form, and the answer when a question was `asked`. The
    conversation's earlier questions travel in the form's hidden fields, so that the page
    keeps a short conversation without JavaScript or a profile. `prefill` fills in the field
    without asking (a GET `?q=`)."""
    view, error = None, ""
    q = asked.q if asked else prefill
    history = conversation(asked.previous, asked.previous_ids) if asked else []
    earlier = history  # the conversation this answer continues (the feedback form keeps it)
    if asked and asked.q.strip():
        try:
            view = ask(
                state,
                caller,
                asked.q,
                simple=asked.simple,
                previous=[text for text, _ in history],
                previous_ids=[i for _, i in history if i],
            )
            history = [*history, (asked.q.strip(), str(view["request_id"]))][-MAX_PREVIOUS:]
        except InvalidRequest as exc:
            error = exc.message
    context = {
        "q": q,
        "simple": asked.simple if asked else False,
        "view": view,
        "error": error,
        "history": history,
        "earlier": earlier,
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
