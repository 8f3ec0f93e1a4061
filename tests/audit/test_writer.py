"""The chain's writer (audit/writer.py): one writer at a time across handles and processes,
the anchor kept in step with every write, a log anchored at its first opening, and a
rolled-back or anchor-less log that stays visible after new appends."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import filelock
import pytest

from audit_fakes import (
    AGENT,
    Clock,
    FakePII,
    anchor_path,
    fill,
    make_answer,
    problems,
    reopened,
    tamper,
)
from territoria.audit import AuditLog, writer
from territoria.audit.anchor import read_anchor
from territoria.audit.chain import GENESIS
from territoria.errors import StoreError
from territoria.settings import Settings


def test_an_empty_chain_is_anchored_signed(log: AuditLog) -> None:
    anchor = log._writer.sign_anchor(None, 0)
    assert (anchor.last_seq, anchor.last_hash, anchor.records) == (0, GENESIS, 0)
    assert anchor.signature_ok(log._sign_key)
    assert not anchor.signature_ok(b"une autre cle")


def test_a_write_waits_for_the_lock_then_says_so_in_french(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "LOCK_TIMEOUT_S", 0.05)
    with AuditLog(settings, pii=FakePII()) as log:
        other = filelock.FileLock(settings.home / "audit.lock")  # another process's hold
        with other, pytest.raises(StoreError, match="Journal d'audit verrouillé"):
            log.record(make_answer(), AGENT)
        assert log.record(make_answer(), AGENT)  # free again: the write goes through
        assert log.verify().ok


# --- anchoring ----------------------------------------------------------------------------


def test_a_brand_new_home_verifies_and_is_anchored(settings: Settings) -> None:
    with reopened(settings) as log:
        result = log.verify()
        assert result.ok and result.records == 0
    anchor = read_anchor(anchor_path(settings))
    assert (anchor.last_seq, anchor.records, anchor.last_event) == (0, 0, 0)


def test_the_anchor_follows_every_append(log: AuditLog, clock: Clock, settings: Settings) -> None:
    fill(log, clock, 3)
    anchor = read_anchor(anchor_path(settings))
    last = next(log.records(newest_first=True))
    assert (anchor.last_seq, anchor.last_hash, anchor.records) == (3, last.hash, 3)
    assert log.verify().ok


def test_an_upgraded_log_is_adopted_once(settings: Settings, clock: Clock) -> None:
    """A log written before anchors existed gets one at its first opening, with a signed note."""
    with AuditLog(settings, pii=FakePII(), clock=clock) as log:
        fill(log, clock, 3)
    anchor_path(settings).unlink()
    tamper(
        settings.home / "audit.sqlite3",
        "DROP TABLE anchor_pending",
        "DELETE FROM _migrations WHERE name = 'm002_anchor'",
    )
    with reopened(settings) as log:
        assert log.verify().ok
        events = [e for e in log.events() if e["kind"] == "anchor"]
        assert [e["body"]["last_seq"] for e in events] == [3]
    assert read_anchor(anchor_path(settings)).last_seq == 3
    with reopened(settings) as log:
        assert log.verify().ok and len([e for e in log.events() if e["kind"] == "anchor"]) == 1


# --- a rolled-back or anchor-less log stays visible after new appends -------------------


def test_a_restored_backup_is_reported_and_logging_goes_on(
    log: AuditLog, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    fill(log, clock, 3)
    log.close()
    backup = tmp_path / "backup"
    backup.mkdir()
    for path in settings.home.glob("audit.sqlite3*"):
        shutil.copy(path, backup / path.name)
    with reopened(settings) as again:
        fill(again, clock, 2)
    for path in settings.home.glob("audit.sqlite3*"):
        path.unlink()
    for path in backup.iterdir():
        shutil.copy(path, settings.home / path.name)
    assert any("n° 5" in message for kind, message in problems(settings) if kind == "anchor")
    with reopened(settings) as again:
        rid = again.record(make_answer(), AGENT)
        assert again.get(rid).seq == 4
        found = [(p.kind, p.message) for p in again.verify().problems]
    assert [kind for kind, _ in found] == ["anchor"] and "refaite" in found[0][1]
    assert read_anchor(anchor_path(settings)).last_seq == 4


def test_an_append_after_a_deleted_anchor_leaves_a_trace(
    log: AuditLog, clock: Clock, settings: Settings
) -> None:
    fill(log, clock, 2)
    anchor_path(settings).unlink()
    fill(log, clock, 1)
    assert anchor_path(settings).exists()
    found = problems(settings)
    assert [kind for kind, _ in found] == ["anchor"] and "recréée" in found[0][1]


# --- concurrency --------------------------------------------------------------------------


def test_two_handles_keep_one_anchor(settings: Settings, clock: Clock) -> None:
    with (
        AuditLog(settings, pii=FakePII(), clock=clock) as a,
        AuditLog(settings, pii=FakePII(), clock=clock) as b,
    ):
        for i in range(6):
            (a if i % 2 else b).record(make_answer(), AGENT)
        anchor = read_anchor(anchor_path(settings))
        assert anchor.last_seq == 6 and anchor.last_hash == a.verify().head_hash
        assert a.verify().ok and b.verify().ok


def test_concurrent_appends_from_two_handles_keep_the_anchor_consistent(
    settings: Settings,
) -> None:
    errors: list[BaseException] = []

    def work(log: AuditLog) -> None:
        try:
            for _ in range(25):
                log.record(make_answer(), AGENT)
        except BaseException as exc:  # reported below
            errors.append(exc)

    with AuditLog(settings, pii=FakePII()) as a, AuditLog(settings, pii=FakePII()) as b:
        threads = [threading.Thread(target=work, args=(h,)) for h in (a, b, a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        result = a.verify()
        anchor = read_anchor(anchor_path(settings))
    assert result.ok and result.records == 100
    assert (anchor.last_seq, anchor.last_hash) == (100, result.head_hash)


_WRITER = """
import sys
import time
from pathlib import Path
from audit_fakes import FakePII, make_answer
from territoria.audit import AuditLog
from territoria.settings import Settings
from territoria.types import Access

home, n, tenant = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with AuditLog(Settings(home=home, embedder="fake"), pii=FakePII()) as log:
    (home / f"ready-{tenant}").touch()
    while not (home / "go").exists():
        time.sleep(0.01)
    for _ in range(n):
        log.record(make_answer(), Access(role="agent", tenant=tenant))
"""


def test_two_processes_appending_keep_the_anchor_consistent(settings: Settings) -> None:
    """The CLI and the server share a home: their appends interleave, one chain, one anchor."""
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(tests)}
    settings.home.mkdir(parents=True)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(settings.home), "60", tenant], env=env, cwd=tests
        )
        for tenant in ("cli", "serveur")
    ]
    for tenant in ("cli", "serveur"):  # both have opened the log: start them together
        while not (settings.home / f"ready-{tenant}").exists():
            assert all(w.poll() is None for w in writers)
            time.sleep(0.01)
    (settings.home / "go").touch()
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    with reopened(settings) as log:
        result = log.verify()
        tenants = [r.tenant for r in log.records()]
    anchor = read_anchor(anchor_path(settings))
    assert result.ok and result.records == 120 and sorted(set(tenants)) == ["cli", "serveur"]
    assert (anchor.last_seq, anchor.last_hash, anchor.records) == (120, result.head_hash, 120)
