"""Person names of every origin: INSEE's first names plus the context around them.

The lexicon (first names and their frequency tiers, particles, words that are never names) is
in `name_lexicon`.

`find_names` is pure (no spaCy): it groups capitalised words, ALL-CAPS words,
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
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from territoria.guard.name_lexicon import (
    ARTICLES,
    FACILITY_WORDS,
    NOT_NAME_KEYS,
    PARTICLES,
    SAINTS,
    TITLE_WORDS,
    FirstNames,
    fold,
    stop_words,
)
from territoria.guard.pii_recognizers import (
    UPPER_LETTERS,
    Span,
    facility_before,
    find_email,
    find_phone,
    has_institution,
    person_cue_before,
)

SCORE = 0.95  # above spaCy's 0.85: this span is kept when both find the same one

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
    return token.kind != "initial" and token.folded in PARTICLES


def _name_part(token: _Token, names: FirstNames) -> bool:
    """Can this token be a name (not a particle) in a person's name?"""
    if token.kind == "initial":
        return token.text[0] != "M" or "-" in token.text  # "M." is Monsieur
    key = token.folded
    if _is_particle(token) or key in stop_words() or key in NOT_NAME_KEYS:
        return False
    if token.kind == "lower":
        return names.tier(token.text) is not None
    if len(key) < 2 or key in TITLE_WORDS or any(p in SAINTS for p in key.split("-")):
        return False
    if FACILITY_WORDS.fullmatch(key):
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
    return token.folded not in ARTICLES or not _opens_sentence(text, token.start)


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
            if tokens[j].folded in stop_words() or tokens[j].folded in NOT_NAME_KEYS:
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
    return all(fold(w) in PARTICLES for w in words)


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
