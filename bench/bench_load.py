"""Load on the HTTP API: N concurrent clients asking the demo questions for a fixed time.

Starts the web app on a free loopback port (uvicorn with --workers processes, 2 by default:
one per core of the reference machine; `--workers 1` runs `territoria serve`) over a home
holding the demo corpus indexed with the real default embedder, then runs an asyncio + httpx load
generator (closed loop: each client sends its next question as soon as it has an answer).
Bounded and local: it stops by itself after --seconds, talks to 127.0.0.1 only, and stops the
server. Rate limits are switched off for the run (they would answer 429 to one client
sending 20 requests at once, which is their job). Every request goes through `Runtime.ask`:
screening, search, answer, PII pseudonymisation of the question and an audit record.

    .venv/bin/python bench/bench_load.py [--clients 20] [--seconds 60] [--workers 2]

Writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from common import ROOT, write_result

DEMO = ROOT / "src" / "territoria" / "demo"
HOME = Path(os.environ.get("TERRITORIA_BENCH_HOME", "/tmp/territoria-bench")) / "load"


def questions() -> list[str]:
    lines = []
    for name in ("questions.jsonl", "out_of_scope.jsonl"):
        for line in (DEMO / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                lines.append(json.loads(line)["question"])
    return lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare_home(env: dict[str, str]) -> None:
    if (HOME / "territoria.sqlite3").exists():
        return
    shutil.rmtree(HOME, ignore_errors=True)
    print(f"indexing the demo corpus in {HOME} (default embedder)…", flush=True)
    subprocess.run(
        [sys.executable, "-m", "territoria", "demo", "--home", str(HOME), "--json"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped before answering")
        try:
            if httpx.get(f"{url}/api/collections", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise SystemExit("the server did not start in time")


async def client_loop(
    client: httpx.AsyncClient,
    items: list[str],
    offset: int,
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    n = offset
    while time.monotonic() < deadline:
        question = items[n % len(items)]
        n += 1
        start = time.perf_counter()
        try:
            response = await client.get("/api/ask", params={"q": question})
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
            continue
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            errors.append(str(response.status_code))
        else:
            latencies.append(elapsed)


async def run_load(url: str, clients: int, seconds: float) -> dict[str, object]:
    items = questions()
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as client:
        for _ in range(3):  # warm-up, not counted: every worker loads its models
            await asyncio.gather(
                *(client.get("/api/ask", params={"q": q}) for q in items[:clients])
            )
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(
                client_loop(client, items, i * 7, deadline, latencies, errors)
                for i in range(clients)
            )
        )
        wall = time.monotonic() - started
    values = np.asarray(latencies) if latencies else np.zeros(1)
    return {
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "throughput_rps": round(len(latencies) / wall, 2),
        "latency_ms": {
            "p50": round(float(np.percentile(values, 50)), 1),
            "p95": round(float(np.percentile(values, 95)), 1),
            "p99": round(float(np.percentile(values, 99)), 1),
            "max": round(float(values.max()), 1),
            "mean": round(float(values.mean()), 1),
        },
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes (1: `territoria serve`)"
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "TERRITORIA_RATE_PER_CLIENT": "0",
        "TERRITORIA_RATE_PER_TENANT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TERRITORIA_EMBEDDER", None)  # the real default embedder
    prepare_home(env)
    load_before = [round(x, 2) for x in os.getloadavg()]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if args.workers == 1:
        command = ["-m", "territoria", "serve", "--home", str(HOME), "--port", str(port)]
    else:
        env["TERRITORIA_HOME"] = str(HOME)
        command = [
            "-m", "uvicorn", "territoria.web.app:app_from_env", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
            "--log-level", "warning",
        ]  # fmt: skip
    server = subprocess.Popen([sys.executable, *command], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_ready(url, server)
        print(f"{args.clients} clients for {args.seconds:g} s on {url}…", flush=True)
        result = asyncio.run(run_load(url, args.clients, args.seconds))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    from territoria.settings import Settings

    result.update(
        {
            "endpoint": "GET /api/ask (demo questions, extractive, audited)",
            "clients": args.clients,
            "seconds": args.seconds,
            "embedder": Settings(home=HOME).embedder,
            "server": (
                "territoria serve: 1 uvicorn process"
                if args.workers == 1
                else f"uvicorn, {args.workers} worker processes (app_from_env)"
            ),
            "cpu_count": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "targets": {"errors": 0, "p95_ms": 300},
        }
    )
    lat = result["latency_ms"]
    assert isinstance(lat, dict)
    print(
        f"requests {result['requests']}, errors {result['errors']}, "
        f"{result['throughput_rps']} req/s, p50 {lat['p50']} ms, p95 {lat['p95']} ms, "
        f"p99 {lat['p99']} ms"
    )
    write_result("load", result)


if __name__ == "__main__":
    main()
