"""Rendering a page: the template, the caller, the CSRF token and the display preferences."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from territoria.web.auth import Caller, csrf_token
from territoria.web.state import web_state

PREFS_COOKIE = "territoria_texte"


def large_text(request: Request) -> bool:
    return request.cookies.get(PREFS_COOKIE) == "grand"


def local_path(target: str, default: str = "/") -> str:
    """`target` when it is a path on this site (no open redirect), else `default`."""
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(c in target for c in "\r\n")
    ):
        return default
    return target


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    caller: Caller,
    status: int = 200,
) -> HTMLResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return web_state(request).templates.TemplateResponse(
        request,
        template,
        {
            "caller": caller,
            "csrf": csrf_token(request),
            "large_text": large_text(request),
            "here": here,
            **context,
        },
        status_code=status,
    )
