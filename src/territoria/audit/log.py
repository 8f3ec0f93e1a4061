"""`AuditLog`: one append-only, hash-chained record per answered request, in
`<home>/audit.sqlite3` (WAL, migration set "territoria.audit").

The question is pseudonymised before it is written (the raw question never reaches the disk);
a generative answer is pseudonymised too, since a model may echo the question, while an
extractive answer or an abstention is the collectivité's own published text and is kept as
it is. When pseudonymisation is unavailable (the `pii` extra is not installed), the question
is withheld rather than stored in clear. The user is stored as a keyed pseudonym (`subject`),
so `purge --user NAME` can find their records without the log holding their name.

Every write (append, purge, erasure) goes through `AuditLog._write`: under the anchor lock it
checks the anchor against the database, commits, then rewrites the anchor (see `anchor.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

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
    canonical,
    personal_digest,
    record_hash,
    verify_log,
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
from territoria.errors import ConfigError, InvalidRequest, NotFound, StoreError
from territoria.settings import Settings
from territoria.store.migrations import Migrations, run_script
from territoria.store.sqlite import connect, transaction
from territoria.types import Access, Answer, Energy

QUESTION_WITHHELD = "[question non conservée : pseudonymisation indisponible]"
ANSWER_WITHHELD = "[réponse non conservée : pseudonymisation indisponible]"

audit_migrations = Migrations("territoria.audit")


@audit_migrations
def m001_audit(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE records (
            seq INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL UNIQUE,
            time TEXT NOT NULL,
            tenant TEXT NOT NULL,
            role TEXT NOT NULL,
            mode TEXT NOT NULL,
            passages TEXT NOT NULL,
            versions TEXT NOT NULL,
            abstained INTEGER NOT NULL,
            verification TEXT NOT NULL,
            confidence REAL NOT NULL,
            energy_wh REAL NOT NULL,
            energy_gco2e REAL NOT NULL,
            energy_method TEXT NOT NULL,
            latency_ms REAL NOT NULL,
            request_id TEXT,
            subject TEXT,
            question TEXT,
            answer TEXT,
            nonce TEXT,
            personal_digest TEXT NOT NULL,
            redacted_at TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX records_time ON records(time);
        CREATE INDEX records_subject ON records(subject);
        CREATE TABLE events (
            event_seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            time TEXT NOT NULL,
            body TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            signature TEXT NOT NULL
        );
        CREATE TABLE head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_seq INTEGER NOT NULL,
            last_hash TEXT NOT NULL,
            last_event INTEGER NOT NULL,
            event_hash TEXT NOT NULL,
            signature TEXT NOT NULL
        )
        """,
    )


@audit_migrations
def m002_anchor(conn: sqlite3.Connection) -> None:
    """A log created, or first opened, by a version that anchors it: until the anchor is first
    written, a missing anchor is expected (afterwards it is reported)."""
    run_script(
        conn,
        """
        CREATE TABLE anchor_pending (id INTEGER PRIMARY KEY CHECK (id = 1));
        INSERT INTO anchor_pending VALUES (1)
        """,
    )


_COLUMNS = (
    "seq", "record_id", "time", "tenant", "role", "mode", "passages", "versions", "abstained",
    "verification", "confidence", "energy_wh", "energy_gco2e", "energy_method", "latency_ms",
    "request_id", "subject", "question", "answer", "nonce", "personal_digest", "redacted_at",
    "prev_hash", "hash",
)  # fmt: skip
_JSON_COLUMNS = ("passages", "versions", "verification")
_EVENT_COLUMNS = ("event_seq", "kind", "time", "body", "prev_hash", "hash", "signature")
_BATCH = 500
_LOCK_TIMEOUT_S = 30.0


class Masked(Protocol):
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Entry:
    """A record built by `AuditLog.entry`, personal data already pseudonymised; the energy
    and latency of its request are added when it is appended."""

    row: dict[str, Any]


class Pseudonymizer(Protocol):
    """What the audit log needs of the PII guard (`territoria.guard.pii.PIIGuard`)."""

    def pseudonymize(self, text: str, *, tenant: str = "default") -> Masked: ...


@dataclass(frozen=True)
class AuditRecord:
    """One logged request. `question`/`answer`/`subject`/`request_id` are None once redacted."""

    seq: int
    record_id: str
    time: str
    tenant: str
    role: str
    mode: str
    passages: tuple[dict[str, Any], ...]
    versions: dict[str, Any]
    abstained: bool
    verification: dict[str, Any]
    confidence: float
    energy_wh: float
    energy_gco2e: float
    energy_method: str
    latency_ms: float
    request_id: str | None
    subject: str | None
    question: str | None
    answer: str | None
    nonce: str | None
    personal_digest: str
    redacted_at: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the one hashed by `chain.record_hash`)."""
        data = {name: getattr(self, name) for name in _COLUMNS}
        data["passages"] = list(self.passages)
        return data

    @property
    def cited(self) -> tuple[str, ...]:
        return tuple(p["passage_id"] for p in self.passages if p.get("cited"))


def derive_key(settings: Settings, purpose: str) -> bytes:
    """A purpose-bound key derived from the PII key (TERRITORIA_PII_KEY or <home>/pii.key)."""
    from territoria.guard.pii import check_key, load_or_create_key_file

    secret = settings.pii_key.get_secret_value()
    master = check_key(secret) if secret.strip() else load_or_create_key_file(settings.home)
    return hmac.new(master.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()


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
        self._pii = pii
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sign_key = derive_key(settings, "territoria/audit-signature/v1")
        self._subject_key = derive_key(settings, "territoria/audit-subject/v1")
        self._conn = connect(self.path, audit_migrations)
        # Durable commits: the anchor, written after each commit, must never name a record
        # that a power cut could take back (WAL + NORMAL may lose the last commits).
        self._conn.execute("PRAGMA synchronous=FULL")
        self._lock = threading.RLock()
        self._file_lock = filelock.FileLock(
            settings.home / "audit.lock", timeout=_LOCK_TIMEOUT_S, poll_interval=0.002
        )
        self._versions: dict[str, Any] | None = None
        self._adopt()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def versions(self) -> dict[str, Any]:
        """Package, models, index and answer parameters in force (logged with each record)."""
        if self._versions is None:
            from territoria.register import system_versions

            self._versions = system_versions(self.settings)
        return self._versions

    def subject_of(self, name: str) -> str:
        """The keyed pseudonym stored for a user name or session id."""
        digest = hmac.new(self._subject_key, name.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"sujet_{digest[:16]}"

    def pseudonymize(self, text: str, tenant: str) -> str | None:
        """`text` with personal data replaced by pseudonyms; None when the guard is missing."""
        if self._pii is None:
            from territoria.guard.pii import PIIGuard

            self._pii = PIIGuard(self.settings)
        try:
            return self._pii.pseudonymize(text, tenant=tenant).text
        except (ConfigError, ImportError):  # the `pii` extra is not installed
            return None

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
        question = self.pseudonymize(answer.question, access.tenant)
        text: str | None = answer.answer
        verification: dict[str, Any] = answer.verification.to_json()
        if answer.mode == "generative":
            text = self.pseudonymize(answer.answer, access.tenant)
        # Sentences a model generated and the verification dropped, whatever mode the answer
        # ended in (an abstention or the extractive fallback keeps them for review).
        if verification.get("dropped"):
            verification["dropped"] = [
                self.pseudonymize(str(s), access.tenant) for s in verification["dropped"]
            ]
        if answer.continues:
            # A follow-up: the earlier questions are personal data, so only the ids of their
            # own records are kept (the replay reads their pseudonymised questions there).
            verification["continued"] = True
            verification["previous_ids"] = list(previous_ids)
        cited = {c.passage_id for c in answer.citations}
        passages = [
            {
                "rank": rank,
                "passage_id": hit.passage.passage_id,
                "doc_id": hit.passage.doc_id,
                "score": round(float(hit.score), 6),
                "lexical": _score(hit.lexical_score),
                "dense": _score(hit.dense_score),
                "cited": hit.passage.passage_id in cited,
            }
            for rank, hit in enumerate(answer.hits, start=1)
        ]
        seen = {p["passage_id"] for p in passages}
        missing = {"rank": None, "score": None, "lexical": None, "dense": None, "cited": True}
        passages += [
            {**missing, "passage_id": c.passage_id, "doc_id": c.doc_id}
            for c in answer.citations
            if c.passage_id not in seen
        ]
        asked = mode or ("extractive" if answer.mode == "abstention" else answer.mode)
        row: dict[str, Any] = {
            "record_id": secrets.token_hex(8),
            "tenant": access.tenant,
            "role": access.role,
            "mode": asked,
            "passages": passages,
            "versions": self.versions,
            "abstained": bool(answer.abstained),
            "verification": json.loads(canonical(verification)),
            "confidence": float(round(answer.confidence, 6)),
            "request_id": request_id or secrets.token_hex(8),
            "subject": self.subject_of(subject) if subject else None,
            "question": QUESTION_WITHHELD if question is None else question,
            "answer": ANSWER_WITHHELD if text is None else text,
            "nonce": secrets.token_hex(16),
        }
        return Entry(row)

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
        from territoria.register import package_version

        row: dict[str, Any] = {
            "record_id": secrets.token_hex(8),
            "tenant": access.tenant,
            "role": access.role,
            "mode": kind,
            "passages": [],
            "versions": {"territoria": package_version("territoria"), **versions},
            "abstained": abstained,
            "verification": json.loads(canonical(details)),
            "confidence": 0.0,
            "request_id": secrets.token_hex(8),
            "subject": self.subject_of(subject) if subject else None,
            "question": summary,
            "answer": outcome,
            "nonce": secrets.token_hex(16),
        }
        return self.append(Entry(row), energy, latency_ms)

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
            values = [
                canonical(row[c]).decode("utf-8") if c in _JSON_COLUMNS else row.get(c)
                for c in _COLUMNS
            ]
            conn.execute(
                f"INSERT INTO records ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                values,
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
        select = f"SELECT {', '.join(_COLUMNS)} FROM records WHERE "
        order = " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
        after = "seq < ?" if newest_first else "seq > ?"
        cursor_seq, left = (2**62 if newest_first else 0), limit
        while left is None or left > 0:
            size = _BATCH if left is None else min(_BATCH, left)
            with self._lock:
                rows = self._conn.execute(
                    select + " AND ".join([after, *where]) + order + f" LIMIT {size}",
                    [cursor_seq, *params],
                ).fetchall()
            for row in rows:
                yield _record(row)
            if len(rows) < size:
                return
            cursor_seq = rows[-1][0]
            left = None if left is None else left - len(rows)

    def get(self, record_id: str) -> AuditRecord:
        """A record by id, or by an unambiguous id prefix of at least 6 characters."""
        if len(record_id) < 6:
            raise InvalidRequest("Identifiant d'enregistrement trop court (6 caractères au moins).")
        pattern = record_id.replace("%", "").replace("_", "") + "%"
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM records WHERE record_id LIKE ? LIMIT 2",
                (pattern,),
            ).fetchall()
        if not rows:
            raise NotFound(f"Enregistrement d'audit inconnu : {record_id!r}.")
        if len(rows) > 1:
            raise InvalidRequest(f"Identifiant ambigu : {record_id!r} ; donnez-le en entier.")
        return _record(rows[0])

    def events(self) -> list[dict[str, Any]]:
        """The signed events (checkpoints, redactions, anomalies, anchoring), oldest first."""
        with self._lock:
            return _events(self._conn)

    def verify(self, *, anchor: Path | None = None) -> VerifyResult:
        """Check the whole log: hashes, links, signatures, checkpoint, redactions, head, and
        the local anchor; with `anchor`, an exported anchor too (see `anchor.py`).

        Reads one snapshot on its own connection (WAL): appends go on meanwhile, and cannot
        make the head and the records disagree. Records are streamed. The local anchor is read
        before the snapshot, so the snapshot is never behind it on an untouched log.
        """
        external = read_anchor(anchor) if anchor is not None else None
        local_text = read_anchor_text(self.anchor_path)
        with closing(sqlite3.connect(self.path, isolation_level=None)) as conn:
            conn.execute("BEGIN")
            events = _events(conn)
            head = read_head(conn)
            rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM records ORDER BY seq")
            result = verify_log(
                (_record(row).as_dict() for row in rows), events, head, self._sign_key
            )
            pending = conn.execute("SELECT 1 FROM anchor_pending").fetchone() is not None
            local, problems = self._check_local_anchor(conn, head, local_text, pending)
            if external is not None:
                problems += self._check_anchor(conn, head, external, "Ancre externe")
            conn.execute("COMMIT")
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
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that keeps the anchor in step: under the anchor lock, check the
        anchor against the database (a signed anomaly event when they disagree, so a wiped or
        rolled-back log stays visible after new appends), run the caller's changes, commit,
        then rewrite the anchor from the new head."""
        with self._locked():
            with transaction(self._conn) as conn:
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

    def _reconcile(self, conn: sqlite3.Connection) -> None:
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
            if not pending:
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
            if self._conn.execute("SELECT 1 FROM anchor_pending").fetchone() is None:
                return
            with self._locked():
                if self.anchor_path.exists():
                    with transaction(self._conn) as conn:
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
        conn: sqlite3.Connection,
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
        conn: sqlite3.Connection,
        head: dict[str, Any] | None,
        text: str | None,
        pending: bool,
    ) -> tuple[Anchor | None, list[Problem]]:
        if text is None:
            if pending:  # not anchored yet: the next write anchors it
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


def _events(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    events = []
    for event in conn.execute(f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events ORDER BY event_seq"):
        item = dict(zip(_EVENT_COLUMNS, event, strict=True))
        item["body"] = json.loads(item["body"])
        events.append(item)
    return events


def _score(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _record(row: tuple[Any, ...]) -> AuditRecord:
    data = dict(zip(_COLUMNS, row, strict=True))
    for name in _JSON_COLUMNS:
        data[name] = json.loads(data[name])
    data["passages"] = tuple(data["passages"])
    data["abstained"] = bool(data["abstained"])
    return AuditRecord(**data)


__all__ = [
    "ANSWER_WITHHELD",
    "PERSONAL_FIELDS",
    "QUESTION_WITHHELD",
    "AuditLog",
    "AuditRecord",
    "Masked",
    "Pseudonymizer",
    "derive_key",
]
