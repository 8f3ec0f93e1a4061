from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from helpers import write_corpus
from territoria.accounts import Accounts
from territoria.cli import _register, cli
from territoria.errors import ConfigError
from territoria.ingest import ingest_paths
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.web.app import create_app
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


def test_anonymous_callers_together_get_their_share_of_the_tenant_bucket() -> None:
    clock = Clock()
    settings = Settings(
        rate_per_client=0, rate_per_tenant=60, rate_burst_tenant=10, rate_anonymous_share=0.5
    )
    limiter = RateLimiter(settings, clock=clock)
    admitted = 0
    for i in range(20):
        try:
            limiter.check(f"ip:{i}", "t", anonymous=True)
            admitted += 1
        except RateLimited as refused:
            assert "collectivité" in refused.message
    assert admitted == 5
    for _ in range(5):  # the other half stays for signed-in callers
        limiter.check("user:agent1", "t")
    with pytest.raises(RateLimited):
        limiter.check("user:agent1", "t")
    limiter.check("ip:99", None, anonymous=True)  # signing in: the client's bucket only


def test_an_expensive_request_puts_its_buckets_in_debt() -> None:
    clock = Clock()
    settings = Settings(
        rate_per_client=60, rate_burst_client=5, rate_per_tenant=0, rate_cpu_unit_s=0.1
    )
    limiter = RateLimiter(settings, clock=clock)
    limiter.check("ip:1", "t")
    assert limiter.charge("ip:1", "t", cpu_s=0.05) == 0  # within one unit: one token
    assert limiter.charge("ip:1", "t", cpu_s=0.35) == pytest.approx(2.5)
    assert limiter.clients.take("ip:1") == 0.0  # 5 - 1 - 2.5 = 1.5 left
    assert limiter.clients.take("ip:1") == pytest.approx(0.5)  # 0.5 left: half a second
    assert limiter.charge("ip:1", "t", cpu_s=100.0) == 9  # one request: 10 tokens at most
    assert limiter.clients.take("ip:1") == pytest.approx(6.0)  # debt down to the burst (-5)
    clock.now = 6.0
    assert limiter.clients.take("ip:1") == 0.0
    assert (
        RateLimiter(settings.model_copy(update={"rate_cpu_unit_s": 0})).charge(
            "ip:1", "t", cpu_s=100.0
        )
        == 0
    )


# --- through the app: question length, CPU charge, classes of callers, proxies ---------------
# (issue #8: finding 4, long queries cost CPU; finding 6, anonymous traffic starved the agents
# and X-Forwarded-For was trusted from loopback)

LONG = "Quels sont les horaires de la mairie le samedi ? " * 50  # 2,450 characters


PASSWORD = "mot-de-passe-solide-42"


def limited_app(tmp_path: Path, **limits: Any) -> FastAPI:
    """The mini corpus, an agent (with an API token) and an admin, under these limits."""
    settings = Settings(
        home=tmp_path / "home",
        embedder="fake",
        secret_key="k" * 8 + "0123456789abcdefghijklmnopqrstuvwxyz",
        **limits,
    )
    rt = Runtime(settings)
    try:
        ingest_paths([write_corpus(tmp_path / "docs")], settings=settings, store=rt.store)
    finally:
        rt.close()
    with Accounts(settings) as accounts:
        accounts.add_user("agent1", tenant="default", role="agent", password=PASSWORD)
        accounts.add_user("admin1", tenant="default", role="admin", password=PASSWORD)
    return create_app(settings)


def api_token(app: FastAPI, name: str) -> dict[str, str]:
    with Accounts(app.state.web.settings) as accounts:
        return {"Authorization": f"Bearer {accounts.create_token(name).token}"}


def test_a_too_long_question_gets_a_clear_french_error_everywhere(
    app_client: TestClient, ask_page: Callable[..., Any]
) -> None:
    for response in (
        app_client.get("/api/ask", params={"q": LONG}),
        app_client.post("/api/ask", json={"question": LONG}),
        app_client.get("/api/search", params={"q": LONG}),
        app_client.post("/api/search", json={"query": LONG}),
    ):
        assert response.status_code == 422, response.text
        assert "trop longue" in response.json()["detail"]
        assert "2\u202f000 caractères au plus" in response.json()["detail"]
    page = ask_page(app_client, LONG)
    assert page.status_code == 400 and "trop longue" in page.text
    assert 'maxlength="2000"' in page.text
    assert f'value="{LONG}"' in page.text  # the question is given back, to shorten
    assert ask_page(app_client, LONG[:2000]).status_code == 200


def test_the_length_limit_follows_the_settings(tmp_path: Path) -> None:
    app = limited_app(tmp_path, rate_per_client=0, rate_per_tenant=0, question_max_chars=30)
    with TestClient(app) as client:
        assert client.get("/api/search", params={"q": "horaires de la mairie"}).status_code == 200
        refused = client.get("/api/search", params={"q": "horaires de la mairie le samedi"})
        assert refused.status_code == 422 and "30 caractères" in refused.json()["detail"]
        assert 'maxlength="30"' in client.get("/").text


def test_an_expensive_request_takes_more_tokens(tmp_path: Path) -> None:
    # One token per microsecond of CPU: any search costs more than the whole burst.
    app = limited_app(
        tmp_path, rate_per_client=1, rate_burst_client=5, rate_per_tenant=0, rate_cpu_unit_s=1e-6
    )
    with TestClient(app) as client:
        assert client.get("/api/collections").status_code == 200  # not metered: one token
        assert client.get("/api/collections").status_code == 200
        assert client.get("/api/search", params={"q": "horaires de la mairie"}).status_code == 200
        refused = client.get("/api/collections")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 60  # the debt takes minutes to refill


def test_cheap_requests_cost_one_token_each(tmp_path: Path) -> None:
    app = limited_app(
        tmp_path, rate_per_client=1, rate_burst_client=3, rate_per_tenant=0, rate_cpu_unit_s=1e3
    )
    with TestClient(app) as client:
        codes = [client.get("/api/search", params={"q": "mairie"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]


def test_an_anonymous_flood_leaves_the_agents_served(
    tmp_path: Path, login: Callable[[TestClient, str], str]
) -> None:
    app = limited_app(
        tmp_path,
        rate_per_client=1,
        rate_burst_client=2,
        rate_per_tenant=1,
        rate_burst_tenant=10,
        rate_cpu_unit_s=0,
        trusted_proxies="127.0.0.1",
    )
    agent = api_token(app, "agent1")
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        flood = [  # 20 addresses behind the proxy, twice each
            client.get("/api/search", params={"q": "mairie"}, headers={"x-forwarded-for": ip})
            for ip in (f"198.51.100.{i}" for i in range(1, 21))
            for _ in range(2)
        ]
        codes = [r.status_code for r in flood]
        assert codes.count(200) == 5 and codes.count(429) == 35  # half the tenant's burst
        assert "collectivité" in flood[-1].json()["detail"]
        served = [client.get("/api/search", params={"q": "mairie"}, headers=agent)]
        login(client, "admin1")  # and a user signed in on the web pages
        served.append(client.get("/api/search", params={"q": "mairie"}))
        assert [r.status_code for r in served] == [200, 200]


def test_forwarded_headers_are_ignored_by_default_even_from_loopback(tmp_path: Path) -> None:
    app = limited_app(tmp_path, rate_per_client=1, rate_burst_client=2, rate_per_tenant=0)
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        codes = [
            client.get("/api/collections", headers={"x-forwarded-for": f"203.0.113.{i}"})
            for i in range(3)
        ]
        assert [r.status_code for r in codes] == [200, 200, 429]  # one client: the peer


def test_the_client_is_the_first_untrusted_hop_behind_configured_proxies(tmp_path: Path) -> None:
    seen: list[str] = []

    def app_seeing_clients(home: Path) -> FastAPI:
        app = limited_app(
            home,
            rate_per_client=1,
            rate_burst_client=1,
            rate_per_tenant=0,
            trusted_proxies="127.0.0.1, 10.0.0.0/8",
        )

        @app.get("/api/whoami")
        def whoami(request: Request) -> dict[str, str]:
            seen.append(request.client.host if request.client else "")
            return {}

        return app

    forged = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.1.2.3"}
    with TestClient(app_seeing_clients(tmp_path / "a"), client=("127.0.0.1", 40000)) as client:
        # The client forged a first hop; the proxies appended the real ones.
        assert client.get("/api/whoami", headers=forged).status_code == 200
        assert client.get("/api/collections", headers=forged).status_code == 200
        assert client.get("/api/collections", headers=forged).status_code == 429  # same client
        other = {"x-forwarded-for": "203.0.113.8"}
        assert client.get("/api/collections", headers=other).status_code == 200
    with TestClient(app_seeing_clients(tmp_path / "b"), client=("192.0.2.1", 40000)) as untrusted:
        assert untrusted.get("/api/whoami", headers=forged).status_code == 200
    assert seen == ["203.0.113.7", "192.0.2.1"]


def test_a_malformed_proxy_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        create_app(Settings(home=tmp_path / "home", trusted_proxies="127.0.0.1, proxy.local"))


def serve_for_real(
    home: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Run `territoria serve` as it is (its app and its uvicorn options) on a free port."""
    launched: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: launched.append((app, options)))
    for name, value in env.items():
        monkeypatch.setenv(f"TERRITORIA_{name.upper()}", value)
    _register()
    result = CliRunner().invoke(cli, ["serve", "--home", str(home)])
    assert result.exit_code == 0, result.output
    ((app, options),) = launched
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, **{**options, "host": "127.0.0.1", "port": port})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("trusted", "expected"), [("", [200, 200, 429]), ("127.0.0.1", [200, 200, 200])]
)
def test_serve_trusts_forwarded_headers_from_configured_proxies_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: str, expected: list[int]
) -> None:
    server, thread, url = serve_for_real(
        tmp_path / "home",
        monkeypatch,
        embedder="fake",
        rate_per_client="1",
        rate_burst_client="2",
        rate_per_tenant="0",
        trusted_proxies=trusted,
    )
    try:
        codes = [
            httpx.get(
                f"{url}/api/collections", headers={"x-forwarded-for": f"203.0.113.{i}"}
            ).status_code
            for i in range(3)
        ]
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert codes == expected  # from loopback, by default, three requests of one client
