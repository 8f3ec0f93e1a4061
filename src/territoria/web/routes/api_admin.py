"""API for administrators: users and tokens, audit export, statistics; and the public
algorithm register entry."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response, StreamingResponse

from territoria.accounts import User
from territoria.audit.export import CSV_COLUMNS
from territoria.audit.log import AuditRecord
from territoria.errors import NotFound, PermissionDenied
from territoria.register import ai_notice, entry
from territoria.web.auth import AdminDep, Caller
from territoria.web.openapi import problems
from territoria.web.schemas import TokenIn, TokenOut, UserIn, UserList, UserOut
from territoria.web.state import StateDep, WebState
from territoria.web.stats import dashboard

router = APIRouter(prefix="/api", tags=["administration"])
_BATCH = 200
_NO_EXPIRY = TokenIn(expires_days=None)
SINCE_FORMS: list[dict[str, object]] = [
    {"maxLength": 0},
    {"pattern": r"^\s*[1-9][0-9]{0,5}\s*[hdwmyHDWMY]\s*$"},
    {"format": "date"},
    {"format": "date-time"},
]


def user_json(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "tenant": user.tenant,
        "role": user.role,
        "created_at": user.created_at,
        "has_password": user.has_password,
        "tokens": [t.__dict__ for t in user.tokens],
    }


def _tenant_user(state: WebState, caller: Caller, name: str) -> User:
    user = state.accounts.get_user(name)
    if user is None or user.tenant != caller.access.tenant:
        raise NotFound(f"Utilisateur inconnu : {name!r}.")
    return user


@router.get("/users", summary="Utilisateurs de la collectivité", response_model=UserList)
def list_users(caller: AdminDep, state: StateDep) -> dict[str, object]:
    users = state.accounts.list_users(tenant=caller.access.tenant)
    return {"users": [user_json(u) for u in users]}


@router.post(
    "/users", summary="Créer un utilisateur", response_model=UserOut, status_code=201,
    responses=problems(409),
)  # fmt: skip
def create_user(body: UserIn, caller: AdminDep, state: StateDep) -> dict[str, object]:
    user = state.accounts.add_user(
        body.name, tenant=caller.access.tenant, role=body.role, password=body.password
    )
    return user_json(user)


@router.delete(
    "/users/{name}", summary="Supprimer un utilisateur", status_code=204,
    responses=problems(404),
)  # fmt: skip
def delete_user(name: str, caller: AdminDep, state: StateDep) -> Response:
    """Un administrateur ne peut pas supprimer son propre compte (403)."""
    if name == caller.name:
        raise PermissionDenied("Vous ne pouvez pas supprimer votre propre compte.")
    _tenant_user(state, caller, name)
    state.accounts.delete_user(name)
    return Response(status_code=204)


@router.post(
    "/users/{name}/tokens", summary="Créer un jeton d'API", response_model=TokenOut,
    status_code=201, responses=problems(404),
)  # fmt: skip
def create_token(
    name: str,
    caller: AdminDep,
    state: StateDep,
    body: Annotated[TokenIn, Body()] = _NO_EXPIRY,
) -> dict[str, object]:
    """Le jeton est montré une seule fois : seule son empreinte est conservée."""
    _tenant_user(state, caller, name)
    days = body.expires_days
    issued = state.accounts.create_token(name, expires_in=timedelta(days=days) if days else None)
    return {
        "token_id": issued.token_id,
        "token": issued.token,
        "user": issued.user,
        "expires_at": issued.expires_at,
    }


@router.delete(
    "/tokens/{token_id}", summary="Révoquer un jeton", status_code=204, responses=problems(404)
)
def revoke_token(token_id: str, caller: AdminDep, state: StateDep) -> Response:
    owned = {
        t.token_id for u in state.accounts.list_users(tenant=caller.access.tenant) for t in u.tokens
    }
    if token_id not in owned:
        raise NotFound(f"Jeton inconnu : {token_id!r}.")
    state.accounts.revoke_token(token_id)
    return Response(status_code=204)


def _json_lines(records: Iterator[AuditRecord]) -> Iterator[str]:
    yield "["
    for n, record in enumerate(records):
        yield (",\n" if n else "\n") + json.dumps(
            record.as_dict(), ensure_ascii=False, sort_keys=True
        )
    yield "\n]\n"


def _csv_lines(records: Iterator[AuditRecord]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for n, record in enumerate(records, start=1):
        data = record.as_dict()
        row = {name: data.get(name) for name in CSV_COLUMNS}
        row["cited"] = " ".join(record.cited)
        row["abstained"] = int(record.abstained)
        for name in ("passages", "verification", "versions"):
            row[name] = json.dumps(data[name], ensure_ascii=False, sort_keys=True)
        writer.writerow(row)
        if n % _BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get(
    "/audit/export",
    summary="Exporter le journal d'audit",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}, **problems(400)},
)
def audit_export(
    caller: AdminDep,
    state: StateDep,
    format: Literal["json", "csv"] = "json",
    since: Annotated[
        str,
        Query(
            max_length=40,
            description="Durée (30d, 12h, 2w, 6m, 1y) ou date ISO 8601 (2025-01-31).",
            json_schema_extra={"anyOf": SINCE_FORMS},
        ),
    ] = "",
) -> StreamingResponse:
    """Enregistrements de la collectivité, tels que conservés (questions pseudonymisées)."""
    audit = state.runtime.audit
    start = audit.since(since) if since.strip() else None
    records = audit.records(since=start, tenant=caller.access.tenant)
    if format == "csv":
        return StreamingResponse(
            _csv_lines(records),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    return StreamingResponse(
        _json_lines(records),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="audit.json"'},
    )


@router.get("/stats", summary="Statistiques d'usage")
def stats(
    caller: AdminDep,
    state: StateDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> dict[str, Any]:
    """Questions, abstentions, questions sans réponse, avis et énergie, par jour."""
    return dashboard(state.runtime.audit, state.feedback, tenant=caller.access.tenant, days=days)


@router.get("/register", summary="Fiche du registre des algorithmes", tags=["transparence"])
def register(state: StateDep) -> dict[str, Any]:
    """Fiche publique (CRPA L312-1-3) et mention d'information IA (AI Act, art. 50)."""
    documents = state.runtime.store.list_documents()
    return {"entry": entry(state.settings, documents), "ai_notice": ai_notice(state.settings)}
