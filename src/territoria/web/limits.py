"""Rate limits: in-process token buckets per client, per collectivité (tenant), and per
collectivité for its anonymous callers; requests are charged by the CPU time they use.

Buckets. A bucket holds up to `burst` tokens and refills at `rate` tokens per minute. Each
request takes one token from the bucket of its client (an API token's user, a signed-in user,
or the address of an anonymous caller: `rate_per_client`, `rate_burst_client`) and one from its
collectivité's (`rate_per_tenant`, `rate_burst_tenant`). An anonymous request also takes one
from the collectivité's anonymous bucket, which holds `rate_anonymous_share` of the
collectivité's rate and burst: anonymous callers together never use more than that share of
the collectivité's bucket, and the rest stays for its agents whatever the anonymous traffic.
Signing in (`SIGN_IN_PATHS`) counts against the caller's own bucket only, so that an anonymous
flood cannot keep agents from signing in either. A request that a bucket refuses gives back what
it took from the others and gets HTTP 429 with a `Retry-After` header. A rate of 0 disables its
buckets.

Cost. The question path (`/api/ask`, `/api/search`, the question pages) runs under
`metered()`, which adds the CPU time of the thread doing the work (`time.thread_time`; the
extra threads of a model run with `embedder_threads` > 1 are not counted) to the request's
meter. When the request is over, one that used k times `rate_cpu_unit_s` takes k - 1
more tokens from each of its buckets: the buckets may go into debt (down to minus their burst),
and the caller waits until the debt is refilled. A client sending expensive queries is thus
throttled in proportion to the CPU it uses, not to its number of requests; every other request
counts as one token. What one request may cost is bounded upstream: the question length
(`question_max_chars`), what each embedding model sees (`territoria.embed.Bounded`) and the
number of query terms (`territoria.search.lexical.MAX_QUERY_TERMS`): a 2,000-character question
costs about 0.25 s of CPU, 2 to 3 tokens (bench/bench_long_query.py). One request takes at most
`MAX_TOKENS_PER_REQUEST`: beyond that, the time is not the caller's doing (the first question
after a start loads the models, 5 s of CPU).

In-process: with several server processes, each has its own buckets.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from territoria.errors import TerritoriaError
from territoria.settings import Settings

_MAX_BUCKETS = 10_000
SIGN_IN_PATHS = frozenset({"/connexion"})
MAX_TOKENS_PER_REQUEST = 10.0


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
        self, per_minute: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def _refilled(self, key: str) -> _Bucket:
        """The bucket of `key`, brought up to date (call with the lock held)."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        return bucket

    def take(self, key: str) -> float:
        """Take one token; return 0 when allowed, else the seconds until one is available."""
        if not self.enabled:
            return 0.0
        with self._lock:
            bucket = self._refilled(key)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def charge(self, key: str, tokens: float) -> None:
        """Take `tokens` more after the fact (the request has run): the bucket may go into
        debt, down to minus its burst."""
        if not self.enabled or tokens <= 0:
            return
        with self._lock:
            bucket = self._refilled(key)
            bucket.tokens = max(-self.burst, bucket.tokens - tokens)

    def give_back(self, key: str) -> None:
        """Return a token taken by `take` (another bucket refused the request)."""
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


_TOO_MANY = "Trop de requêtes : merci de patienter quelques secondes avant de réessayer."
_TENANT_BUSY = (
    "Le service reçoit trop de requêtes pour votre collectivité : "
    "merci de réessayer dans un instant."
)


class RateLimiter:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        share = settings.rate_anonymous_share
        self.clients = TokenBuckets(settings.rate_per_client, settings.rate_burst_client, clock)
        self.tenants = TokenBuckets(settings.rate_per_tenant, settings.rate_burst_tenant, clock)
        self.anonymous = TokenBuckets(
            settings.rate_per_tenant * share, max(1.0, settings.rate_burst_tenant * share), clock
        )
        self.cpu_unit_s = settings.rate_cpu_unit_s

    def _buckets(
        self, client: str, tenant: str | None, anonymous: bool
    ) -> list[tuple[TokenBuckets, str, str]]:
        """The caller's buckets, each with its key and its refusal message."""
        buckets = [(self.clients, client, _TOO_MANY)]
        if tenant is not None:
            if anonymous:
                buckets.append((self.anonymous, tenant, _TENANT_BUSY))
            buckets.append((self.tenants, tenant, _TENANT_BUSY))
        return buckets

    def check(self, client: str, tenant: str | None, *, anonymous: bool = False) -> None:
        """Count one request of `client` in `tenant` (None: the client's bucket only); raise
        RateLimited when over a limit."""
        taken: list[tuple[TokenBuckets, str]] = []
        for buckets, key, message in self._buckets(client, tenant, anonymous):
            wait = buckets.take(key)
            if wait:
                for done, done_key in taken:
                    done.give_back(done_key)
                raise RateLimited(message, wait)
            taken.append((buckets, key))

    def charge(
        self, client: str, tenant: str | None, *, anonymous: bool = False, cpu_s: float
    ) -> float:
        """Charge a request that used `cpu_s` CPU seconds beyond its first token; return the
        tokens added (0 for a request within one `rate_cpu_unit_s`)."""
        if self.cpu_unit_s <= 0:
            return 0.0
        extra = min(cpu_s / self.cpu_unit_s, MAX_TOKENS_PER_REQUEST) - 1.0
        if extra <= 0:
            return 0.0
        for buckets, key, _ in self._buckets(client, tenant, anonymous):
            buckets.charge(key, extra)
        return extra


@dataclass
class CPUMeter:
    """CPU seconds measured for one request."""

    seconds: float = 0.0


_METER: ContextVar[CPUMeter | None] = ContextVar("territoria_cpu_meter", default=None)


def start_meter() -> CPUMeter:
    """A fresh meter for the current request (its context: the worker threads running the
    request's handler see it too)."""
    meter = CPUMeter()
    _METER.set(meter)
    return meter


@contextmanager
def metered() -> Iterator[None]:
    """Add the CPU time of the enclosed work, in this thread, to the current request's meter
    (nothing outside a request)."""
    meter = _METER.get()
    start = time.thread_time()
    try:
        yield
    finally:
        if meter is not None:
            meter.seconds += time.thread_time() - start


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
