"""Chat completions against any OpenAI-compatible server.

Failures raise `LLMError` subclasses whose French message can be shown to anyone: it names
what went wrong, never the server's address or its error body (those go to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

from territoria.errors import LLMError, LLMTimeout, LLMUnavailable
from territoria.llm import Completion, Message, Options
from territoria.settings import Settings

log = logging.getLogger(__name__)


class OpenAICompatLLM:
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.name = settings.llm_model or "llm"
        self._model = settings.llm_model
        self._timeout_s = settings.llm_timeout_s
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
            log.warning(
                "LLM server %s: no answer in %g s (%r)", self._client.base_url, self._timeout_s, exc
            )
            raise LLMTimeout(
                f"Le modèle de langage n'a pas répondu dans le délai fixé ({self._timeout_s:g} s)."
            ) from exc
        except httpx.HTTPError as exc:
            log.warning("LLM server %s unreachable: %r", self._client.base_url, exc)
            raise LLMUnavailable("Le serveur du modèle de langage est injoignable.") from exc
        if response.status_code >= 400:
            log.warning(
                "LLM server %s: HTTP %s %s",
                self._client.base_url,
                response.status_code,
                response.text[:500],
            )
            raise LLMError(
                "Le serveur du modèle de langage a renvoyé une erreur "
                f"(HTTP {response.status_code})."
            )
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"] or ""
            usage = data.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning(
                "LLM server %s: unreadable answer %s", self._client.base_url, response.text[:500]
            )
            raise LLMError("La réponse du serveur du modèle de langage est illisible.") from exc
        return Completion(
            text=text,
            model=str(data.get("model", self._model)),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )

    def close(self) -> None:
        self._client.close()
