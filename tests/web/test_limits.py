from __future__ import annotations

import pytest

from territoria.settings import Settings
from territoria.web.limits import RateLimited, RateLimiter, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = buckets.take("a")
    assert wait == pytest.approx(1.0)
    assert buckets.take("b") == 0.0  # another client has its own bucket
    clock.now = 1.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


def test_zero_rate_disables_the_limit() -> None:
    buckets = TokenBuckets(per_minute=0, burst=1)
    assert all(buckets.take("a") == 0.0 for _ in range(100))


def test_tenant_limit_applies_across_clients_and_gives_back_the_client_token() -> None:
    clock = Clock()
    settings = Settings(
        rate_per_client=60, rate_burst_client=5, rate_per_tenant=60, rate_burst_tenant=2
    )
    limiter = RateLimiter(settings, clock=clock)
    limiter.check("ip:1", "t")
    limiter.check("ip:2", "t")
    with pytest.raises(RateLimited, match="collectivité") as refused:
        limiter.check("ip:3", "t")
    assert refused.value.status == 429 and refused.value.retry_after > 0
    limiter.check("ip:3", "autre")  # another tenant is not affected
    # ip:3 spent one token (the refused request was given back): 3 of its 5 are left.
    assert [limiter.clients.take("ip:3") for _ in range(4)][:3] == [0.0, 0.0, 0.0]
    assert limiter.clients.take("ip:3") > 0
