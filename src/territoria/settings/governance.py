"""Governance: audit, retention, energy and carbon."""

from __future__ import annotations

from pydantic import BaseModel, Field


class GovernanceSettings(BaseModel):
    # --- governance ----------------------------------------------------------------------
    audit_retention_days: int = Field(
        default=180,
        ge=1,
        description=(
            "Audit records older than this many days are removed by `territoria purge` run "
            "without --older-than (CNIL logging recommendation: 6 months to 1 year)."
        ),
    )
    operator_name: str = Field(
        default="",
        description=(
            "Legal entity responsible for the service (responsable du traitement), shown in the "
            "algorithm register; empty: the commune name."
        ),
    )
    dpo_contact: str = Field(
        default="dpo@mairie-exemple.fr",
        description="Contact of the data protection officer (DPO), shown in the register.",
    )

    # --- energy --------------------------------------------------------------------------
    watts_per_thread: float = Field(
        default=10.0,
        description=(
            "Power of one busy CPU thread, W (codecarbon's fallback TDP of 40 W for a 4-thread "
            "class CPU, i.e. 10 W per thread)."
        ),
    )
    static_watts: float = Field(
        default=20.0,
        description="Static server power (idle share of the machine), W, shared across requests.",
    )
    static_share_concurrency: float = Field(
        default=4.0,
        description="How many requests share the static power at a time (typical concurrency).",
    )
    pue: float = Field(
        default=1.5,
        description=(
            "Power usage effectiveness of the data centre (Uptime Institute 2023 mean 1.58)."
        ),
    )
    grid_gco2e_per_kwh: float = Field(
        default=52.0,
        description="French grid carbon intensity, gCO2e/kWh (ADEME Base Empreinte, 2022 mix).",
    )
