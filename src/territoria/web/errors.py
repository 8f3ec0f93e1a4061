"""One translation of errors to HTTP: JSON problem details (RFC 9457) with French messages,
or an HTML page when a browser asks for one. Pages that need a login redirect to it.

A full disk answers 507, a home that cannot be written or a corrupt database 503, wherever the
OSError or SQLite error comes from (`storage_error`); an error that says when to come back
(`retry_after`: rate limits, a server still loading) sends `Retry-After`."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from territoria.errors import TerritoriaError, storage_error, with_disk_cause
from territoria.web.auth import AuthRequired, Caller
from territoria.web.limits import retry_after_header

log = logging.getLogger("territoria.web")

TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Contenu trop volumineux",
    415: "Format non pris en charge",
    422: "Requête invalide",
    429: "Trop de requêtes",
    500: "Erreur interne",
    502: "Service indisponible",
    503: "Service indisponible",
    504: "Délai dépassé",
    507: "Espace de stockage insuffisant",
}
_HTTP_DETAILS = {
    404: "Page ou ressource introuvable.",
    405: "Cette méthode n'est pas autorisée sur cette adresse.",
    413: "Le contenu envoyé est trop volumineux.",
    415: "Le format envoyé n'est pas pris en charge.",
}


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith("/api/")


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    title = TITLES.get(status, "Erreur")
    if wants_html(request):
        templates = request.app.state.web.templates
        caller = getattr(request.state, "caller", None) or Caller(None, "anonymous", "")
        page: Response = templates.TemplateResponse(
            request,
            "error.html",
            {
                "status": status,
                "title": title,
                "detail": detail,
                "caller": caller,
                "csrf": request.session.get("csrf", "") if "session" in request.scope else "",
                "large_text": request.cookies.get("territoria_texte") == "grand",
                "here": "/",
            },
            status_code=status,
            headers=headers,
        )
        return page
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(
        {**body, **(extra or {})},
        status_code=status,
        headers=headers,
        media_type="application/problem+json",
    )


def route_contexts(app: FastAPI) -> Iterable[Any]:
    """The app's routes, each with the path and dependencies it was included with."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.16x: nested routers
    except ImportError:  # pragma: no cover - older FastAPI copies included routes flat
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path (Starlette's 405 names the first route's
    only, when a path has one route per method)."""
    methods: set[str] = set()
    for route in route_contexts(request.app):
        path, found = getattr(route, "path_format", None), getattr(route, "methods", None)
        if path and found and compile_path(path)[0].match(request.url.path):
            methods |= set(found)
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(TerritoriaError)
    async def territoria_error(request: Request, exc: TerritoriaError) -> Response:
        exc = with_disk_cause(exc)
        headers: dict[str, str] = {}
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int | float):
            headers["Retry-After"] = retry_after_header(retry_after)
        if isinstance(exc, AuthRequired):
            if wants_html(request) and request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(
                    "/connexion?" + urlencode({"suite": target}), status_code=303
                )
            headers["WWW-Authenticate"] = 'Bearer realm="territoria"'
        if exc.status >= 500:
            log.error("%s: %s", type(exc).__name__, exc.message)
        return problem(request, exc.status, exc.public, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = _HTTP_DETAILS.get(exc.status_code) or (
            exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Erreur")
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(request, exc.status_code, detail, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = []
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
            fields.append({"field": ".".join(loc) or "requête", "type": error.get("type", "")})
        names = ", ".join(dict.fromkeys(f["field"] for f in fields)) or "requête"
        return problem(
            request,
            422,
            f"Paramètres invalides ou manquants : {names}.",
            extra={"errors": fields},
        )

    async def disk_error(request: Request, exc: Exception) -> Response:
        found = storage_error(exc)
        if found is None:
            return await unexpected(request, exc)
        log.error("%s on %s %s: %s", type(found).__name__, request.method, request.url.path, exc)
        return problem(request, found.status, found.public)

    # Handled here, not by the catch-all below (Starlette re-raises what reaches that one).
    app.add_exception_handler(OSError, disk_error)
    app.add_exception_handler(sqlite3.Error, disk_error)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(request, 500, "Erreur interne du serveur : l'incident a été journalisé.")
