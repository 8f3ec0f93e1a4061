"""The ingestion pipeline: statuses, no-op on unchanged content, replace, delete, bad files,
and a crash (kill -9) in the middle of a batch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from territoria.ingest import ingest_paths, slugify
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.store.sqlite import SQLiteStore
from territoria.types import Access


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def corpus(root: Path) -> Path:
    write(
        root / "cantine.md",
        "# Restauration scolaire\n\n## Tarifs\n\nLe repas coûte 3,10 euros pour le quotient "
        "familial de la tranche A. Les inscriptions se font en mairie.\n",
    )
    write(
        root / "dechets.md",
        "# Collecte des déchets\n\nLe bac jaune est collecté le mardi matin. Les encombrants "
        "sont ramassés sur rendez-vous une fois par mois.\n",
    )
    write(root / "notes.xyz", "format inconnu")
    return root


def test_report_names_failures_and_keeps_going(runtime: Runtime, tmp_path: Path) -> None:
    report = ingest_paths(
        [corpus(tmp_path / "docs"), tmp_path / "absent.pdf"],
        settings=runtime.settings,
        store=runtime.store,
    )
    assert report.ingested == 2
    assert {d for _, d, _ in report.documents} == {"cantine", "dechets"}
    failed = dict(report.failed)
    assert set(failed) == {str(tmp_path / "docs" / "notes.xyz"), str(tmp_path / "absent.pdf")}
    assert all(reason for reason in failed.values())


def test_unchanged_is_a_noop_and_changed_replaces(runtime: Runtime, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    ingest_paths([docs], settings=runtime.settings, store=runtime.store)
    generation = runtime.store.generation()
    again = ingest_paths([docs], settings=runtime.settings, store=runtime.store)
    assert (again.ingested, again.unchanged) == (0, 2)
    assert runtime.store.generation() == generation

    write(docs / "dechets.md", "# Collecte des déchets\n\nLe bac jaune passe désormais le jeudi.\n")
    changed = ingest_paths([docs], settings=runtime.settings, store=runtime.store)
    assert ("dechets", "replaced") in {(d, s) for _, d, s in changed.documents}
    hits = runtime.retriever.search("bac jaune mardi", k=5, access=Access())
    texts = " ".join(h.passage.text for h in hits)
    assert "jeudi" in texts and "mardi" not in texts


def test_deleted_document_is_never_retrieved(runtime: Runtime, tmp_path: Path) -> None:
    ingest_paths([corpus(tmp_path / "docs")], settings=runtime.settings, store=runtime.store)
    assert runtime.retriever.search("encombrants rendez-vous", k=5)
    assert runtime.store.delete_document("dechets", tenant="default")
    hits = runtime.retriever.search("encombrants rendez-vous", k=10)
    assert all(h.passage.doc_id != "dechets" for h in hits)


def test_slugify_is_readable() -> None:
    assert slugify("Règlement Déchetterie 2025") == "reglement-dechetterie-2025"
    assert slugify("!!!") == "document"


def test_kill_during_batch_leaves_no_half_document(tmp_path: Path) -> None:
    """kill -9 in the middle of a long batch: every stored document is whole."""
    lines = [
        json.dumps(
            {
                "id": f"DOC:{i}",
                "title": f"Document {i}",
                "text": "\n\n".join(
                    f"Article {j}. Le paragraphe {j} du document {i} traite des horaires, "
                    "des tarifs et des démarches de la mairie." * 3
                    for j in range(40)
                ),
            },
            ensure_ascii=False,
        )
        for i in range(3000)
    ]
    source = write(tmp_path / "big.jsonl", "\n".join(lines))
    home = tmp_path / "crash-home"
    env = {**os.environ, "TERRITORIA_HOME": str(home), "TERRITORIA_EMBEDDER": "none"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "territoria", "ingest", str(source), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = home / "territoria.sqlite3"
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                store = SQLiteStore(db)
                stored = len(store.list_documents())
                store.close()
            except Exception:  # the database may be mid-creation
                stored = 0
            if stored >= 20:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the batch finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    store = SQLiteStore(db)
    docs = store.list_documents()
    assert 20 <= len(docs) < 3000
    counts: dict[str, int] = {}
    for passage in store.iter_passages():
        counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
    assert set(counts) == {d.doc_id for d in docs}
    for doc in docs:
        assert counts[doc.doc_id] == doc.n_passages > 0
    store.close()

    # The next run completes the batch.
    settings = Settings(home=home, embedder="none")
    runtime = Runtime(settings)
    report = ingest_paths([source], settings=settings, store=runtime.store)
    assert report.unchanged == len(docs)
    assert report.ingested == 3000 - len(docs)
    runtime.close()
