"""Signed session cookies: a small JSON payload, HMAC-SHA256 signed, with an expiry.

The cookie holds no identity by itself: a signed-in browser's cookie carries the id of a
server-side session (`sid`, looked up on every request in auth.py, revocable: sessions.py)
and the CSRF token; an anonymous visitor's carries only a CSRF token and a random audit id.
The signature keeps a forged or altered cookie out before any lookup.

The signing key comes from `TERRITORIA_SECRET_KEY` (Settings.secret_key), else from a random
key kept in `<home>/secret.key` (created with mode 0600). The cookie is HttpOnly and
SameSite=Lax; `Settings.secure_cookies` adds Secure (behind HTTPS).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from territoria.errors import ConfigError
from territoria.settings import Settings

COOKIE = "territoria_session"
_MIN_KEY_CHARS = 32
_PLACEHOLDERS = ("changeme", "change-me", "secret", "your", "<", "${", "example", "exemple")


def check_secret(value: str) -> str:
    """Refuse placeholder or short keys (ConfigError)."""
    key = value.strip()
    if key.lower().startswith(_PLACEHOLDERS) or len(set(key)) < 8:
        raise ConfigError(
            "TERRITORIA_SECRET_KEY contient une valeur d'exemple : définissez une clé aléatoire "
            "(par exemple `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    if len(key) < _MIN_KEY_CHARS:
        raise ConfigError(
            f"TERRITORIA_SECRET_KEY est trop courte : au moins {_MIN_KEY_CHARS} caractères."
        )
    return key


def load_secret(settings: Settings) -> bytes:
    """The session signing key: from the environment, else `<home>/secret.key` (0600)."""
    given = settings.secret_key.get_secret_value()
    if given.strip():
        return check_secret(given).encode("utf-8")
    path: Path = settings.home / "secret.key"
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text(encoding="utf-8").strip()
        else:
            key = secrets.token_hex(32)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(key + "\n")
    except OSError as exc:
        raise ConfigError(f"Impossible de lire ou de créer la clé {path} : {exc}") from exc
    if len(key) < _MIN_KEY_CHARS:
        raise ConfigError(f"La clé de session {path} est vide ou trop courte.")
    return key.encode("utf-8")


class SessionCodec:
    """`dumps` a dict into a signed, expiring token; `loads` returns None when it does not
    verify or has expired."""

    def __init__(self, key: bytes, max_age_s: float) -> None:
        self._key = hashlib.sha256(b"territoria/session/v1" + key).digest()
        self.max_age_s = max_age_s

    def _sign(self, body: bytes) -> str:
        mac = hmac.new(self._key, body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    def dumps(self, data: dict[str, Any], *, now: float | None = None) -> str:
        payload = {**data, "exp": int((now or time.time()) + self.max_age_s)}
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        body = base64.urlsafe_b64encode(raw).rstrip(b"=")
        return f"{body.decode('ascii')}.{self._sign(body)}"

    def loads(self, token: str, *, now: float | None = None) -> dict[str, Any] | None:
        body, _, signature = token.partition(".")
        if not body or not hmac.compare_digest(self._sign(body.encode("ascii")), signature):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        if not isinstance(data, dict) or float(data.get("exp", 0)) < (now or time.time()):
            return None
        data.pop("exp", None)
        return data


class SessionMiddleware:
    """Loads `scope["session"]` from the signed cookie and writes it back when it changed
    (an emptied session clears the cookie). `request.session` reads it."""

    def __init__(self, app: ASGIApp, codec: SessionCodec, *, secure: bool = False) -> None:
        self.app = app
        self.codec = codec
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loaded: dict[str, Any] = {}
        cookie_header = dict(scope["headers"]).get(b"cookie")
        if cookie_header:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(cookie_header.decode("latin-1"))
            except CookieError:  # a malformed Cookie header: treat as no session
                jar = SimpleCookie()
            if COOKIE in jar:
                loaded = self.codec.loads(jar[COOKIE].value) or {}
        scope["session"] = dict(loaded)
        had_cookie = bool(loaded)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope["session"]
                if session != loaded or (not session and had_cookie):
                    headers = MutableHeaders(scope=message)
                    flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
                    if session:
                        value = self.codec.dumps(session)
                        max_age = int(self.codec.max_age_s)
                        headers.append("Set-Cookie", f"{COOKIE}={value}; Max-Age={max_age}{flags}")
                    else:
                        headers.append("Set-Cookie", f"{COOKIE}=; Max-Age=0{flags}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)
