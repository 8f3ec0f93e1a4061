"""Embeddings from any OpenAI-compatible `/embeddings` server (vLLM, TEI, Ollama, Albert API).

Texts are sent in batches; the server's rows are put back in input order (by their `index`)
and L2-normalised. Transport errors and unexpected answers become `EmbedderError` with a French
message. The dimension is learnt from the first answer.

Vectors are stored under the model's name (`openai:<embeddings_model>`), so the name is
required, and an answer that names another model than the one configured is refused: vectors
of two models are never mixed in one index (docs/retrieval.md says how to change model).

Limits (applied by `Bounded`): the server's model and tokenizer are unknown here, so texts are
cut in characters, passages to `embeddings_max_chars`, queries to 1,000 at most.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np

from territoria.embed import InputLimit, Matrix, normalize
from territoria.errors import ConfigError, EmbedderError
from territoria.settings import Settings

_BATCH = 64
_QUERY_MAX_CHARS = 1000


class OpenAIEmbedder:
    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        batch_size: int = _BATCH,
    ) -> None:
        if not settings.embeddings_url:
            raise ConfigError(
                "Aucun serveur d'embeddings configuré : renseignez TERRITORIA_EMBEDDINGS_URL."
            )
        if not settings.embeddings_model:
            raise ConfigError(
                "Nommez le modèle d'embeddings servi (TERRITORIA_EMBEDDINGS_MODEL, par exemple "
                "BAAI/bge-m3) : les vecteurs sont rangés sous ce nom."
            )
        self._model = settings.embeddings_model
        self.name = f"openai:{self._model}"
        self.dim = 0
        self.passage_limit = InputLimit(chars=settings.embeddings_max_chars)
        self.query_limit = InputLimit(chars=min(_QUERY_MAX_CHARS, settings.embeddings_max_chars))
        self._batch = max(1, batch_size)
        self._client = httpx.Client(
            base_url=settings.embeddings_url.rstrip("/"),
            timeout=settings.llm_timeout_s,
            transport=transport,
        )

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            self._request(list(texts[start : start + self._batch]))
            for start in range(0, len(texts), self._batch)
        ]
        return normalize(np.concatenate(parts))

    def _request(self, batch: list[str]) -> Matrix:
        payload: dict[str, object] = {"input": batch, "model": self._model}
        try:
            response = self._client.post("/embeddings", json=payload)
        except httpx.TimeoutException as exc:
            raise EmbedderError("Le serveur d'embeddings n'a pas répondu à temps.") from exc
        except httpx.HTTPError as exc:
            raise EmbedderError(f"Serveur d'embeddings injoignable : {exc}") from exc
        if response.status_code >= 400:
            raise EmbedderError(
                f"Le serveur d'embeddings a répondu {response.status_code} : {response.text[:200]}"
            )
        try:
            body = response.json()
            served = body.get("model")
            rows = body["data"]
            ordered = sorted(rows, key=lambda row: int(row.get("index", 0)))
            matrix = np.asarray([row["embedding"] for row in ordered], dtype=np.float32)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EmbedderError("Réponse du serveur d'embeddings illisible.") from exc
        if isinstance(served, str) and served and served != self._model:
            raise EmbedderError(
                f"Le serveur d'embeddings sert le modèle « {served} », pas « {self._model} » : "
                "des vecteurs de modèles différents ne se mélangent pas. Réglez "
                f"TERRITORIA_EMBEDDINGS_MODEL={served} (l'index sera reconstruit avec ce modèle)."
            )
        if matrix.ndim != 2 or matrix.shape[0] != len(batch):
            raise EmbedderError(
                f"Le serveur d'embeddings a renvoyé {matrix.shape[0] if matrix.ndim else 0} "
                f"vecteurs pour {len(batch)} textes."
            )
        if self.dim and matrix.shape[1] != self.dim:
            raise EmbedderError(
                f"Dimension des embeddings incohérente : {matrix.shape[1]} au lieu de {self.dim}."
            )
        self.dim = int(matrix.shape[1])
        return matrix
