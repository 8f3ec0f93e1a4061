"""Signatures of the RETEX commons: Ed25519 (pip `cryptography`) over the RFC 8785 canonical
JSON form (pip `rfc8785`) of each feed entry.

A public key is written `ed25519:` + the 32 raw key bytes in unpadded base64url; a signature
is the 64 raw bytes in unpadded base64url. The instance's private key lives in
`<home>/retex.key` (PKCS#8 PEM, mode 0600), created once: it is the instance's identity for
every instance that follows it, so it is kept with the home's backups and never exported.
With `store=postgres` it lives in the database (`RetexStore.signing_key`), so that every
replica signs as the same instance; `territoria migrate` carries a home's key there.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from territoria.errors import InvalidRequest, StoreError

KEY_PREFIX = "ed25519:"
KEY_FILE = "retex.key"


def canonical(data: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of `data`: sorted keys, no spaces,
    UTF-8, numbers in their shortest form. What is signed and hashed."""
    return rfc8785.dumps(data)


def content_hash(data: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical(data)).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its `ed25519:...` form (InvalidRequest, in French, when
    it is not one)."""
    value = text.strip()
    if not value.startswith(KEY_PREFIX):
        raise InvalidRequest(f"Clé publique invalide : elle doit commencer par « {KEY_PREFIX} ».")
    try:
        raw = _unb64(value.removeprefix(KEY_PREFIX))
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise InvalidRequest("Clé publique invalide : 32 octets en base64url attendus.") from exc


def normalize_public_key(text: str) -> str:
    """The canonical `ed25519:...` form of a public key (checked)."""
    return public_key_text(parse_public_key(text))


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + _b64(raw)


def verify(public_key: str, signature: str, data: Any) -> bool:
    """Whether `signature` is the signature by `public_key` of the canonical form of `data`."""
    try:
        key = parse_public_key(public_key)
        key.verify(_unb64(signature), canonical(data))
    except (InvalidSignature, InvalidRequest, ValueError):
        return False
    return True


class InstanceKey:
    """The instance's signing key, loaded (or created once) from `<home>/retex.key`."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key = public_key_text(private.public_key())

    @classmethod
    def from_pem(cls, pem: bytes, where: str = "") -> InstanceKey:
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except ValueError as exc:
            raise StoreError(f"Clé de signature RETEX illisible{where} : {exc}.") from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise StoreError(f"La clé de signature RETEX{where} n'est pas une clé Ed25519.")
        return cls(private)

    @classmethod
    def load_or_create(cls, home: Path) -> InstanceKey:
        path = home / KEY_FILE
        try:
            if not path.exists():
                _create(path)
            pem = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"Clé de signature RETEX illisible ({path}) : {exc}.") from exc
        return cls.from_pem(pem, f" ({path})")

    def sign(self, data: Any) -> str:
        return _b64(self._private.sign(canonical(data)))


def new_private_pem() -> bytes:
    """A new Ed25519 private key, PKCS#8 PEM."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _create(path: Path) -> None:
    """Write a new key to a private temporary file, then link it into place: two processes
    starting together agree on one key and never read a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = new_private_pem()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".retex-key-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
        os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
