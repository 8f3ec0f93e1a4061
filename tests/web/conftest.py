"""Fixtures of the web tests: an app over the mini corpus (in process), and for browser
tests a real uvicorn server over the demo corpus with users of each role."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from audit_fakes import FakePII
from helpers import write_corpus, write_internal
from territoria.accounts import Accounts
from territoria.audit import AuditLog
from territoria.ingest import ingest_paths
from territoria.runtime import Runtime
from territoria.settings import Settings

with warnings.catch_warnings():
    # Starlette asks for `httpx2`; the `httpx` it falls back to works the same.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from territoria.web.app import create_app

PASSWORD = "mot-de-passe-solide-42"


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    """Fake embedder, rate limits off (tests that need them build their own)."""
    return Settings(
        home=tmp_path / "home",
        embedder="fake",
        rate_per_client=0,
        rate_per_tenant=0,
        secret_key="k" * 8 + "0123456789abcdefghijklmnopqrstuvwxyz",
    )


def fill(settings: Settings, root: Path) -> None:
    rt = Runtime(settings)
    try:
        ingest_paths([write_corpus(root / "docs")], settings=settings, store=rt.store)
        ingest_paths(
            [write_internal(root / "internal")],
            settings=settings,
            store=rt.store,
            visibility="internal",
        )
    finally:
        rt.close()
    with Accounts(settings) as accounts:
        accounts.add_user("agent1", tenant="default", role="agent", password=PASSWORD)
        accounts.add_user("admin1", tenant="default", role="admin", password=PASSWORD)
        accounts.add_user("admin2", tenant="autre", role="admin", password=PASSWORD)


def with_fake_pii(app: FastAPI) -> FakePII:
    """Swap the PII guard of the audit log and of the feedback store for a fast fake
    (spaCy takes seconds to load; the browser tests run the real one)."""
    state = app.state.web
    guard = FakePII()
    state.runtime.__dict__["pii"] = guard
    state.runtime.__dict__["audit"] = AuditLog(state.settings, pii=guard)
    state.feedback._pii = guard
    return guard


@pytest.fixture
def app_client(web_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    fill(web_settings, tmp_path)
    app = create_app(web_settings)
    with_fake_pii(app)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def filled_app(tmp_path: Path) -> Callable[[Settings], FastAPI]:
    """`filled_app(settings)`: an app (not started) over the mini corpus, with the fake PII
    guard, for tests that need their own settings."""

    def make(settings: Settings) -> FastAPI:
        fill(settings, tmp_path)
        app = create_app(settings)
        with_fake_pii(app)
        return app

    return make


def sign_in(client: TestClient, name: str) -> str:
    """Sign in through the form; return the session's CSRF token."""
    page = client.get("/connexion")
    token = csrf_of(page.text)
    response = client.post(
        "/connexion",
        data={"name": name, "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)


def ask_page(
    client: TestClient,
    question: str,
    *,
    path: str = "/",
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    """Send `question` as the page's form does: POST, form-encoded, with the page's CSRF
    token (`fields`: `simple`, `previous`, `previous_id`...)."""
    token = csrf_of(client.get(path).text)
    return client.post(path, data={"q": question, "csrf": token, **fields}, headers=headers)


def csrf_of(html: str) -> str:
    marker = '<meta name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def token_headers(settings: Settings, name: str) -> dict[str, str]:
    with Accounts(settings) as accounts:
        token = accounts.create_token(name).token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def login() -> Callable[[TestClient, str], str]:
    """`login(client, name)` signs in through the form and returns the CSRF token."""
    return sign_in


@pytest.fixture
def bearer(web_settings: Settings) -> Callable[[str], dict[str, str]]:
    """`bearer(name)`: headers with a fresh API token of that user."""
    return lambda name: token_headers(web_settings, name)


@pytest.fixture(name="ask_page")
def ask_page_fixture() -> Callable[..., Any]:
    """`ask_page(client, question, path="/", **fields)`: a question sent by the page's form."""
    return ask_page


@pytest.fixture
def csrf() -> Callable[[str], str]:
    return csrf_of


@pytest.fixture
def client_with(web_settings: Settings, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """`client_with(**settings)`: a client of an app over the mini corpus with those settings
    changed (one per test)."""
    opened: list[TestClient] = []

    def make(**changes: Any) -> TestClient:
        settings = web_settings.model_copy(update=changes)
        fill(settings, tmp_path)
        app = create_app(settings)
        with_fake_pii(app)
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    root = tmp_path_factory.mktemp("fuzz")
    settings = Settings(home=root / "home", embedder="fake", rate_per_client=0, rate_per_tenant=0)
    fill(settings, root)
    app = create_app(settings)
    with_fake_pii(app)
    with TestClient(app):  # runs the lifespan (index loaded) for the whole module
        yield app, token_headers(settings, "admin1")


# --- browser tests: a real uvicorn server and Debian's chromium -----------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def demo_home(settings: Settings) -> None:
    """What `territoria demo` does: the public demo corpus, then its internal folder."""
    from territoria.cli.documents import demo_corpus

    root = demo_corpus()
    rt = Runtime(settings)
    try:
        public = sorted(p for p in root.iterdir() if p.is_file())
        ingest_paths(public, settings=settings, store=rt.store)
        ingest_paths([root / "internal"], settings=settings, store=rt.store, visibility="internal")
        rt.refresh()
    finally:
        rt.close()
    with Accounts(settings) as accounts:
        accounts.add_user("agent1", tenant="default", role="agent", password=PASSWORD)
        accounts.add_user("admin1", tenant="default", role="admin", password=PASSWORD)


@dataclass
class LiveServer:
    url: str
    settings: Settings
    app: FastAPI


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """uvicorn on a free loopback port, over a tmp home holding the demo corpus, with the
    fake embedder (fast) and the real PII guard."""
    import uvicorn

    home = tmp_path_factory.mktemp("live") / "home"
    settings = Settings(home=home, embedder="fake", rate_per_client=0, rate_per_tenant=0)
    demo_home(settings)
    app = create_app(settings)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        pytest.fail("axe-core is missing: run `npm ci` (or `make browser`)")
    return path.read_text(encoding="utf-8")
