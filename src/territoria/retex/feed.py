"""Signed feed entries: what a fiche looks like when it leaves the instance, and the checks an
entry must pass before another instance takes it.

An entry (one per fiche, withdrawals included) is

    {"id", "updated", "supersedes", "withdrawn", "content_hash", "fiche",
     "origin": {"instance", "url", "key"}, "signature"}

where `fiche` is the public part of the fiche with its free text pseudonymised (None once
withdrawn), `content_hash` the SHA-256 of its canonical form, `supersedes` the content hash of
the version it replaces, and `signature` the Ed25519 signature by `origin.key` of the RFC 8785
canonical form of every other member. A feed (`/retex/feed.json`, or an export file) is

    {"format": "territoria-retex/1", "instance": {"name", "url", "public_key"},
     "updated", "entries": [...]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from territoria.retex.model import FREE_TEXT_FIELDS, Fiche, parse_fiche, validation_reason
from territoria.retex.signing import InstanceKey, content_hash, verify

FEED_FORMAT = "territoria-retex/1"
# Keys whose values are structured data, never free text, inside the free-text fields.
_STRUCTURED_KEYS = frozenset({"date", "value", "unit"})


class Entity(Protocol):
    @property
    def type(self) -> str: ...


class Masked(Protocol):
    @property
    def text(self) -> str: ...


class Guard(Protocol):
    """The PII guard (guard/pii.py) as the feed uses it."""

    def detect_batch(self, texts: Sequence[str], *, batch_size: int = 64) -> Sequence[Any]: ...

    def pseudonymize(
        self, text: str, *, tenant: str = "default", entities: Sequence[Any] | None = None
    ) -> Masked: ...


def _walk(value: Any, visit: Callable[[str], str], key: str = "") -> Any:
    if isinstance(value, str):
        return value if key in _STRUCTURED_KEYS else visit(value)
    if isinstance(value, list):
        return [_walk(v, visit, key) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, visit, k) for k, v in value.items()}
    return value


def pseudonymized_views(
    fiches: Sequence[tuple[Fiche, str]], guard: Guard, *, batch_size: int = 64
) -> list[dict[str, Any]]:
    """The public view of each (fiche, tenant), its free text pseudonymised with the PII guard
    (keyed pseudonyms of the tenant). One spaCy pass over all the texts of the batch."""
    views = [fiche.public_view() for fiche, _ in fiches]
    texts: list[str] = []

    def collect(text: str) -> str:
        if text.strip():
            texts.append(text)
        return text

    for view in views:
        for name in FREE_TEXT_FIELDS:
            if name in view:
                _walk(view[name], collect)
    unique = list(dict.fromkeys(texts))
    entities = guard.detect_batch(unique, batch_size=batch_size) if unique else []
    found = dict(zip(unique, entities, strict=True))
    out = []
    for view, (_, tenant) in zip(views, fiches, strict=True):

        def mask(text: str, tenant: str = tenant) -> str:
            spans = found.get(text)
            if not spans:
                return text
            return guard.pseudonymize(text, tenant=tenant, entities=spans).text

        out.append({k: _walk(v, mask) if k in FREE_TEXT_FIELDS else v for k, v in view.items()})
    return out


def signed_entry(
    key: InstanceKey,
    *,
    fiche_id: str,
    updated: str,
    view: dict[str, Any] | None,
    supersedes: str | None,
    instance: str,
    url: str,
) -> dict[str, Any]:
    """A signed entry for the public `view` of a fiche, or its withdrawal (`view` None)."""
    body: dict[str, Any] = {
        "id": fiche_id,
        "updated": updated,
        "supersedes": supersedes,
        "withdrawn": view is None,
        "content_hash": content_hash(view) if view is not None else None,
        "fiche": view,
        "origin": {"instance": instance, "url": url, "key": key.public_key},
    }
    return {**body, "signature": key.sign(body)}


@dataclass(frozen=True)
class Checked:
    """An entry that passed every check: its fiche (None for a withdrawal)."""

    entry: dict[str, Any]
    fiche: Fiche | None

    @property
    def id(self) -> str:
        return str(self.entry["id"])

    @property
    def key(self) -> str:
        return str(self.entry["origin"]["key"])


class Rejected(Exception):
    """An entry refused, with its French reason."""

    def __init__(self, fiche_id: str, reason: str) -> None:
        super().__init__(reason)
        self.id = fiche_id
        self.reason = reason


def check_entry(raw: Any, trusted: Mapping[str, str]) -> Checked:
    """Check one entry: shape, a trusted key, the signature, the content hash, the schema,
    and that it carries no restricted field. Raises Rejected with the reason."""
    fiche_id = str(raw.get("id", "")) if isinstance(raw, dict) else ""
    if not isinstance(raw, dict) or not fiche_id:
        raise Rejected(fiche_id, "entrée illisible : objet avec un identifiant attendu")
    origin = raw.get("origin")
    key = origin.get("key") if isinstance(origin, dict) else None
    signature = raw.get("signature")
    if not isinstance(key, str) or not isinstance(signature, str):
        raise Rejected(fiche_id, "entrée non signée (origine, clé ou signature absente)")
    if key not in trusted:
        raise Rejected(fiche_id, f"clé inconnue ({key[:24]}…) : ajoutez-la avec retex trust")
    body = {k: v for k, v in raw.items() if k != "signature"}
    if not verify(key, signature, body):
        raise Rejected(fiche_id, "signature invalide : l'entrée a été modifiée ou mal signée")
    if not isinstance(raw.get("updated"), str):
        raise Rejected(fiche_id, "date de mise à jour absente")
    view = raw.get("fiche")
    if raw.get("withdrawn") is True:
        if view is not None:
            raise Rejected(fiche_id, "retrait incohérent : la fiche est encore jointe")
        return Checked(raw, None)
    if not isinstance(view, dict):
        raise Rejected(fiche_id, "fiche absente de l'entrée")
    if raw.get("content_hash") != content_hash(view):
        raise Rejected(fiche_id, "empreinte du contenu fausse")
    try:
        fiche = parse_fiche(view)
    except ValidationError as exc:
        raise Rejected(fiche_id, validation_reason(exc)) from exc
    if fiche.id != fiche_id:
        raise Rejected(fiche_id, "l'identifiant de la fiche diffère de celui de l'entrée")
    leaked = [name for name in view if fiche.field_visibility(name) != "public"]
    if leaked:
        raise Rejected(fiche_id, f"champs restreints présents : {', '.join(leaked)}")
    return Checked(raw, fiche)
