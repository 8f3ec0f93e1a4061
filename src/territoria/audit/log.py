"""`AuditLog`: one append-only, hash-chained record per answered request, in the audit
database (`<home>/audit.sqlite3`, or PostgreSQL when `store=postgres`; `schema.py`). What a
record holds and how it is pseudonymised is `records.py`; the hashes are `chain.py`.

Every write (append, purge, erasure) goes through `AuditLog._write`: under the anchor lock it
checks the anchor against the database, commits, then rewrites the anchor (see `anchor.py`).
The chain has one writer at a time, whatever the number of processes: the transaction takes the
chain's lock (SQLite's write lock; a transaction-level advisory lock on PostgreSQL, so that
replicas on several machines append one after the other, each reading the head the previous
one committed).

On PostgreSQL, each home that writes keeps its own local anchor, a witness of how far the
shared chain had gone when it last wrote: a home without one (a new replica) starts one on its
first write, noted by a signed "anchor" event, instead of reporting a missing anchor. A wiped or
truncated database is caught by any replica's anchor, and by anchors exported elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import filelock

from territoria.audit.anchor import (
    Anchor,
    AnchorUnreadable,
    compare,
    latest_checkpoint,
    parse_anchor,
    read_anchor,
    read_anchor_text,
    read_state,
    write_anchor,
)
from territoria.audit.chain import (
    GENESIS,
    PERSONAL_FIELDS,
    Problem,
    VerifyResult,
    personal_digest,
    record_hash,
    verify_log,
)
from territoria.audit.records import (
    ANSWER_WITHHELD,
    COLUMNS,
    EVENT_COLUMNS,
    QUESTION_WITHHELD,
    AuditRecord,
    Entry,
    Masked,
    Pseudonymizer,
    RecordBuilder,
    derive_key,
    event_from_row,
    record_from_row,
    row_values,
)
from territoria.audit.retention import (
    append_event,
    parse_since,
    purge_before,
    read_head,
    rebuild_head,
    redact,
    timestamp,
    write_head,
)
from territoria.audit.schema import open_audit_database
from territoria.errors import InvalidRequest, NotFound, StoreError
from territoria.settings import Settings
from territoria.store.database import Connection
from territoria.types import Access, Answer, Energy

_BATCH = 500
_LOCK_TIMEOUT_S = 30.0
_CHAIN_LOCK = "audit-chain"
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM records"


class AuditLog:
    """The audit log of one home. Thread- and process-safe appends; close it (or `with`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        pii: Pseudonymizer | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.path = settings.home / "audit.sqlite3"
        self.anchor_path = settings.home / "audit.anchor"
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sign_key = derive_key(settings, "territoria/audit-signature/v1")
        self._builder = RecordBuilder(settings, pii)
        self._db = open_audit_database(settings)
        # On PostgreSQL the chain is shared: this home's anchor is one witness among others.
        self._shared = self._db.dialect == "postgres"
        self._lock = threading.RLock()
        self._file_lock = filelock.FileLock(
            settings.home / "audit.lock", timeout=_LOCK_TIMEOUT_S, poll_interval=0.002
        )
        self._adopt()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def versions(self) -> dict[str, Any]:
        """Package, models, index and answer parameters in force (logged with each record)."""
        return self._builder.versions

    def subject_of(self, name: str) -> str:
        """The keyed pseudonym stored for a user name or session id."""
        return self._builder.subject_of(name)

    def pseudonymize(self, text: str, tenant: str) -> str | None:
        """`text` with personal data replaced by pseudonyms; None when the guard is missing."""
        return self._builder.pseudonymize(text, tenant)

    # --- writing ---------------------------------------------------------------------------

    def record(self, answer: Answer, access: Access, **options: Any) -> str:
        """Append one request with the energy its Answer holds; return its record id.
        `options` are those of `entry`."""
        return self.append(self.entry(answer, access, **options), answer.energy, answer.latency_ms)

    def entry(
        self,
        answer: Answer,
        access: Access,
        *,
        request_id: str | None = None,
        subject: str | None = None,
        mode: str | None = None,
        previous_ids: Sequence[str] = (),
    ) -> Entry:
        """The record of one request, its personal data pseudonymised, ready to `append`
        (a request metered as a whole builds it inside its meter, so that the masking is
        counted in the energy the record holds).

        `previous_ids` are the record ids of the earlier questions of a follow-up (as the
        client sent them back); the earlier questions' text is never copied here.

        `subject` is who asked (account name, or a session id for anonymous users), stored as
        a keyed pseudonym. `mode` is the mode asked for (the Answer says "abstention" when it
        abstained); by default the Answer's mode, or "extractive" for an abstention.
        """
        return self._builder.build(
            answer,
            access,
            request_id=request_id,
            subject=subject,
            mode=mode,
            previous_ids=previous_ids,
        )

    def record_run(
        self,
        *,
        kind: str,
        access: Access,
        summary: str,
        outcome: str,
        details: dict[str, Any],
        versions: dict[str, Any],
        energy: Energy,
        latency_ms: float,
        abstained: bool = False,
        subject: str | None = None,
    ) -> str:
        """Append one run of another capability (`kind`, such as "forecast"): what it was
        given (`summary`: files and digests, no personal data), what it produced (`outcome`),
        its parameters and results (`details`) and the versions it ran with; its record id."""
        entry = self._builder.build_run(
            kind=kind,
            access=access,
            summary=summary,
            outcome=outcome,
            details=details,
            versions=versions,
            abstained=abstained,
            subject=subject,
        )
        return self.append(entry, energy, latency_ms)

    def append(self, entry: Entry, energy: Energy, latency_ms: float) -> str:
        """Write `entry` with the energy and latency of its request; return its record id."""
        row: dict[str, Any] = {
            **entry.row,
            "energy_wh": float(energy.wh),
            "energy_gco2e": float(energy.gco2e),
            "energy_method": energy.method,
            "latency_ms": float(round(latency_ms, 3)),
        }
        row["personal_digest"] = personal_digest(row)
        with self._write() as conn:
            head = read_head(conn)
            row["seq"] = (head["last_seq"] if head else 0) + 1
            row["prev_hash"] = head["last_hash"] if head else GENESIS
            row["time"] = timestamp(self._clock())
            row["hash"] = record_hash(row, row["prev_hash"])
            conn.execute(
                f"INSERT INTO records ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))})",
                row_values(row),
            )
            write_head(
                conn,
                self._sign_key,
                last_seq=row["seq"],
                last_hash=row["hash"],
                last_event=head["last_event"] if head else 0,
                event_hash_=head["event_hash"] if head else GENESIS,
            )
        return str(row["record_id"])

    # --- reading ---------------------------------------------------------------------------

    def records(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        tenant: str | None = None,
        subject: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> Iterator[AuditRecord]:
        """Records in chain order (oldest first), filtered. `subject` is the pseudonym."""
        where, params = [], []
        for clause, value in (
            ("time >= ?", timestamp(since) if since else None),
            ("time < ?", timestamp(until) if until else None),
            ("tenant = ?", tenant),
            ("subject = ?", subject),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        # Keyset pagination: memory stays bounded on large logs, and the lock is held per
        # batch only, so appends go on during a long export.
        select = f"{_SELECT} WHERE "
        order = " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
        after = "seq < ?" if newest_first else "seq > ?"
        cursor_seq, left = (2**62 if newest_first else 0), limit
        while left is None or left > 0:
            size = _BATCH if left is None else min(_BATCH, left)
            rows = self._db.execute(
                select + " AND ".join([after, *where]) + order + f" LIMIT {size}",
                [cursor_seq, *params],
            ).fetchall()
            for row in rows:
                yield record_from_row(row)
            if len(rows) < size:
                return
            cursor_seq = rows[-1][0]
            left = None if left is None else left - len(rows)

    def get(self, record_id: str) -> AuditRecord:
        """A record by id, or by an unambiguous id prefix of at least 6 characters."""
        if len(record_id) < 6:
            raise InvalidRequest("Identifiant d'enregistrement trop court (6 caractères au moins).")
        pattern = record_id.replace("%", "").replace("_", "") + "%"
        rows = self._db.execute(f"{_SELECT} WHERE record_id LIKE ? LIMIT 2", (pattern,)).fetchall()
        if not rows:
            raise NotFound(f"Enregistrement d'audit inconnu : {record_id!r}.")
        if len(rows) > 1:
            raise InvalidRequest(f"Identifiant ambigu : {record_id!r} ; donnez-le en entier.")
        return record_from_row(rows[0])

    def events(self) -> list[dict[str, Any]]:
        """The signed events (checkpoints, redactions, anomalies, anchoring), oldest first."""
        return _events(self._db)

    def verify(self, *, anchor: Path | None = None) -> VerifyResult:
        """Check the whole log: hashes, links, signatures, checkpoint, redactions, head, and
        the local anchor; with `anchor`, an exported anchor too (see `anchor.py`).

        Reads one snapshot (a second connection in WAL on SQLite, a REPEATABLE READ
        transaction on PostgreSQL): appends go on meanwhile, and cannot make the head and the
        records disagree. Records are read by batches. The local anchor is read before the
        snapshot, so the snapshot is never behind it on an untouched log.
        """
        external = read_anchor(anchor) if anchor is not None else None
        local_text = read_anchor_text(self.anchor_path)
        with self._db.snapshot() as conn:
            events = _events(conn)
            head = read_head(conn)
            records = (record.as_dict() for record in _all_records(conn))
            result = verify_log(records, events, head, self._sign_key)
            pending = conn.execute("SELECT 1 FROM anchor_pending").fetchone() is not None
            local, problems = self._check_local_anchor(conn, head, local_text, pending)
            if external is not None:
                problems += self._check_anchor(conn, head, external, "Ancre externe")
        problems = [*result.problems, *problems]
        return replace(
            result,
            ok=not problems,
            problems=tuple(problems),
            anchor=local.as_dict() if local else None,
        )

    def anchor(self) -> dict[str, Any]:
        """A freshly signed anchor of the log as it is now, to keep elsewhere (`territoria audit
        anchor`). Refused on a log that does not verify: it would vouch for the alteration."""
        result = self.verify()
        if not result.ok:
            raise InvalidRequest(
                "Le journal d'audit ne se vérifie pas : ancre refusée, elle attesterait un "
                f"journal altéré. {_first(result)}"
            )
        head = result.head or {
            "last_seq": 0,
            "last_hash": GENESIS,
            "last_event": 0,
            "event_hash": GENESIS,
        }
        purged = int(result.checkpoint["purged_total"]) if result.checkpoint else 0
        return self._sign_anchor(head, purged).as_dict()

    def note(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Append a signed event of `kind` (such as a RETEX import or export) to the log's
        event chain; `body` holds no personal data. Returns the event."""
        with self._write() as conn:
            return append_event(conn, self._sign_key, kind, body, self._clock())

    # --- retention -------------------------------------------------------------------------

    def purge_older_than(self, age: timedelta) -> dict[str, Any] | None:
        """Delete records older than `age` behind a signed checkpoint; return the checkpoint
        (None when nothing was old enough). Refuses on a log that does not verify."""
        self._require_valid()
        now = self._clock()
        with self._write() as conn:
            return purge_before(conn, self._sign_key, now - age, now)

    def redact_subject(self, subject: str, *, reason: str = "demande de la personne") -> int:
        """Erase the personal fields of the records of `subject` (a pseudonym, see
        `subject_of`); return how many records were redacted."""
        self._require_valid()
        with self._write() as conn:
            return len(redact(conn, self._sign_key, subject, reason, self._clock()))

    def since(self, text: str) -> datetime:
        """Parse a `--since` value (duration back from now, or ISO date)."""
        return parse_since(text, self._clock())

    def _require_valid(self) -> None:
        result = self.verify()
        if not result.ok:
            raise InvalidRequest(
                "Le journal d'audit ne se vérifie pas : purge refusée, pour ne pas effacer "
                f"la trace d'une altération. {_first(result)}"
            )

    # --- the anchor ------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The anchor lock, shared by every process on this home: taken before the database's
        write lock by every writer, so anchors are written in commit order."""
        with self._lock:
            try:
                self._file_lock.acquire()
            except filelock.Timeout as exc:
                raise StoreError(
                    f"Journal d'audit verrouillé depuis plus de {_LOCK_TIMEOUT_S:.0f} s "
                    f"({self._file_lock.lock_file})."
                ) from exc
            try:
                yield
            finally:
                self._file_lock.release()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
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
            anchor = self._sign_anchor(
                head
                or {"last_seq": 0, "last_hash": GENESIS, "last_event": 0, "event_hash": GENESIS},
                int(checkpoint.get("purged_total", 0)) if checkpoint else 0,
            )
            write_anchor(self.anchor_path, anchor)

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

    def _adopt(self) -> None:
        """A log not yet anchored (brand new, or written by a version without anchors) is
        anchored when first opened; a new database found next to an anchor is left for
        `verify` and the next append to judge."""
        with self._lock:
            if self._db.execute("SELECT 1 FROM anchor_pending").fetchone() is None:
                return
            with self._locked():
                if self.anchor_path.exists():
                    with self._db.transaction(lock=_CHAIN_LOCK) as conn:
                        conn.execute("DELETE FROM anchor_pending")
                    return
                with self._write():
                    pass

    def _sign_anchor(self, head: dict[str, Any], purged_total: int) -> Anchor:
        return Anchor.signed(
            self._sign_key,
            last_seq=head["last_seq"],
            last_hash=head["last_hash"],
            last_event=head["last_event"],
            event_hash=head["event_hash"],
            purged_total=purged_total,
            time=timestamp(self._clock()),
        )

    def _check_anchor(
        self,
        conn: Connection,
        head: dict[str, Any] | None,
        anchor: Anchor,
        where: str,
    ) -> list[Problem]:
        if not anchor.signature_ok(self._sign_key):
            return [
                Problem(
                    "anchor",
                    f"{where} : signature invalide : ancre modifiée, ou ancre d'un autre journal "
                    "ou d'une autre clé.",
                )
            ]
        return compare(anchor, read_state(conn, head, anchor, count=True), where)

    def _check_local_anchor(
        self,
        conn: Connection,
        head: dict[str, Any] | None,
        text: str | None,
        pending: bool,
    ) -> tuple[Anchor | None, list[Problem]]:
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
        return anchor, self._check_anchor(conn, head, anchor, "Ancre locale")


def _first(result: VerifyResult) -> str:
    first = result.problems[0]
    where = f" (enregistrement n° {first.seq})" if first.seq is not None else ""
    return f"{first.message}{where}"


def _events(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY event_seq")
    return [event_from_row(row) for row in rows]


def _all_records(conn: Connection) -> Iterator[AuditRecord]:
    """Every record in chain order, read by batches (memory stays bounded)."""
    after = 0
    while True:
        rows = conn.execute(f"{_SELECT} WHERE seq > ? ORDER BY seq LIMIT {_BATCH}", (after,))
        for row in rows:
            yield record_from_row(row)
        if len(rows.rows) < _BATCH:
            return
        after = rows.rows[-1][0]


__all__ = [
    "ANSWER_WITHHELD",
    "PERSONAL_FIELDS",
    "QUESTION_WITHHELD",
    "AuditLog",
    "AuditRecord",
    "Entry",
    "Masked",
    "Pseudonymizer",
    "derive_key",
]
