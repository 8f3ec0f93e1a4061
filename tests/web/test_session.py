from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from territoria.errors import ConfigError
from territoria.settings import Settings
from territoria.web.session import SessionCodec, load_secret


def test_signed_session_round_trip_and_tampering() -> None:
    codec = SessionCodec(b"x" * 40, max_age_s=60)
    token = codec.dumps({"user": "agent1", "csrf": "abc"}, now=1000.0)
    assert codec.loads(token, now=1010.0) == {"user": "agent1", "csrf": "abc"}
    body, _, sig = token.partition(".")
    forged = SessionCodec(b"y" * 40, max_age_s=60).dumps({"user": "admin1"}, now=1000.0)
    assert codec.loads(forged.partition(".")[0] + "." + sig, now=1010.0) is None
    assert codec.loads(body + "." + sig[:-2] + "AA", now=1010.0) is None
    assert codec.loads(token, now=1061.0) is None  # expired
    assert codec.loads("garbage", now=1010.0) is None


def test_secret_key_file_is_random_and_private(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    key = load_secret(settings)
    path = tmp_path / "home" / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(settings) == key and len(key) >= 32
    other = load_secret(Settings(home=tmp_path / "other"))
    assert other != key


def test_secret_key_from_environment_refuses_placeholders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERRITORIA_SECRET_KEY", "changeme-changeme-changeme-changeme")
    with pytest.raises(ConfigError, match="valeur d'exemple"):
        load_secret(Settings(home=tmp_path))
    monkeypatch.setenv("TERRITORIA_SECRET_KEY", "court-mais-varie")
    with pytest.raises(ConfigError, match="trop courte"):
        load_secret(Settings(home=tmp_path))
    good = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    monkeypatch.setenv("TERRITORIA_SECRET_KEY", good)
    assert load_secret(Settings(home=tmp_path)) == good.encode()
    assert not (tmp_path / "secret.key").exists()


def test_the_cookie_carries_only_a_session_id_and_the_csrf_token(
    app_client: TestClient, login: Callable[[TestClient, str], str], web_settings: Settings
) -> None:
    codec = SessionCodec(load_secret(web_settings), max_age_s=3600)
    app_client.get("/")
    anonymous = codec.loads(app_client.cookies["territoria_session"])
    assert anonymous is not None and set(anonymous) == {"csrf", "anon"}
    token = login(app_client, "agent1")
    signed_in = codec.loads(app_client.cookies["territoria_session"])
    assert signed_in is not None and set(signed_in) == {"sid", "csrf"}
    assert signed_in["csrf"] == token and len(signed_in["sid"]) >= 43
    assert "agent1" not in json.dumps(signed_in)
