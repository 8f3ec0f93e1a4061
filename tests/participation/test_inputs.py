"""Raw participation uploads are forgotten once read: only their fingerprints stay."""

from __future__ import annotations

import hashlib
from pathlib import Path

from territoria.participation import inputs


def test_forget_fingerprints_then_deletes_files_and_folders(tmp_path: Path) -> None:
    single = tmp_path / "avis.csv"
    raw = b"texte;auteur\nbonjour;Marie Dupont\n"
    single.write_bytes(raw)
    folder = tmp_path / "polis"
    folder.mkdir()
    (folder / "comments.csv").write_bytes(b"a")
    (folder / "participants-votes.csv").write_bytes(b"bb")
    received = inputs.forget([single, folder])
    assert received == [
        {"name": "avis.csv", "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()},
        {"name": "comments.csv", "bytes": 1, "sha256": hashlib.sha256(b"a").hexdigest()},
        {"name": "participants-votes.csv", "bytes": 2, "sha256": hashlib.sha256(b"bb").hexdigest()},
    ]
    assert list(tmp_path.iterdir()) == []


def test_forget_finished_leaves_running_analyses_alone(tmp_path: Path) -> None:
    done, running = tmp_path / "a", tmp_path / "b"
    for analysis in (done, running):
        (analysis / "input").mkdir(parents=True)
        (analysis / "input" / "avis.csv").write_text("Marie Dupont", encoding="utf-8")
    (done / "owner.json").write_text("{}", encoding="utf-8")
    assert inputs.forget_finished(tmp_path, inputs="input", done="owner.json") == 1
    assert not (done / "input").exists() and (running / "input" / "avis.csv").is_file()
    assert inputs.forget_finished(tmp_path / "absent", inputs="input", done="owner.json") == 0
