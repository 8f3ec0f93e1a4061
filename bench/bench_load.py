"""Load on the HTTP API: N concurrent clients asking the demo questions for a fixed time,
then the same load with the server killed (SIGKILL) and restarted mid-run.

Starts the web app on a free loopback port (uvicorn with --workers processes, 2 by default:
one per core of the reference machine; `--workers 1` runs `territoria serve`) over a home
holding the demo corpus indexed with the real default embedders, then runs an asyncio + httpx
load generator (closed loop: each client sends its next question as soon as it has an answer).
Bounded and local: it stops by itself, talks to 127.0.0.1 only, and stops the server. Rate
limits are switched off for the run (they would answer 429 to one client sending 20 requests at
once, which is their job). Every request goes through `Runtime.ask`: screening, search, answer,
PII pseudonymisation of the question and an audit record.

Restart scenario: at --restart-at seconds the server's process group is killed and a new server
started. A client whose question fails polls GET /readyz until it answers 200, then goes on;
its failures are counted by when the question was sent: before the kill (lost with the killed
process), after the kill but before that client saw /readyz 200 (the restart), and after it
saw ready (the target: 0).

    .venv/bin/python bench/bench_load.py [--clients 20] [--seconds 60] [--workers 2]
        [--scenario steady|restart|both] [--restart-at S] [--name load]

Prints p95, throughput, errors and the server's CPU seconds; writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil

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


# Earlier rounds: the first two on a quiet machine, the last (issue 8) at load average 1.75.
PREVIOUS = {
    "errors": 0,
    "throughput_rps": [81, 88, 37.75],
    "p95_ms": [358, 483, 947],
    "server_cpu_ms_per_request": [None, None, 49.8],
}


class Server:
    """The server under test, as a process group (uvicorn's workers die with it)."""

    def __init__(self, command: list[str], env: dict[str, str], url: str) -> None:
        self.command, self.env, self.url = command, env, url
        self.proc: subprocess.Popen[bytes] | None = None
        self.cpu_s = 0.0  # CPU seconds of the processes already stopped

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *self.command],
            env=self.env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )

    def tree_cpu_s(self) -> float:
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        try:
            root = psutil.Process(self.proc.pid)
            total = 0.0
            for proc in [root, *root.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
            return total
        except psutil.Error:
            return 0.0

    def cpu_seconds(self) -> float:
        return round(self.cpu_s + self.tree_cpu_s(), 1)

    def kill(self) -> None:
        """SIGKILL to the whole group: what a crash or an OOM kill does."""
        assert self.proc is not None
        self.cpu_s += self.tree_cpu_s()
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.wait_port_free()

    def wait_port_free(self, timeout: float = 30.0) -> None:
        """Until the killed group's workers have let the port go: on a loaded machine they exit
        after the root, and a new server started at once fails with "Address already in use"
        (what a supervisor restarting the service would retry)."""
        port = int(self.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
                try:
                    probe.bind(("127.0.0.1", port))
                    return
                except OSError:
                    time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.cpu_s += self.tree_cpu_s()
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def wait_ready(self, timeout: float = 300.0) -> float:
        """Poll /readyz until 200; return the seconds it took."""
        started = time.monotonic()
        while time.monotonic() < started + timeout:
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit("the server stopped before it was ready")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2.0).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit("the server was not ready in time")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # failures with no restart involved
    lost_at_kill: list[str] = field(default_factory=list)
    before_ready: list[str] = field(default_factory=list)
    after_ready: list[str] = field(default_factory=list)
    kill_at: float | None = None
    ready_again_at: float | None = None  # first /readyz 200 a client saw after the kill
    first_answer_after_kill: float | None = None

    def failed(self, sent: float, kind: str, ready_seen: float) -> None:
        if self.kill_at is None or sent < self.kill_at:
            (self.lost_at_kill if self.kill_at is not None else self.errors).append(kind)
        elif ready_seen > self.kill_at:
            self.after_ready.append(kind)
        else:
            self.before_ready.append(kind)


async def poll_ready(client: httpx.AsyncClient, deadline: float) -> bool:
    """Poll /readyz until it answers 200 (True) or the run ends (False)."""
    while time.monotonic() < deadline:
        try:
            if (await client.get("/readyz", timeout=2.0)).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    return False


async def client_loop(
    client: httpx.AsyncClient, items: list[str], offset: int, deadline: float, tally: Tally
) -> None:
    n = offset
    ready_seen = time.monotonic()  # the run starts once the server is ready
    while time.monotonic() < deadline:
        question = items[n % len(items)]
        n += 1
        sent = time.monotonic()
        try:
            response = await client.post("/api/ask", json={"question": question})
            kind = "" if response.status_code == 200 else str(response.status_code)
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
        if not kind:
            tally.latencies.append((time.monotonic() - sent) * 1000)
            kill_at = tally.kill_at
            if kill_at is not None and tally.first_answer_after_kill is None and sent > kill_at:
                tally.first_answer_after_kill = time.monotonic()
            continue
        tally.failed(sent, kind, ready_seen)
        if not await poll_ready(client, deadline):
            break
        ready_seen = time.monotonic()
        if tally.kill_at is not None and tally.ready_again_at is None:
            tally.ready_again_at = ready_seen


async def run_load(
    server: Server, clients: int, seconds: float, restart_at: float | None
) -> dict[str, object]:
    items = questions()
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0, limits=limits) as client:
        for _ in range(3):  # warm-up, not counted (the server is ready: this fills caches)
            await asyncio.gather(
                *(client.post("/api/ask", json={"question": q}) for q in items[:clients])
            )
        cpu_before = server.cpu_seconds()
        started = time.monotonic()
        deadline = started + seconds

        async def restart() -> None:
            assert restart_at is not None
            await asyncio.sleep(restart_at)
            tally.kill_at = time.monotonic()
            await asyncio.to_thread(server.kill)
            await asyncio.to_thread(server.start)

        tasks = [client_loop(client, items, i * 7, deadline, tally) for i in range(clients)]
        if restart_at is not None:
            tasks.append(restart())
        await asyncio.gather(*tasks)
        wall = time.monotonic() - started
        cpu = server.cpu_seconds() - cpu_before
    values = np.asarray(tally.latencies) if tally.latencies else np.zeros(1)
    result: dict[str, object] = {
        "requests": len(tally.latencies) + len(tally.errors),
        "errors": len(tally.errors),
        "error_kinds": sorted(set(tally.errors)),
        "throughput_rps": round(len(tally.latencies) / wall, 2),
        "latency_ms": {
            "p50": round(float(np.percentile(values, 50)), 1),
            "p95": round(float(np.percentile(values, 95)), 1),
            "p99": round(float(np.percentile(values, 99)), 1),
            "max": round(float(values.max()), 1),
            "mean": round(float(values.mean()), 1),
        },
        "wall_s": round(wall, 1),
        "server_cpu_s": round(cpu, 1),
        # CPU per answered request: the figure a loaded machine changes least.
        "server_cpu_ms_per_request": round(1000 * cpu / max(1, len(tally.latencies)), 1),
    }
    if restart_at is not None and tally.kill_at is not None:
        result["restart"] = {
            "killed_at_s": round(tally.kill_at - started, 1),
            "ready_again_after_s": (
                round(tally.ready_again_at - tally.kill_at, 1) if tally.ready_again_at else None
            ),
            "first_answer_after_s": (
                round(tally.first_answer_after_kill - tally.kill_at, 1)
                if tally.first_answer_after_kill
                else None
            ),
            "lost_with_the_killed_process": len(tally.lost_at_kill),
            "failed_before_ready": len(tally.before_ready),
            "failed_after_ready": len(tally.after_ready),
            "failure_kinds": sorted(
                set(tally.lost_at_kill + tally.before_ready + tally.after_ready)
            ),
        }
    return result


def describe(result: dict[str, object], label: str) -> None:
    lat = result["latency_ms"]
    assert isinstance(lat, dict)
    print(
        f"{label}: requests {result['requests']}, errors {result['errors']}, "
        f"{result['throughput_rps']} req/s, p50 {lat['p50']} ms, p95 {lat['p95']} ms, "
        f"p99 {lat['p99']} ms, server CPU {result['server_cpu_s']} s "
        f"({result['server_cpu_ms_per_request']} ms per request), wall {result['wall_s']} s"
    )
    restart = result.get("restart")
    if isinstance(restart, dict):
        print(
            f"  restart: killed at {restart['killed_at_s']} s, ready again after "
            f"{restart['ready_again_after_s']} s, first answer after "
            f"{restart['first_answer_after_s']} s; failed: "
            f"{restart['lost_with_the_killed_process']} in flight at the kill, "
            f"{restart['failed_before_ready']} before ready, "
            f"{restart['failed_after_ready']} after ready (target 0)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes (1: `territoria serve`)"
    )
    parser.add_argument(
        "--scenario", choices=("steady", "restart", "both"), default="both", help="what to run"
    )
    parser.add_argument(
        "--restart-at", type=float, default=None, help="seconds into the restart run (half)"
    )
    parser.add_argument(
        "--name", default="load", help="result file bench/results/NAME.json (default: load)"
    )
    parser.add_argument(
        "--ready-timeout", type=float, default=300.0, help="seconds to wait for the first start"
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "TERRITORIA_RATE_PER_CLIENT": "0",
        "TERRITORIA_RATE_PER_TENANT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TERRITORIA_EMBEDDER", None)  # the real default embedders
    env.pop("TERRITORIA_TITLE_EMBEDDER", None)
    env.pop("TERRITORIA_WARM_UP", None)  # the default: loaded before taking connections
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
    runs: dict[str, dict[str, object]] = {}
    scenarios = ["steady", "restart"] if args.scenario == "both" else [args.scenario]
    for scenario in scenarios:
        server = Server(command, env, url)
        server.start()
        try:
            startup = server.wait_ready(args.ready_timeout)
            print(f"{scenario}: ready in {startup:.1f} s; {args.clients} clients for "
                  f"{args.seconds:g} s on {url}…", flush=True)  # fmt: skip
            restart_at = (args.restart_at or args.seconds / 2) if scenario == "restart" else None
            result = asyncio.run(run_load(server, args.clients, args.seconds, restart_at))
            result["startup_s"] = round(startup, 1)
        finally:
            server.stop()
        runs[scenario] = result
        describe(result, scenario)
    from territoria.settings import Settings

    settings = Settings(home=HOME)
    main_run = runs.get("steady") or runs["restart"]
    output: dict[str, object] = {
        **main_run,
        "endpoint": "POST /api/ask (demo questions, extractive, audited)",
        "clients": args.clients,
        "seconds": args.seconds,
        "embedder": settings.embedder,
        "title_embedder": settings.title_embedder,
        "server": (
            "territoria serve: 1 uvicorn process"
            if args.workers == 1
            else f"uvicorn, {args.workers} worker processes (app_from_env)"
        ),
        "warm_up": settings.warm_up,
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "targets": {"errors": 0, "p95_ms": 300, "failed_after_ready": 0},
        "previous": PREVIOUS,
        "runs": runs,
    }
    write_result(args.name, output)


if __name__ == "__main__":
    main()
