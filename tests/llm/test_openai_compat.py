"""The OpenAI-compatible LLM client against real failing HTTP servers (stdlib, loopback):
clear French errors that name no address, and the assistant's fallback to the extractive
answer."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import write_corpus
from territoria.answer import Assistant
from territoria.errors import LLMError, LLMTimeout, LLMUnavailable
from territoria.ingest import ingest_paths
from territoria.llm import Message, Options
from territoria.llm.openai_compat import OpenAICompatLLM
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Answer

QUESTION = "Quel est le prix du repas à la cantine ?"
Reply = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def serve(reply: Reply) -> Iterator[str]:
    """Base URL of a loopback HTTP server answering every POST with `reply`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            reply(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def error_500(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 500, b'{"error": "secret internal detail at /srv/models"}')


def garbage(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, b"<html>not json</html>")


def slow(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(1.0)
    body = {"choices": [{"message": {"content": "Trop tard [1]."}}], "model": "m"}
    send(handler, 200, json.dumps(body).encode())


@pytest.fixture
def closed_port_url() -> str:
    """An address where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def client(settings: Settings, url: str, timeout_s: float = 10.0) -> OpenAICompatLLM:
    return OpenAICompatLLM(settings.model_copy(update={"llm_url": url, "llm_timeout_s": timeout_s}))


def complete(llm: OpenAICompatLLM) -> None:
    try:
        llm.complete([Message("user", "Bonjour")], options=Options(max_tokens=16))
    finally:
        llm.close()


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (error_500, LLMError, "a renvoyé une erreur (HTTP 500)"),
        (garbage, LLMError, "réponse du serveur du modèle de langage est illisible"),
        (slow, LLMTimeout, "pas répondu dans le délai fixé (0.2 s)"),
    ],
)
def test_server_failures_are_french_errors_naming_no_address(
    settings: Settings, reply: Reply, error: type[LLMError], message: str
) -> None:
    with serve(reply) as url:
        with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
            complete(client(settings, url, timeout_s=0.2))
        assert "127.0.0.1" not in str(exc.value) and "secret" not in str(exc.value)


def test_unreachable_server_is_a_french_error(settings: Settings, closed_port_url: str) -> None:
    with pytest.raises(LLMUnavailable, match="injoignable") as exc:
        complete(client(settings, closed_port_url))
    assert "127.0.0.1" not in str(exc.value)


@pytest.fixture
def loaded(runtime: Runtime, tmp_path: Path) -> Runtime:
    ingest_paths([write_corpus(tmp_path / "docs")], settings=runtime.settings, store=runtime.store)
    return runtime


@pytest.mark.parametrize("failure", ["500", "refused"])
def test_failing_server_falls_back_to_the_extractive_answer(
    loaded: Runtime, closed_port_url: str, failure: str
) -> None:
    def ask(url: str) -> Answer:
        settings = loaded.settings.model_copy(update={"llm_url": url, "llm_local": True})
        llm = OpenAICompatLLM(settings)
        try:
            return Assistant(settings, loaded.retriever, llm).ask(QUESTION, mode="generative")
        finally:
            llm.close()

    if failure == "500":
        with serve(error_500) as url:
            answer = ask(url)
    else:
        answer = ask(closed_port_url)
    extractive = loaded.assistant.ask(QUESTION)
    assert answer.mode == "extractive" and not answer.abstained
    assert answer.answer == extractive.answer
    assert answer.citations == extractive.citations
    fallback = answer.verification.fallback
    assert fallback.startswith("Mode génératif indisponible.")
    assert ("HTTP 500" if failure == "500" else "injoignable") in fallback
