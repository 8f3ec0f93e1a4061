"""`AuditLog`: one append-only, hash-chained record per answered request, in the audit
database (`<home>/audit.sqlite3`, or PostgreSQL when `store=postgres`; `schema.py`). What a
record holds and how it is pseudonymised is `records.py`; the hashes are `chain.py`.

Every write (append, event, purge, erasure) goes through `writer.py`'s `ChainWriter`: one
writer at a time, whatever the number of processes, and the anchor outside the database kept in
step with the chain (`anchor.py`). This module reads the log, checks it, and says what to write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from territoria.audit.anchor import read_anchor, read_anchor_text
from territoria.audit.chain import (
    GENESIS,
    PERSONAL_FIELDS,
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
    redact,
    timestamp,
    write_head,
)
from territoria.audit.schema import open_audit_database
from territoria.audit.writer import ChainWriter
from territoria.errors import InvalidRequest, NotFound
from territoria.settings import Settings
from territoria.store.database import Connection
from territoria.types import Access, Answer, Energy

_BATCH = 500
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
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sign_key = derive_key(settings, "territoria/audit-signature/v1")
        self._builder = RecordBuilder(settings, pii)
        self._db = open_audit_database(settings)
        self._writer = ChainWriter(self._db, settings, sign_key=self._sign_key, clock=self._clock)
        self.anchor_path = self._writer.anchor_path
        self._writer.adopt()

    def close(self) -> None:
        with self._writer.lock:
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
        with self._writer.write() as conn:
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
            local, problems = self._writer.check_local_anchor(conn, head, local_text, pending)
            if external is not None:
                problems += self._writer.check_anchor(conn, head, external, "Ancre externe")
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
        purged = int(result.checkpoint["purged_total"]) if result.checkpoint else 0
        return self._writer.sign_anchor(result.head, purged).as_dict()

    def note(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Append a signed event of `kind` (such as a RETEX import or export) to the log's
        event chain; `body` holds no personal data. Returns the event."""
        with self._writer.write() as conn:
            return append_event(conn, self._sign_key, kind, body, self._clock())

    # --- retention -------------------------------------------------------------------------

    def purge_older_than(self, age: timedelta) -> dict[str, Any] | None:
        """Delete records older than `age` behind a signed checkpoint; return the checkpoint
        (None when nothing was old enough). Refuses on a log that does not verify."""
        self._require_valid()
        now = self._clock()
        with self._writer.write() as conn:
            return purge_before(conn, self._sign_key, now - age, now)

    def redact_subject(self, subject: str, *, reason: str = "demande de la personne") -> int:
        """Erase the personal fields of the records of `subject` (a pseudonym, see
        `subject_of`); return how many records were redacted."""
        self._require_valid()
        with self._writer.write() as conn:
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
