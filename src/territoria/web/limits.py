"""Rate limits: one in-process token bucket per client and one per collectivité (tenant).

A bucket holds up to `burst` tokens and refills at `rate` tokens per minute; each request
takes one token from both buckets of its caller, or is refused with HTTP 429 and a
`Retry-After` header. Limits come from Settings (`rate_per_client`, `rate_per_tenant`;
0 disables one). In-process: with several server processes, each has its own buckets.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from territoria.errors import TerritoriaError
from territoria.settings import Settings

_MAX_BUCKETS = 10_000


class RateLimited(TerritoriaError):
    status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets keyed by a string, thread-safe."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str) -> float:
        """Take one token; return 0 when allowed, else the seconds until one is available."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= _MAX_BUCKETS:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def give_back(self, key: str) -> None:
        """Return a token taken by `take` (the other bucket refused the request)."""
        if not self.enabled:
            return
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tokens = min(self.burst, bucket.tokens + 1.0)

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled completely (they hold no information)."""
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]


class RateLimiter:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.clients = TokenBuckets(settings.rate_per_client, settings.rate_burst_client, clock)
        self.tenants = TokenBuckets(settings.rate_per_tenant, settings.rate_burst_tenant, clock)

    def check(self, client: str, tenant: str) -> None:
        """Count one request of `client` in `tenant`; raise RateLimited when over a limit."""
        wait = self.clients.take(client)
        if wait:
            raise RateLimited(
                "Trop de requêtes : merci de patienter quelques secondes avant de réessayer.",
                wait,
            )
        wait = self.tenants.take(tenant)
        if wait:
            self.clients.give_back(client)
            raise RateLimited(
                "Le service reçoit trop de requêtes pour votre collectivité : "
                "merci de réessayer dans un instant.",
                wait,
            )


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
