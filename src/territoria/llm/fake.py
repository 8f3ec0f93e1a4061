"""A deterministic LLM for unit tests: answers with the first sentence of each numbered
source in the prompt, citing it, and can be told to add an unsupported sentence."""

from __future__ import annotations

import re
from collections.abc import Sequence

from territoria.answer.sentences import split_sentences
from territoria.llm import Completion, Message, Options

_SOURCE = re.compile(r"^\[(\d+)\][^\n]*\n(.*?)(?=^\[\d+\]|\Z)", re.S | re.M)


class FakeLLM:
    name = "fake-llm"

    def __init__(self, invent: str | None = None) -> None:
        self.invent = invent
        self.calls: list[list[Message]] = []

    def complete(self, messages: Sequence[Message], *, options: Options) -> Completion:
        self.calls.append(list(messages))
        prompt = messages[-1].content
        sentences = []
        for number, body in _SOURCE.findall(prompt):
            spans = split_sentences(body.strip())
            if spans:
                sentences.append(f"{spans[0].text} [{number}]")
        if self.invent:
            sentences.append(self.invent)
        return Completion(text=" ".join(sentences), model=self.name)
