"""Where a request comes from, behind reverse proxies.

`X-Forwarded-For` and `X-Forwarded-Proto` are trusted only from the peers listed in
`trusted_proxies` (addresses or CIDR networks); the default is empty: nobody, not even
loopback, so a caller cannot choose the address its rate limit is counted under. Behind the
configured proxies, the client is the first untrusted hop of X-Forwarded-For read from the right
(each proxy appends the address it received the request from), so whatever a client writes in
the header itself is ignored. The `Forwarded` header (RFC 7239) is never read.

The rewriting is uvicorn's `ProxyHeadersMiddleware` (request.client and the scheme), given our
list; `territoria serve` turns off uvicorn's own, which trusts loopback by default. A server
started with the uvicorn command line needs `--no-proxy-headers` for the same reason.
"""

from __future__ import annotations

import ipaddress

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from territoria.errors import ConfigError
from territoria.settings import Settings


def trusted_proxies(settings: Settings) -> list[str]:
    """The configured proxies, each checked to be an IP address or network."""
    proxies = [item.strip() for item in settings.trusted_proxies.split(",") if item.strip()]
    for item in proxies:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ConfigError(
                f"trusted_proxies : {item!r} n'est ni une adresse IP ni un réseau (CIDR) ; "
                "indiquez les adresses des mandataires inverses, séparées par des virgules."
            ) from exc
    return proxies


def install(app: FastAPI, settings: Settings) -> None:
    """Trust forwarded headers from the configured proxies only (none: nothing to install)."""
    proxies = trusted_proxies(settings)
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
