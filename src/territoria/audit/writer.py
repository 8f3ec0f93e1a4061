"""Writing the audit chain: one writer at a time, and the anchor kept in step with it.

Every write of the log (append, event, purge, erasure) goes through `ChainWriter.write`: under
the anchor lock it checks the anchor against the database, runs the caller's changes, commits,
then rewrites the anchor (see `anchor.py`). The chain has one writer at a time, whatever the
number of processes: the transaction takes the chain's lock (SQLite's write lock; a
transaction-level advisory lock on PostgreSQL, so that replicas on several machines append one
after the other, each reading the head the previous one committed).

On PostgreSQL, each home that writes keeps its own local anchor, a witness of how far the
shared chain had gone when it last wrote: a home without one (a new replica) starts one on its
first write, noted by a signed "anchor" event, instead of reporting a missing anchor. A wiped or
truncated database is caught by any replica's anchor, and by anchors exported elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import filelock

from territoria.audit.anchor import (
    Anchor,
    AnchorUnreadable,
    compare,
    latest_checkpoint,
    parse_anchor,
    read_anchor_text,
    read_state,
    write_anchor,
)
from territoria.audit.chain import GENESIS, Problem
from territoria.audit.retention import append_event, read_head, rebuild_head, timestamp
from territoria.errors import StoreError
from territoria.settings import Settings
from territoria.store.database import Connection, Database

LOCK_TIMEOUT_S = 30.0
_CHAIN_LOCK = "audit-chain"
_EMPTY_HEAD: dict[str, Any] = {
    "last_seq": 0,
    "last_hash": GENESIS,
    "last_event": 0,
    "event_hash": GENESIS,
}


class ChainWriter:
    """The writer of one home's audit chain and the keeper of its local anchor
    (`<home>/audit.anchor`). `lock` is held by every write; closing the database takes it."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        sign_key: bytes,
        clock: Callable[[], datetime],
    ) -> None:
        self.anchor_path = settings.home / "audit.anchor"
        self.lock = threading.RLock()
        self._db = db
        self._sign_key = sign_key
        self._clock = clock
        # On PostgreSQL the chain is shared: this home's anchor is one witness among others.
        self._shared = db.dialect == "postgres"
        self._file_lock = filelock.FileLock(
            settings.home / "audit.lock", timeout=LOCK_TIMEOUT_S, poll_interval=0.002
        )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction that keeps the anchor in step: under the anchor lock, check the
        anchor against the database (a signed anomaly event when they disagree, so a wiped or
        rolled-back log stays visible after new appends), run the caller's changes, commit,
        then rewrite the anchor from the new head."""
        with self._locked():
            with self._db.transaction(lock=_CHAIN_LOCK) as conn:
                self._reconcile(conn)
                yield conn
                head = read_head(conn)
                checkpoint = latest_checkpoint(conn)
            purged = int(checkpoint.get("purged_total", 0)) if checkpoint else 0
            write_anchor(self.anchor_path, self.sign_anchor(head, purged))

    def adopt(self) -> None:
        """A log not yet anchored (brand new, or written by a version without anchors) is
        anchored when first opened; a new database found next to an anchor is left for
        `verify` and the next append to judge."""
        with self.lock:
            if self._db.execute("SELECT 1 FROM anchor_pending").fetchone() is None:
                return
            with self._locked():
                if self.anchor_path.exists():
                    with self._db.transaction(lock=_CHAIN_LOCK) as conn:
                        conn.execute("DELETE FROM anchor_pending")
                    return
                with self.write():
                    pass

    def sign_anchor(self, head: dict[str, Any] | None, purged_total: int) -> Anchor:
        """An anchor of `head` (None: the empty chain), signed now."""
        head = head or _EMPTY_HEAD
        return Anchor.signed(
            self._sign_key,
            last_seq=head["last_seq"],
            last_hash=head["last_hash"],
            last_event=head["last_event"],
            event_hash=head["event_hash"],
            purged_total=purged_total,
            time=timestamp(self._clock()),
        )

    # --- checking (verify) -------------------------------------------------------------------

    def check_anchor(
        self,
        conn: Connection,
        head: dict[str, Any] | None,
        anchor: Anchor,
        where: str,
    ) -> list[Problem]:
        """What `anchor` (`where`: which one, in the messages) finds wrong with the log."""
        if not anchor.signature_ok(self._sign_key):
            return [
                Problem(
                    "anchor",
                    f"{where} : signature invalide : ancre modifiée, ou ancre d'un autre journal "
                    "ou d'une autre clé.",
                )
            ]
        return compare(anchor, read_state(conn, head, anchor, count=True), where)

    def check_local_anchor(
        self,
        conn: Connection,
        head: dict[str, Any] | None,
        text: str | None,
        pending: bool,
    ) -> tuple[Anchor | None, list[Problem]]:
        """The local anchor (its `text`, None when the file is missing) and what it finds
        wrong with the log; `pending`: the log is not anchored yet."""
        if text is None:
            # Not anchored yet (or, on PostgreSQL, this home is not a witness yet): the next
            # write anchors it.
            if pending or self._shared:
                return None, []
            at = f" (tête au n° {head['last_seq']})" if head else ""
            return None, [
                Problem(
                    "anchor",
                    f"Ancre absente : {self.anchor_path} a disparu alors que ce journal{at} "
                    "avait été ancré ; un journal vidé ou tronqué avec elle passerait inaperçu.",
                )
            ]
        try:
            anchor = parse_anchor(text)
        except AnchorUnreadable as exc:
            return None, [
                Problem("anchor", f"Ancre locale illisible ({exc}) : {self.anchor_path}.")
            ]
        return anchor, self.check_anchor(conn, head, anchor, "Ancre locale")

    # --- internals -----------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The anchor lock, shared by every process on this home: taken before the database's
        write lock by every writer, so anchors are written in commit order."""
        with self.lock:
            try:
                self._file_lock.acquire()
            except filelock.Timeout as exc:
                raise StoreError(
                    f"Journal d'audit verrouillé depuis plus de {LOCK_TIMEOUT_S:.0f} s "
                    f"({self._file_lock.lock_file})."
                ) from exc
            try:
                yield
            finally:
                self._file_lock.release()

    def _reconcile(self, conn: Connection) -> None:
        """Inside a write transaction, before any change: a missing head is rebuilt (see
        `rebuild_head`); the anchor is compared with the database, and a disagreement is
        recorded as a signed anomaly before the anchor is rewritten (rewriting silently would
        erase the evidence); a log anchored for the first time gets a signed note."""
        now = self._clock()
        head = read_head(conn) or rebuild_head(conn, self._sign_key, now)
        pending = conn.execute("SELECT 1 FROM anchor_pending").fetchone() is not None
        last_seq = head["last_seq"] if head else 0
        text = read_anchor_text(self.anchor_path)
        if text is None:
            if not pending and not self._shared:
                body = {"problem": "anchor_missing", "last_seq": last_seq}
                append_event(conn, self._sign_key, "anomaly", body, now)
            elif head is not None:
                checkpoint = latest_checkpoint(conn)
                purged = int(checkpoint.get("purged_total", 0)) if checkpoint else 0
                body = {"last_seq": last_seq, "records": last_seq - purged}
                append_event(conn, self._sign_key, "anchor", body, now)
        else:
            try:
                anchor: Anchor | None = parse_anchor(text)
            except AnchorUnreadable:
                anchor = None
            if anchor is None or not anchor.signature_ok(self._sign_key):
                broken = True
            else:
                broken = bool(compare(anchor, read_state(conn, head, anchor, count=False), ""))
            if broken:
                body = {
                    "problem": "anchor_mismatch",
                    "anchor_seq": anchor.last_seq if anchor else None,
                    "anchor_hash": anchor.last_hash if anchor else None,
                    "last_seq": last_seq,
                }
                append_event(conn, self._sign_key, "anomaly", body, now)
        if pending:
            conn.execute("DELETE FROM anchor_pending")
