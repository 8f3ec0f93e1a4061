"""Privacy before analysis: pseudonymised texts, hashed authors, no breakdown of small groups.

Nothing raw leaves this module: texts go through the governance PII guard (injected, or the real
`territoria.guard.pii.PIIGuard` by default; there is no fallback that skips it), author ids are
replaced by keyed hashes, and territories or groups with fewer than `min_group_size` people
are merged into one "other" value before any count is made.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from territoria.errors import ConfigError
from territoria.participation.model import Contribution
from territoria.settings import Settings

SMALL_TERRITORY = "Autres territoires (moins de {n} personnes chacun)"
SMALL_GROUP = "Autres groupes (moins de {n} personnes chacun)"
_OPAQUE_ID = re.compile(r"^(?:\d{1,12}|[0-9a-f]{8,64})$")
_BATCH = 256


class Pseudonymized(Protocol):
    @property
    def text(self) -> str: ...


class Pseudonymizer(Protocol):
    """What the analysis needs from the PII guard."""

    def pseudonymize(self, text: str, *, tenant: str) -> Pseudonymized: ...


@runtime_checkable
class BatchPseudonymizer(Protocol):
    """A guard that can also detect over a batch (spaCy's `pipe`), as `PIIGuard` does."""

    def detect_batch(self, texts: Sequence[str]) -> list[Any]: ...

    def pseudonymize(self, text: str, *, tenant: str, entities: Any = None) -> Pseudonymized: ...


def default_pseudonymizer(settings: Settings) -> Pseudonymizer:
    """The governance PII guard; a clear error when it is not installed, never a silent skip."""
    try:
        from territoria.guard.pii import PIIGuard
    except ImportError as exc:
        raise ConfigError(
            "La synthèse de participation exige la pseudonymisation des contributions, mais le "
            "garde-fou des données personnelles est indisponible : installez l'extra « pii » "
            "(pip install 'territoria[pii]')."
        ) from exc
    return PIIGuard(settings)


def clean_text(text: str) -> str:
    """NFC, one newline style, no trailing spaces: the form every offset refers to."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def pseudonymize_texts(
    texts: Sequence[str],
    guard: Pseudonymizer,
    *,
    tenant: str = "default",
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> list[str]:
    """Pseudonymised, cleaned texts in the same order; identical texts are processed once.

    With `workers` > 1 (and a platform that forks), batches are spread over that many
    processes forked after the guard has loaded its models and key, so every worker shares
    them and pseudonyms stay the same as in one process.
    """
    unique = list(dict.fromkeys(clean_text(t) for t in texts))
    batches = [unique[i : i + _BATCH] for i in range(0, len(unique), _BATCH)]
    done: dict[str, str] = {}
    results: Iterable[list[str]]
    pool = None
    if workers > 1 and len(batches) > 1 and "fork" in multiprocessing.get_all_start_methods():
        _mask_batch(guard, unique[:1], tenant)  # load models and key before forking
        pool = multiprocessing.get_context("fork").Pool(
            workers, initializer=_set_worker_guard, initargs=(guard, tenant)
        )
        results = pool.imap(_worker_batch, batches)
    else:
        results = (_mask_batch(guard, batch, tenant) for batch in batches)
    try:
        for count, (batch, masked) in enumerate(zip(batches, results, strict=True), start=1):
            done.update(zip(batch, masked, strict=True))
            if progress is not None:
                progress(min(count * _BATCH, len(unique)), len(unique))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return [done[clean_text(t)] for t in texts]


def _mask_batch(guard: Pseudonymizer, batch: list[str], tenant: str) -> list[str]:
    if isinstance(guard, BatchPseudonymizer):
        found = guard.detect_batch(batch)
        masked = [
            guard.pseudonymize(t, tenant=tenant, entities=e)
            for t, e in zip(batch, found, strict=True)
        ]
    else:
        masked = [guard.pseudonymize(t, tenant=tenant) for t in batch]
    return [clean_text(m.text) for m in masked]


_WORKER: dict[str, Any] = {}  # set in forked pool workers only


def _set_worker_guard(guard: Pseudonymizer, tenant: str) -> None:
    _WORKER["guard"], _WORKER["tenant"] = guard, tenant


def _worker_batch(batch: list[str]) -> list[str]:
    return _mask_batch(_WORKER["guard"], batch, _WORKER["tenant"])


@dataclass(frozen=True)
class Hasher:
    """Keyed hashes of people's ids: stable within one report, not reversible without the key."""

    key: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> Hasher:
        secret = settings.pii_key.get_secret_value() if hasattr(settings, "pii_key") else ""
        return cls(secret.encode() if secret.strip() else os.urandom(32))

    def __call__(self, value: str, prefix: str = "p") -> str:
        if not value:
            return ""
        digest = hashlib.blake2b(value.encode(), key=self.key[:64], digest_size=6).hexdigest()
        return f"{prefix}-{digest}"

    def participant(self, value: str) -> str:
        """Source participant ids are kept when opaque (numbers, hex hashes), hashed otherwise."""
        return value if _OPAQUE_ID.match(value.lower()) else self(value)


def protect_contributions(
    contributions: Sequence[Contribution],
    texts: Sequence[str],
    hasher: Hasher,
    *,
    min_group_size: int,
) -> list[Contribution]:
    """Pseudonymised text, hashed author, dates cut to the day, small territories merged."""
    out = [
        replace(c, text=t, author=hasher(c.author), date=c.date[:10])
        for c, t in zip(contributions, texts, strict=True)
    ]
    out = coarsen(out, "territory", min_group_size, SMALL_TERRITORY.format(n=min_group_size))
    return coarsen(out, "group", min_group_size, SMALL_GROUP.format(n=min_group_size))


def people(contributions: Sequence[Contribution]) -> int:
    """Distinct people behind contributions (one per contribution when the author is unknown)."""
    return len({c.author or f"#{c.id}" for c in contributions})


def coarsen(
    contributions: Sequence[Contribution], field: str, min_size: int, other: str
) -> list[Contribution]:
    """Replace the values of `field` held by fewer than `min_size` people with `other`."""
    by_value: dict[str, list[Contribution]] = defaultdict(list)
    for c in contributions:
        value = getattr(c, field)
        if value:
            by_value[value].append(c)
    small = {v for v, members in by_value.items() if people(members) < min_size}
    if not small:
        return list(contributions)
    changes: dict[str, Any] = {field: other}
    return [replace(c, **changes) if getattr(c, field) in small else c for c in contributions]
