"""HTTP routes, one module per resource; `ROUTERS` is what `create_app` mounts (rate limited),
`PROBES` the health and readiness probes (not rate limited). Route modules never import each
other: what they share lives in web/ (questions.py, views.py, render.py) or in the domain."""

from __future__ import annotations

from territoria.web.routes import (
    account,
    admin,
    agent,
    api_admin,
    api_documents,
    api_questions,
    citizen,
    documents,
    forecast,
    health,
    participation,
    retex,
)

ROUTERS = (
    citizen.router,
    documents.router,
    account.router,
    agent.router,
    admin.router,
    participation.router,
    forecast.router,
    api_questions.router,
    api_documents.router,
    api_admin.router,
    retex.router,
)
PROBES = (health.router,)
