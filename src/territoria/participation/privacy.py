"""Privacy before analysis: pseudonymised texts, hashed authors, no breakdown of small groups.

Nothing raw leaves this module: texts go through the governance PII guard (injected, or the real
`territoria.guard.pii.PIIGuard` by default; there is no fallback that skips it), author ids are
replaced by keyed hashes, and territories or groups with fewer than `min_group_size` people
are merged into one "other" value before any count is made.
"""

from __future__ import annotations

import functools
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


@dataclass(frozen=True)
class Masking:
    """Pseudonymised texts, and what was masked (entity type -> count) in which languages."""

    texts: list[str]
    masked: dict[str, int]
    person_search: dict[str, str]  # language -> "ner" or "patterns" (how names were sought)


def mask(
    texts: Sequence[str],
    guard: Pseudonymizer,
    *,
    tenant: str = "default",
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    languages: Sequence[str] | None = None,
) -> Masking:
    """Pseudonymised, cleaned texts in the same order; identical texts are processed once.

    `languages` gives each text's language (French when None): French texts go through the
    whole guard (patterns, first names and the French NER model); texts in another language
    through the patterns (e-mails, phones, IBAN...) and, when a spaCy model of that language
    is installed, its person names: never through the French NER, which reads ordinary
    German or English nouns as names.

    With `workers` > 1 (and a platform that forks), batches are spread over that many
    processes forked after the guard has loaded its models and key, so every worker shares
    them and pseudonyms stay the same as in one process.
    """
    langs = list(languages) if languages is not None else ["fr"] * len(texts)
    pairs = [(clean_text(t), lang) for t, lang in zip(texts, langs, strict=True)]
    unique = list(dict.fromkeys(pairs))
    batches = [unique[i : i + _BATCH] for i in range(0, len(unique), _BATCH)]
    done: dict[tuple[str, str], str] = {}
    masked_counts: dict[str, int] = defaultdict(int)
    results: Iterable[tuple[list[str], dict[str, int]]]
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
        for count, (batch, (masked, counts)) in enumerate(
            zip(batches, results, strict=True), start=1
        ):
            done.update(zip(batch, masked, strict=True))
            for kind, n in counts.items():
                masked_counts[kind] += n
            if progress is not None:
                progress(min(count * _BATCH, len(unique)), len(unique))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    search = {
        lang: "ner" if lang == "fr" or names_model(lang) else "patterns" for lang in set(langs)
    }
    return Masking(
        [done[pair] for pair in pairs],
        dict(sorted(masked_counts.items())),
        dict(sorted(search.items())),
    )


def _mask_batch(
    guard: Pseudonymizer, batch: list[tuple[str, str]], tenant: str
) -> tuple[list[str], dict[str, int]]:
    counts: dict[str, int] = defaultdict(int)
    out: list[str] = []
    french = [t for t, lang in batch if lang == "fr"]
    found_fr = iter(guard.detect_batch(french)) if isinstance(guard, BatchPseudonymizer) else None
    for text, lang in batch:
        if lang == "fr":
            if found_fr is not None and isinstance(guard, BatchPseudonymizer):
                result = guard.pseudonymize(text, tenant=tenant, entities=next(found_fr))
            else:
                result = guard.pseudonymize(text, tenant=tenant)
        elif isinstance(guard, BatchPseudonymizer):
            result = guard.pseudonymize(text, tenant=tenant, entities=foreign_entities(text, lang))
        else:  # a guard that cannot take entities (test fakes): it reads every language
            result = guard.pseudonymize(text, tenant=tenant)
        for entity in getattr(result, "entities", ()):
            counts[str(entity.type)] += 1
        out.append(clean_text(result.text))
    return out, dict(counts)


def foreign_entities(text: str, language: str) -> list[Any]:
    """Personal data in a text that is not French: the patterns that hold in every language,
    and person names only from a spaCy model of that language, when one is installed."""
    from territoria.guard.pii import PIIEntity, resolve_overlaps
    from territoria.guard.pii_recognizers import RULES

    found = [
        PIIEntity(start, end, rule.entity, text[start:end], score)
        for rule in RULES
        if rule.entity in _EVERY_LANGUAGE
        for start, end, score in rule.find(text)
        if score >= 0.5
    ]
    nlp = names_model(language)
    if nlp is not None:
        found.extend(
            PIIEntity(e.start_char, e.end_char, "PERSON", e.text, 0.85)
            for e in nlp(text).ents
            if e.label_ in ("PER", "PERSON")
        )
    return resolve_overlaps(found)


# Recognizers whose patterns do not depend on French words (checksums, shapes).
_EVERY_LANGUAGE = frozenset({"EMAIL", "PHONE", "IBAN", "NIR", "SIRET"})


@functools.lru_cache(maxsize=8)
def names_model(language: str) -> Any:
    """An installed spaCy pipeline with person names for `language`, or None."""
    if language == "fr":
        return None  # French goes through the whole guard
    try:
        import spacy
    except ImportError:
        return None
    for size in ("sm", "md", "lg"):
        for kind in ("core_news", "core_web"):
            name = f"{language}_{kind}_{size}"
            if spacy.util.is_package(name):
                return spacy.load(name, exclude=["parser", "lemmatizer", "tagger"])
    return None


_WORKER: dict[str, Any] = {}  # set in forked pool workers only


def _set_worker_guard(guard: Pseudonymizer, tenant: str) -> None:
    _WORKER["guard"], _WORKER["tenant"] = guard, tenant


def _worker_batch(batch: list[tuple[str, str]]) -> tuple[list[str], dict[str, int]]:
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
    # A workshop group (8-12 people, one author: the group) is the unit of its notes.
    workshop = [c.kind.endswith("d'atelier") for c in out]
    others = coarsen(
        [c for c, w in zip(out, workshop, strict=True) if not w],
        "group",
        min_group_size,
        SMALL_GROUP.format(n=min_group_size),
    )
    rest = iter(others)
    return [c if w else next(rest) for c, w in zip(out, workshop, strict=True)]


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
