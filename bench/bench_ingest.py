"""Full ingestion of the 5,475-doc corpus (service-public + travail-emploi), lexical first.

Times, from the start of the ingestion:
- `lexical_s`: documents read, chunked, stored, and the index built and saved without
  vectors: the corpus is searchable (target <= 60 s on 2 quiet cores);
- `vectors`: every passage and title vector computed by the embedding job (target <= 10 min
  on 2 quiet cores), with its CPU-seconds (the machine is shared: wall time is noisy).
Also peak RSS. Writes bench/results/ingest.json. The home it builds
($TERRITORIA_BENCH_HOME/corpus) is reused by bench_answers.py and bench_search.py.

    .venv/bin/python bench/bench_ingest.py [--embedder use]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

from common import BENCH_HOME, CORPUS, peak_rss_mb, progress, write_result
from territoria.ingest import ingest_paths
from territoria.runtime import Runtime
from territoria.settings import Settings


def cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default=None, help="default: the Settings default")
    args = parser.parse_args()
    home = BENCH_HOME / "corpus"
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home, **({"embedder": args.embedder} if args.embedder else {}))
    runtime = Runtime(settings)

    t0, c0 = time.perf_counter(), cpu_s()
    report = ingest_paths(CORPUS, settings=settings, store=runtime.store, progress=None)
    t_read, c_read = time.perf_counter() - t0, cpu_s() - c0
    index = runtime.retriever.refresh(vectors="none")
    t_lexical, c_lexical = time.perf_counter() - t0, cpu_s() - c0
    print(f"searchable lexically after {t_lexical:.1f} s ({c_lexical:.1f} CPU-s)", flush=True)
    t1, c1 = time.perf_counter(), cpu_s()
    embedded = runtime.retriever.fill_vectors(progress=progress("vectors"))
    t_embed, c_embed = time.perf_counter() - t1, cpu_s() - c1
    status = runtime.retriever.vector_status()
    t2 = time.perf_counter()
    runtime.assistant.thresholds.calibrations()
    t_calibrate = time.perf_counter() - t2
    runtime.close()

    result = {
        "embedder": settings.embedder,
        "title_embedder": settings.title_embedder,
        "documents": report.ingested,
        "failed": len(report.failed),
        "passages": len(index),
        "texts_embedded": embedded,
        "complete": status["complete"],
        "seconds": {
            "read_chunk_store": round(t_read, 1),
            "lexical": round(t_lexical, 1),
            "vectors": round(t_embed, 1),
            "calibration": round(t_calibrate, 1),
            "total": round(time.perf_counter() - t0, 1),
        },
        "cpu_seconds": {
            "read_chunk_store": round(c_read, 1),
            "lexical": round(c_lexical, 1),
            "vectors": round(c_embed, 1),
        },
        "texts_per_cpu_s": round(embedded / c_embed, 1) if c_embed else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "targets": {"lexical_s_max": 60, "vectors_s_max": 600, "peak_rss_mb_max": 2048},
    }
    print(
        f"{report.ingested} documents, {len(index)} passages: searchable lexically after "
        f"{t_lexical:.1f} s ({c_lexical:.1f} CPU-s; target <= 60 s), {embedded} vectors in "
        f"{t_embed:.1f} s ({c_embed:.1f} CPU-s; target <= 600 s on quiet cores); "
        f"peak RSS {result['peak_rss_mb']} MB; load average {result['load_average_1min']}"
    )
    write_result("ingest", result)


if __name__ == "__main__":
    main()
