"""Fetching another instance's feed over HTTP (httpx), bounded in time and size.

Only what the operator followed is fetched (`territoria retex follow URL --key PUBKEY`): the
product makes no other network call. The feed's entries are then checked like an import
file's, and only entries signed by the followed key are taken.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from territoria.errors import InvalidRequest, TerritoriaError

FEED_PATH = "/retex/feed.json"


class FeedUnavailable(TerritoriaError):
    """A followed feed could not be fetched (HTTP 502 at the web edge)."""

    status = 502


def feed_url(url: str) -> str:
    """The feed URL of an instance given by its base URL or its feed URL."""
    value = url.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest(f"Adresse invalide : {url!r} (http:// ou https:// attendu).")
    if parts.path.endswith(".json"):
        return value
    return value.rstrip("/") + FEED_PATH


def fetch_feed(url: str, *, timeout_s: float, max_bytes: int) -> Any:
    """The JSON of the feed at `url`; FeedUnavailable (French) when it cannot be had."""
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise FeedUnavailable(f"{url} a répondu {response.status_code}.")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FeedUnavailable(
                        f"{url} : flux trop gros (plus de {max_bytes // 2**20} Mio)."
                    )
                chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise FeedUnavailable(f"{url} : pas de réponse en {timeout_s:.0f} s.") from exc
    except httpx.HTTPError as exc:
        raise FeedUnavailable(f"{url} injoignable : {exc}.") from exc
    try:
        return json.loads(b"".join(chunks))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedUnavailable(f"{url} ne sert pas un flux JSON lisible.") from exc
