"""Signing in and out of the web UI (a server-side session named by a signed cookie)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from territoria.errors import AuthenticationFailed, TooManyAttempts
from territoria.web.auth import CallerDep, require_csrf, sign_in, sign_out
from territoria.web.limits import retry_after_header
from territoria.web.render import local_path, render
from territoria.web.state import StateDep

router = APIRouter(include_in_schema=False)
log = logging.getLogger("territoria.web")


def _home_of(caller_role: str) -> str:
    return "/admin" if caller_role == "admin" else "/agent" if caller_role == "agent" else "/"


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request, caller: CallerDep, suite: str = "") -> HTMLResponse:
    return render(
        request, "login.html", {"suite": local_path(suite, ""), "error": ""}, caller=caller
    )


@router.post("/connexion", response_class=HTMLResponse, dependencies=[Depends(require_csrf)])
def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    caller: CallerDep,
    state: StateDep,
    suite: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    host = request.client.host if request.client else "inconnu"
    try:
        principal = state.accounts.authenticate_password(
            name.strip(), password, client=f"ip:{host}"
        )
    except AuthenticationFailed as exc:
        log.info("connexion refusée : %s", exc.reason)  # the reason stays in the server's log
        return render(
            request,
            "login.html",
            {"suite": local_path(suite, ""), "error": exc.message},
            caller=caller,
            status=401,
        )
    except TooManyAttempts as exc:
        page = render(
            request,
            "login.html",
            {"suite": local_path(suite, ""), "error": exc.message},
            caller=caller,
            status=429,
        )
        page.headers["Retry-After"] = retry_after_header(exc.retry_after)
        return page
    sign_in(request, state.accounts, principal)
    return RedirectResponse(local_path(suite, _home_of(principal.role)), status_code=303)


@router.post("/deconnexion")
def logout(request: Request, caller: CallerDep, state: StateDep) -> Response:
    sign_out(request, state.accounts)
    return RedirectResponse("/", status_code=303)
