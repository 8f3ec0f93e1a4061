"""HTTP routes, one module per resource; `ROUTERS` is what `create_app` mounts."""

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
    participation,
)

ROUTERS = (
    citizen.router,
    documents.router,
    account.router,
    agent.router,
    admin.router,
    participation.router,
    api_questions.router,
    api_documents.router,
    api_admin.router,
)
