"""The web product: pages for citizens, agents and admins, and a JSON API (OpenAPI at
/openapi.json, described at /docs).

    app = create_app(settings)      # then `uvicorn` it, or `territoria serve`

Routes live in `web/routes/<resource>.py`; who is calling is decided in `web/auth.py`,
limits in `web/limits.py`, errors in `web/errors.py`, readiness in `web/readiness.py`, the
OpenAPI description's error responses in `web/openapi.py`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from territoria.accounts import Accounts
from territoria.errors import ConfigError, TerritoriaError
from territoria.feedback import FeedbackStore
from territoria.french_numbers import number
from territoria.ingest.library import clear_tmp
from territoria.register import ai_notice
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.web import errors, openapi, proxies
from territoria.web.auth import rate_limited
from territoria.web.limits import RateLimiter
from territoria.web.readiness import Readiness
from territoria.web.routes import PROBES, ROUTERS
from territoria.web.session import SessionCodec, SessionMiddleware, load_secret
from territoria.web.state import HERE, WebState
from territoria.web.views import carbon_text, energy_text

VERSION = "0.1.0"
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)


class SecurityHeaders:
    """CSP (no inline script, nothing from elsewhere), no framing except for /widget. A
    response that sets its own CSP (the participation report, self-contained) keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        widget = scope["path"].startswith("/widget")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    csp = _CSP.format(ancestors="*" if widget else "'none'")
                    headers.append((b"content-security-policy", csp.encode()))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not widget:
                    headers.append((b"x-frame-options", b"DENY"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings) -> FastAPI:
    check_replica_keys(settings)
    runtime = Runtime(settings)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["energie"] = energy_text
    templates.env.filters["carbone"] = carbon_text
    templates.env.filters["nombre"] = number
    templates.env.globals.update(settings=settings, ai_notice=ai_notice(settings), version=VERSION)
    state = WebState(
        settings=settings,
        runtime=runtime,
        accounts=Accounts(settings),
        feedback=FeedbackStore(settings, pii=runtime.pii),  # one spaCy model, shared
        limiter=RateLimiter(settings),
        templates=templates,
        readiness=Readiness(runtime),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clear_tmp(settings)
        if settings.warm_up == "background":
            state.readiness.start()
        else:
            # A failure is kept and shown (503 and /readyz) rather than raised: the server
            # would stop with a traceback. `territoria serve` warms up first and refuses to
            # start with the French message.
            with contextlib.suppress(TerritoriaError):
                await run_in_threadpool(state.readiness.run)
        yield
        state.readiness.wait(timeout=60)
        state.close()

    app = FastAPI(
        title="Territoria",
        description=(
            "Assistant souverain et vérifiable pour les collectivités territoriales : "
            "questions, recherche, documents, avis, comptes et journal d'audit. "
            "Authentification des clients de l'API : `Authorization: Bearer <jeton>`."
        ),
        version=VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.web = state
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router, dependencies=[Depends(rate_limited)])
    for router in PROBES:  # probes are not rate limited: a load balancer polls them
        app.include_router(router)
    openapi.install(app, settings)
    codec = SessionCodec(load_secret(settings), settings.session_hours * 3600)
    app.add_middleware(SessionMiddleware, codec=codec, secure=settings.secure_cookies)
    app.add_middleware(SecurityHeaders)
    proxies.install(app, settings)  # outermost: every layer sees the client's address
    return app


def check_replica_keys(settings: Settings) -> None:
    """With PostgreSQL, servers are replicas of one deployment: they must sign sessions and
    derive pseudonyms with the same keys, given in the environment (a key file in each home
    would differ from one replica to the next)."""
    if settings.store != "postgres":
        return
    missing = [
        name
        for name, value in (
            ("TERRITORIA_SECRET_KEY", settings.secret_key),
            ("TERRITORIA_PII_KEY", settings.pii_key),
        )
        if not value.get_secret_value().strip()
    ]
    if missing:
        raise ConfigError(
            "Avec le stockage postgres, chaque serveur doit recevoir les mêmes clés : "
            f"définissez {' et '.join(missing)} dans l'environnement (voir le README, "
            "« Déploiement »)."
        )


def app_from_env() -> FastAPI:
    """An app built from the environment (`TERRITORIA_*`), for a process manager that
    imports a factory, e.g. several uvicorn workers:
    `uvicorn territoria.web.app:app_from_env --factory --workers 2 --no-proxy-headers`
    (forwarded headers are the app's business: `trusted_proxies`, web/proxies.py)."""
    return create_app(Settings())
