"""Energy and carbon of one request, estimated from CPU time (no RAPL counters here).

E = PUE x (CPU-seconds x W per busy thread + wall-seconds x static W / concurrency)
gCO2e = E (kWh) x grid factor. Every factor lives in Settings with its source; the range
reported spans half to twice the per-thread power, the largest uncertainty of the method.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from territoria.french_numbers import french, number
from territoria.settings import Settings
from territoria.types import Answer, Energy


def _g(value: float) -> str:
    return french(format(value, "g"))


def estimate(settings: Settings, cpu_seconds: float, wall_seconds: float) -> Energy:
    def wh(watts_per_thread: float) -> float:
        static_share = settings.static_watts / max(settings.static_share_concurrency, 1.0)
        joules = settings.pue * (cpu_seconds * watts_per_thread + wall_seconds * static_share)
        return joules / 3600.0

    central = wh(settings.watts_per_thread)
    method = (
        f"estimation : {number(cpu_seconds * 1000, 1)} ms de CPU x "
        f"{_g(settings.watts_per_thread)} W par thread actif + part statique "
        f"({_g(settings.static_watts)} W / {_g(settings.static_share_concurrency)} requêtes), "
        f"x PUE {_g(settings.pue)} ; mix électrique français "
        f"{_g(settings.grid_gco2e_per_kwh)} gCO2e/kWh"
    )
    return Energy(
        wh=central,
        gco2e=central / 1000.0 * settings.grid_gco2e_per_kwh,
        method=method,
        wh_low=wh(settings.watts_per_thread / 2),
        wh_high=wh(settings.watts_per_thread * 2),
        cpu_seconds=cpu_seconds,
    )


@dataclass
class Meter:
    """Measures the CPU time of the calling thread and the wall time of a block.

    Thread CPU time keeps concurrent requests of a threaded server apart; work done by
    numerical libraries on helper threads is not counted (embedders run with 1 thread).
    """

    settings: Settings
    _cpu0: float = field(default=0.0, init=False)
    _wall0: float = field(default=0.0, init=False)

    def __enter__(self) -> Meter:
        self._cpu0 = time.thread_time()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._wall0) * 1000.0

    def energy(self) -> Energy:
        return estimate(
            self.settings, time.thread_time() - self._cpu0, time.perf_counter() - self._wall0
        )

    def stamp(self, answer: Answer) -> Answer:
        """`answer` with the energy and latency measured so far."""
        return replace(answer, energy=self.energy(), latency_ms=self.elapsed_ms)
