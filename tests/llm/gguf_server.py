"""A real OpenAI-compatible LLM server for the integration tests: llama.cpp's own server
(pip xllamacpp) on a GGUF file, on loopback, one thread.

    python gguf_server.py MODEL.gguf

prints its base URL on stdout once the model is loaded, and serves until its standard input
closes (the test fixture closes it to stop the server cleanly).
"""

from __future__ import annotations

import sys


def main(model: str) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.model_alias = {"smollm2-135m-instruct"}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # any free port: the server reports the one it took
    params.n_ctx = 2048
    params.n_parallel = 1
    params.cpuparams.n_threads = 1
    params.cpuparams_batch.n_threads = 1
    params.n_threads_http = 2
    params.warmup = False
    params.sampling.seed = 1
    server = xllamacpp.Server(params)
    sys.stdout.write(server.listening_address + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # until the fixture closes our stdin
    del server  # joins the server's threads


if __name__ == "__main__":
    main(sys.argv[1])
