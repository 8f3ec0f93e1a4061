"""The tables of the audit log, on SQLite (`<home>/audit.sqlite3`, migration set
"territoria.audit") and on PostgreSQL (the same tables in the deployment's database).

`records` holds the chain (one row per request, `seq` given by the writer under the chain's
lock), `events` the signed events (checkpoints, redactions, anomalies, anchoring), `head` the
signed pointer to the last record and event, `anchor_pending` a flag set until the local anchor
is first written (see `anchor.py`). JSON columns are canonical JSON text on both engines, and
numbers are stored with the same types (64-bit integers, doubles), so a record read back hashes
as it was written.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from territoria.settings import Settings
from territoria.store.database import Database, Schema, open_database
from territoria.store.migrations import run_script

audit_schema = Schema("territoria.audit")

_RECORDS = """
        CREATE TABLE records (
            seq {int} PRIMARY KEY,
            record_id TEXT NOT NULL UNIQUE,
            time TEXT NOT NULL,
            tenant TEXT NOT NULL,
            role TEXT NOT NULL,
            mode TEXT NOT NULL,
            passages TEXT NOT NULL,
            versions TEXT NOT NULL,
            abstained INTEGER NOT NULL,
            verification TEXT NOT NULL,
            confidence {real} NOT NULL,
            energy_wh {real} NOT NULL,
            energy_gco2e {real} NOT NULL,
            energy_method TEXT NOT NULL,
            latency_ms {real} NOT NULL,
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
            event_seq {int} PRIMARY KEY,
            kind TEXT NOT NULL,
            time TEXT NOT NULL,
            body TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            signature TEXT NOT NULL
        );
        CREATE TABLE head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_seq {int} NOT NULL,
            last_hash TEXT NOT NULL,
            last_event {int} NOT NULL,
            event_hash TEXT NOT NULL,
            signature TEXT NOT NULL
        )
"""


@audit_schema.sqlite
def m001_audit(conn: sqlite3.Connection) -> None:
    run_script(conn, _RECORDS.format(int="INTEGER", real="REAL"))


@audit_schema.sqlite
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


@audit_schema.postgres
def pg001_audit(conn: Any) -> None:
    for statement in _RECORDS.format(int="BIGINT", real="DOUBLE PRECISION").split(";"):
        conn.execute(statement)
    conn.execute("CREATE TABLE anchor_pending (id INTEGER PRIMARY KEY CHECK (id = 1))")
    conn.execute("INSERT INTO anchor_pending VALUES (1)")


def open_audit_database(settings: Settings) -> Database:
    """The audit log's database; on SQLite, every commit reaches the disk (the anchor, written
    after each commit, must never name a record that a power cut could take back)."""
    return open_database(settings, audit_schema, "audit.sqlite3", durable=True)
