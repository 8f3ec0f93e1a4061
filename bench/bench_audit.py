"""Cost of one audit append with the anchor kept outside the database (finding 7).

    .venv/bin/python bench/bench_audit.py [--appends N] [--dir DIR]

Times `AuditLog.record` on a real SQLite file under DIR (default: the system temporary
folder) in three set-ups, each on a fresh home:

- `before`: what an append cost before the anchor (WAL, synchronous=NORMAL, no anchor);
- `anchor_normal`: the anchor checked and rewritten (fsync + rename) on every append, the
  database still at synchronous=NORMAL;
- `anchor_full` (what ships): the anchor, and the database at synchronous=FULL, so the anchor
  never names a commit that a power cut could take back.

Prints milliseconds per append (median, p95, mean) and writes bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import write_result
from territoria.audit import AuditLog
from territoria.audit.retention import read_head, rebuild_head
from territoria.settings import Settings
from territoria.store.database import Connection
from territoria.types import Access, Answer, Citation, Energy, Hit, Passage, Verification

ACCESS = Access(role="agent", tenant="bench")


@dataclass(frozen=True)
class Masked:
    text: str


class NoPII:
    """The pseudonymiser is not what is measured here."""

    def pseudonymize(self, text: str, *, tenant: str = "default") -> Masked:
        return Masked(text)


def answer() -> Answer:
    passages = [
        Passage(passage_id=f"p{i}", doc_id=f"d{i}", title=f"Doc {i}", text="Texte.")
        for i in range(10)
    ]
    return Answer(
        question="Quels sont les horaires de la mairie le samedi ?",
        answer="La mairie est ouverte le samedi de 9 h à 12 h. [1]",
        abstained=False,
        citations=(
            Citation(
                n=1, doc_id="d0", passage_id="p0", title="Doc 0", source="d0.md", quote="Texte."
            ),
        ),
        verification=Verification(method="extractive", sentences=1, supported=1),
        energy=Energy(wh=0.001, gco2e=0.00005, method="estimation"),
        latency_ms=20.0,
        mode="extractive",
        hits=tuple(Hit(p, score=1 / (i + 1)) for i, p in enumerate(passages)),
        confidence=0.8,
    )


class Before(AuditLog):
    """An append as it was before the anchor: one transaction, no anchor, NORMAL sync."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self._db.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._lock, self._db.transaction() as conn:
            read_head(conn) or rebuild_head(conn, self._sign_key, self._clock())
            yield conn


class AnchorNormal(AuditLog):
    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self._db.execute("PRAGMA synchronous=NORMAL")


def measure(kind: type[AuditLog], root: Path, appends: int) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix=f"audit-{kind.__name__}-", dir=root))
    settings = Settings(home=home, embedder="fake", title_embedder="fake")
    times = []
    with kind(settings, pii=NoPII()) as log:
        log.versions  # noqa: B018  (computed once, outside the timings)
        for _ in range(10):  # warm-up
            log.record(answer(), ACCESS)
        for _ in range(appends):
            start = time.perf_counter()
            log.record(answer(), ACCESS)
            times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        assert log.verify().ok
        verify_ms = (time.perf_counter() - start) * 1000
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "mean_ms": round(statistics.fmean(times), 3),
        "verify_ms": round(verify_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    results: dict[str, Any] = {
        "appends": args.appends,
        "dir": str(args.dir),
        "machine": platform.platform(),
    }
    for name, kind in (("before", Before), ("anchor_normal", AnchorNormal)):
        results[name] = measure(kind, args.dir, args.appends)
    results["anchor_full"] = measure(AuditLog, args.dir, args.appends)
    base = results["before"]["median_ms"]
    for name in ("before", "anchor_normal", "anchor_full"):
        r = results[name]
        extra = r["median_ms"] - base
        print(
            f"{name:14s} median {r['median_ms']:.3f} ms  p95 {r['p95_ms']:.3f} ms  "
            f"mean {r['mean_ms']:.3f} ms  (+{extra:.3f} ms)  verify {r['verify_ms']:.0f} ms "
            f"for {args.appends + 10} records"
        )
    write_result("audit", results)


if __name__ == "__main__":
    main()
