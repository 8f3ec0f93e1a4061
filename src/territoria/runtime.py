"""The services of one running product (store, embedder, retriever, assistant), built once
from Settings by the CLI and the web app and closed together."""

from __future__ import annotations

from functools import cached_property

from territoria.answer import Assistant
from territoria.embed import Embedder, make_embedder
from territoria.llm import LLM, make_llm
from territoria.search import Retriever
from territoria.settings import Settings
from territoria.store import Store, open_store


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def store(self) -> Store:
        return open_store(self.settings)

    @cached_property
    def embedder(self) -> Embedder | None:
        return make_embedder(self.settings)

    @cached_property
    def llm(self) -> LLM | None:
        return make_llm(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.settings, self.store, self.embedder)

    @cached_property
    def assistant(self) -> Assistant:
        return Assistant(self.settings, self.retriever, self.llm)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
