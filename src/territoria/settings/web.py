"""The web server: sessions, authentication throttling, request costs, proxies, warm-up."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class WebSettings(BaseModel):
    # --- web -----------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: int = Field(default=8000, description="Port the web server listens on.")
    commune: str = Field(
        default="Commune de Val-Fleuri",
        description="Name of the collectivité shown in the web UI and the AI notice.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Secret key signing the web session cookies, from TERRITORIA_SECRET_KEY only; "
            "placeholder values are refused. Empty: a random key is kept in "
            "<home>/secret.key (mode 0600)."
        ),
    )
    session_hours: float = Field(
        default=8.0,
        gt=0,
        description=(
            "Lifetime of a web session, hours: the server-side session record expires then, "
            "whatever the cookie says."
        ),
    )
    secure_cookies: bool = Field(
        default=False,
        description="Send the session cookie with the Secure flag (set it when served over HTTPS).",
    )
    # --- failed authentication throttling ---
    login_lockout_after: int = Field(
        default=5,
        ge=1,
        description=(
            "Consecutive failed web logins for one name before it is locked for a while "
            "(unknown names alike, so the lock tells nothing about which accounts exist)."
        ),
    )
    login_lockout_base_s: float = Field(
        default=60.0,
        gt=0,
        description=(
            "First lock after `login_lockout_after` failures, seconds; it doubles with each "
            "further failure. A success resets the count; `territoria users unlock` lifts it."
        ),
    )
    login_lockout_max_s: float = Field(
        default=900.0,
        gt=0,
        description="Longest lock of a login name, seconds (15 minutes: nobody is locked out).",
    )
    auth_failures_per_minute: float = Field(
        default=10.0,
        ge=0,
        description=(
            "Failed authentications (bad API tokens, bad passwords) allowed per minute from "
            "one client address, after a burst of `auth_failures_burst`; beyond, HTTP 429. "
            "Counted in each server process; 0 disables the limit."
        ),
    )
    auth_failures_burst: int = Field(
        default=20,
        ge=1,
        description="Failed authentications one client address may make at once.",
    )
    rate_per_client: float = Field(
        default=60.0,
        ge=0,
        description=(
            "Requests per minute allowed to one client (API token user, signed-in user, or IP "
            "address), refilled continuously; 0 disables the limit. Over it: HTTP 429."
        ),
    )
    rate_burst_client: int = Field(
        default=20,
        ge=1,
        description="Requests one client may send at once before the rate applies.",
    )
    rate_per_tenant: float = Field(
        default=600.0,
        ge=0,
        description=(
            "Requests per minute allowed to one collectivité (tenant) as a whole; 0 disables "
            "the limit. Over it: HTTP 429."
        ),
    )
    rate_burst_tenant: int = Field(
        default=100, ge=1, description="Requests one collectivité may send at once."
    )
    upload_max_files: int = Field(
        default=20, ge=1, description="Most files accepted in one upload from the admin page."
    )

    # --- request costs, rate limit classes, proxies (issue #8, findings 4 and 6) --------------
    question_max_chars: int = Field(
        default=2000,
        ge=1,
        description=(
            "Longest question or search query accepted by the web pages and the API, in "
            "characters; longer: HTTP 422 (API) or 400 (pages) with a French message."
        ),
    )
    embeddings_max_chars: int = Field(
        default=2000,
        ge=1,
        description=(
            "Texts sent to the OpenAI-compatible /embeddings server are cut to this many "
            "characters (queries to 1,000 at most); the local models have their own limits."
        ),
    )
    rate_cpu_unit_s: float = Field(
        default=0.1,
        ge=0,
        description=(
            "CPU seconds of a typical question (one rate-limit token). A question or search "
            "measured at k times this takes k tokens (10 at most) from its buckets, the first "
            "at once and the rest after it ran, so expensive requests are throttled sooner; 0 "
            "counts every request as one token."
        ),
    )
    rate_anonymous_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description=(
            "Share of a collectivité's rate (rate_per_tenant, rate_burst_tenant) that anonymous "
            "callers may use together; the rest stays for signed-in users and API clients."
        ),
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks (CIDR) of the reverse proxies whose "
            "X-Forwarded-For and X-Forwarded-Proto headers are trusted; the client is the "
            "first untrusted hop. Empty: headers ignored, even from loopback."
        ),
    )

    # --- robustness (issue #8, finding 8) -------------------------------------------------
    warm_up: Literal["before", "background"] = Field(
        default="before",
        description=(
            "When the web server loads the index, the models, the PII guard and the audit log "
            "and runs a warm-up question (not audited): 'before' during start-up, so a server "
            "process takes connections only once ready; 'background' in a thread while it "
            "already answers (questions get HTTP 503 with Retry-After until ready, for a load "
            "balancer probing /readyz)."
        ),
    )
