"""The error responses of the OpenAPI description: every API operation documents the problem
details (RFC 9457, `application/problem+json`) it can answer with.

Two sources, so that the description says what the server does:
- what a route raises itself (400, 404, 409, 413, 507...) is declared on the route with
  `responses=problems(...)`;
- what comes from the shared layers is added here for every operation under /api, from its
  dependencies: 401 (a bad bearer token is refused on every route), 403 (a role is required,
  or a session's CSRF check on a change), 422 (validation, replacing FastAPI's default shape),
  400 (a body that cannot be parsed), 429 (rate limits), 503 (not ready yet, data unavailable).

The bearer scheme is declared, required where a role is and optional elsewhere. What depends on
the settings is said too: the questions' length limit, and without an LLM server, `mode` offers
only "extractive" (generative questions get 400).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from territoria.settings import Settings
from territoria.web.auth import AdminDep, AgentDep, current_caller, rate_limited
from territoria.web.errors import TITLES, route_contexts

PROBLEM = "application/problem+json"
_REF = {"$ref": "#/components/schemas/Problem"}
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_ROLE_CHECKS = {get_args(dep)[1].dependency for dep in (AdminDep, AgentDep)}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Secondes à attendre avant de réessayer.",
        "schema": {"type": "integer"},
    }
}
_WHY = {
    400: "Requête invalide (corps illisible, valeur refusée).",
    401: "Jeton d'accès absent, invalide, expiré ou révoqué.",
    403: "Rôle insuffisant, ou jeton CSRF absent (session du navigateur).",
    404: "Ressource introuvable dans la collectivité de l'appelant.",
    409: "Conflit avec l'état de la ressource (elle existe déjà).",
    413: "Contenu trop volumineux.",
    422: "Paramètres invalides ou manquants (détail par champ dans `errors`).",
    429: "Trop de requêtes : limite de débit atteinte.",
    502: "Le serveur de modèle de langage a répondu en erreur.",
    503: "Service indisponible : démarrage en cours, ou données illisibles.",
    504: "Le serveur de modèle de langage n'a pas répondu à temps.",
    507: "Espace disque insuffisant sur le serveur : rien n'a été traité.",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "Détail d'une erreur (RFC 9457), message en français dans `detail`.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "type"],
                "properties": {"field": {"type": "string"}, "type": {"type": "string"}},
            },
        },
    },
}


def problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _WHY.get(status, TITLES.get(status, "Erreur")),
        "content": {PROBLEM: {"schema": _REF}},
    }
    if status in (429, 503):
        response["headers"] = _RETRY_AFTER
    return response


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route for the errors it raises itself."""
    return {status: problem_response(status) for status in statuses}


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """The routes under /api, with the dependencies of the routers they were included with."""
    for context in route_contexts(app):
        route = getattr(context, "original_route", context)
        if isinstance(route, APIRoute) and str(context.path_format).startswith("/api/"):
            yield context


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _shared_statuses(route: Any, method: str, operation: dict[str, Any]) -> set[int]:
    calls = set(_calls(route.dependant))
    statuses = {503}
    if current_caller in calls:
        statuses.add(401)
        if method in _UNSAFE:
            statuses.add(403)
    if calls & _ROLE_CHECKS:
        statuses |= {401, 403}
    if rate_limited in calls:
        statuses.add(429)
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses.add(400)
    return statuses


def _question_limits(schema: dict[str, Any], limit: int) -> None:
    """The questions' length limit is a setting (`question_max_chars`): say it."""
    for path in ("/api/ask", "/api/search"):
        for parameter in schema["paths"].get(path, {}).get("get", {}).get("parameters", []):
            if parameter["name"] == "q":
                parameter["schema"] = {**parameter["schema"], "maxLength": limit}
    bodies = schema["components"]["schemas"]
    for body, name in (("AskIn", "question"), ("SearchIn", "query")):
        properties = bodies.get(body, {}).get("properties", {})
        if name in properties:
            properties[name]["maxLength"] = limit


def _only_extractive(schema: dict[str, Any]) -> None:
    """Without an LLM server, `mode` of the question operations offers "extractive" only."""
    for parameter in schema["paths"].get("/api/ask", {}).get("get", {}).get("parameters", []):
        if parameter["name"] == "mode":
            parameter["schema"] = {**parameter["schema"], "enum": ["extractive"]}
    body = schema.get("components", {}).get("schemas", {}).get("AskIn", {})
    mode = body.get("properties", {}).get("mode")
    if mode is not None:
        mode["enum"] = ["extractive"]


def describe(app: FastAPI, settings: Settings) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton d'API (`territoria users token NOM`).",
        }
    }
    for route in _api_routes(app):
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(_shared_statuses(route, method, operation)):
                responses[str(status)] = problem_response(status)
            calls = set(_calls(route.dependant))
            operation["security"] = (
                [{"bearer": []}] if calls & _ROLE_CHECKS else [{}, {"bearer": []}]
            )
    for unused in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(unused, None)
    _question_limits(schema, settings.question_max_chars)
    if not settings.llm_url:
        _only_extractive(schema)
    return schema


def install(app: FastAPI, settings: Settings) -> None:
    """Serve `describe(app)` as the app's OpenAPI description (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
