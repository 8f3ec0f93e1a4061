"""Who is calling: a bearer token (API), a server-side session (web UI), or nobody (public).

- `Authorization: Bearer terr_...` authenticates an API client (accounts.authenticate_token);
  a bad token is refused (401), never downgraded to anonymous; too many bad tokens from one
  address are refused for a while (429).
- Otherwise the signed session cookie may carry a session id (`sid`), looked up on every
  request (accounts.resolve_session): a revoked or expired session, or one whose user was
  deleted, makes the caller anonymous and clears the cookie; the role is read from the user
  row each time.
- Otherwise the caller is anonymous: role "public" in the default collectivité. Anonymous
  visitors get a cookie-only pre-session (a CSRF token for their forms, and `anon`, a random
  id for the audit log), stored nowhere on the server.

CSRF: a request that changes something (POST, PUT, PATCH, DELETE) and carries a session
cookie must echo the session's CSRF token, as the hidden form field `csrf` or the header
`X-CSRF-Token`; the login form needs it even without a session (`require_csrf`: no login
CSRF). Bearer-token requests carry no ambient credential and need none.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request

from territoria.accounts import Accounts, Principal
from territoria.errors import PermissionDenied, TerritoriaError
from territoria.types import Access, Role
from territoria.web.limits import SIGN_IN_PATHS, RateLimiter, start_meter
from territoria.web.state import StateDep

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class AuthRequired(TerritoriaError):
    """No valid credential where one is needed (HTTP 401; pages redirect to the login)."""

    status = 401


class CSRFError(TerritoriaError):
    status = 403


@dataclass(frozen=True)
class Caller:
    principal: Principal | None
    via: Literal["token", "session", "anonymous"]
    client: str  # rate-limit key
    session_id: str = ""

    @property
    def access(self) -> Access:
        return self.principal.access if self.principal else Access()

    @property
    def role(self) -> Role:
        return self.principal.role if self.principal else "public"

    @property
    def name(self) -> str:
        return self.principal.user if self.principal else ""

    @property
    def subject(self) -> str | None:
        """Who asked, for the audit log (kept there as a keyed pseudonym)."""
        if self.principal:
            return self.principal.user
        return f"session:{self.session_id}" if self.session_id else None

    @property
    def is_agent(self) -> bool:
        return self.role in ("agent", "admin")


def csrf_token(request: Request) -> str:
    """The session's CSRF token (an anonymous pre-session is started when there is none)."""
    session = request.session
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
        if "sid" not in session:
            session.setdefault("anon", secrets.token_hex(8))
    return str(session["csrf"])


def sign_in(request: Request, accounts: Accounts, principal: Principal) -> None:
    """Start a fresh server-side session for `principal`: a new session id and CSRF token
    (the pre-session's are dropped: no session fixation)."""
    previous = request.session.get("sid")
    sid = accounts.start_session(
        principal, replacing=previous if isinstance(previous, str) else None
    )
    request.session.clear()
    request.session.update({"sid": sid, "csrf": secrets.token_urlsafe(24)})


def sign_out(request: Request, accounts: Accounts) -> None:
    """Revoke the session on the server and clear the cookie."""
    sid = request.session.get("sid")
    if isinstance(sid, str):
        accounts.end_session(sid)
    request.session.clear()


async def require_csrf(request: Request) -> None:
    """A dependency: the request must echo the CSRF token of its (pre-)session, even when it
    carries no session at all (the login form: no login CSRF)."""
    await _check_csrf(request)


async def _check_csrf(request: Request) -> None:
    expected = str(request.session.get("csrf", ""))
    given = request.headers.get("x-csrf-token", "")
    if not given and request.headers.get("content-type", "").startswith(_FORMS):
        value = (await request.form()).get("csrf", "")
        given = value if isinstance(value, str) else ""
    if not expected or not hmac.compare_digest(expected, given):
        raise CSRFError(
            "Jeton de sécurité du formulaire absent ou périmé : rechargez la page et réessayez."
        )


async def current_caller(request: Request, state: StateDep) -> Caller:
    header = request.headers.get("authorization", "")
    host = request.client.host if request.client else "inconnu"
    if header:
        scheme, _, token = header.partition(" ")
        principal = state.accounts.authenticate_token(
            token if scheme.lower() == "bearer" else "", client=f"ip:{host}"
        )
        if principal is None:
            raise AuthRequired("Jeton d'accès invalide, expiré ou révoqué.")
        caller = Caller(principal, "token", f"user:{principal.user}")
        request.state.caller = caller
        return caller
    session = request.session
    if not session:
        return Caller(None, "anonymous", f"ip:{host}")
    if request.method in _UNSAFE:
        await _check_csrf(request)
    principal = None
    sid = session.get("sid")
    if isinstance(sid, str):
        principal = state.accounts.resolve_session(sid)
        if principal is None:  # revoked, expired, or its user is gone: the cookie is cleared
            session.clear()
    client = f"user:{principal.user}" if principal else f"ip:{host}"
    caller = Caller(principal, "session", client, str(session.get("anon", "")))
    request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


async def rate_limited(
    request: Request, caller: CallerDep, state: StateDep
) -> AsyncIterator[Caller]:
    """Count the request against the caller's and the collectivité's limits (429 beyond),
    then charge the CPU time it was measured at (web/limits.py)."""
    limiter: RateLimiter = state.limiter
    anonymous = caller.principal is None
    tenant = None if request.url.path in SIGN_IN_PATHS else caller.access.tenant
    limiter.check(caller.client, tenant, anonymous=anonymous)
    meter = start_meter()
    try:
        yield caller
    finally:
        limiter.charge(caller.client, tenant, anonymous=anonymous, cpu_s=meter.seconds)


def require(*roles: Role) -> Any:
    """A dependency that lets only the given roles through (401 anonymous, 403 otherwise)."""

    async def check(caller: CallerDep) -> Caller:
        if caller.role in roles:
            return caller
        if caller.principal is None:
            raise AuthRequired("Authentification requise.")
        raise PermissionDenied(
            "Accès réservé aux administrateurs."
            if roles == ("admin",)
            else "Accès réservé aux agents de la collectivité."
        )

    return Depends(check)


AdminDep = Annotated[Caller, require("admin")]
AgentDep = Annotated[Caller, require("agent", "admin")]
