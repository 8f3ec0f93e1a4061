"""Signing in and out of the web UI (a signed session cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from territoria.web.auth import CallerDep, sign_in
from territoria.web.render import local_path, render
from territoria.web.state import StateDep

router = APIRouter(include_in_schema=False)


def _home_of(caller_role: str) -> str:
    return "/admin" if caller_role == "admin" else "/agent" if caller_role == "agent" else "/"


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request, caller: CallerDep, suite: str = "") -> HTMLResponse:
    return render(
        request, "login.html", {"suite": local_path(suite, ""), "error": ""}, caller=caller
    )


@router.post("/connexion", response_class=HTMLResponse)
def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    caller: CallerDep,
    state: StateDep,
    suite: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    principal = state.accounts.authenticate_password(name.strip(), password)
    if principal is None:
        return render(
            request,
            "login.html",
            {"suite": local_path(suite, ""), "error": "Identifiant ou mot de passe incorrect."},
            caller=caller,
            status=401,
        )
    sign_in(request, principal)
    return RedirectResponse(local_path(suite, _home_of(principal.role)), status_code=303)


@router.post("/deconnexion")
def logout(request: Request, caller: CallerDep) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)
