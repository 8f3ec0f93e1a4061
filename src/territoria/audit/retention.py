"""Retention: durations ("90d"), age-based purge behind a checkpoint, and erasure of one
person's data behind signed tombstones. Both keep `verify` green (see `chain.py`).

Age-based purge deletes the oldest records, as a prefix of the chain: it stops at the first
record that is not older than the cutoff (a record written while the clock was behind stays
until the ones before it go). It then appends a signed checkpoint event naming the last purged
record's hash and the counts, which is where verification starts.

Erasure on request (RGPD art. 17) cannot delete records from the middle of the chain without
breaking it, so it redacts them: the personal fields (request id, subject, question, answer,
nonce) are set to NULL and the record keeps its hash and `personal_digest` as a tombstone;
a signed redaction event lists the redacted records. The rest of the record (time, tenant,
role, passages and scores, versions, verification, energy) stays for the statistics; it holds
no personal data once the question and answer are gone.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from territoria.audit.chain import GENESIS, canonical, event_hash, head_signature, sign
from territoria.errors import InvalidRequest
from territoria.store.database import Connection

_DURATION = re.compile(r"^\s*(\d+)\s*([hdwmy])\s*$")
_UNITS = {
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "m": timedelta(days=30),
    "y": timedelta(days=365),
}


def parse_duration(text: str) -> timedelta:
    """`12h`, `90d`, `2w`, `6m` (30 days a month), `1y` (365 days)."""
    match = _DURATION.match(text.lower())
    if match is None or int(match.group(1)) <= 0:
        raise InvalidRequest(
            f"Durée invalide : {text!r} (exemples : 12h, 90d, 2w, 6m = 180 jours, 1y)."
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_since(text: str, now: datetime) -> datetime:
    """A duration back from `now` (`7d`), or a date or time in ISO 8601 (UTC if naive); in
    UTC, a moment before year 1 counting as the earliest one (no overflow on `10000000y`)."""
    earliest = datetime.min.replace(tzinfo=UTC)
    if _DURATION.match(text.lower()):
        try:
            return now - parse_duration(text)
        except OverflowError:
            return earliest
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRequest(
            f"Date invalide : {text!r} (une durée comme 7d, ou une date comme 2025-01-31)."
        ) from exc
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, year 9999 west of it
        return earliest if moment.year == datetime.min.year else datetime.max.replace(tzinfo=UTC)


def timestamp(moment: datetime) -> str:
    """The one text form of times in the log: UTC, microseconds, so that text order is time
    order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def append_event(
    conn: Connection, key: bytes, kind: str, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Append a signed event and move the head to it. Call inside a write transaction."""
    last = conn.execute(
        "SELECT event_seq, hash FROM events ORDER BY event_seq DESC LIMIT 1"
    ).fetchone()
    event: dict[str, Any] = {
        "event_seq": (last[0] if last else 0) + 1,
        "kind": kind,
        "time": timestamp(now),
        "body": body,
    }
    event["prev_hash"] = last[1] if last else GENESIS
    event["hash"] = event_hash(event, event["prev_hash"])
    event["signature"] = sign(key, "event", event["hash"])
    conn.execute(
        "INSERT INTO events (event_seq, kind, time, body, prev_hash, hash, signature)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            event["event_seq"],
            kind,
            event["time"],
            canonical(body).decode("utf-8"),
            event["prev_hash"],
            event["hash"],
            event["signature"],
        ),
    )
    head = read_head(conn)
    write_head(
        conn,
        key,
        last_seq=head["last_seq"] if head else 0,
        last_hash=head["last_hash"] if head else GENESIS,
        last_event=event["event_seq"],
        event_hash_=event["hash"],
    )
    return event


def read_head(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT last_seq, last_hash, last_event, event_hash, signature FROM head WHERE id = 1"
    ).fetchone()
    if row is None:
        return None
    return dict(
        zip(("last_seq", "last_hash", "last_event", "event_hash", "signature"), row, strict=True)
    )


def write_head(
    conn: Connection,
    key: bytes,
    *,
    last_seq: int,
    last_hash: str,
    last_event: int,
    event_hash_: str,
) -> None:
    head = {
        "last_seq": last_seq,
        "last_hash": last_hash,
        "last_event": last_event,
        "event_hash": event_hash_,
    }
    conn.execute(
        "INSERT INTO head (id, last_seq, last_hash, last_event, event_hash, signature)"
        " VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq,"
        " last_hash = excluded.last_hash, last_event = excluded.last_event,"
        " event_hash = excluded.event_hash, signature = excluded.signature",
        (last_seq, last_hash, last_event, event_hash_, head_signature(key, head)),
    )


def rebuild_head(conn: Connection, key: bytes, now: datetime) -> dict[str, Any] | None:
    """A missing head on a non-empty log: rebuild it from the last record so requests are
    still logged, and append a signed anomaly event that `verify` reports from then on
    (re-signing silently would hide a truncated tail)."""
    last = conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    event = conn.execute("SELECT event_seq, hash FROM events ORDER BY event_seq DESC LIMIT 1")
    last_event = event.fetchone()
    if last is None and last_event is None:
        return None  # a fresh log
    if last is None:
        found = conn.execute(
            "SELECT body FROM events WHERE kind = 'checkpoint' ORDER BY event_seq DESC LIMIT 1"
        ).fetchone()
        checkpoint = json.loads(found[0]) if found else {"last_seq": 0, "last_hash": GENESIS}
        last = (checkpoint["last_seq"], checkpoint["last_hash"])
    write_head(
        conn,
        key,
        last_seq=last[0],
        last_hash=last[1],
        last_event=last_event[0] if last_event else 0,
        event_hash_=last_event[1] if last_event else GENESIS,
    )
    body = {"problem": "head_missing", "last_seq": last[0], "last_hash": last[1]}
    append_event(conn, key, "anomaly", body, now)
    return read_head(conn)


def purge_before(
    conn: Connection, key: bytes, cutoff: datetime, now: datetime
) -> dict[str, Any] | None:
    """Delete the prefix of records older than `cutoff` and checkpoint it; return the
    checkpoint (None when nothing was old enough). Call inside a write transaction."""
    limit = timestamp(cutoff)
    (first_kept,) = conn.execute(
        "SELECT MIN(seq) FROM records WHERE time >= ?", (limit,)
    ).fetchone()
    bound = "seq < ?" if first_kept is not None else "1 = 1"
    params: tuple[Any, ...] = (first_kept,) if first_kept is not None else ()
    last = conn.execute(
        f"SELECT seq, hash FROM records WHERE {bound} ORDER BY seq DESC LIMIT 1", params
    ).fetchone()
    if last is None:
        return None
    count = conn.execute(f"DELETE FROM records WHERE {bound}", params).rowcount
    previous = conn.execute(
        "SELECT body FROM events WHERE kind = 'checkpoint' ORDER BY event_seq DESC LIMIT 1"
    ).fetchone()
    total_before = _json_int(previous[0], "purged_total") if previous else 0
    body = {
        "last_seq": last[0],
        "last_hash": last[1],
        "purged": count,
        "purged_total": total_before + count,
        "cutoff": limit,
    }
    append_event(conn, key, "checkpoint", body, now)
    return body


def redact(conn: Connection, key: bytes, subject: str, reason: str, now: datetime) -> list[int]:
    """Erase the personal fields of `subject`'s records; return their seqs. Call inside a
    write transaction."""
    seqs = [
        row[0]
        for row in conn.execute(
            "SELECT seq FROM records WHERE subject = ? AND redacted_at IS NULL ORDER BY seq",
            (subject,),
        )
    ]
    if not seqs:
        return []
    conn.executemany(
        "UPDATE records SET request_id = NULL, subject = NULL, question = NULL, answer = NULL,"
        " nonce = NULL, redacted_at = ? WHERE seq = ?",
        [(timestamp(now), seq) for seq in seqs],
    )
    append_event(conn, key, "redaction", {"seqs": seqs, "count": len(seqs), "reason": reason}, now)
    return seqs


def _json_int(body: str, name: str) -> int:
    return int(json.loads(body).get(name, 0))
