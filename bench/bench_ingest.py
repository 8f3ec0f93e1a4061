"""Full ingestion of the 5,475-doc corpus (service-public + travail-emploi) with embeddings.

Prints documents/s, passages/s, the time of each phase and peak RSS; writes
bench/results/ingest.json. The home it builds (TERRITORIA_BENCH_HOME, default
/tmp/territoria-bench/corpus) is reused by bench_answers.py.

    .venv/bin/python bench/bench_ingest.py [--embedder use]
"""

from __future__ import annotations

import argparse
import shutil
import time

from common import BENCH_HOME, CORPUS, peak_rss_mb, progress, write_result
from territoria.ingest import ingest_paths
from territoria.runtime import Runtime
from territoria.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default=None, help="default: the Settings default")
    args = parser.parse_args()
    home = BENCH_HOME / "corpus"
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home, **({"embedder": args.embedder} if args.embedder else {}))
    runtime = Runtime(settings)

    t0 = time.perf_counter()
    c0 = time.process_time()
    report = ingest_paths(CORPUS, settings=settings, store=runtime.store, progress=None)
    t_read = time.perf_counter() - t0
    passages = sum(d.n_passages for d in runtime.store.list_documents())
    t1 = time.perf_counter()
    embedded = runtime.retriever.fill_vectors(progress=progress("vectors"))
    t_embed = time.perf_counter() - t1
    t2 = time.perf_counter()
    runtime.retriever.refresh()
    t_index = time.perf_counter() - t2
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    runtime.close()

    result = {
        "embedder": settings.embedder,
        "documents": report.ingested,
        "failed": len(report.failed),
        "passages": passages,
        "embedded": embedded,
        "seconds": {
            "load_chunk_store": round(t_read, 1),
            "embed": round(t_embed, 1),
            "index": round(t_index, 1),
            "total": round(total, 1),
            "cpu": round(cpu, 1),
        },
        "documents_per_s": round(report.ingested / t_read, 1),
        "passages_per_s_before_embedding": round(passages / t_read, 1),
        "passages_per_s_overall": round(passages / total, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "targets": {"total_seconds_max": 600, "peak_rss_mb_max": 2048},
    }
    print(
        f"{report.ingested} documents, {passages} passages: read+chunk+store {t_read:.1f} s, "
        f"embed {t_embed:.1f} s, index {t_index:.1f} s, total {total:.1f} s "
        f"(target <= 600 s); peak RSS {result['peak_rss_mb']} MB (target <= 2048)"
    )
    write_result("ingest", result)


if __name__ == "__main__":
    main()
