"""Readiness: whether the server can answer questions yet.

A server is ready once `Runtime.warm_up` has loaded what a question needs (store, index, models,
PII guard, audit log) and run one question through the real path. Until then the question
routes answer 503 with `Retry-After` and a French message, and `GET /readyz` says what is
loaded; `GET /healthz` only says that the process answers.

Two ways to warm up (setting `warm_up`): "before" loads during the application's start-up, so a
single server process (`territoria serve`, or uvicorn) listens only once it is ready; under
`uvicorn --workers N` a worker still loading takes no connection while another is ready.
"background" listens at once and loads in a thread: every request gets an answer at once,
503 while loading (for a load balancer that probes `/readyz`).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from typing import Any

from territoria.errors import StoreError, TerritoriaError, storage_error
from territoria.runtime import Runtime

log = logging.getLogger("territoria.web")

RETRY_AFTER_S = 5.0
RETRY_FAILED_S = 30.0  # a failed warm-up is tried again on a question after this long
LOADING = (
    "Le service démarre : l'index et les modèles sont en cours de chargement. "
    "Réessayez dans quelques secondes."
)
FAILED = "Le service ne peut pas répondre aux questions : {why}"


class NotReady(TerritoriaError):
    """A question arrived before the server is ready (HTTP 503 with Retry-After)."""

    status = 503

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Readiness:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        self._failed_at = 0.0
        self.report: dict[str, Any] | None = None
        self.error: TerritoriaError | None = None

    @property
    def ready(self) -> bool:
        return self.report is not None

    def run(self) -> dict[str, Any]:
        """Warm up now (once); raise the French error when it fails."""
        with self._lock:
            if self.report is not None:
                return self.report
            try:
                try:
                    report = self._runtime.warm_up()
                except (OSError, sqlite3.Error) as exc:
                    raise storage_error(exc) or StoreError(
                        f"Chargement impossible : {exc}"
                    ) from exc
            except TerritoriaError as exc:
                self.error = exc
                self._failed_at = time.monotonic()
                log.error("warm-up failed: %s", exc.message)
                raise
            self.error = None
            self.report = report
            log.info("ready in %.1f s: %s", report.get("warm_up_s", 0.0), report)
            return report

    def start(self) -> None:
        """Warm up in a background thread (errors are kept in `error` and shown on /readyz)."""
        if self.report is not None or (self._thread is not None and self._thread.is_alive()):
            return

        def work() -> None:
            with contextlib.suppress(TerritoriaError):  # kept in self.error, logged by run()
                self.run()

        self._thread = threading.Thread(target=work, name="territoria-warm-up", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background warm-up to end; True when ready."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.ready

    def require(self) -> None:
        """Raise NotReady (503) until the server is ready."""
        if self.report is not None:
            return
        if self.error is not None:
            if time.monotonic() - self._failed_at > RETRY_FAILED_S:
                self.start()  # the cause may be gone (disk space freed, database restored)
            raise NotReady(FAILED.format(why=self.error.public), RETRY_FAILED_S)
        raise NotReady(LOADING, RETRY_AFTER_S)

    def status(self) -> dict[str, Any]:
        """What /readyz shows."""
        return {
            "ready": self.ready,
            "status": "prêt" if self.ready else ("échec" if self.error else "chargement"),
            "loaded": self.report or self._runtime.loaded(),
            "error": self.error.public if self.error else None,
            "uptime_s": round(time.monotonic() - self._started, 1),
        }
