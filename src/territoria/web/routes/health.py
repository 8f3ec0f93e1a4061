"""Probes: `GET /healthz` (the process answers) and `GET /readyz` (it can answer questions:
index, models, PII guard and audit log loaded; see web/readiness.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from territoria.web.readiness import RETRY_AFTER_S, RETRY_FAILED_S
from territoria.web.schemas import HealthOut, ReadyOut
from territoria.web.state import StateDep

router = APIRouter(tags=["santé"])


@router.get("/healthz", summary="Le serveur répond", response_model=HealthOut)
def healthz() -> dict[str, str]:
    """Toujours 200 tant que le processus répond (sonde de vie)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Le serveur est prêt à répondre aux questions",
    response_model=ReadyOut,
    responses={
        503: {
            "model": ReadyOut,
            "description": "Pas encore prêt (chargement, ou échec du chargement), avec "
            "l'en-tête Retry-After.",
        }
    },
)
def readyz(state: StateDep) -> Any:
    """200 quand l'index, les modèles, la protection des données personnelles et le journal
    d'audit sont chargés et qu'une question d'essai (non journalisée) a abouti ; 503 sinon.
    Le corps dit ce qui est chargé."""
    status = state.readiness.status()
    if status["ready"]:
        return status
    retry = RETRY_FAILED_S if status["error"] else RETRY_AFTER_S
    return JSONResponse(status, status_code=503, headers={"Retry-After": f"{retry:.0f}"})
