"""Benchmark of the prompt-injection screen (territoria.guard.injection).

    .venv/bin/python bench/bench_injection.py [--corpus PATH] [--words 120]

Prints and writes to bench/results/injection.json:
- detection on the hostile corpus tests/data/hostile/attacks/ (a document counts as detected
  when any of its parts is flagged: ~120-word passages of its text, PDF/DOCX metadata
  values, DOCX table cells; raw HTML goes through `screen_html`), and on the held-out rounds
  of tests/data/hostile/heldout/ (round 6 was never tuned on: the honest figure for phrasings
  the rules were not written for);
- false flags on the benign-but-tricky documents of tests/data/hostile/benign/ and on
  tests/data/hostile/benign_sentences.jsonl;
- the false flag rate on service-public fiches split into ~120-word passages, and the
  throughput of `screen` on them (passages per second of wall time, one process).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from territoria.guard.injection import Screening, screen, screen_html, screen_question

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "data" / "hostile"
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "corpus" / "service-public-2020.jsonl"
RESULTS = ROOT / "bench" / "results" / "injection.json"
UNTUNED_ROUND = "round6"  # written and scored after the rules were frozen


def passages(text: str, words: int = 120) -> Iterator[str]:
    """Chunks of about `words` words that keep line breaks (what ingestion would screen)."""
    chunk: list[str] = []
    count = 0
    for line in text.splitlines():
        tokens = line.split()
        if count and count + len(tokens) > words:
            yield "\n".join(chunk)
            chunk, count = [], 0
        while len(tokens) > words:
            yield " ".join(tokens[:words])
            tokens = tokens[words:]
            line = " ".join(tokens)
        chunk.append(line)
        count += len(tokens)
    if count:
        yield "\n".join(chunk)


def document_parts(path: Path, words: int = 120) -> list[str]:
    """The texts ingestion would screen for one file (metadata strings included)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(path)
        texts = [str(value) for value in (reader.metadata or {}).values()]
        body = "\n".join(page.extract_text() or "" for page in reader.pages)
        return texts + list(passages(body, words))
    if suffix == ".docx":
        from docx import Document

        document = Document(str(path))
        props = document.core_properties
        texts = [props.title, props.subject, props.keywords, props.comments, props.author]
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        body = "\n".join(paragraph.text for paragraph in document.paragraphs)
        return [t for t in texts if t] + cells + list(passages(body, words))
    return list(passages(path.read_text(encoding="utf-8"), words))


def screen_document(path: Path, words: int = 120) -> Screening:
    """The strongest screening over a document's parts (raw HTML: `screen_html`)."""
    if path.suffix.lower() in {".html", ".htm"}:
        return screen_html(path.read_text(encoding="utf-8"))
    results = [screen(part) for part in document_parts(path, words)]
    return max(results, key=lambda result: result.score, default=screen(""))


def _documents(folder: Path, words: int) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(folder.iterdir()):
        if path.is_file():
            result = screen_document(path, words)
            rows.append(
                {
                    "file": path.name,
                    "flagged": result.flagged,
                    "score": result.score,
                    "reasons": list(result.reasons),
                }
            )
    return rows


def _corpus_passages(corpus: Path, words: int) -> list[str]:
    out: list[str] = []
    with corpus.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            out.extend(passages(f"{row.get('title', '')}\n{row['text']}", words))
    return out


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _heldout() -> dict[str, Any]:
    rounds = {}
    for path in sorted((HOSTILE / "heldout").glob("round*.jsonl")):
        rows = _jsonl(path)
        as_passage = [screen(row["text"]).flagged for row in rows]
        as_question = [screen_question(row["text"]).flagged for row in rows]
        rounds[path.stem] = {
            "n": len(rows),
            "detected_as_passage": sum(as_passage),
            "detected_as_question": sum(as_question),
            "missed": [row["id"] for row, hit in zip(rows, as_passage, strict=True) if not hit],
            "tuned_on": path.stem != UNTUNED_ROUND,
        }
    return rounds


def _benign_sentences() -> dict[str, Any]:
    rows = _jsonl(HOSTILE / "benign_sentences.jsonl")
    flagged = []
    for row in rows:
        check = screen_question if row["kind"] == "question" else screen
        if check(row["text"]).flagged:
            flagged.append(row["id"])
    return {"n": len(rows), "flagged": flagged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--words", type=int, default=120)
    args = parser.parse_args()

    attacks = _documents(HOSTILE / "attacks", args.words)
    benign = _documents(HOSTILE / "benign", args.words)
    heldout = _heldout()
    sentences = _benign_sentences()

    texts = _corpus_passages(args.corpus, args.words)
    start = time.perf_counter()
    cpu_start = time.process_time()
    results = [screen(text) for text in texts]
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    flagged = [
        {"passage": text[:300], "score": result.score, "reasons": list(result.reasons)}
        for text, result in zip(texts, results, strict=True)
        if result.flagged
    ]
    with_reasons = sum(bool(result.reasons) for result in results)

    detected = sum(row["flagged"] for row in attacks)
    report = {
        "hostile": {
            "documents": len(attacks),
            "detected": detected,
            "detection_rate": round(detected / len(attacks), 4),
            "missed": [row["file"] for row in attacks if not row["flagged"]],
            "per_document": attacks,
        },
        "heldout": heldout,
        "benign_tricky": {
            "documents": len(benign),
            "false_flags": [row["file"] for row in benign if row["flagged"]],
            "per_document": benign,
            "sentences": sentences,
        },
        "service_public": {
            "corpus": str(args.corpus.name),
            "passages": len(texts),
            "words_per_passage": args.words,
            "flagged": len(flagged),
            "false_flag_rate": round(len(flagged) / len(texts), 6),
            "with_weak_reasons": with_reasons - len(flagged),
            "passages_per_s": round(len(texts) / wall),
            "passages_per_cpu_s": round(len(texts) / cpu),
            "examples": flagged[:20],
        },
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    hostile, benign_r, sp = report["hostile"], report["benign_tricky"], report["service_public"]
    print(
        f"hostile corpus: {hostile['detected']}/{hostile['documents']} documents flagged "
        f"({hostile['detection_rate']:.1%}); missed: {', '.join(hostile['missed']) or 'none'}"
    )
    untuned = heldout[UNTUNED_ROUND]
    print(
        f"held-out injections never tuned on ({UNTUNED_ROUND}): {untuned['detected_as_passage']}"
        f"/{untuned['n']} as passages, {untuned['detected_as_question']}/{untuned['n']} as "
        f"questions; missed: {', '.join(untuned['missed']) or 'none'}"
    )
    tuned = [r for name, r in heldout.items() if name != UNTUNED_ROUND]
    print(
        f"held-out rounds used for tuning: {sum(r['detected_as_passage'] for r in tuned)}/"
        f"{sum(r['n'] for r in tuned)} (first measured before tuning: see tests/data/hostile/"
        "README.md)"
    )
    print(
        f"benign tricky documents: {len(benign_r['false_flags'])}/{benign_r['documents']} "
        f"flagged {benign_r['false_flags'] or ''}; benign tricky sentences and questions: "
        f"{len(sentences['flagged'])}/{sentences['n']} flagged {sentences['flagged'] or ''}"
    )
    print(
        f"service-public: {sp['flagged']}/{sp['passages']} passages flagged "
        f"({sp['false_flag_rate']:.3%}); {sp['with_weak_reasons']} with weak reasons only"
    )
    print(
        f"throughput: {sp['passages_per_s']} passages/s wall, "
        f"{sp['passages_per_cpu_s']} passages/CPU-s (one process)"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
