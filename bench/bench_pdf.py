"""PDF loading throughput on real deliberations (montpellier-2014).

Run: .venv/bin/python bench/bench_pdf.py [FOLDER]
Prints pages/s and documents/s (wall and CPU), peak RSS, and writes bench/results/pdf.json.
"""

from __future__ import annotations

import json
import logging
import platform
import resource
import sys
import time
from pathlib import Path

from territoria.errors import IngestError
from territoria.ingest.loaders import load_path
from territoria.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = ROOT / ".." / "shared" / "data" / "docs" / "montpellier-2014"
TARGET_PAGES_PER_S = 20.0


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER
    files = sorted(folder.glob("*.pdf"))
    if not files:
        raise SystemExit(f"no PDF in {folder}")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # repaired xref tables are reported
    settings = Settings(parse_isolated=False)  # the parser itself: CPU time of this process
    pages = sections = characters = 0
    failures: dict[str, str] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    for path in files:
        try:
            for document in load_path(path, settings).documents:
                pages += document.pages or 0
                sections += len(document.sections)
                characters += sum(len(section.text) for section in document.sections)
        except IngestError as exc:
            failures[path.name] = exc.message
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "folder": str(folder.resolve()),
        "documents": len(files),
        "failed": failures,
        "pages": pages,
        "sections": sections,
        "characters": characters,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "pages_per_s_wall": round(pages / wall, 1),
        "pages_per_s_cpu": round(pages / cpu, 1),
        "documents_per_s_wall": round(len(files) / wall, 1),
        "documents_per_s_cpu": round(len(files) / cpu, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "target_pages_per_s": TARGET_PAGES_PER_S,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"{len(files)} PDF, {pages} pages, {len(failures)} failed, {sections} sections")
    print(
        f"wall {wall:.2f} s: {result['pages_per_s_wall']} pages/s, "
        f"{result['documents_per_s_wall']} documents/s"
    )
    print(
        f"cpu  {cpu:.2f} s: {result['pages_per_s_cpu']} pages/s, "
        f"{result['documents_per_s_cpu']} documents/s"
    )
    print(f"peak RSS {result['peak_rss_mb']} MB (target >= {TARGET_PAGES_PER_S} pages/s)")
    out = ROOT / "bench" / "results" / "pdf.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
