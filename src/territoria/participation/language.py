"""Which language the contributions are written in (py3langid, a 4.5 MB naive Bayes model).

Each text long enough to judge (20 letters or more) gets its own language when the model is
confident (probability >= 0.9); every other text takes the main language of the dataset. The
report states the main language and the share of each language found, and the PII step uses
the recognizers that fit each text's language (`territoria.participation.privacy`).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from territoria.errors import ConfigError

_MIN_LETTERS = 20
_MIN_PROBABILITY = 0.9

# French names of the languages a collectivité is likely to receive.
NAMES = {
    "fr": "français",
    "en": "anglais",
    "de": "allemand",
    "es": "espagnol",
    "it": "italien",
    "pt": "portugais",
    "nl": "néerlandais",
    "ar": "arabe",
    "zh": "chinois",
    "ja": "japonais",
    "ru": "russe",
    "pl": "polonais",
    "tr": "turc",
    "ro": "roumain",
    "br": "breton",
    "oc": "occitan",
    "ca": "catalan",
    "eu": "basque",
    "co": "corse",
}


def name_of(code: str) -> str:
    return NAMES.get(code, f"langue « {code} »")


@dataclass(frozen=True)
class Languages:
    per_text: tuple[str, ...]  # one ISO 639-1 code per text
    main: str
    shares: dict[str, float]  # language -> share of the texts

    def as_dict(self) -> dict[str, Any]:
        return {
            "main": self.main,
            "main_name": name_of(self.main),
            "shares": self.shares,
            "names": {code: name_of(code) for code in self.shares},
        }


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError as exc:
        raise ConfigError(
            "Détection de la langue indisponible : installez l'extra « participation » "
            "(pip install 'territoria[participation]')."
        ) from exc
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(texts: Sequence[str], *, default: str = "fr") -> Languages:
    """The language of each text and of the whole set (`default` when nothing is judged)."""
    identifier = _identifier() if texts else None
    guesses: list[str | None] = []
    for text in texts:
        letters = sum(c.isalpha() for c in text)
        if identifier is None or letters < _MIN_LETTERS:
            guesses.append(None)
            continue
        code, probability = identifier.classify(text)
        guesses.append(str(code) if probability >= _MIN_PROBABILITY else None)
    counts = Counter(g for g in guesses if g)
    main = counts.most_common(1)[0][0] if counts else default
    per_text = tuple(g or main for g in guesses)
    total = len(per_text) or 1
    shares = {code: round(n / total, 4) for code, n in Counter(per_text).most_common()}
    return Languages(per_text, main, shares)
