"""The RETEX commons."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RetexSettings(BaseModel):
    # --- RETEX commons (issue #12) ----------------------------------------------------------
    retex_instance: str = Field(
        default="",
        description=(
            "Name of this instance in the RETEX commons, shown as the origin of its fiches on "
            "other instances; empty: the commune name."
        ),
    )
    retex_url: str = Field(
        default="",
        description=(
            "Public base URL of this instance (its feed is <url>/retex/feed.json), shown as "
            "the origin of its fiches; empty: none shown."
        ),
    )
    retex_tenants: str = Field(
        default="default",
        description=(
            "Comma-separated collectivités (tenants) whose agents find the fiches received "
            "from other instances in their answers; this instance's fiches go to the tenant "
            "that wrote them."
        ),
    )
    retex_citizens: bool = Field(
        default=False,
        description=(
            "Let citizens' answers cite RETEX fiches too (public documents); by default fiches "
            "are internal: agents only."
        ),
    )
    retex_pull_timeout_s: float = Field(
        default=30.0, gt=0, description="Timeout of fetching one followed RETEX feed, seconds."
    )
    retex_feed_max_mb: float = Field(
        default=100.0,
        gt=0,
        description="Largest RETEX feed or import file accepted, MiB (larger: refused).",
    )
