"""Normalisation and scoring of one text: `screen` (passages) and `screen_question`."""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

from territoria.guard.injection.cues import check_cues
from territoria.guard.injection.instruction_rules import INSTRUCTION_RULES
from territoria.guard.injection.patterns import (
    ASSISTANT_ROLES,
    BASE64,
    BIDI,
    CHAT_ROLE,
    CHAT_ROLE_HINTS,
    DATA_PARAM,
    DELIMITER,
    DELIMITER_HINTS,
    EXFIL_HOSTS,
    GREEK_CYRILLIC,
    IMAGE_BEFORE,
    INVISIBLE,
    LEET,
    LEET_HINT,
    MIXED_SCRIPT,
    NUMERIC_ENTITY,
    PLACEHOLDER,
    REVERSED_HINTS,
    ROT13_HINTS,
    SPACED,
    SPACED_RUN,
    SPACED_TABLE,
    SPEAKER_ROLES,
    SPECIAL,
    SPECIAL_MAP,
    TAGS,
    TOKEN_RULES,
    TRAILING_DATA,
    URL,
    WORD_TABLE,
    ZERO_WIDTH,
    ZERO_WIDTH_IN_WORD,
)
from territoria.guard.injection.role_rules import ROLE_RULES
from territoria.guard.injection.rules import (
    R_ENCODED,
    R_EXFIL,
    R_INSTRUCTION,
    R_INVISIBLE,
    R_OBFUSCATED,
    R_TOKENS,
    REASONS,
    THRESHOLD,
    Rule,
)

NON_ALNUM = re.compile(r"[^a-z0-9]+")
WORD_RULES: tuple[Rule, ...] = (*INSTRUCTION_RULES, *ROLE_RULES)


def _index(rules: tuple[Rule, ...]) -> dict[str, tuple[int, ...]]:
    index: dict[str, list[int]] = {}
    for position, rule in enumerate(rules):
        for token in rule.anchors[0]:
            index.setdefault(token, []).append(position)
    return {token: tuple(positions) for token, positions in index.items()}


# token -> positions of the rules whose first anchor group holds it
ANCHOR_INDEX = _index(WORD_RULES)
ANCHOR_TOKENS = frozenset(ANCHOR_INDEX)
_REASON_ORDER = {reason: i for i, reason in enumerate(REASONS)}


@dataclass(frozen=True)
class Screening:
    """Verdict on one text: `flagged` when `score` >= THRESHOLD.

    `reasons` (French, user-facing) name the families of the rules that fired, also when the
    score stays below the threshold.
    """

    flagged: bool
    score: float
    reasons: tuple[str, ...] = ()


@dataclass
class Signals:
    """The rules that fired: weight (max per rule key) and French reason."""

    weights: dict[str, float]
    reasons: dict[str, str]

    @classmethod
    def empty(cls) -> Signals:
        return cls({}, {})

    def add(self, key: str, reason: str, weight: float) -> None:
        if weight > self.weights.get(key, 0.0):
            self.weights[key] = weight
            self.reasons[key] = reason

    def merge(self, other: Signals, prefix: str, boost: float = 0.0) -> None:
        for key, weight in other.weights.items():
            self.add(prefix + key, other.reasons[key], min(0.95, weight + boost))

    def strongest(self) -> float:
        return max(self.weights.values(), default=0.0)

    def score(self) -> float:
        remaining = 1.0
        for weight in self.weights.values():
            remaining *= 1.0 - weight
        return round(1.0 - remaining, 4)

    def screening(self) -> Screening:
        score = self.score()
        reasons = sorted(set(self.reasons.values()), key=_REASON_ORDER.__getitem__)
        return Screening(score >= THRESHOLD, score, tuple(reasons))


def screen(text: str) -> Screening:
    """Screen a document passage, a metadata string or a table cell for an injected prompt."""
    return analyse(text, question=False).screening()


def screen_question(text: str) -> Screening:
    """Screen a user question: same rules, but `vous` addresses the assistant here, so the
    `vous` forms ("révélez vos instructions", "vous êtes désormais…") weigh as much as `tu`."""
    return analyse(text, question=True).screening()


def analyse(text: str, *, question: bool, depth: int = 0) -> Signals:
    """All signals of one text; `depth` 1 for decoded payloads (no further decoding)."""
    signals = Signals.empty()
    if not text or text.isspace():
        return signals
    raw = text
    obfuscated = False
    if "&" in raw and ";" in raw:
        obfuscated = len(NUMERIC_ENTITY.findall(raw)) >= 5
        raw = html.unescape(raw)
    if raw.count("%") >= 8:
        decoded = unquote(raw)
        if decoded != raw:
            obfuscated = True
            raw = raw + "\n" + decoded
    folded = raw.casefold()
    if not raw.isascii():
        _check_characters(raw, signals, question=question, depth=depth)
        if GREEK_CYRILLIC.search(folded):
            mixed = len(MIXED_SCRIPT.findall(folded))
            obfuscated = obfuscated or mixed >= 2
            if mixed >= 3:
                signals.add("mixed-script", R_OBFUSCATED, 0.3)
        folded = _fold(folded)
    tokens = folded.translate(WORD_TABLE).split()
    if depth == 0 and tokens and max(map(len, tokens)) >= 16:
        _check_base64(unicodedata.normalize("NFKC", raw), signals, question=question)
    spaced: list[str] = []
    unspaced = Signals.empty()
    if SPACED_RUN in " " + folded.translate(SPACED_TABLE) + " ":
        # letters spaced out one by one ("i g n o r e"), or a letter-spaced PDF heading
        spaced = [match.group() for match in SPACED.finditer(folded)]
        _check_words(" " + " ".join(tokens) + " ", tokens, unspaced, question=question)
        folded = SPACED.sub(_join_spaced, folded)
        tokens = folded.translate(WORD_TABLE).split()
    words = " " + " ".join(tokens) + " "
    _check_folded(folded, signals)
    _check_words(words, tokens, signals, question=question)
    if spaced and set(signals.weights) - set(unspaced.weights):
        obfuscated = True
    for key, reason, weight in check_cues(folded, tokens):
        signals.add(key, reason, weight)
    if spaced:
        # letters spaced out one by one: words may have run together ("ignoreallprevious")
        joined = " ".join(NON_ALNUM.sub("", part) for part in spaced)
        compact = Signals.empty()
        _check_compact(" " + joined + " ", compact, question=question)
        obfuscated = obfuscated or bool(compact.weights)
        signals.merge(compact, "compact:")
    if LEET_HINT.search(folded):
        leet = Signals.empty()
        leet_tokens = folded.translate(LEET).translate(WORD_TABLE).split()
        _check_words(" " + " ".join(leet_tokens) + " ", leet_tokens, leet, question=question)
        if set(leet.weights) - set(signals.weights):
            obfuscated = True
            signals.merge(leet, "leet:")
    if depth == 0:
        _check_rot13_and_reversed(words, tokens, signals, question=question)
    if obfuscated and signals.weights:
        signals.add("obfuscated", R_OBFUSCATED, 0.3)
    return signals


def _fold(folded: str) -> str:
    """Casefolded text to ASCII: look-alike letters and quotes mapped, accents and
    invisible characters dropped (NFKD also maps full-width and mathematical letters)."""
    if SPECIAL.search(folded):
        folded = SPECIAL.sub(_special, folded)
    return unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")


def _special(match: re.Match[str]) -> str:
    return SPECIAL_MAP[match.group()]


def _join_spaced(match: re.Match[str]) -> str:
    return NON_ALNUM.sub("", match.group())


def _check_characters(raw: str, signals: Signals, *, question: bool, depth: int) -> None:
    if not INVISIBLE.search(raw):
        return
    tags = TAGS.findall(raw)
    if tags:
        signals.add("tags", R_INVISIBLE, 0.9)
        hidden = "".join(chr(ord(char) - 0xE0000) for char in tags)
        if depth == 0 and hidden.strip():
            signals.merge(analyse(hidden, question=question, depth=1), "tags:")
    # inside words ("i\u200bg\u200bn…") they split words apart on purpose; between words
    # or lines they are copy-paste leftovers of web pages
    inside_words = len(ZERO_WIDTH_IN_WORD.findall(raw))
    if inside_words >= 3:
        signals.add("zero-width", R_INVISIBLE, 0.6 if inside_words < 10 else 0.8)
    elif inside_words or ZERO_WIDTH.search(raw):
        signals.add("zero-width", R_INVISIBLE, 0.15)
    if BIDI.search(raw):
        signals.add("bidi", R_INVISIBLE, 0.45)


def _check_base64(raw: str, signals: Signals, *, question: bool) -> None:
    for index, match in enumerate(BASE64.finditer(raw)):
        if index >= 20:
            break
        blob = match.group()
        if blob.isalpha() and (blob.islower() or blob.isupper()):
            continue  # a long word, not base64
        decoded = _decode_base64(blob)
        if decoded is None:
            continue
        nested = analyse(decoded, question=question, depth=1)
        if nested.weights:
            signals.merge(nested, f"b64-{index}:")
            signals.add(f"b64-{index}", R_ENCODED, 0.6 if nested.score() >= THRESHOLD else 0.2)
        elif len(decoded.split()) >= 4:
            signals.add("b64-text", R_ENCODED, 0.2)


def _decode_base64(blob: str) -> str | None:
    data = blob.replace("-", "+").replace("_", "/")
    data += "=" * (-len(data) % 4)
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    printable = sum(char.isprintable() or char in "\n\t" for char in text)
    if " " not in text or printable < 0.95 * len(text):
        return None
    return text


def _check_rot13_and_reversed(
    words: str, tokens: list[str], signals: Signals, *, question: bool
) -> None:
    if len(ROT13_HINTS.intersection(tokens)) >= 2:
        nested = analyse(codecs.decode(words, "rot13"), question=question, depth=1)
        if nested.weights:
            signals.merge(nested, "rot13:")
            signals.add("rot13", R_OBFUSCATED, 0.4)
    if len(REVERSED_HINTS.intersection(tokens)) >= 2:
        nested = analyse(words[::-1], question=question, depth=1)
        if nested.weights:
            signals.merge(nested, "reversed:")
            signals.add("reversed", R_OBFUSCATED, 0.4)


def _check_words(words: str, tokens: list[str], signals: Signals, *, question: bool) -> None:
    present = frozenset(tokens)
    anchors = ANCHOR_TOKENS.intersection(present)
    if not anchors:
        return
    candidates: set[int] = set()
    for token in anchors:
        candidates.update(ANCHOR_INDEX[token])
    for index in candidates:
        rule = WORD_RULES[index]
        if all(not group.isdisjoint(present) for group in rule.anchors[1:]) and rule.pattern.search(
            words
        ):
            signals.add(f"w{index}", rule.reason, rule.question_weight if question else rule.weight)


def _check_compact(words: str, signals: Signals, *, question: bool) -> None:
    for index, rule in enumerate(WORD_RULES):
        if rule.compact.search(words):
            signals.add(f"w{index}", rule.reason, rule.question_weight if question else rule.weight)


def _check_folded(folded: str, signals: Signals) -> None:
    for index, (weight, anchors, pattern) in enumerate(TOKEN_RULES):
        present = all(any(anchor in folded for anchor in group) for group in anchors)
        if present and pattern.search(folded):
            signals.add(f"t{index}", R_TOKENS, weight)
    if ":" in folded and any(hint in folded for hint in CHAT_ROLE_HINTS):
        roles = set(CHAT_ROLE.findall(folded))
        if roles & ASSISTANT_ROLES and roles & SPEAKER_ROLES:
            signals.add("chat-roles", R_TOKENS, 0.7)
        elif roles & {"system", "systeme"}:
            signals.add("chat-system", R_TOKENS, 0.3)
    hints = all(any(hint in folded for hint in group) for group in DELIMITER_HINTS)
    if hints and DELIMITER.search(folded):
        signals.add("delimiter", R_INSTRUCTION, 0.35)
    if "http" in folded:
        _check_urls(folded, signals)


def _check_urls(folded: str, signals: Signals) -> None:
    for match in URL.finditer(folded):
        url = match.group()
        if EXFIL_HOSTS.search(url):
            signals.add("url-host", R_EXFIL, 0.45)
        if url.endswith("=") and TRAILING_DATA.search(folded, match.end(), match.end() + 120):
            # "...?q=" followed by "the chat transcript", "suivie de la conversation"
            signals.add("url-trailing", R_EXFIL, 0.7)
        cuts = [i for i in (url.find("?"), url.find("#"), url.find("{")) if i >= 0]
        if not cuts:
            continue
        tail = url[min(cuts) :]
        placeholder = PLACEHOLDER.search(tail) is not None
        if placeholder or DATA_PARAM.search(tail):
            image = IMAGE_BEFORE.search(folded, max(0, match.start() - 300), match.start())
            weights = (0.85, 0.7) if placeholder else (0.5, 0.3)
            key = "url-placeholder" if placeholder else "url-data"
            signals.add(key, R_EXFIL, weights[0] if image else weights[1])
