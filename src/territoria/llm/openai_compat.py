"""Chat completions against any OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from territoria.errors import LLMError, LLMTimeout, LLMUnavailable
from territoria.llm import Completion, Message, Options
from territoria.settings import Settings


class OpenAICompatLLM:
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.name = settings.llm_model or "llm"
        self._model = settings.llm_model
        self._client = httpx.Client(
            base_url=settings.llm_url.rstrip("/"),
            timeout=settings.llm_timeout_s,
            transport=transport,
        )

    def complete(self, messages: Sequence[Message], *, options: Options) -> Completion:
        payload: dict[str, object] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": options.temperature,
            "max_tokens": options.max_tokens,
            **options.extra,
        }
        try:
            response = self._client.post("/chat/completions", json=payload)
        except httpx.TimeoutException as exc:
            raise LLMTimeout("Le modèle de langage n'a pas répondu à temps.") from exc
        except httpx.HTTPError as exc:
            raise LLMUnavailable(f"Serveur du modèle de langage injoignable : {exc}") from exc
        if response.status_code >= 400:
            raise LLMError(
                f"Le serveur du modèle de langage a répondu {response.status_code} : "
                f"{response.text[:200]}"
            )
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"] or ""
            usage = data.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMError("Réponse du modèle de langage illisible.") from exc
        return Completion(
            text=text,
            model=str(data.get("model", self._model)),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )
