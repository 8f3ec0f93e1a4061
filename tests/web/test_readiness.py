"""Readiness: the server answers questions only once the index, the models, the PII guard and
the audit log are loaded; /healthz says it is alive, /readyz what is loaded."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from territoria.settings import Settings

QUESTION = "Quel est le prix du repas à la cantine ?"


def gate_warm_up(app: Any) -> threading.Event:
    """Hold the app's warm-up until the returned event is set (our own seam)."""
    runtime = app.state.web.runtime
    real = runtime.warm_up
    release = threading.Event()

    def held() -> dict[str, Any]:
        assert release.wait(timeout=60)
        return real()

    runtime.warm_up = held
    return release


def test_readiness_goes_from_503_to_200_then_questions_take_the_fast_path(
    web_settings: Settings,
    filled_app: Callable[[Settings], FastAPI],
    csrf: Callable[[str], str],
) -> None:
    settings = web_settings.model_copy(update={"warm_up": "background"})
    app = filled_app(settings)
    release = gate_warm_up(app)
    state = app.state.web
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        loading = client.get("/readyz")
        assert loading.status_code == 503 and loading.headers["retry-after"] == "5"
        assert loading.json()["ready"] is False and loading.json()["status"] == "chargement"
        early = client.get("/api/ask", params={"q": QUESTION})
        assert early.status_code == 503 and early.headers["retry-after"] == "5"
        assert early.headers["content-type"] == "application/problem+json"
        assert "démarre" in early.json()["detail"]
        assert client.get("/api/search", params={"q": "cantine"}).status_code == 503
        form = client.get("/", headers={"accept": "text/html"})
        assert form.status_code == 200  # the form is there; the question waits for the index
        page = client.post(
            "/", data={"q": QUESTION, "csrf": csrf(form.text)}, headers={"accept": "text/html"}
        )
        assert page.status_code == 503 and "démarre" in page.text

        release.set()
        assert state.readiness.wait(timeout=60)
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        loaded = ready.json()["loaded"]
        assert loaded["store"] and loaded["index"] and loaded["passages"] > 0
        assert loaded["embedder"] == "fake" and loaded["title_embedder"] == "fake"
        assert loaded["pii"] and loaded["audit"]
        assert list(state.runtime.audit.records()) == []  # the warm-up is not audited

        # The first question finds everything loaded: no service is built, no index rebuilt.
        services = set(state.runtime.__dict__)
        index = state.runtime.retriever.index()
        answered = client.get("/api/ask", params={"q": QUESTION})
        assert answered.status_code == 200, answered.text
        assert set(state.runtime.__dict__) == services
        assert state.runtime.retriever.index() is index
        assert len(list(state.runtime.audit.records())) == 1


def test_by_default_the_app_starts_ready(
    web_settings: Settings, filled_app: Callable[[Settings], FastAPI]
) -> None:
    """warm_up "before": the warm-up runs during start-up, before any request is served."""
    app = filled_app(web_settings)
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "prêt"
        assert ready.json()["loaded"]["warm_up_s"] is not None
        assert list(app.state.web.runtime.audit.records()) == []


def test_a_failed_warm_up_answers_503_with_its_french_reason(
    web_settings: Settings, filled_app: Callable[[Settings], FastAPI]
) -> None:
    app = filled_app(web_settings)
    home = web_settings.home
    for name in ("territoria.sqlite3-wal", "territoria.sqlite3-shm"):
        (home / name).unlink(missing_ok=True)
    (home / "territoria.sqlite3").write_bytes(os.urandom(8192))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        status = client.get("/readyz")
        assert status.status_code == 503 and status.json()["status"] == "échec"
        assert "endommagée" in status.json()["error"]
        assert str(home) not in status.text  # no server path on the web
        asked = client.get("/api/ask", params={"q": QUESTION})
        assert asked.status_code == 503 and "endommagée" in asked.json()["detail"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_territoria_serve_listens_only_once_ready(
    web_settings: Settings, filled_app: Callable[[Settings], FastAPI]
) -> None:
    """The socket opens after the warm-up: the first request that connects finds /readyz 200
    and gets its answer (no question waits for a model)."""
    filled_app(web_settings)
    port = free_port()
    env = {
        **os.environ,
        "TERRITORIA_EMBEDDER": "fake",
        "TERRITORIA_TITLE_EMBEDDER": "fake",
        "TERRITORIA_RATE_PER_CLIENT": "0",
        "TERRITORIA_RATE_PER_TENANT": "0",
    }
    command = [sys.executable, "-m", "territoria", "serve", "--home", str(web_settings.home)]
    server = subprocess.Popen(
        [*command, "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                first = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert first.status_code == 200, first.text
        asked = httpx.get(f"http://127.0.0.1:{port}/api/ask", params={"q": QUESTION}, timeout=30)
        assert asked.status_code == 200, asked.text
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "Prêt en" in err and "Traceback" not in err
