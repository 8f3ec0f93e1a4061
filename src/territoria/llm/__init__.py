"""LLMs: the `LLM` protocol and a factory from Settings.

No pip package ships a usable French instruction model, so generation needs an
operator-configured OpenAI-compatible server (vLLM, Ollama, llama.cpp server, Albert API).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from territoria.settings import Settings


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Options:
    temperature: float = 0.0
    max_tokens: int = 400
    extra: dict[str, object] = field(default_factory=dict)


class LLM(Protocol):
    name: str

    def complete(self, messages: Sequence[Message], *, options: Options) -> Completion: ...


def make_llm(settings: Settings) -> LLM | None:
    """The configured LLM server, or None when none is configured."""
    if not settings.llm_url:
        return None
    from territoria.llm.openai_compat import OpenAICompatLLM

    return OpenAICompatLLM(settings)
