"""Two real instances on loopback: two `territoria serve` processes on free ports with
separate homes. A publishes, B follows and pulls; an edit on A reaches B as an update, a
withdrawal as a withdrawal; a tampered byte and an unknown key are rejected; neither
instance's restricted fields reach the other."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from retex.conftest import MARKERS, fiche
from territoria.accounts import Accounts
from territoria.retex import Commons
from territoria.settings import Settings

pytestmark = pytest.mark.slow

B_MARKERS = {k: v.replace("-", "-B-") for k, v in MARKERS.items()}


@dataclass
class Instance:
    name: str
    home: Path
    url: str
    env: dict[str, str]
    token: str
    process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "territoria", "--home", str(self.home), *args, "--json"],
            env=self.env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def get(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.get(self.url + path, headers=headers, timeout=60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _instance(tmp: Path, name: str) -> Instance:
    home = tmp / name
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TERRITORIA_EMBEDDER": "fake",
        "TERRITORIA_TITLE_EMBEDDER": "fake",
        "TERRITORIA_RETEX_INSTANCE": f"Instance {name}",
        "TERRITORIA_RETEX_URL": url,
        "TERRITORIA_RATE_PER_CLIENT": "0",
        "TERRITORIA_RATE_PER_TENANT": "0",
        "TERRITORIA_PORT": str(port),
    }
    with Accounts(Settings(home=home)) as accounts:
        accounts.add_user("agent1", tenant="default", role="agent")
        token = accounts.create_token("agent1").token
    return Instance(name, home, url, env, token)


def _settings(inst: Instance) -> Settings:
    return Settings(
        home=inst.home, embedder="fake", title_embedder="fake",
        retex_instance=f"Instance {inst.name}", retex_url=inst.url,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, pii_guard: Any
) -> Iterator[tuple[Instance, Instance]]:
    tmp = tmp_path_factory.mktemp("retex-pair")
    a, b = _instance(tmp, "A"), _instance(tmp, "B")
    # Each instance has a fiche of its own before it starts (written like `retex add` does).
    _commons(a, pii_guard).add(fiche("fiche-de-a-01"))
    b_fiche = fiche(
        "fiche-de-b-01",
        title="Transport à la demande",
        contact={"name": B_MARKERS["contact"]},
        budget_detail=B_MARKERS["budget_detail"],
        internal_notes=B_MARKERS["internal_notes"],
    )
    _commons(b, pii_guard).add(b_fiche)
    logs = {inst.name: (tmp / f"{inst.name}.log").open("wb") for inst in (a, b)}
    for inst in (a, b):
        inst.process = subprocess.Popen(
            [sys.executable, "-m", "territoria", "--home", str(inst.home), "serve"],
            env=inst.env, stdout=subprocess.DEVNULL, stderr=logs[inst.name],
        )  # fmt: skip
    try:
        for inst in (a, b):
            log = tmp / f"{inst.name}.log"
            deadline = time.monotonic() + 240
            while True:
                assert inst.process is not None
                if inst.process.poll() is not None:
                    raise RuntimeError(log.read_text(encoding="utf-8", errors="replace"))
                try:
                    if httpx.get(inst.url + "/readyz", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"instance {inst.name} did not start")
                time.sleep(0.5)
        yield a, b
    finally:
        for inst in (a, b):
            if inst.process is not None:
                inst.process.terminate()
                inst.process.wait(timeout=30)
            logs[inst.name].close()


def _commons(inst: Instance, guard: Any = None) -> Commons:
    """The commons of an instance's home, in this process (beside its server: SQLite WAL)."""
    commons = Commons(_settings(inst), guard=guard)
    _opened.append(commons)
    return commons


_opened: list[Commons] = []


@pytest.fixture(autouse=True)
def _close_commons() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def _home_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())


def test_b_follows_a_and_gets_new_updated_and_withdrawn_fiches(
    pair: tuple[Instance, Instance], pii_guard: Any
) -> None:
    a, b = pair
    key_a = _commons(a).key.public_key
    feed = httpx.get(a.url + "/retex/feed.json", timeout=30).json()
    assert feed["instance"]["public_key"] == key_a
    assert b.cli("retex", "follow", a.url, "--key", key_a)["url"] == a.url + "/retex/feed.json"
    pulled = b.cli("retex", "pull")["feeds"][0]
    assert (pulled["imported"], pulled["rejected"]) == (1, [])
    page = b.get("/agent/retex").text
    assert "Location de vélos électriques" in page and "instance Instance A" in page
    hits = _commons(b).search("vélos électriques")
    assert hits[0].id == "fiche-de-a-01" and hits[0].origin["instance"] == "Instance A"

    edited = fiche("fiche-de-a-01", summary="Deuxième version : 300 vélos loués en 2025.")
    _commons(a, pii_guard).add(edited)
    pulled = b.cli("retex", "pull")["feeds"][0]
    assert (pulled["imported"], pulled["updated"]) == (0, 1)
    assert "Deuxième version" in b.get("/agent/retex/fiche-de-a-01").text

    _commons(a, pii_guard).withdraw("fiche-de-a-01")
    assert b.cli("retex", "pull")["feeds"][0]["withdrawn"] == 1
    assert "fiche-de-a-01" not in [h.id for h in _commons(b).search("vélos électriques")]
    assert b.get("/agent/retex/fiche-de-a-01").status_code == 404


def test_restricted_fields_never_cross(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    key_b = _commons(b).key.public_key
    a.cli("retex", "follow", b.url, "--key", key_b, "--name", "Instance B")
    assert a.cli("retex", "pull")["feeds"][0]["imported"] == 1
    for inst in (a, b):
        feed = httpx.get(inst.url + "/retex/feed.json", timeout=30).content
        for marker in (*MARKERS.values(), *B_MARKERS.values()):
            assert marker.encode() not in feed
    a_home, b_home = _home_bytes(a.home), _home_bytes(b.home)
    for marker in B_MARKERS.values():
        assert marker.encode() not in a_home
    for marker in MARKERS.values():
        assert marker.encode() not in b_home


def test_a_tampered_byte_and_an_unknown_key_are_rejected(
    pair: tuple[Instance, Instance], tmp_path: Path
) -> None:
    a, b = pair
    raw = httpx.get(b.url + "/retex/feed.json", timeout=30).content
    assert b"Transport" in raw
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(raw.replace(b"Transport", b"Tronsport", 1))
    report = a.cli("retex", "import", str(tampered))
    assert report["rejected"] == [
        {"id": "fiche-de-b-01", "reason": report["rejected"][0]["reason"]}
    ]
    assert "signature invalide" in report["rejected"][0]["reason"]
    stranger = _instance(tmp_path, "C")
    genuine = tmp_path / "genuine.json"
    genuine.write_bytes(raw)
    report = stranger.cli("retex", "import", str(genuine))
    assert report["imported"] == 0 and "clé inconnue" in report["rejected"][0]["reason"]
    assert _commons(stranger).fiches() == []
