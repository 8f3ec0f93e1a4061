"""Two `territoria serve` processes on one PostgreSQL database, each with its own home, as two
replicas behind a load balancer: what one ingests the other answers from, an account created
on one signs in on the other, both append to one audit chain that verifies, and a replica
killed in the middle of requests loses nothing that was committed."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from territoria.accounts import Accounts
from territoria.audit import AuditLog
from territoria.settings import Settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KEYS = {
    "TERRITORIA_PII_KEY": "3b8f2d6a9c1e47f0b5a2d8c6e9f1a3b7",
    "TERRITORIA_SECRET_KEY": "c4e7a1f9d2b6083e5a7c9f1d3b5e7a92",
}
PASSWORD = "correct horse battery"
DOC = (
    "# Marché nocturne\n\nLe marché nocturne de Val-Fleuri a lieu chaque vendredi soir de "
    "juillet, de 18 h à 23 h, place de la Fontaine. Les exposants réservent leur emplacement "
    "auprès du service animation.\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Replica:
    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "territoria", "serve", "--home", str(home)]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 600  # a start-up bound, not a timing: loaded CI machines
        while True:
            assert self.process.poll() is None, self.process.communicate()[1]
            assert time.monotonic() < deadline, "the replica did not start"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        _, err = self.process.communicate(timeout=60)
        return err


@pytest.fixture
def deployment(postgres_dsn: str, tmp_path: Path) -> Iterator[tuple[Settings, list[Replica]]]:
    env = {
        **os.environ,
        **KEYS,
        "TERRITORIA_STORE": "postgres",
        "TERRITORIA_POSTGRES_DSN": postgres_dsn,
        "TERRITORIA_EMBEDDER": "fake",
        "TERRITORIA_TITLE_EMBEDDER": "fake",
        "TERRITORIA_RATE_PER_CLIENT": "0",
        "TERRITORIA_RATE_PER_TENANT": "0",
        "TERRITORIA_ORIGINALS": str(tmp_path / "shared-originals"),
    }
    settings = Settings(
        home=tmp_path / "admin",
        store="postgres",
        postgres_dsn=postgres_dsn,
        embedder="fake",
        title_embedder="fake",
        pii_key=KEYS["TERRITORIA_PII_KEY"],
    )
    replicas = [Replica(tmp_path / name, env) for name in ("a", "b")]
    try:
        for replica in replicas:
            replica.wait_ready()
        yield settings, replicas
    finally:
        for replica in replicas:
            assert "Traceback" not in replica.stop()


def ask(replica: Replica, question: str) -> dict[str, object]:
    response = httpx.get(f"{replica.url}/api/ask", params={"q": question}, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


def sign_in(replica: Replica, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=replica.url, timeout=30)
    page = client.get("/connexion")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    done = client.post(
        "/connexion", data={"name": name, "password": password, "csrf": csrf.group(1)}
    )
    assert done.status_code == 303, done.text
    return client


def test_two_replicas_share_documents_accounts_and_one_audit_chain(
    deployment: tuple[Settings, list[Replica]],
) -> None:
    settings, (a, b) = deployment
    with Accounts(settings) as accounts:
        accounts.add_user("admin", tenant="default", role="admin", password=PASSWORD)
        token = accounts.create_token("admin").token
    bearer = {"Authorization": f"Bearer {token}"}

    # an agent created through one replica's API signs in on the other
    created = httpx.post(
        f"{a.url}/api/users",
        json={"name": "agent1", "role": "agent", "password": PASSWORD},
        headers=bearer,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    client = sign_in(b, "agent1", PASSWORD)
    try:
        assert client.get("/agent").status_code == 200
    finally:
        client.close()

    # a document uploaded through A is answered by B as soon as the upload returns
    uploaded = httpx.post(
        f"{a.url}/api/documents",
        files={"files": ("marche-nocturne.md", DOC.encode(), "text/markdown")},
        headers=bearer,
        timeout=120,
    )
    assert uploaded.status_code == 201, uploaded.text
    answer = ask(b, "Quand a lieu le marché nocturne ?")
    assert "vendredi" in str(answer["answer"]), answer
    assert any(c["doc_id"] == "marche-nocturne" for c in answer["citations"])  # type: ignore[attr-defined]

    # both replicas append to one chain, while the other writes too
    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(
            pool.map(
                lambda i: str(
                    ask((a, b)[i % 2], "Quand a lieu le marché nocturne ?")["request_id"]
                ),
                range(8),
            )
        )
    with AuditLog(settings) as log:
        result = log.verify()
        assert result.ok, result.problems
        logged = {r.record_id for r in log.records()}
    assert {str(answer["request_id"]), *ids} <= logged

    # A killed in the middle of requests: what it committed stays, B goes on
    def slow_ask(i: int) -> str | None:
        try:
            return str(ask(a, f"Où se tient le marché nocturne ? ({i})")["request_id"])
        except (httpx.TransportError, AssertionError):
            return None

    with ThreadPoolExecutor(max_workers=6) as pool:
        pending = [pool.submit(slow_ask, i) for i in range(12)]
        time.sleep(0.5)
        a.process.send_signal(signal.SIGKILL)
        answered = [r for r in (p.result() for p in pending) if r is not None]
    assert "vendredi" in str(ask(b, "Quand a lieu le marché nocturne ?")["answer"])
    with AuditLog(settings) as log:
        result = log.verify()
        assert result.ok, result.problems
        logged = {r.record_id for r in log.records()}
    assert set(answered) <= logged
    listed = httpx.get(f"{b.url}/api/documents", headers=bearer, timeout=30).json()
    assert [d["doc_id"] for d in listed["documents"]] == ["marche-nocturne"]
