"""Vectors of the passages and titles: what each encodes, the cache, and the embedding job.

Vectors are cached in the store by model name and a hash of the embedded text, so an
unchanged passage is never embedded twice and vectors of different models never mix: a
model is asked only for the vectors stored under its own name, and the index is rebuilt
whenever the embedder settings change (`INDEX_SETTINGS`).

Documents are searchable lexically as soon as they are stored; their vectors are computed
afterwards by one embedding job at a time per index (a file lock, `vectors.lock`), which
stores each batch as soon as it is computed and writes its progress to `vectors.json` beside
the index (read by `territoria index status` and the admin page of any process). A job that
is stopped (Ctrl-C, a killed server) loses at most one batch: the next job goes on from there.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Literal

from filelock import FileLock, Timeout

from territoria.embed import Embedder
from territoria.settings import Settings
from territoria.store import Store
from territoria.types import Passage

Progress = Callable[[int, int, str], None]
State = Literal["running", "done", "stopped"]

EMBED_BATCH = 64
PROGRESS_FILE = "vectors.json"
LOCK_FILE = "vectors.lock"


def embedding_text(passage: Passage) -> str:
    """What a passage vector encodes: its title, heading path and text."""
    parts = [passage.title, passage.heading_path, passage.text]
    return "\n".join(p for p in parts if p)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def vector_key(passage: Passage) -> str:
    return text_key(embedding_text(passage))


def missing_texts(store: Store, embedder: Embedder, texts: dict[str, str]) -> dict[str, str]:
    """The texts (by key) that have no cached vector of this model yet."""
    cached = store.get_vectors(embedder.name, texts)
    return {k: t for k, t in texts.items() if k not in cached}


def embed_texts(
    store: Store, embedder: Embedder, texts: dict[str, str], progress: Progress | None = None
) -> int:
    """Embed `texts` in batches, each batch stored as soon as it is computed."""
    items = list(texts.items())
    for start in range(0, len(items), EMBED_BATCH):
        batch = items[start : start + EMBED_BATCH]
        vectors = embedder.embed_passages([t for _, t in batch])
        store.put_vectors(embedder.name, {k: v for (k, _), v in zip(batch, vectors, strict=True)})
        if progress:
            done = min(start + EMBED_BATCH, len(items))
            progress(done, len(items), f"vecteurs {embedder.name}")
    return len(items)


@dataclass(frozen=True)
class VectorProgress:
    """The last embedding job of an index, as written to `vectors.json`."""

    state: State
    done: int
    total: int
    models: tuple[str, ...]
    pid: int
    started: float  # epoch seconds
    updated: float
    cpu_s: float

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0

    @property
    def running(self) -> bool:
        """Running, and its process alive (a killed job leaves "running" behind)."""
        return self.state == "running" and _alive(self.pid)

    def to_json(self) -> dict[str, object]:
        return {
            **asdict(self),
            "models": list(self.models),
            "running": self.running,
            "percent": round(self.percent, 1),
        }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_progress(index_dir: Path) -> VectorProgress | None:
    try:
        data = json.loads((index_dir / PROGRESS_FILE).read_text(encoding="utf-8"))
        data["models"] = tuple(data.get("models", ()))
        return VectorProgress(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_progress(index_dir: Path, progress: VectorProgress) -> None:
    """Atomically (a reader never sees half a file)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".{PROGRESS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(asdict(progress)), encoding="utf-8")
    os.replace(tmp, index_dir / PROGRESS_FILE)


def embedding_lock(index_dir: Path) -> FileLock | None:
    """The index's embedding lock, held by this process; None when another process holds it
    (it is embedding: leave the work to it)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


class Job:
    """Progress of one embedding job: written to `vectors.json` at most every second, and
    passed on to a progress callback (the CLI's progress line)."""

    def __init__(
        self, index_dir: Path, models: tuple[str, ...], total: int, show: Progress | None
    ) -> None:
        self.index_dir = index_dir
        self.models = models
        self.total = total
        self.show = show
        self.done = 0
        self.started = time.time()
        self._cpu = time.process_time()
        self._written = 0.0

    def _write(self, state: State) -> None:
        write_progress(
            self.index_dir,
            VectorProgress(
                state=state,
                done=self.done,
                total=self.total,
                models=self.models,
                pid=os.getpid(),
                started=self.started,
                updated=time.time(),
                cpu_s=round(time.process_time() - self._cpu, 2),
            ),
        )
        self._written = time.monotonic()

    def start(self) -> None:
        self._write("running")

    def advance(self, n: int, item: str) -> None:
        self.done += n
        if time.monotonic() - self._written >= 1.0:
            self._write("running")
        if self.show:
            self.show(self.done, self.total, item)

    def end(self, state: State) -> None:
        self._write(state)


_PARENT_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def exit_with_parent(parent: int) -> None:
    """In a child process: exit as soon as the process `parent` is gone, even when it was
    killed (SIGKILL gives it no chance to stop its children). On Linux the kernel sends
    SIGKILL when the parent dies (PR_SET_PDEATHSIG: strictly, when the parent's thread that
    started the child ends); everywhere, a daemon thread also watches for the child being
    re-parented (it runs between the model's batches)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the thread below still watches
            pass
    if os.getppid() != parent:  # the parent died before we could watch it
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="territoria-parent-watch", daemon=True).start()


def _fill_in_child(settings: Settings, parent: int) -> None:
    """Runs in a spawned process: its own store and models; it exits with `parent`."""
    from territoria.embed import make_embedder
    from territoria.search import Retriever
    from territoria.store import open_store

    exit_with_parent(parent)
    store = open_store(settings)
    try:
        embedder = make_embedder(settings)
        titles = (
            embedder
            if settings.title_embedder == settings.embedder
            else make_embedder(settings, settings.title_embedder)
        )
        Retriever(settings, store, embedder, titles).fill_vectors()
    finally:
        store.close()


class BackgroundVectors:
    """Computes an index's missing vectors in a child process (the models hold the GIL: a
    thread would slow every request), one job at a time. The process is started by a thread
    of its own that lives as long as the server: a child is killed when the thread that
    started it ends (`exit_with_parent`), and request threads come and go."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._wanted = threading.Event()
        self._process: BaseProcess | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self) -> None:
        """Ask for a job (one more after the running one, if any)."""
        with self._lock:
            if self._closed:
                return
            self._wanted.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="territoria-vectors", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        context = multiprocessing.get_context("spawn")
        while not self._closed:
            if not self._wanted.wait(timeout=1.0):
                continue
            self._wanted.clear()
            process = context.Process(
                target=_fill_in_child,
                args=(self.settings, os.getpid()),
                name="territoria-vectors",
                daemon=True,
            )
            process.start()
            self._process = process
            process.join()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the job (at most one batch is lost: the next job goes on from there)."""
        with self._lock:
            self._closed = True
            self._wanted.set()
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
