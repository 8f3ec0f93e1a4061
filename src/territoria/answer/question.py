"""What a question asks for, and whether a piece of text holds that kind of answer.

A citizen asking "Combien coûte la cantine ?" wants an amount; "La mairie est-elle ouverte
le samedi ?" a day and hours; "Quels papiers pour un mariage ?" a list. The extractive
composer prefers the parts of the retrieved passages that hold the kind of fact asked for,
and the values the question names (a quotient familial of 850 €, a day of the week).

Rules over French wording (accents, case and SMS spellings folded), not a model: they are
small, explainable, and were written from the kinds of facts public-service documents state
(amounts, hours, days, dates and deadlines, places, lists, contacts), not from one corpus.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from territoria.search.analysis import STOP_WORDS

Kind = Literal[
    "amount", "time", "date", "duration", "place", "list", "yesno", "procedure", "contact"
]
KINDS: tuple[Kind, ...] = (
    "amount",
    "time",
    "date",
    "duration",
    "place",
    "list",
    "yesno",
    "procedure",
    "contact",
)

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre",
    "octobre", "novembre", "decembre",
)  # fmt: skip


def fold(text: str) -> str:
    """Lower case, accents removed, typographic apostrophes made plain."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_W = r"(?<![a-z0-9])"  # start of a word in folded text
_QUESTION_CUES: dict[Kind, re.Pattern[str]] = {
    "amount": re.compile(
        _W + r"(combien (?:ca |cela |ça )?(?:coute|coutent|paye|payer|faut-il payer|dois-je)"
        r"|cb|prix|tarifs?|montants?|couts?|coute|coutent|payants?|payer|paie|paye|paient"
        r"|gratuite?s?|cher"
        r"|frais|cautions?|redevances?|amendes?|euros?|forfaits?|subventions?)\b"
        r"|€"
    ),
    "time": re.compile(
        _W + r"(heures?|horaires?|ouverte?s?|ouvre|ferme(?:e|es|ture)?s?|a quelle heure"
        r"|jours?|matin|soir|midi|nocturne|" + "|".join(DAYS) + r")\b"
    ),
    "date": re.compile(
        r"^\W*(?P<lead>(?:[\w'-]+\W+){0,2})(?:quand|kan)\b|\b(?:quand|kan)\s*(?:\?|$)"
        r"|(?:jusqu'a|depuis|a partir de|des|c'est) quand\b|"
        + _W
        + r"(date|delais?|avant quand|jusqu'a quand|combien de temps|duree"
        r"|valable|validite|dans quel delai|quelle periode|periode)\b"
    ),
    # how long: a length of time ("3 semaines"), not a date ("combien de temps pour avoir
    # le rendez-vous", "réserver combien de temps à l'avance", "pendant combien de temps")
    "duration": re.compile(
        _W + r"(combien de (?:temps|jours|semaines|mois|annees|ans|heures|minutes)"
        r"|a l'avance|duree|en combien de temps|ca (?:met|prend) combien)\b"
    ),
    "place": re.compile(
        _W + r"(ou (?:se trouve(?:nt)?|se|est|sont|faut|dois|peut|puis|trouver|deposer|aller"
        r"|s'adresser)"
        r"|ou\s*\?|adresses?|lieu|situee?s?|se trouve|localisation)\b"
    ),
    "list": re.compile(
        _W + r"(quel(?:le)?s (?:documents?|pieces?|papiers?|justificatifs?|conditions?"
        r"|dechets|objets|regles)|quoi (?:apporter|fournir|amener)|liste"
        r"|que faut-il (?:fournir|apporter|presenter)|pieces? a fournir"
        r"|documents? a fournir|justificatifs?|papiers?)\b"
    ),
    "procedure": re.compile(_W + r"(comment|demarches?|procedures?)\b"),
    "contact": re.compile(
        _W + r"(telephone|tel|contacter|joindre|numero|courriel|mail|e-mail|appeler)\b"
    ),
}
# Verbs of a request ("inscrire", "demander"): they ask how to proceed only where the question
# asks for no particular fact; "Quand inscrire mon enfant ?" asks a date, "Est-ce payant de
# demander un extrait ?" an amount: the verb is then what the question is about.
_REQUEST_VERBS = re.compile(
    _W + r"(faire une demande|s'inscrire|inscrire|obtenir|reserver|demander)\b"
)
# The modal or impersonal verb inverted at the start of a yes/no question, as its marker.
_YES_NO_MODAL = re.compile(r"^\s*(dois|doit|faut|peut|puis|peux)[- ](?:je|on|il|t-on|t-il)\b")
_SPECIFIC: frozenset[Kind] = frozenset(("amount", "time", "date", "duration", "place", "contact"))
_YES_NO = re.compile(
    r"^\s*(?:est-ce qu|peut-on|puis-je|peux-je|dois-je|faut-il|y a-t-il|ya-t-il|a-t-on"
    r"|\w+-(?:t-)?(?:il|elle|on|je|ils|elles)\b)"
)
# A question that names a part of the year: a month, a season, the holidays, a date.
_NAMES_PERIOD = re.compile(
    r"\b(?:" + "|".join(MONTHS) + r"|ete|hiver|printemps|automne|vacances|noel|paques"
    r"|\d{1,2}/\d{1,2})\b"
)


_NUMBER = re.compile(r"(?<![\w,.])(\d{1,3}(?:[ \u202f\u00a0]\d{3})+|\d+)(?:[,.](\d+))?")


@dataclass(frozen=True)
class QuestionInfo:
    """What a question asks for: the kinds of fact, the numbers and days it names."""

    kinds: tuple[Kind, ...]
    numbers: tuple[float, ...] = ()
    days: tuple[str, ...] = ()
    # the question's words that only say which kind of fact is asked ("heure", "prix",
    # "adresse"), by kind: a part holding that kind of fact answers them
    cues: tuple[tuple[Kind, str], ...] = ()
    # the numbered divisions it names ("l'article 7": ("article", "7"))
    divisions: tuple[tuple[str, str], ...] = ()
    # it names a part of the year (a month, a season, the holidays: `names_period`)
    period: bool = False
    # the question words it asks with ("quand", "qui", "où"...: `interrogatives`)
    asked_with: frozenset[str] = frozenset()
    # the unit written after each of `numbers` ("15 m²": "m2"; "" for none: `units_in`)
    units: tuple[str, ...] = ()
    # where the thing whose existence is asked is sought ("Y a-t-il des repas végétariens à
    # la cantine ?": "cantine"; `existence_setting`)
    setting: str = ""

    def asks(self, kind: Kind) -> bool:
        return kind in self.kinds


def numbers_in(text: str) -> list[float]:
    """The numbers written in a text ("1 000", "3,10", "850"), as floats."""
    values = []
    for match in _NUMBER.finditer(text):
        whole = re.sub(r"[ \u202f\u00a0]", "", match.group(1))
        values.append(float(f"{whole}.{match.group(2)}" if match.group(2) else whole))
    return values


# The units a number is stated in, as a range's bounds are ("15 m²", "de 5 à 20 m2",
# "3 ans"), by the form they are compared in.
_UNIT_NAMES = (
    r"(?:€|euros?|m2|m|ans?|annees?|kg|km|%|jours?|semaines?|mois|heures?|minutes?)(?![a-z0-9])"
)
_UNIT_AFTER = re.compile(r"\s?(" + _UNIT_NAMES + r")")
_SAME_UNIT = {"euro": "€", "euros": "€", "ans": "an", "annee": "an", "annees": "an"}
_SAME_UNIT |= {"jours": "jour", "semaines": "semaine", "heures": "heure", "minutes": "minute"}


def _unit(folded_after: str) -> str:
    """The unit at the start of `folded_after` (what follows a number, folded), or ""."""
    m = _UNIT_AFTER.match(folded_after)
    return _SAME_UNIT.get(m.group(1), m.group(1)) if m else ""


def units_in(text: str) -> list[str]:
    """The unit written after each number of `numbers_in(text)` ("" where none is)."""
    return [_unit(fold(text[m.end() : m.end() + 12])) for m in _NUMBER.finditer(text)]


# A numbered division of a document: "article 7", "chapitre III", "annexe 2", "lot n° 3".
_DIVISION = re.compile(
    r"\b(article|art\.|chapitre|titre|section|annexe|lot|alinea|paragraphe|secteur|zone)"
    r"\s+(?:n°\s*|no\s+)?([0-9]+[a-z]?(?:[-.][0-9]+)*|[ivxlc]+)\b"
)


def divisions_in(text: str) -> set[tuple[str, str]]:
    """The numbered divisions a text names ("Article 7 - …" -> ("article", "7"))."""
    return {
        ("article" if m.group(1) == "art." else m.group(1), m.group(2))
        for m in _DIVISION.finditer(fold(text))
    }


def analyse_question(question: str) -> QuestionInfo:
    # "avoir lieu" is to take place (a date), not a place
    text = re.sub(r"\b(?:a|ont|aura|auront|avoir|avait|aurait) lieu\b", "se passe", fold(question))
    kinds = [kind for kind, cue in _QUESTION_CUES.items() if cue.search(text)]
    if _REQUEST_VERBS.search(text) and not _SPECIFIC & set(kinds) and "procedure" not in kinds:
        kinds.append("procedure")
    if _YES_NO.match(text):
        kinds.append("yesno")
    # "quand ... ouvert" asks for days and hours, not a date
    if "date" in kinds and "time" in kinds and not re.search(r"delai|date|valable|duree", text):
        kinds.remove("date")
    # "combien de temps" asks for a length of time; a date answers it only when asked too
    if "duration" in kinds and "date" in kinds and not re.search(r"quand|kan|date", text):
        kinds.remove("date")
    days = tuple(d for d in DAYS if re.search(_W + d + r"s?\b", text))
    years = {float(y) for y in re.findall(r"\b(?:19|20)\d\d\b", text)}
    measured = [(n, u) for n, u in zip(numbers_in(question), units_in(question), strict=True)]
    numbers = tuple(n for n, _ in measured if n not in years)
    ordered = tuple(k for k in KINDS if k in kinds)
    return QuestionInfo(
        ordered,
        numbers,
        days,
        _cues(text, ordered),
        tuple(sorted(divisions_in(question))),
        bool(_NAMES_PERIOD.search(text)),
        interrogatives(question),
        tuple(u for n, u in measured if n not in years),
        existence_setting(question),
    )


# "Y a-t-il des X à la Y ?", "ya du X au Y", "il y a des X dans le Y ?": whether X exists
# where Y names; Y is where to look, X what to find.
_EXISTENCE = re.compile(
    r"^\W*(?:est-ce qu'|est ce qu')?(?:y a-t-il|y a t il|y-a-t-il|ya-t-il|ya t il|il y a|ya"
    r"|existe-t-il|existe t il)\s+(?P<what>.+?)\s+(?:a la|a l'|au|aux|dans (?:la|le|les|l'))\s*"
    r"(?P<where>[^?!.]+)"
)


def existence_setting(question: str) -> str:
    """The place named in a question asking whether something exists there ("Y a-t-il des
    repas végétariens à la cantine ?": "cantine"), or "". The place is where to look: a
    passage about it need not repeat it in the sentence that answers."""
    m = _EXISTENCE.match(fold(question))
    return m.group("where").strip() if m else ""


# The question words that say what is asked, each to its own: who, when, how much, how, why,
# where ("quel" asks for anything its noun names: it is not one of them). "où" is told from
# "ou" (or) by its accent, or by what follows it in a question ("ou se trouve", "ou est").
_INTERROGATIVE = re.compile(_W + r"(qui|quand|kan|combien|cb|comment|pourquoi)\b")
_WHERE = re.compile(_W + r"ou (?:se |est|sont|faut|dois|peut|puis|trouver|deposer|aller)")
_SAME_WORD = {"kan": "quand", "cb": "combien"}


def interrogatives(question: str) -> frozenset[str]:
    """The question words `question` asks with ("Quand inscrire … ?": {"quand"})."""
    text = fold(question)
    found = {_SAME_WORD.get(m.group(1), m.group(1)) for m in _INTERROGATIVE.finditer(text)}
    if "où" in question.lower() or _WHERE.search(text):
        found.add("ou")
    return frozenset(found)


def asks_another(heading: str, info: QuestionInfo) -> bool:
    """Whether a section heading that is a question asks another thing than the question
    described by `info`: each asks with its own question words, none shared, and the heading
    asks none of the kinds of fact the question asks, a date and a length of time as one
    ("Qui doit être inscrit ?" against "Quand inscrire mon enfant ?"). The parts of that
    section answer the heading's question."""
    if not heading.rstrip().endswith("?") or not info.asked_with:
        return False
    own = interrogatives(heading)
    if not own or own & info.asked_with:
        return False
    return not _times(analyse_question(heading).kinds) & _times(info.kinds)


def _times(kinds: tuple[Kind, ...]) -> set[Kind]:
    """The kinds of fact asked, a date and a length of time taken as one (what answers "dans
    quel délai" answers "quand" too); a yes or no is no kind of fact."""
    out = set(kinds) - {"yesno"}
    return out | {"date", "duration"} if out & {"date", "duration"} else out


def _cues(text: str, kinds: tuple[Kind, ...]) -> tuple[tuple[Kind, str], ...]:
    """The words of the question's cue phrases, by kind ("combien de temps à l'avance":
    "combien", "temps", "avance"; "où se trouve": "trouve"): a part holding that kind of
    fact answers every one of them. Days of the week are values, not cues; "combien" is a
    cue of every kind asked; a list's cue words are those that ask for a list by themselves
    ("justificatifs", "liste"; not "déchets" in "quels déchets"); the modal verb opening a
    yes/no question ("Dois-je", "Faut-il", "Peut-on") marks it, as "est-ce que" does."""
    found: list[tuple[Kind, str]] = []
    for kind in kinds:
        patterns = [_QUESTION_CUES[kind]] if kind in _QUESTION_CUES else []
        if kind == "procedure":
            patterns.append(_REQUEST_VERBS)
        for pattern in patterns:
            for m in pattern.finditer(text):
                lead = "lead" in pattern.groupindex and m.group("lead") is not None
                span = text[m.end("lead") if lead else m.start() : m.end()]
                words = re.findall(r"[\w'-]+", span)
                if kind == "list":  # "quels déchets": the list asked for, and what of
                    words = [w for w in words if pattern.fullmatch(w)]
                found.extend((kind, w) for w in words)
        found.extend((kind, w) for w in re.findall(r"[\w'-]+", text) if w == "combien")
    # the modal verb that opens a yes/no question only marks it ("Dois-je …", "Faut-il …")
    marker = _YES_NO_MODAL.match(text) if "yesno" in kinds else None
    if marker:
        found.append(("yesno", marker.group(1)))
    seen: set[tuple[Kind, str]] = set()
    out = []
    for kind, word in found:
        word = word.split("'")[-1]  # "l'avance": "avance"
        if word in DAYS or word in STOP_WORDS or not word or (kind, word) in seen:
            continue
        seen.add((kind, word))
        out.append((kind, word))
    return tuple(out)


def cue_terms(info: QuestionInfo | None, analyze: Callable[[str], list[str]]) -> set[str]:
    """The analysed forms of the question's words that only name the kind of fact asked."""
    if info is None:
        return set()
    return {term for _, word in info.cues for term in analyze(word)}


# --- what a text holds ---------------------------------------------------------------------

_AMOUNT = re.compile(r"\d(?:[\d \u202f\u00a0.]*\d)?(?:,\d+)?\s?(?:€|euros?\b)|\bgratuite?s?\b")
# "midi" is an hour, "après-midi" a part of the day (as "matin" is)
_HOUR = re.compile(r"\b\d{1,2}\s?(?:h|heures?)\s?(?:\d{2})?\b|(?<!apres-)\bmidi\b|\bminuit\b")
_DAY = re.compile(r"\b(?:" + "|".join(DAYS) + r")s?\b")
_NUMBER_WORDS = (
    r"(?:\d+(?:[,.]\d+)?|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze"
    r"|quinze|vingt|trente|quarante|cinquante|soixante|cent)"
)
_DATE = re.compile(
    r"\b\d{1,2}(?:er)?\s+(?:" + "|".join(MONTHS) + r")\b"
    r"|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
    # a time from now or from an event: "sous 5 jours", "dans un délai d'un mois"
    r"|\b" + _NUMBER_WORDS + r"\s+(?:jours?|mois|semaines?|ans?|annees?|heures?|minutes?)\b"
    r"|\b\d{1,2}\s?h\s?\d{2}\b"
    r"|\b(?:avant|apres|jusqu'au|au plus tard|a compter du|a partir du|des le|entre)\b"
    # what recurs answers "quand" by its day: "le lundi et le jeudi", "premier mercredi"
    r"|\b(?:" + "|".join(DAYS) + r")s?\b"
)
_DURATION = re.compile(
    r"\b" + _NUMBER_WORDS + r"(?:\s+(?:a|ou)\s+" + _NUMBER_WORDS + r")?\s+"
    r"(?:jours?(?: ouvres| ouvrables| calendaires| francs)?|semaines?|mois|ans|annees?"
    r"|heures?|minutes?|h)\b"
    r"|\b(?:huit|quinze) jours\b"
    # "limité à 1h30", "pendant 2 h": hours as a length only after a word that says so
    # ("de 8h30 à 12h00" is opening hours)
    r"|\b(?:limitee?s?|duree|maximum|au plus|pendant)\s+(?:a\s+|de\s+)?\d{1,2}\s?h(?:\s?\d{2})?\b"
    r"|\b\d+\s?min\b"
)
_STREET = (
    r"\b\d+(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|place|chemin|boulevard|bd|allee|impasse"
    r"|route|quai|cours|square|parvis|promenade)\b"
)
_ADDRESS = re.compile(_STREET + r"|\badresse\s?:")
_PLACE = re.compile(
    _STREET
    + r"|\b(?:rue|avenue|place|chemin|boulevard|allee|impasse|route|quai|parking|salle|hotel de"
    r" ville|mairie|etage|rez-de-chaussee|batiment|guichet|accueil)\b"
)
_CONTACT = re.compile(
    r"\b0\d(?:[ .]?\d{2}){4}\b|[\w.+-]+@[\w-]+\.[\w.]+|\b(?:telephone|courriel|tel)\b"
)
_HOLDS: dict[Kind, re.Pattern[str]] = {
    "amount": _AMOUNT,
    "date": _DATE,
    "duration": _DURATION,
    "place": _PLACE,
    "contact": _CONTACT,
}


def holds(kind: Kind, text: str, *, days_asked: bool = False) -> bool:
    """Whether `text` holds an answer of this kind (an amount, an hour, a date...). For
    hours, days of the week count only when the question names no day itself."""
    folded = fold(text)
    if kind == "time":
        return bool(_HOUR.search(folded) or (not days_asked and _DAY.search(folded)))
    pattern = _HOLDS.get(kind)
    return bool(pattern and pattern.search(folded))


def holds_weakly(kind: Kind, text: str) -> bool:
    """Whether a text that holds this kind of answer (`holds`) holds it only weakly: days of
    the week without an hour for hours ("fermée le vendredi 30 mai" for "les horaires de la
    mairie"), a place named without an address ("à l'accueil de la mairie") for "où se
    trouve". Such a text does not answer the words that ask for the kind ("horaires",
    "trouve")."""
    if kind == "time":
        return not _HOUR.search(fold(text))
    if kind == "place":
        return not _ADDRESS.search(fold(text))
    return False


# A part of the year a text restricts itself to: "du 7 juillet au 29 août", "de juin à
# septembre", "pendant l'été", "durant les vacances scolaires".
_MONTH = r"(?:" + "|".join(MONTHS) + r")"
_PERIOD = re.compile(
    r"\b(?:du|de)\s+(?:\d{1,2}(?:er)?\s+)?" + _MONTH + r"(?:\s+\d{4})?\s+(?:au|a)\s+"
    r"(?:\d{1,2}(?:er)?\s+)?" + _MONTH + r"\b"
    r"|\b(?:pendant|durant)\s+(?:l'ete|l'hiver|les vacances|la periode)\b"
)


def states_period(text: str) -> bool:
    """Whether a text restricts itself to a part of the year ("du 7 juillet au 29 août")."""
    return bool(_PERIOD.search(fold(text)))


_UNIT = r"(?:\s?(?:€|euros?|m²|m2|m|ans?|kg|km|%))?"
_RANGE = re.compile(
    r"(?:de|entre)\s+(?P<lo>\d[\d \u202f\u00a0]*(?:,\d+)?)" + _UNIT + r"\s+(?:a|et)\s+"
    r"(?P<hi>\d[\d \u202f\u00a0]*(?:,\d+)?)"
    r"|(?P<le>inferieure?s?\s+ou\s+egale?s?\s+a|inferieure?s?\s+a|moins\s+de|jusqu'a)\s+"
    r"(?P<v1>\d[\d \u202f\u00a0]*(?:,\d+)?)"
    r"|(?P<ge>superieure?s?\s+ou\s+egale?s?\s+a|superieure?s?\s+a|plus\s+de|au-dela\s+de"
    r"|a\s+partir\s+de|depass(?:e|ent)|exced(?:e|ent))\s+(?P<v2>\d[\d \u202f\u00a0]*(?:,\d+)?)"
)


def _number(text: str) -> float:
    values = numbers_in(text)
    return values[0] if values else float("nan")


def _ranges(text: str) -> list[tuple[float, float, str]]:
    """`ranges_in`, each with the unit written after its last bound ("" for none)."""
    found = []
    folded = fold(text)
    for m in _RANGE.finditer(folded):
        unit = _unit(folded[m.end() :])
        if m.group("lo") is not None:
            found.append((_number(m.group("lo")), _number(m.group("hi")), unit))
        elif m.group("le") is not None:
            found.append((float("-inf"), _number(m.group("v1")), unit))
        else:
            found.append((_number(m.group("v2")), float("inf"), unit))
    return [(lo, hi, u) for lo, hi, u in found if lo == lo and hi == hi]  # drop NaN bounds


def ranges_in(text: str) -> list[tuple[float, float]]:
    """Numeric ranges a text states: "de 701 € à 1 000 €", "inférieur ou égal à 400 €",
    "supérieur à 1 400 €"; bounds inclusive, open ends infinite."""
    return [(lo, hi) for lo, hi, _ in _ranges(text)]


def _comparable(
    numbers: tuple[float, ...], units: tuple[str, ...], text: str
) -> tuple[list[tuple[float, float]], list[tuple[float, float, float]]]:
    """The ranges of `text` that may hold a number of the question (stated in its unit, or
    either unstated: "15 m²" says nothing of "de 3 à 11 ans"), and each (number, lo, hi)
    pair of them."""
    spans: list[tuple[float, float]] = []
    pairs: list[tuple[float, float, float]] = []
    measured = list(zip(numbers, (*units, *[""] * len(numbers)), strict=False))
    for lo, hi, unit in _ranges(text):
        kept = [
            _in_base(n, u, lo, hi, unit)
            for n, u in measured
            if not (u and unit and _base(u)[0] != _base(unit)[0])
        ]
        if kept:
            spans.append((lo, hi))
            pairs.extend(kept)
    return spans, pairs


# Units of one quantity, in its base unit: "3 semaines" is within "moins de 30 jours".
_BASE = {
    "semaine": ("jour", 7.0),
    "mois": ("jour", 30.0),
    "an": ("jour", 365.0),
    "heure": ("minute", 60.0),
}


def _base(unit: str) -> tuple[str, float]:
    """The base unit of `unit` and how many of it make one."""
    return _BASE.get(unit, (unit, 1.0))


def _in_base(
    n: float, unit: str, lo: float, hi: float, range_unit: str
) -> tuple[float, float, float]:
    """A number and a range's bounds in one base unit when both name a unit, else as
    written."""
    if not (unit and range_unit):
        return n, lo, hi
    f, g = _base(unit)[1], _base(range_unit)[1]
    return n * f, lo * g, hi * g


def narrowest(numbers: tuple[float, ...], text: str, units: tuple[str, ...] = ()) -> float | None:
    """The width of the narrowest range the text states that holds a number of the question
    (infinite for an open one: "moins de 20 m²"), None when none holds one."""
    widths = [hi - lo for n, lo, hi in _comparable(numbers, units, text)[1] if lo <= n <= hi]
    return min(widths) if widths else None


def range_match(numbers: tuple[float, ...], text: str, units: tuple[str, ...] = ()) -> bool | None:
    """True when a number of the question falls in a range the text states, False when the
    text states ranges and none holds it, None when the text states no range (in the unit
    of the question's numbers, `units`, when both name one)."""
    if not numbers:
        return None
    spans, pairs = _comparable(numbers, units, text)
    if not spans:
        return None
    return any(lo <= n <= hi for n, lo, hi in pairs)
