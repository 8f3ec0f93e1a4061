"""French personal-data recognizers: patterns, checksums and context rules.

Pure Python (no spaCy): each `Rule` finds candidate spans of one entity type in a text and
scores them; `territoria.guard.pii` runs the rules and adds spaCy's person names. Context rules
keep institutions, places and administrative dates out:

- NIR (social security number) with its key, Corsica (2A/2B) and overseas (97x/98x);
- IBAN (any country) with the ISO 13616 mod-97 check; SIRET/SIREN with Luhn (and La Poste);
- French phone numbers; licence plates (SIV "AB-123-CD" and the old FNI "123 ABC 45");
- street addresses (number + street type + name, complements, postcode and city, lieu-dit, BP);
- birth dates (digits or words) after "né le", "date de naissance"...; numeric dates elsewhere
  unless an administrative word precedes them ("arrêté du 03/06/2024");
- e-mail addresses; person names introduced by a title, a kinship word or "je m'appelle".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

Span = tuple[int, int, float]  # start, end, score

# Latin letters of every European and Vietnamese name ("Łukasz", "Wiśniewski", "Şahin",
# "Nguyễn"): Latin-1 plus the Latin Extended-A/B and Extended Additional blocks, by case.
_EXTENDED = [chr(c) for r in ((0x100, 0x250), (0x1E00, 0x1F00)) for c in range(*r)]
_UP = "A-ZÀ-ÖØ-Þ" + "".join(c for c in _EXTENDED if c.isupper())
_LO = "a-zß-öø-ÿ" + "".join(c for c in _EXTENDED if c.islower())
UPPER_LETTERS = _UP


@dataclass(frozen=True)
class Rule:
    """One recognizer: an entity type and a function yielding scored spans of a text."""

    name: str
    entity: str
    find: Callable[[str], Iterator[Span]]


def _compile(pattern: str) -> re.Pattern[str]:
    """Patterns are written with `\\s`; spans never cross a line break, so `\\s` is made to
    mean horizontal whitespace."""
    return re.compile(pattern.replace(r"\s", r"[^\S\n]"))


def _before(text: str, start: int, width: int = 40) -> str:
    return text[max(0, start - width) : start]


# --- checksums ---------------------------------------------------------------------------


def nir_is_valid(value: str) -> bool:
    """French NIR (15 characters once separators are removed): key = 97 - (first 13 mod 97).

    Corsica's departments 2A and 2B count as 19 and 18 in the key computation.
    """
    compact = re.sub(r"[\s.\-]", "", value).upper()
    if not re.fullmatch(r"[1-478]\d{4}(?:\d{2}|2[AB])\d{8}", compact):
        return False
    body = compact[:13].replace("2A", "19", 1).replace("2B", "18", 1)
    return 97 - int(body) % 97 == int(compact[13:])


IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22,
    "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MA": 28, "MC": 27, "MT": 31,
    "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TN": 24, "TR": 26,
}  # fmt: skip


def iban_is_valid(value: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters as 10..35, mod 97 == 1."""
    compact = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def siret_is_valid(value: str) -> bool:
    """SIREN (9 digits) or SIRET (14 digits) with Luhn; La Poste's SIRETs (SIREN 356000000)
    use a digit sum divisible by 5 instead."""
    digits = re.sub(r"[\s.]", "", value)
    if not re.fullmatch(r"\d{9}|\d{14}", digits) or set(digits) == {"0"}:
        return False
    if len(digits) == 14 and digits.startswith("356000000") and digits != "35600000000048":
        return sum(int(c) for c in digits) % 5 == 0
    return luhn_is_valid(digits)


# --- identifiers -------------------------------------------------------------------------

_NIR_RE = _compile(
    r"(?<![\w])[1-478][ .]?\d{2}[ .]?\d{2}[ .]?"
    r"(?:(?:\d{2}|2[ABab])[ .]?\d{3}|9[78]\d[ .]?\d{2})[ .]?\d{3}[ .]?\d{2}(?![\w])"
)


def find_nir(text: str) -> Iterator[Span]:
    for m in _NIR_RE.finditer(text):
        if nir_is_valid(m.group()):
            yield m.start(), m.end(), 1.0


_IBAN_RE = _compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")


def find_iban(text: str) -> Iterator[Span]:
    """Longest prefix of each candidate, ending on a word boundary, that passes mod 97."""
    for m in _IBAN_RE.finditer(text):
        raw = m.group()
        ends = [i + 1 for i, c in enumerate(raw) if c != " "]
        for end in reversed(ends):
            after = text[m.start() + end : m.start() + end + 1]
            if after[:1].isalnum():
                continue
            if iban_is_valid(raw[:end]):
                yield m.start(), m.start() + end, 1.0
                break


_SIRET_RE = _compile(r"(?<![\w.])\d{3}[ .]?\d{3}[ .]?\d{3}(?:[ .]?\d{5})?(?![\w]|[ .]\d)")
_SIRET_CONTEXT = _compile(
    r"(?i:siren|siret|rcs|entreprise|soci[ée]t[ée]|immatricul|auto-?entrepreneur|n°)"
)


def find_siret(text: str) -> Iterator[Span]:
    """SIRET anywhere once Luhn passes; SIREN (9 digits) only near a company word."""
    for m in _SIRET_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if not siret_is_valid(digits):
            continue
        if len(digits) == 14:
            yield m.start(), m.end(), 0.9
        elif _SIRET_CONTEXT.search(_before(text, m.start(), 50)):
            yield m.start(), m.end(), 0.8


# --- contact -----------------------------------------------------------------------------

_PHONE_RE = _compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)33[ .\-]?(?:\(0\)[ .\-]?)?[1-9]"
    r"|(?:\+|00)(?:262|269|508|590|594|596|681|687|689)[ .\-]?\d"
    r"|0[1-9]"
    r")(?:[ .\-]?\d{2}){4}(?![\w]|[ .\-]\d)"
)


def find_phone(text: str) -> Iterator[Span]:
    """French numbers; 08 (free or premium service numbers) are never a person's."""
    for m in _PHONE_RE.finditer(text):
        if not m.group().startswith("08"):
            yield m.start(), m.end(), 0.9


_EMAIL_RE = _compile(
    r"(?<![\w.%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w@])"
)


def find_email(text: str) -> Iterator[Span]:
    for m in _EMAIL_RE.finditer(text):
        yield m.start(), m.end(), 1.0


# --- licence plates ----------------------------------------------------------------------

_PLATE_LETTERS = "A-HJ-NP-TV-Z"  # I, O and U are never used
_SIV_RE = _compile(
    rf"(?<![\w\-])([{_PLATE_LETTERS}]{{2}})([- ]?)\d{{3}}\2([{_PLATE_LETTERS}]{{2}})(?![\w\-])"
)
_FNI_RE = _compile(
    rf"(?<![\w\-])\d{{1,4}}([- ])[{_PLATE_LETTERS}]{{1,3}}\1"
    r"(?:0[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6])(?![\w\-])"
)
_PLATE_CONTEXT = _compile(r"(?i:plaque|immatricul|v[ée]hicule|voiture|auto|moto|camion)")


def find_plate(text: str) -> Iterator[Span]:
    """SIV plates (with separators, or glued near a vehicle word) and old FNI plates."""
    for m in _SIV_RE.finditer(text):
        if "SS" in (m.group(1), m.group(3)):
            continue
        if m.group(2) or _PLATE_CONTEXT.search(_before(text, m.start(), 60)):
            yield m.start(), m.end(), 0.85
    for m in _FNI_RE.finditer(text):
        yield m.start(), m.end(), 0.75


# --- addresses ---------------------------------------------------------------------------

_CAPWORD = rf"[{_UP}][{_UP}{_LO}'’\-]*"
_PARTICLE = r"(?:d['’]|l['’]|(?:de\s+la|de\s+l['’]|de|du|des|la|le|les|aux|au|à|en|sur|sous|et)\s+)"
_NAME = rf"(?:{_PARTICLE}){{0,2}}{_CAPWORD}(?:\s+(?:{_PARTICLE}){{0,2}}{_CAPWORD}){{0,5}}"
_LOWER_NAME = rf"(?:de\s+la\s+|de\s+l['’]|du\s+|des\s+|de\s+|d['’])[{_LO}\-]{{3,}}"
_STREET_TYPES = (
    r"rue|ruelle|avenue|av|boulevard|bd|bld|impasse|all[ée]e|chemin|ch|route|rte|place|pl"
    r"|cours|quai|square|sq|passage|voie|sentier|esplanade|promenade|parvis|rond-point"
    r"|traverse|mont[ée]e|c[ôo]te|faubourg|fg|venelle|mail|clos|rampe|chauss[ée]e|hameau"
)
_PLAIN_STREET_TYPES = r"rue|ruelle|avenue|boulevard|impasse|all[ée]e|chemin|sentier|venelle"
_NUMBER = r"\d{1,4}(?:\s?(?:bis|ter|quater)\b|[A-D]\b)?"
_STREET = (
    rf"(?<![\w,.])(?<!\d\s){_NUMBER},?\s+(?:(?i:{_STREET_TYPES})\.?\s+{_NAME}"
    rf"|(?i:{_PLAIN_STREET_TYPES})\s+{_LOWER_NAME})"
)
_COMPLEMENT_KEYWORDS = (
    r"r[ée]sidence|lotissement|lieu-dit|lieudit|hameau|domaine|cit[ée]|immeuble|b[âa]timent"
    r"|b[âa]t\.|escalier|esc\.|appartement|app?t\.?|[ée]tage|porte|villa|mas"
)
_NOT_KEYWORD = rf"(?!(?i:{_COMPLEMENT_KEYWORDS})\b)"  # a name stops at the next complement
_COMPLEMENT_NAME = (
    rf"(?:{_PARTICLE}){{0,2}}{_NOT_KEYWORD}{_CAPWORD}"
    rf"(?:\s+(?:{_PARTICLE}){{0,2}}{_NOT_KEYWORD}{_CAPWORD}){{0,4}}"
)
_COMPLEMENT = (
    rf"(?:(?i:{_COMPLEMENT_KEYWORDS})\s+(?:n°\s*)?(?:[A-Z0-9]{{1,4}}\b|{_COMPLEMENT_NAME})"
    r"|(?i:lot|bp|cs|tsa)\.?\s*(?:n°\s*)?\d{1,5}\b)"
)
_STANDALONE = r"(?i:lieu-dit|lieudit|hameau)\s+" + _NAME
_POSTCODE = r"(?<!\d)(?:0[1-9]|[1-8]\d|9[0-8])\d{3}(?!\d)"
_CITY_WORD = rf"[{_UP}][{_UP}{_LO}'’]*"
_CITY_LINK = (
    r"(?:-|\s+)(?:(?:sur|sous|lès|lez|les|en|de|du|des|la|le|et|aux|d['’]|l['’])(?:-|\s+)?)?"
)
_CITY = rf"{_CITY_WORD}(?:{_CITY_LINK}{_CITY_WORD}){{0,5}}(?:\s+(?i:cedex)(?:\s+\d{{1,2}})?)?"
_SEP = r"(?:\s*,\s*|\s+)"
_POSTCITY = rf"{_POSTCODE}\s+{_CITY}"
_ADDRESS_RE = _compile(
    rf"(?:{_COMPLEMENT}{_SEP}){{0,3}}(?:"  # bounded repeats: no quadratic backtracking
    rf"{_STREET}(?:{_SEP}{_COMPLEMENT}){{0,3}}(?:{_SEP}{_POSTCITY})?"
    rf"|{_COMPLEMENT}(?:{_SEP}{_COMPLEMENT}){{0,3}}{_SEP}{_POSTCITY}"
    rf"|{_STANDALONE}(?:{_SEP}{_POSTCITY})?"
    r")"
)
_INSTITUTION = (
    r"mairie|h[ôo]tel\s+de\s+ville|pr[ée]fecture|sous-pr[ée]fecture|conseil|communaut[ée]"
    r"|m[ée]tropole|r[ée]gion|d[ée]partement|ccas|centre\s+communal|tribunal|syndicat"
    r"|m[ée]diath[èe]que|biblioth[èe]que|[ée]cole|coll[èe]ge|lyc[ée]e|gymnase|piscine|stade"
    r"|salle|services?\s+techniques|si[èe]ge|tr[ée]sorerie|poste|gendarmerie|commissariat"
    r"|caf|cpam|urssaf|pôle\s+emploi|france\s+travail|office\s+de\s+tourisme|h[ôo]pital|ehpad"
    r"|direction|minist[èe]re|police|agence|caisse|cnil|ambassade|consulat|universit[ée]"
)
_INSTITUTION_BEFORE = _compile(rf"(?i:\b(?:{_INSTITUTION})\b)[^.;:!?\n]*$")
_PERSONAL_BEFORE = _compile(
    r"(?i:j['’]habite|habite|domicili|demeurant|r[ée]sid|mon\s+adresse|notre\s+adresse|chez\s+moi"
    r"|chez\s+nous|\bmon\b|\bma\b|\bmes\b|\bnotre\b|\bnos\b|\bje\b|\bj['’]|\bsis\b)[^.;!?\n]*$"
)


def find_address(text: str) -> Iterator[Span]:
    """Street addresses; an institution named just before, in the same clause and with no
    personal word ("j'habite", "mon", "je") after it, makes the address public."""
    for m in _ADDRESS_RE.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in " ,-'’":
            end -= 1
        before = _before(text, m.start(), 80)
        institution = _INSTITUTION_BEFORE.search(before)
        if institution and not _PERSONAL_BEFORE.search(before, institution.start()):
            continue  # "écrire à la mairie, 1 place ..." but not "la mairie ? J'habite 3 rue ..."
        yield m.start(), end, 0.85


# --- birth dates -------------------------------------------------------------------------

_NUMBER_WORD = (
    r"(?:premier|une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize"
    r"|quatorze|quinze|seize|vingts?|trente|quarante|cinquante|soixante|cents?|mille)"
)
_NUMBER_WORDS = rf"{_NUMBER_WORD}(?:(?:\s|-)+(?:et(?:\s|-)+)?{_NUMBER_WORD}){{0,7}}"
_MONTH = (
    r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[ûu]t|septembre|octobre|novembre"
    r"|d[ée]cembre"
)
_TEXT_DATE_RE = _compile(
    rf"(?<![\w])(?i:(?:1er|[0-3]?\d|{_NUMBER_WORDS})\s+(?:{_MONTH})\s+(?:\d{{4}}|{_NUMBER_WORDS}))"
    r"(?![\w])"
)
_NUM_DATE_RE = _compile(r"(?<![\w/.\-])([0-3]?\d)([/.\-])([01]?\d)\2(\d{4}|\d{2})(?![\w]|[/.\-]\d)")
_BIRTH_BEFORE = _compile(  # "né le", "née à Pau le", "né(e) :", "date de naissance :"
    r"(?i:\bné(?:e|s|es)?(?:\s*\(e\))?\s*:?\s*(?:le\s+)?|\bné(?:e|s|es)?\b[^.;\n]{0,40}?\ble\s+"
    r"|naissance\s*:?\s*(?:le\s+|du\s+)?|\bddn\s*:?\s*)$"
)
_NOT_BIRTH_BEFORE = _compile(
    r"(?i:\b(?:du|au|depuis|jusqu['’]|avant|apr[èe]s|partir|arr[êe]t[ée]|d[ée]lib[ée]ration"
    r"|d[ée]cret|loi|s[ée]ance|r[ée]union|courrier|lettre|facture|avis|jugement|convocation"
    r"|rendez-vous|rdv|[ée]ch[ée]ance|paiement|versement|limite|dat[ée]e?|sign[ée]e?|fait))"
    r"\W+(?:le\s+)?$"
)


def find_birth_date(text: str) -> Iterator[Span]:
    """Dates after a birth cue, in digits or in words. Other full numeric dates count too,
    unless they are recent (events), follow an administrative or scheduling word ("arrêté du",
    "réunion le") or an institution named earlier in the clause."""
    year_now = date.today().year
    for m in _TEXT_DATE_RE.finditer(text):
        if _BIRTH_BEFORE.search(_before(text, m.start(), 60)):
            yield m.start(), m.end(), 0.9
    for m in _NUM_DATE_RE.finditer(text):
        day, month, year = int(m.group(1)), int(m.group(3)), m.group(4)
        if not (1 <= day <= 31 and 1 <= month <= 12):
            continue
        before = _before(text, m.start(), 60)
        if _BIRTH_BEFORE.search(before):
            yield m.start(), m.end(), 0.9
        elif (
            len(year) == 4
            and 1900 <= int(year) <= year_now - 2
            and not _NOT_BIRTH_BEFORE.search(before)
            and not _INSTITUTION_BEFORE.search(before)
        ):
            yield m.start(), m.end(), 0.6


# --- person names ------------------------------------------------------------------------

_NAME_WORD = (
    rf"(?:[{_UP}]['’][{_UP}][{_LO}]+|[{_UP}][{_LO}]+|[{_UP}]{{2,}})(?:-[{_UP}][{_UP}{_LO}]+)*"
)
_NAME_PARTICLE = r"(?:d['’]|(?:de\s+la|de|du|des|La|Le|El|Ben|van|von|da|di|dos)\s+)"
_PERSON_NAME = (
    rf"{_NAME_WORD}(?:\s+{_NAME_PARTICLE}?{_NAME_WORD}|\s*{_NAME_PARTICLE}{_NAME_WORD}){{0,3}}"
)
TITLES = r"M\.|MM\.|Mme|Mmes|Mlle|Monsieur|Madame|Mademoiselle|Me|Ma[îi]tre|Dr|Docteur|Pr"
_TITLE_RE = rf"(?<![\w])(?:{TITLES})\s+"
_KIN = (
    r"fils|fille|mari|femme|[ée]pouse|[ée]poux|conjointe?|ex-conjointe?|ex-mari|ex-femme"
    r"|compagnon|compagne|p[èe]re|m[èe]re|fr[èe]re|s[œo]e?ur|grand-p[èe]re|grand-m[èe]re|oncle"
    r"|tante|neveu|ni[èe]ce|cousine?|enfant|petit-fils|petite-fille|beau-p[èe]re|belle-m[èe]re"
    r"|voisine?|amie?|locataire|propri[ée]taire|b[ée]b[ée]"
)
_INTRO = (
    rf"(?:{_TITLE_RE}(?:et\s+(?:{TITLES})\s+)?"
    r"|(?i:je\s+m['’]appelle|je\s+me\s+nomme|mon\s+nom\s+est|soussign[ée]e?|au\s+nom\s+de"
    r"|famille|c['’]est|ici)(?:\s*,)?\s+"
    rf"|(?i:mon|ma|notre|nos|mes|son|sa)\s+(?i:{_KIN})s?\s*,?\s+"
    r"|(?i:cordialement|bien\s+à\s+vous|salutations|sinc[èe]rement)\s*,\s*)"
)
_PERSON_RE = _compile(rf"{_INTRO}(?P<name>{_PERSON_NAME})")
_TITLE_STRIP_RE = _compile(rf"^(?:(?:{TITLES}|(?:[Ll]a\s+)?[Ff]amille)\s+)+")

# Words spaCy sometimes tags as names: greetings, politeness, roles (after "Monsieur le ...").
NOT_NAMES = frozenset({
    "monsieur", "madame", "mademoiselle", "messieurs", "mesdames", "bonjour", "bonsoir",
    "cordialement", "merci", "veuillez", "objet", "cher", "chère", "chers", "salut", "maire",
    "préfet", "préfète", "président", "présidente", "directeur", "directrice", "adjoint",
    "adjointe", "conseiller", "conseillère", "ministre", "député", "députée", "sénateur",
    "sénatrice", "juge", "procureur", "commissaire", "secrétaire", "responsable", "docteur",
    "maître", "madame-monsieur", "cedex", "m", "mme", "mmes", "mlle", "mm", "me", "dr", "pr",
})  # fmt: skip
_FACILITY = (
    r"[ée]cole|coll[èe]ge|lyc[ée]e|groupe\s+scolaire|m[ée]diath[èe]que|biblioth[èe]que"
    r"|conservatoire|salle|gymnase|stade|piscine|complexe|centre|espace|maison|th[ée][âa]tre"
    r"|mus[ée]e|parc|jardin|square|place|rue|avenue|boulevard|all[ée]e|impasse|chemin|quai"
    r"|cours|route|pont|gare|h[ôo]pital|clinique|ehpad|r[ée]sidence|cr[èe]che|institut"
    r"|universit[ée]|fondation|association|prix|quartier|cit[ée]|lotissement|halle|cin[ée]ma"
    r"|a[ée]roport|port|base|halte-garderie|foyer|p[ôo]le|campus|rond-point|esplanade|promenade"
    r"|mail|parvis|stade|dojo|boulodrome|salle\s+des\s+f[êe]tes|[ée]glise|chapelle|cath[ée]drale"
    r"|station|arr[êe]t|ligne|m[ée]tro|tram|amphith[ée][âa]tre|auditorium|pavillon|chu|chru"
    r"|magasin|enseigne|boutique|supermarch[ée]|hypermarch[ée]"
)
# Words between a facility and its name are adjectives ("école élémentaire Jules-Ferry"), not
# a verb or a preposition: "l'école a convoqué Karim Benali", "la salle louée par Sophie X".
_NOT_FACILITY_GAP = (
    r"a|ont|est|sont|[ée]t[ée]|[ée]tait|[ée]taient|avait|avaient|sera|seront|va|vont|par|à|pour"
    r"|avec|chez|selon|contre|sans|accueille|accueillent|re[çc]oit|re[çc]oivent|convoque"
    r"|convoquent|remercie|remercient|inscrit|signale|informe|recrute|emploie|h[ée]berge|invite"
    r"|f[ée]licite|contacte|attend|attendent|suit|garde"
)
_FACILITY_BEFORE = _compile(
    rf"(?i:\b(?:{_FACILITY}))(?:\s+(?!(?i:{_NOT_FACILITY_GAP})(?![{_LO}\-]))[{_LO}\-]+){{0,2}}\s+"
    r"(?:de\s+la\s+|de\s+l['’]|du\s+|des\s+|de\s+|d['’])?$"
)
_INSTITUTION_IN = _compile(rf"(?i:\b(?:{_INSTITUTION}|ville|commune|agglom[ée]ration|chu|chru)\b)")


_ROLE_BEFORE = _compile(
    r"(?i:(?<![\w])(?:(?:l['’]|le\s+|la\s+|les\s+|un\s+|une\s+|notre\s+|votre\s+|mon\s+|ma\s+"
    r"|son\s+|sa\s+|leur\s+|cet\s+|cette\s+)(?:agente?|habitante?|riveraine?|voisine?"
    r"|usag(?:er|[èe]re)"
    r"|[ée]l[èe]ve|enfant|jeune|b[ée]n[ée]vole|stagiaire|requ[ée]rante?|demandeu(?:r|se)"
    r"|d[ée]clarante?|locataire|propri[ée]taire|gardien(?:ne)?|animat(?:eur|rice)"
    r"|[ée]ducat(?:eur|rice)|m[ée]diat(?:eur|rice)|infirmi(?:er|[èe]re)|m[ée]decin|assistante?"
    r"|coll[èe]gue|patiente?|d[ée]funte?|b[ée]b[ée]|nourrisson|titulaire|b[ée]n[ée]ficiaire"
    r"|allocataire|candidate?|parent)s?"
    r"|pr[ée]noms?|nom(?:\s+de\s+naissance|\s+d['’]usage|\s+de\s+famille|\s+patronymique)?"
    r"|sign[ée]e?|soussign[ée]e?|t[ée]moin|contact|interlocut(?:eur|rice)|r[ée]f[ée]rente?"
    r"|pr[ée]sente?s?|absente?s?|excus[ée]e?s?|[ée]taient\s+pr[ée]sents?)\s*,?\s*:?\s*)$"
)


def person_cue_before(before: str) -> bool:
    """A title, kinship word, role or form label right before a name ("Mme", "mon voisin",
    "l'habitante", "prénom :")."""
    return bool(_CUE_BEFORE.search(before) or _ROLE_BEFORE.search(before))


def facility_before(before: str) -> bool:
    """A facility or street word right before a name ("école", "rue", "hôpital du")."""
    return bool(_FACILITY_BEFORE.search(before))


def has_institution(text: str) -> bool:
    return bool(_INSTITUTION_IN.search(text))


def find_person_pattern(text: str) -> Iterator[Span]:
    for m in _PERSON_RE.finditer(text):
        yield m.start("name"), m.end("name"), 0.9


_NAME_TOKEN_RE = _compile(
    rf"{_NAME_WORD}|[{_UP}]\.?|d['’]{_NAME_WORD}|de|du|des|la|le|La|Le|El|Ben|van|von|da|di|dos"
)
_CUE_BEFORE = _compile(rf"{_INTRO}$")


def clean_person(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim a person span (titles, edge punctuation) or reject it as a non-person.

    Kept: names made of name-like words only; a single word needs a cue before it (title,
    kinship word, "je m'appelle"). Rejected: greetings and roles ("Monsieur le Maire"), names of
    facilities ("école Jules Ferry", "salle Alizé", "rue Victor Hugo"), institutions ("Mairie de
    Muret").
    """
    span = text[start:end]
    stripped = _TITLE_STRIP_RE.sub("", span)
    start += len(span) - len(stripped)
    while start < end and not text[start].isalpha():
        start += 1
    while end > start and not (text[end - 1].isalpha() or text[end - 1] in "'’"):
        end -= 1
    words = text[start:end].split()
    lowered = [w.rstrip(".").lower() for w in words]
    if lowered[:1] in (["le"], ["la"], ["les"]):
        lowered = lowered[1:]  # "Monsieur le Maire" but also "Le Gall"
    if not lowered or lowered[0] in NOT_NAMES:
        return None
    if not all(_NAME_TOKEN_RE.fullmatch(w) for w in words) or not words[0][:1].isupper():
        return None
    if _INSTITUTION_IN.search(text[start:end]):
        return None
    before = _before(text, start, 60)
    if len(words) == 1 and not _CUE_BEFORE.search(before):
        return None
    if _FACILITY_BEFORE.search(before):
        return None
    return start, end


RULES: tuple[Rule, ...] = (
    Rule("FrNirRecognizer", "NIR", find_nir),
    Rule("IbanChecksumRecognizer", "IBAN", find_iban),
    Rule("FrSiretRecognizer", "SIRET", find_siret),
    Rule("FrPhoneRecognizer", "PHONE", find_phone),
    Rule("EmailPatternRecognizer", "EMAIL", find_email),
    Rule("FrPlateRecognizer", "PLATE", find_plate),
    Rule("FrAddressRecognizer", "ADDRESS", find_address),
    Rule("FrBirthDateRecognizer", "DATE", find_birth_date),
    Rule("FrPersonPatternRecognizer", "PERSON", find_person_pattern),
)
