from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from territoria.errors import InvalidRequest
from territoria.retex.signing import InstanceKey, canonical, normalize_public_key, verify


def test_canonical_form_is_rfc8785() -> None:
    assert (
        canonical({"b": 1, "a": "é", "c": [1.5, None]}) == '{"a":"é","b":1,"c":[1.5,null]}'.encode()
    )


def test_key_is_created_once_private_and_signatures_verify(tmp_path: Path) -> None:
    key = InstanceKey.load_or_create(tmp_path)
    again = InstanceKey.load_or_create(tmp_path)
    assert key.public_key == again.public_key and key.public_key.startswith("ed25519:")
    assert stat.S_IMODE(os.stat(tmp_path / "retex.key").st_mode) == 0o600
    data = {"id": "x", "n": 1}
    signature = key.sign(data)
    assert verify(key.public_key, signature, data)
    assert not verify(key.public_key, signature, {"id": "x", "n": 2})
    other = InstanceKey.load_or_create(tmp_path / "other")
    assert not verify(other.public_key, signature, data)
    assert not verify("ed25519:bad", signature, data)


def test_public_keys_are_checked() -> None:
    with pytest.raises(InvalidRequest, match="ed25519"):
        normalize_public_key("ssh-ed25519 AAAA")
    with pytest.raises(InvalidRequest, match="32 octets"):
        normalize_public_key("ed25519:AAAA")
