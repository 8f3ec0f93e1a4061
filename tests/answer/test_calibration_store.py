"""The abstention calibration of a deployment on both backends (`replicas`: one SQLite home,
or two homes on one PostgreSQL database as two replicas have): computed once, then read by
every process, which applies the same thresholds."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import territoria.answer.thresholds
from answer.test_calibration import _corpus
from territoria.answer.calibration import CalibrationSet
from territoria.answer.calibration_store import open_calibration_store
from territoria.ingest.library import ingest_files
from territoria.runtime import Runtime
from territoria.settings import Settings
from territoria.types import Access


@pytest.fixture
def calibrations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tenants calibrated, one entry per calibration computed (the real computation)."""
    done: list[str] = []
    real = territoria.answer.thresholds.calibrate

    def counted(*args: Any, **kwargs: Any) -> Any:
        done.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(territoria.answer.thresholds, "calibrate", counted)
    return done


@pytest.fixture
def runtimes(
    replicas: tuple[Settings, Settings], tmp_path: Path
) -> Iterator[tuple[Runtime, Runtime]]:
    update = {"embedder": "fake", "title_embedder": "none", "calibration_questions": 30}
    a, b = (Runtime(s.model_copy(update=update)) for s in replicas)
    try:
        ingest_files(a, [_corpus(tmp_path / "corpus", 12)])
        yield a, b
    finally:
        a.close()
        b.close()


def test_one_calibration_is_read_by_every_replica(
    runtimes: tuple[Runtime, Runtime], calibrations: list[str]
) -> None:
    a, b = runtimes
    first = a.assistant.thresholds.calibrations()
    assert calibrations == ["default"]
    assert b.assistant.thresholds.threshold(Access()) == (
        first.tenants["default"].threshold,
        "corpus",
    )
    assert calibrations == ["default"]  # read, not computed again
    stored = b.assistant.thresholds.calibration_store.load()
    assert stored is not None and stored.tenants == first.tenants


@pytest.mark.parametrize(
    "replicas", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)  # the embedded default is served by one process
def test_replicas_starting_together_calibrate_once(
    runtimes: tuple[Runtime, Runtime], calibrations: list[str]
) -> None:
    a, b = runtimes
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = [
            f.result() for f in [pool.submit(rt.assistant.thresholds.calibrations) for rt in (a, b)]
        ]
    assert calibrations == ["default"]
    assert found[0].tenants == found[1].tenants


def test_a_damaged_or_older_calibration_is_computed_again(
    runtimes: tuple[Runtime, Runtime], calibrations: list[str]
) -> None:
    a, _ = runtimes
    store = open_calibration_store(a.settings)
    try:
        store.save(CalibrationSet({"confidence": "an older method"}))
        a.assistant.thresholds.calibrations()
        assert calibrations == ["default"]
        assert CalibrationSet.from_json("{not json") is None
    finally:
        store.close()
