"""Raw uploads are not kept: their texts hold personal data that only their pseudonymised form
may keep. Once read, a server-side upload is deleted and only its fingerprint stays (name,
size, SHA-256), so that a synthesis can still be matched to the file it came from.

    received = forget([folder / "input" / "avis.csv"])   # [{"name", "bytes", "sha256"}]
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path

_CHUNK = 1 << 20


def fingerprint(path: Path) -> dict[str, object]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as data:
        while chunk := data.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"name": path.name, "bytes": size, "sha256": digest.hexdigest()}


def forget(paths: Sequence[Path]) -> list[dict[str, object]]:
    """Fingerprint then delete each file (every file of a folder, then the folder)."""
    received: list[dict[str, object]] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            received.append(fingerprint(file))
            file.unlink()
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
    return received


def forget_finished(root: Path, *, inputs: str, done: str) -> int:
    """Delete the folders `inputs` of the finished analyses under `root` (those holding the file
    `done`): raw uploads kept by a version that did not forget them. Return how many."""
    removed = 0
    if not root.is_dir():
        return 0
    for analysis in root.iterdir():
        raw = analysis / inputs
        if (analysis / done).is_file() and raw.is_dir():
            shutil.rmtree(raw, ignore_errors=True)
            removed += 1
    return removed
