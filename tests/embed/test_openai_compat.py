"""The OpenAI-compatible embedder, against httpx.MockTransport (no network)."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from territoria.embed.openai_compat import OpenAIEmbedder
from territoria.errors import ConfigError, EmbedderError
from territoria.settings import Settings

SETTINGS = Settings(embeddings_url="http://embed.local/v1/", embeddings_model="bge-m3")


def server(calls: list[dict[str, object]]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls.append({"path": request.url.path, **body})
        # answer out of order, as the API allows: rows carry their index
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(text)), 0.0, 1.0]}
            for i, text in enumerate(body["input"])
        ]
        return httpx.Response(200, json={"data": list(reversed(data)), "model": body["model"]})

    return httpx.MockTransport(handler)


def test_batches_keep_input_order_and_rows_are_normalised() -> None:
    calls: list[dict[str, object]] = []
    embedder = OpenAIEmbedder(SETTINGS, transport=server(calls), batch_size=2)
    texts = ["a", "bbb", "cc", "dddd", "e"]
    vectors = embedder.embed_passages(texts)
    assert vectors.shape == (5, 3) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    expected = np.array([[len(t), 0.0, 1.0] for t in texts])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vectors, expected)
    assert [c["input"] for c in calls] == [["a", "bbb"], ["cc", "dddd"], ["e"]]
    assert {c["path"] for c in calls} == {"/v1/embeddings"}
    assert {c["model"] for c in calls} == {"bge-m3"}
    assert embedder.dim == 3


def test_empty_input_makes_no_request() -> None:
    calls: list[dict[str, object]] = []
    embedder = OpenAIEmbedder(SETTINGS, transport=server(calls))
    assert embedder.embed_queries([]).shape[0] == 0
    assert calls == []


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(500, text="boom"), "a répondu 500"),
        (httpx.Response(200, text="pas du json"), "illisible"),
        (httpx.Response(200, json={"data": []}), "0 vecteurs pour 1 textes"),
    ],
)
def test_server_errors_become_french_embedder_errors(
    response: httpx.Response, message: str
) -> None:
    embedder = OpenAIEmbedder(SETTINGS, transport=httpx.MockTransport(lambda _: response))
    with pytest.raises(EmbedderError, match=message) as info:
        embedder.embed_queries(["bonjour"])
    assert info.value.status == 503


def test_unreachable_server() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connexion refusée", request=request)

    embedder = OpenAIEmbedder(SETTINGS, transport=httpx.MockTransport(refuse))
    with pytest.raises(EmbedderError, match="injoignable"):
        embedder.embed_passages(["bonjour"])


def test_timeout() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("trop lent", request=request)

    embedder = OpenAIEmbedder(SETTINGS, transport=httpx.MockTransport(slow))
    with pytest.raises(EmbedderError, match="à temps"):
        embedder.embed_passages(["bonjour"])


def test_missing_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="EMBEDDINGS_URL"):
        OpenAIEmbedder(Settings(embeddings_url=""))


def test_the_model_must_be_named() -> None:
    with pytest.raises(ConfigError, match="EMBEDDINGS_MODEL"):
        OpenAIEmbedder(Settings(embeddings_url="http://embed.local/v1"))


def test_an_answer_from_another_model_is_refused() -> None:
    """A server that serves another model than the one the vectors are stored under (TEI
    answers with the model it serves, whatever the request names) would mix vectors."""

    def other(request: httpx.Request) -> httpx.Response:
        data = [{"index": 0, "embedding": [1.0, 0.0]}]
        return httpx.Response(200, json={"data": data, "model": "intfloat/multilingual-e5-large"})

    embedder = OpenAIEmbedder(SETTINGS, transport=httpx.MockTransport(other))
    with pytest.raises(EmbedderError, match="TERRITORIA_EMBEDDINGS_MODEL=intfloat/multilingual-e5"):
        embedder.embed_passages(["bonjour"])
