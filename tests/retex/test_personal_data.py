"""Personal data never leaves: the 40 sentences of ../shared/data/pii/dev.jsonl placed in the
free-text fields of fiches; no gold entity survives in the feed, and the restricted fields
leave 0 bytes there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from retex.conftest import MARKERS, fiche
from territoria.retex import Commons
from territoria.settings import Settings


def test_no_personal_data_and_no_restricted_byte_in_the_feed(
    shared_data: Path, pii_guard: Any, tmp_path: Path
) -> None:
    lines = (shared_data / "pii" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    sentences = [json.loads(line) for line in lines if line.strip()]
    assert len(sentences) == 40
    fiches = []
    for i in range(0, len(sentences), 4):
        s = [x["text"] for x in sentences[i : i + 4]]
        s += [""] * (4 - len(s))
        fiches.append(
            fiche(
                f"pii-fiche-{i:03d}",
                summary=s[0],
                lessons={"worked": [s[1]], "did_not_work": [s[2]]},
                results=[{"indicator": "Usagers", "value": 12, "note": s[3]}],
                decisions=[{"date": "2024-02-01", "decision": "Lancement", "comment": s[3]}],
            )
        )
    settings = Settings(home=tmp_path / "a", embedder="fake", title_embedder="fake")
    commons = Commons(settings, guard=pii_guard)
    from territoria.retex.model import parse_fiche

    commons.add_many([parse_fiche(f) for f in fiches])
    feed = json.dumps(commons.feed(), ensure_ascii=False)
    survived = [e["text"] for item in sentences for e in item["entities"] if e["text"] in feed]
    assert survived == []
    assert sum(len(x["entities"]) for x in sentences) >= 60
    for marker in MARKERS.values():
        assert marker.encode() not in feed.encode()
    # the clean sentences are kept as written (pseudonymisation is not blanket deletion)
    clean = [x["text"] for x in sentences if not x["entities"]]
    assert sum(text in feed for text in clean) >= len(clean) - 1
    commons.close()
