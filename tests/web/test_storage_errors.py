"""A full disk: /api/ask answers 507 with a French message and no answer (the audit log is a
legal record: a question it cannot record is not answered), uploads too; the server recovers
once space is freed. The real case runs on a small tmpfs filled to the last byte (as root);
SQLite's own SQLITE_FULL (`max_page_count`) covers the audit log on any machine."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from territoria.accounts import Accounts
from territoria.cli import _register, cli
from territoria.settings import Settings

QUESTION = "Quel est le prix du repas à la cantine ?"


def audit_records(client: TestClient) -> int:
    app: Any = client.app
    return len(list(app.state.web.runtime.audit.records()))


def assert_refused_unaudited(response: httpx.Response, client: TestClient, records: int) -> None:
    assert response.status_code == 507, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert "journal d'audit" in body["detail"] and "espace disque" in body["detail"]
    assert "answer" not in body and "citations" not in body
    assert audit_records(client) == records


def test_a_full_audit_database_refuses_the_question(
    app_client: TestClient, ask_page: Callable[..., Any]
) -> None:
    """SQLITE_FULL from SQLite itself: the audit database may not grow by one page."""
    app: Any = app_client.app
    audit = app.state.web.runtime.audit
    assert app_client.get("/api/ask", params={"q": QUESTION}).status_code == 200
    pages = audit._db.execute("PRAGMA page_count").fetchone()[0]
    audit._db.execute(f"PRAGMA max_page_count = {pages}")
    refused = None
    for _ in range(50):  # the free space of the last page goes first
        refused = app_client.get("/api/ask", params={"q": QUESTION * 20})
        if refused.status_code != 200:
            break
    assert refused is not None
    assert_refused_unaudited(refused, app_client, audit_records(app_client))
    long = QUESTION * 20
    page = ask_page(app_client, long, headers={"accept": "text/html"})
    assert page.status_code == 507 and "espace disque" in page.text


def test_an_upload_into_a_full_database_gets_507(
    app_client: TestClient, bearer: Callable[[str], dict[str, str]]
) -> None:
    """SQLITE_FULL while the document is written (a StoreError caused by it): 507, not 500."""
    app: Any = app_client.app
    store = app.state.web.runtime.store
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    text = "Le marché de plein air se tient chaque samedi matin place de la mairie. " * 400
    upload = app_client.post(
        "/api/documents",
        files=[("files", ("marche.txt", text.encode(), "text/plain"))],
        headers=bearer("admin1"),
    )
    assert upload.status_code == 507, upload.text
    assert upload.headers["content-type"] == "application/problem+json"
    assert "Espace disque insuffisant" in upload.json()["detail"]


@contextlib.contextmanager
def small_tmpfs(target: Path, size_mb: int) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(target)]
    if os.geteuid() != 0 or subprocess.run(mount, check=False).returncode != 0:
        pytest.skip("a real full disk needs root to mount a tmpfs (SQLITE_FULL is tested above)")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def fill_disk(folder: Path) -> list[Path]:
    """Write until the filesystem of `folder` has no byte left."""
    fillers = []
    for size in (1 << 20, 4096, 1):
        path = folder / f"filler-{size}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            break
        fillers.append(path)
        try:
            while True:
                os.write(fd, b"\0" * size)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
    return fillers


@pytest.mark.slow
def test_a_full_disk_refuses_questions_and_uploads_then_recovers(
    tmp_path: Path, filled_app: Callable[[Settings], FastAPI]
) -> None:
    with small_tmpfs(tmp_path / "disk", 32) as disk:
        settings = Settings(
            home=disk / "home",
            embedder="fake",
            title_embedder="fake",
            rate_per_client=0,
            rate_per_tenant=0,
        )
        app = filled_app(settings)
        with Accounts(settings) as accounts:
            headers = {"Authorization": f"Bearer {accounts.create_token('admin1').token}"}
        with TestClient(app) as client:
            assert client.get("/api/ask", params={"q": QUESTION}).status_code == 200
            fillers = fill_disk(disk)

            asked = client.get("/api/ask", params={"q": QUESTION})
            assert_refused_unaudited(asked, client, 1)
            upload = client.post(
                "/api/documents",
                files=[("files", ("note.txt", b"Une note de service. " * 2000, "text/plain"))],
                headers=headers,
            )
            assert upload.status_code == 507, upload.text
            assert "Espace disque insuffisant" in upload.json()["detail"]
            assert str(disk) not in upload.text

            _register()
            cli_ask = CliRunner().invoke(
                cli,
                ["ask", QUESTION, "--home", str(settings.home)],
                env={"TERRITORIA_EMBEDDER": "fake", "TERRITORIA_TITLE_EMBEDDER": "fake"},
            )
            assert cli_ask.exit_code == 74, cli_ask.output
            assert "espace disque" in cli_ask.stderr.lower()
            assert isinstance(cli_ask.exception, SystemExit)

            for filler in fillers:
                filler.unlink()
            again = client.get("/api/ask", params={"q": QUESTION})
            assert again.status_code == 200, again.text
