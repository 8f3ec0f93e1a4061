"""Parse files in a worker process, bounded in time and memory.

    run_bounded(limits, func, *args)   # func(*args), run in a worker; IngestError on overrun

A crafted file can hold a parser for minutes or make it allocate gigabytes (the audit's zip-bomb
DOCX: over 180 s and 1.5 GB). Each call runs in a long-lived worker process, a fresh Python
interpreter started for the purpose (never a fork of a threaded web server, which can deadlock;
and unlike multiprocessing's "spawn", it does not re-import the caller's main module, the whole
CLI or web app), one call at a time, over a socket pair:

- memory: before each call the worker lowers its own address-space limit (RLIMIT_AS, Linux) to
  what it maps now plus `memory_mb`; an allocation past it raises MemoryError in the worker;
- time: the caller waits at most `timeout_s` for the answer, then kills the worker (SIGKILL);
  the next call starts a fresh one;
- lifetime: the worker asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG). The
  kernel ties that signal to the *thread* that started the child, so each worker is started from
  a keeper thread that lives exactly as long as the worker; without prctl (not Linux) a thread in
  the worker watches the parent instead.

An overrun, a crash of the worker or an unexpected error of a parser reaches the caller as an
`IngestError` with a French reason, and the next file gets a working worker: one bad file never
stops a batch. Idle workers are kept in a per-process pool, so starting one (about 1 CPU-second,
mostly importing `territoria.ingest`) is paid once per process, not once per file; a round trip
to a warm worker is ~0.2 ms (bench/bench_parse_limits.py). A worker that grew past its memory
budget retires after its answer. At most `workers` (setting parse_workers) files of one process
are parsed at a time, whatever the number of threads asking (a web server's thread pool): the
others wait for a free turn, so parsing holds at most parse_workers x parse_memory_mb. Workers
write their logs and warnings to the inherited stderr.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, ParamSpec, TypeVar

from territoria.errors import IngestError, ParseLimitExceeded
from territoria.settings import Settings

__all__ = ["ParseLimits", "RemoteTraceback", "WorkerPool", "run_bounded"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
_MIB = 1024 * 1024
_PR_SET_PDEATHSIG = 1
_MAX_IDLE = 2  # idle workers kept (~100 MB resident each once the parsers are loaded)
_START_TIMEOUT_S = 120.0
_READY = b"ready"
_BOOT = "from territoria.ingest.worker import worker_main; worker_main()"


@dataclass(frozen=True)
class ParseLimits:
    """Bounds of one parse. The defaults are those of a default `Settings`."""

    timeout_s: float = 60.0
    memory_mb: int = 1024
    isolated: bool = True
    workers: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseLimits:
        return cls(
            settings.parse_timeout_s,
            settings.parse_memory_mb,
            settings.parse_isolated,
            settings.parse_workers,
        )


class RemoteTraceback(Exception):
    """The worker-side traceback, set as the cause of the error the caller gets."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n{self.text}"


def run_bounded(limits: ParseLimits, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`func(*args, **kwargs)` in a worker bounded by `limits` (in this process when
    `limits.isolated` is false). `func` and its arguments and result must pickle; `func` must be
    a module-level function. IngestErrors raised by `func` reach the caller as they are."""
    if not limits.isolated:
        return func(*args, **kwargs)
    return default_pool().call(limits, func, *args, **kwargs)


class WorkerPool:
    """Idle workers ready for the next call, shared by the threads of one process; at most
    `limits.workers` calls run at a time (the others wait for one to end)."""

    def __init__(self, max_idle: int = _MAX_IDLE) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._max_idle = max_idle
        self._busy = 0
        self._turn = threading.Condition()

    def call(
        self, limits: ParseLimits, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        request = pickle.dumps((func, args, kwargs, limits.memory_mb, _cwd()))
        with self._slot(limits.workers):
            return self._call(limits, request)  # type: ignore[no-any-return]

    @contextlib.contextmanager
    def _slot(self, workers: int) -> Iterator[None]:
        with self._turn:
            self._turn.wait_for(lambda: self._busy < workers)
            self._busy += 1
        try:
            yield
        finally:
            with self._turn:
                self._busy -= 1
                self._turn.notify_all()

    def _call(self, limits: ParseLimits, request: bytes) -> Any:
        worker = self._take()
        try:
            worker.send(request)
        except OSError:  # it died while idle (killed from outside): start a fresh one
            worker.close()
            worker = _Worker()
            worker.send(request)
        try:
            return worker.answer(limits)
        finally:
            self._give(worker)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.close()
        return _Worker()

    def _give(self, worker: _Worker) -> None:
        if worker.reusable and worker.alive():
            with self._lock:
                if len(self._idle) < self._max_idle:
                    self._idle.append(worker)
                    return
        worker.close()


_pool: WorkerPool | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """This process's pool, made on first use (a forked child gets its own)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool, _pool_pid = WorkerPool(), os.getpid()
            atexit.register(_pool.close)
        return _pool


class _Worker:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self._conn = Connection(ours.detach())
        self._process: subprocess.Popen[bytes] | None = None
        self.reusable = True
        started = threading.Event()
        failure: list[OSError] = []
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}

        def keep() -> None:  # the kernel's parent-death signal follows this thread
            try:
                self._process = subprocess.Popen(
                    [sys.executable, "-c", _BOOT, str(theirs.fileno()), str(os.getpid())],
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    env=env,
                )
            except OSError as exc:  # reported to the starting thread just below
                failure.append(exc)
                return
            finally:
                started.set()
            # Wait for its end without reaping it (Popen's own wait would hold its lock).
            with contextlib.suppress(ChildProcessError):  # already ended and reaped
                os.waitid(os.P_PID, self._process.pid, os.WEXITED | os.WNOWAIT)

        threading.Thread(target=keep, name="territoria-parse-keeper", daemon=True).start()
        started.wait()
        theirs.close()
        if failure:
            self._conn.close()
            raise failure[0]
        # Wait until it is ready, so that a file's time budget is not spent starting Python.
        try:
            ready = self._conn.poll(_START_TIMEOUT_S) and self._conn.recv_bytes() == _READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.close()
            raise IngestError("lecture impossible : le processus de lecture n'a pas démarré")

    @property
    def pid(self) -> int:
        return self._process.pid if self._process is not None else 0

    def alive(self) -> bool:
        return not self._conn.closed and self._process is not None and self._process.poll() is None

    def send(self, request: bytes) -> None:
        self._conn.send_bytes(request)

    def answer(self, limits: ParseLimits) -> Any:
        """The call's result; raises IngestError. `reusable` says whether the worker may serve
        the next call."""
        self.reusable = False
        if not self._conn.poll(limits.timeout_s):
            self.close()
            raise ParseLimitExceeded(
                f"lecture interrompue : fichier toujours en cours de lecture après "
                f"{limits.timeout_s:g} s (limite TERRITORIA_PARSE_TIMEOUT_S)"
            )
        try:
            status, payload, remote, retire = pickle.loads(self._conn.recv_bytes())
        except (EOFError, OSError):
            code = self._end()
            raise ParseLimitExceeded(
                f"lecture interrompue : le processus de lecture s'est arrêté ({_exit_text(code)})"
            ) from None
        self.reusable = not retire
        if status == "ok":
            return payload
        if status == "memory":
            error: IngestError = ParseLimitExceeded(
                f"lecture interrompue : le fichier demande plus de {limits.memory_mb} Mo de "
                "mémoire (limite TERRITORIA_PARSE_MEMORY_MB)"
            )
        elif status == "error":
            error = payload
        else:
            log.error("parse worker: unexpected %s\n%s", payload, remote)
            error = IngestError(f"lecture impossible : erreur inattendue du lecteur ({payload})")
        error.__cause__ = RemoteTraceback(remote) if remote else None
        raise error

    def close(self) -> None:
        """Stop the worker now (it may be in the middle of a parse)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        self._end()

    def _end(self) -> int | None:
        self._conn.close()
        if self._process is None:
            return None
        try:
            return self._process.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignored
            return None


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the caller's working directory was removed
        return None


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


# --- the worker side -----------------------------------------------------------------------


def worker_main() -> None:
    """Entry point of a worker process: `python -c ... FD PARENT_PID`."""
    fd, parent_pid = int(sys.argv[1]), int(sys.argv[2])
    _serve(Connection(fd), parent_pid)


def _serve(conn: Connection, parent_pid: int) -> None:
    """Worker main loop: one request, one answer, until the parent closes the connection."""
    _exit_with_parent(parent_pid)
    baseline = _address_space()
    conn.send_bytes(_READY)
    while True:
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return
        status, payload, remote, memory_mb = _handle(request)
        # After a memory overrun or a crash, or once it holds more than one file's budget, the
        # worker retires: the next call gets a fresh one.
        retire = status in ("memory", "crash") or (_address_space() - baseline > memory_mb * _MIB)
        try:
            conn.send_bytes(pickle.dumps((status, payload, remote, retire)))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            text = traceback.format_exc()
            conn.send_bytes(pickle.dumps(("crash", type(exc).__name__, text, True)))
            retire = True
        if retire:
            return


def _handle(request: bytes) -> tuple[str, Any, str, int]:
    """(status, payload, worker traceback, memory budget in MiB) for one request."""
    memory_mb = 0
    try:
        func, args, kwargs, memory_mb, cwd = pickle.loads(request)
        if cwd is not None and cwd != os.getcwd():  # relative paths mean what they mean there
            os.chdir(cwd)
        with _memory_bound(memory_mb):
            return "ok", func(*args, **kwargs), "", memory_mb
    except IngestError as exc:
        return "error", exc, traceback.format_exc(), memory_mb
    except MemoryError:
        return "memory", None, "", memory_mb
    # The process boundary: anything else is a parser bug or an unforeseen library error; it
    # is sent to the caller, who logs it and reports the file as failed.
    except Exception as exc:
        return "crash", type(exc).__name__, traceback.format_exc(), memory_mb


@contextlib.contextmanager
def _memory_bound(memory_mb: int) -> Iterator[None]:
    """Lower RLIMIT_AS to the current address space plus `memory_mb` (Linux), then restore."""
    current = _address_space()
    if current <= 0:
        yield
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + memory_mb * _MIB
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int:
    """Bytes of address space this process maps now (Linux); 0 where unknown."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _exit_with_parent(parent_pid: int) -> None:
    if not _parent_death_signal():
        watch = threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True)
        watch.start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent thread ends; False if unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return False
    prctl.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
    prctl.restype = ctypes.c_int
    return bool(prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)
